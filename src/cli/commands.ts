/**
 * The client commands: put, get, rm on MemCacheClient; keys, query, segments, stats on the admin
 * API's open reads. Output formats are those of the commands' help and README.
 */
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type MemCacheClient } from '../client/index.js';
import { encodeKey } from '../protocol/key.js';
import type { PutOptions } from '../store/types.js';
import { clientFailure, connect, openRead, type AccessFlags } from './access.js';
import { die, messageOf } from './fail.js';
import { fmtBytes, progress, wantProgress, type ProgressFlag } from './progress.js';

/** Output is written in slices of this size, so the bar moves as a large value goes out. */
const SLICE = 1 << 20;

/** Run `fn` on a connected client; any failure is the client's one line; the client is closed. */
async function withClient(flags: AccessFlags, fn: (c: MemCacheClient) => Promise<void>): Promise<void> {
  const { client, origin } = await connect(flags);
  try {
    await fn(client);
  } catch (e) {
    die(clientFailure(origin, e));
  } finally {
    await client.close();
  }
}

async function readAll(src: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of src) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** `--replicas`: a count 1..8, refused in the server's words. */
function replicasFlag(s: string): number {
  if (!/^[0-9]+$/.test(s) || Number(s) < 1 || Number(s) > 8) die('MMC_INVALID_PARAM: replicas must be 1..8');
  return Number(s);
}

/** The value of `mmc put`: FILE (with the bar while it is read), or stdin for `-` or none. */
async function putValue(key: string, file: string | undefined, opts: ProgressFlag): Promise<Buffer> {
  if (file === undefined || file === '-') return readAll(process.stdin); // bytes are already here: no bar
  let size = 0;
  try {
    const st = statSync(file);
    if (!st.isFile()) die(`${file}: not a regular file`);
    size = st.size;
  } catch (e) {
    die(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : messageOf(e)}`);
  }
  return readAll(createReadStream(file).pipe(progress(size, `put ${key}`, wantProgress(opts, size))));
}

export interface PutFlags extends AccessFlags, ProgressFlag { medium?: 'hbm' | 'dram'; replicas?: string }

export async function put(key: string, file: string | undefined, opts: PutFlags): Promise<void> {
  const putOpts: PutOptions = {};
  if (opts.medium) putOpts.medium = opts.medium;
  if (opts.replicas) putOpts.replicas = replicasFlag(opts.replicas);
  const value = await putValue(key, file, opts);
  await withClient(opts, async (c) => {
    if (value.length === 0) die('MMC_INVALID_PARAM: empty value'); // the server's refusal, before the client's own
    await c.put(key, value, putOpts);
  });
  process.stdout.write(`stored ${key} (${value.length} bytes)\n`);
}

export interface GetFlags extends AccessFlags, ProgressFlag { output?: string }

export async function get(key: string, opts: GetFlags): Promise<void> {
  let value: Uint8Array | undefined;
  await withClient(opts, async (c) => { value = await c.get(key); });
  if (value === undefined) die('Key not found');
  const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  const slices = (function* () { for (let at = 0; at < bytes.length; at += SLICE) yield bytes.subarray(at, at + SLICE); })();
  const out: Writable = opts.output ? createWriteStream(opts.output) : process.stdout;
  try {
    await pipeline(Readable.from(slices), progress(bytes.length, `get ${key}`, wantProgress(opts, bytes.length)), out);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EPIPE') die(messageOf(e));
  }
}

export async function rm(key: string, opts: AccessFlags): Promise<void> {
  let removed = false;
  await withClient(opts, async (c) => { removed = await c.remove(key); });
  if (!removed) die('Key not found');
  process.stdout.write(`removed ${key}\n`);
}

export async function keys(opts: AccessFlags): Promise<void> {
  process.stdout.write(await openRead(opts, '/get_all_keys'));
}

export async function query(key: string, opts: AccessFlags): Promise<void> {
  const t = await openRead(opts, `/query_key?key=${encodeKey(key)}`);
  process.stdout.write(JSON.stringify(JSON.parse(t), null, 2) + '\n');
}

interface SegmentRow { segment_name: string; medium: string; total_bytes: number; used_bytes: number; remaining_bytes: number }

export async function segments(opts: AccessFlags): Promise<void> {
  const j = JSON.parse(await openRead(opts, '/api/v1/capacity/segment_remaining')) as { segments: SegmentRow[] };
  const rows = [['SEGMENT', 'MEDIUM', 'TOTAL', 'USED', 'FREE', 'USED%']];
  for (const s of j.segments) {
    rows.push([s.segment_name, s.medium, fmtBytes(s.total_bytes), fmtBytes(s.used_bytes), fmtBytes(s.remaining_bytes),
      s.total_bytes ? ((100 * s.used_bytes) / s.total_bytes).toFixed(1) : '0.0']);
  }
  const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  for (const r of rows) process.stdout.write(r.map((c, i) => c.padEnd(w[i])).join('  ').trimEnd() + '\n');
}

export async function stats(opts: AccessFlags & { summary?: boolean }): Promise<void> {
  const line = await openRead(opts, '/metrics/summary');
  if (opts.summary) {
    process.stdout.write(line + '\n');
    return;
  }
  for (const f of line.split(' ')) {
    const i = f.indexOf('=');
    process.stdout.write(`${f.slice(0, i).padEnd(30)} ${f.slice(i + 1)}\n`);
  }
  process.stdout.write('\n' + (await openRead(opts, '/metrics/ptracer')));
}
