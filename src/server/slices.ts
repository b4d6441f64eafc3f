/**
 * Work over many keys in slices that give the event loop back in between (setImmediate), so that
 * a long listing never holds other requests (a /health poll) for more than a few milliseconds.
 */
import { setImmediate as yieldLoop } from 'node:timers/promises';

export const SLICE = 8192;

/** fn(start, end) over [0, n) in slices of SLICE, yielding to the event loop between them. */
export async function inSlices(n: number, fn: (start: number, end: number) => void): Promise<void> {
  for (let start = 0; start < n; start += SLICE) {
    if (start > 0) await yieldLoop();
    fn(start, Math.min(n, start + SLICE));
  }
}

/** The keys one a line (each followed by '\n'), as /get_all_keys answers them. */
export async function keyLines(keys: readonly string[]): Promise<Buffer> {
  const parts: Buffer[] = [];
  await inSlices(keys.length, (s, e) => { parts.push(Buffer.from(keys.slice(s, e).join('\n') + '\n', 'utf8')); });
  return parts.length === 1 ? parts[0] : Buffer.concat(parts);
}

/** The key list frame (as encodeKeyList) of `keys`, built in slices. */
export async function keyListFrame(keys: readonly string[]): Promise<Buffer> {
  const n = keys.length;
  const lens = new Array<number>(n);
  let total = 0;
  await inSlices(n, (s, e) => {
    for (let i = s; i < e; i++) { lens[i] = Buffer.byteLength(keys[i], 'utf8'); total += lens[i]; }
  });
  const buf = Buffer.allocUnsafe(4 + 4 * n + total);
  buf.writeUInt32LE(n, 0);
  let off = 4 + 4 * n;
  await inSlices(n, (s, e) => {
    for (let i = s; i < e; i++) {
      buf.writeUInt32LE(lens[i], 4 + 4 * i);
      off += buf.write(keys[i], off, lens[i], 'utf8');
    }
  });
  return buf;
}
