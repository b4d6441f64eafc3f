/** The progress bar of `mmc put` and `mmc get`: drawn on stderr for values over 4 MiB. */
import { Transform } from 'node:stream';

/** A progress bar for values over 4 MiB (on a terminal, unless --progress or --no-progress). */
const PROGRESS_MIN = 4 * 1024 * 1024;

/** Bytes in binary units: `512 B`, `5.0 MiB`. */
export function fmtBytes(n: number): string {
  const u = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}

/** --progress (true), --no-progress (false), or neither (undefined). */
export interface ProgressFlag { progress?: boolean }

/** Whether to draw the bar for a value of `size` bytes. */
export function wantProgress(opts: ProgressFlag, size: number): boolean {
  if (opts.progress === false) return false;
  if (opts.progress === true) return true;
  return size > PROGRESS_MIN && process.stderr.isTTY === true;
}

/** A Transform that counts bytes and draws a bar on stderr (when `show`). */
export function progress(total: number, label: string, show: boolean): Transform {
  let done = 0;
  let last = 0;
  const draw = (final: boolean) => {
    const now = Date.now();
    if (!final && now - last < 100) return;
    last = now;
    const frac = total > 0 ? Math.min(1, done / total) : 1;
    const width = 30;
    const fill = Math.round(frac * width);
    process.stderr.write(`\r${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${(frac * 100).toFixed(0).padStart(3)}% ${fmtBytes(done)}/${fmtBytes(total)}${final ? '\n' : ''}`);
  };
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      done += chunk.length;
      if (show) draw(false);
      cb(null, chunk);
    },
    flush(cb) {
      if (show) draw(true);
      cb();
    },
  });
}
