/**
 * The writes of the store: put = alloc (core: space reserved, ALLOCATED) -> write (backend, to
 * every replica) -> commit (core: READABLE); the two-phase alloc / updateState; the writes of a
 * PutWriter. Every commit of a written object goes through commitWhen and commitWrite.
 */
import { MMC, MmcError } from '../errors.js';
import { NEED_EVICT, ALLOC_SKIP_WATERMARK, ALLOC_FINAL } from './core.js';
import type { PutOptions, UpdateStateOp } from './types.js';
import { PutWriter, type MountedSegment } from './writer.js';
import { MEDIUM_NAMES, invalid, checkReplicas, checkRank, parseMedium, allocMessage } from './validate.js';
import { evict } from './evict.js';
import type { StoreState } from './state.js';

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Stores `value` under `key`. MmcError on failure; nothing is left behind by a failed put.
 * The common case (no eviction, a synchronous backend) runs without an await: alloc, write,
 * commit, in one turn of the event loop, with no per-put object beyond the returned promise.
 */
export function put(s: StoreState, key: string, value: Uint8Array, opts?: PutOptions): Promise<void> {
  try {
    s.check();
    if (!(value instanceof Uint8Array)) throw invalid('value must be a Uint8Array');
    const x = s.core.x;
    const keyLen = s.core.setKey(key);
    const size = value.length;
    if (size === 0) throw invalid('size must be a positive integer, got 0');
    const code = opts === undefined
      ? x.obj_alloc(keyLen, size, -1, 1, 0, 0)
      : x.obj_alloc(keyLen, size, parseMedium(opts.medium), checkReplicas(opts.replicas), checkRank(opts.preferredRank), 0);
    if (code === NEED_EVICT) return putEvicting(s, key, value, opts);
    if (code !== MMC.MMC_OK) throw new MmcError(code, allocMessage(code, key, size, s.core.out[0] === 1));
    const out = s.core.out;
    const id = out[0], gen = out[1], n = out[2], t0 = out[3];
    for (let i = 0; i < n; i++) {
      let r: void | Promise<void>;
      try {
        r = s.backend.write(s.bySlot[out[8 + 2 * i]]!.device, out[9 + 2 * i], value);
      } catch (err) {
        r = Promise.reject(err); // ends as a failed asynchronous write does, on the one commit path
      }
      if (r) {
        // the write lands later: its blobs are held until it has (same turn as the alloc)
        const rest = locations(s, i + 1);
        x.obj_pin(id, gen);
        return commitWhen(s, writeRest(s, r, id, gen, value, rest), id, gen, t0, 0, key);
      }
    }
    commitWrite(s, true, id, gen, t0, 0, key);
    return RESOLVED;
  } catch (err) {
    return Promise.reject(err);
  }
}

/** The (segment, offset) pairs of OUT's blobs from index `from` on, copied out of the core. */
function locations(s: StoreState, from: number): [MountedSegment, number][] {
  const out = s.core.out;
  const list: [MountedSegment, number][] = [];
  for (let i = from; i < out[2]; i++) list.push([s.bySlot[out[8 + 2 * i]]!, out[9 + 2 * i]]);
  return list;
}

/**
 * The rest of a put whose write went asynchronous; its blobs are pinned (obj_pin) until the
 * writes are over, so a sweep or remove meanwhile takes the key but leaves the space alone.
 */
async function writeRest(s: StoreState, pending: Promise<void>, id: number, gen: number, value: Uint8Array, rest: [MountedSegment, number][]): Promise<void> {
  try {
    await pending;
    for (const [seg, offset] of rest) {
      const r = s.backend.write(seg.device, offset, value);
      if (r) await r;
    }
  } finally {
    s.core.x.obj_write_end(id, gen);
  }
}

/** A put that must evict first. */
async function putEvicting(s: StoreState, key: string, value: Uint8Array, opts?: PutOptions): Promise<void> {
  const w = await reserve(s, key, value.length, opts, 0);
  await writeAndCommit(s, w, value, 0);
}

/**
 * The write and update_state of a whole value through its writer; `flags` IN_BATCH or 0. A
 * batch passes `commitCodes` to get the code of each commit (write_fail's when the write threw).
 */
export function writeAndCommit(s: StoreState, w: PutWriter, value: Uint8Array, flags: number, commitCodes?: number[]): Promise<void> {
  const h = w.handle;
  return commitWhen(s, writeChunk(s, w, 0, value), h.id, h.gen, h.t0, flags, w.key, commitCodes);
}

/** Commits once `written` settles: write_ok when it resolved, else write_fail and its error. */
async function commitWhen(s: StoreState, written: Promise<void>, id: number, gen: number, t0: number, flags: number, key: string, codes?: number[]): Promise<void> {
  try {
    await written;
  } catch (err) {
    commitWrite(s, false, id, gen, t0, flags, key, codes);
    throw err;
  }
  commitWrite(s, true, id, gen, t0, flags, key, codes);
}

/**
 * The one commit of a written object: update_state write_ok (`ok`) or write_fail; a write_ok
 * the core refuses (the object was removed or expired meanwhile) throws. `codes` collects the
 * core's code for a batch.
 */
function commitWrite(s: StoreState, ok: boolean, id: number, gen: number, t0: number, flags: number, key: string, codes?: number[]): void {
  const c = s.core.x.obj_commit(id, gen, ok ? 1 : 0, t0, flags);
  codes?.push(c);
  if (ok && c !== MMC.MMC_OK) throw new MmcError(c, `'${key}' was removed or expired while being written`);
}

/** Two-phase put, first phase: reserve plus the writer kept for updateState by key. */
export async function allocItem(s: StoreState, key: string, size: number, opts: PutOptions | undefined, flags: number): Promise<PutWriter> {
  s.check();
  const w = await reserve(s, key, size, opts, flags);
  s.pendingPuts.set(key, w);
  return w;
}

/** Two-phase put, second phase, by key; `flags` IN_BATCH for a batch's item. */
export async function updateStateItem(s: StoreState, key: string, op: UpdateStateOp, flags: number): Promise<void> {
  s.check();
  if (op !== 'write_ok' && op !== 'write_fail') throw invalid(`state must be 'write_ok' or 'write_fail', got ${String(op)}`);
  const keyLen = s.core.setKey(key);
  const code = s.core.x.obj_find_allocated(keyLen, flags);
  if (code !== MMC.MMC_OK) {
    s.pendingPuts.delete(key);
    throw new MmcError(code, code === MMC.MMC_UNMATCHED_KEY ? `'${key}' is not allocated` : `'${key}' is not being written`);
  }
  const out = s.core.out;
  const id = out[0], gen = out[1];
  const w = s.pendingPuts.get(key);
  const own = w !== undefined && w.handle.id === id && w.handle.gen === gen;
  const c = s.core.x.obj_commit(id, gen, op === 'write_ok' ? 1 : 0, own ? w.handle.t0 : performance.now(), flags);
  if (c === MMC.MMC_UNMATCHED_STATE) throw new MmcError(c, `'${key}' has a write in flight: update_state after it ends`);
  if (w) s.pendingPuts.delete(key);
  if (own) w._settle();
  if (c !== MMC.MMC_OK) throw new MmcError(c, `update_state of '${key}' failed`);
}

/**
 * The core's sweep of expired writers and released leases; the two-phase puts whose writer
 * timed out are forgotten here too. Records dropped.
 */
export function sweepWriters(s: StoreState): number {
  const x = s.core.x;
  const freed = x.sweep();
  if (freed > 0) {
    for (const [key, w] of s.pendingPuts) {
      if (!x.obj_handle_live(w.handle.id, w.handle.gen)) s.pendingPuts.delete(key);
    }
  }
  return freed;
}

/** update_state of a writer's own handle (PutWriter.commit and abort). */
export function commitOwn(s: StoreState, w: PutWriter, ok: boolean): void {
  if (s.pendingPuts.get(w.key) === w) s.pendingPuts.delete(w.key);
  if (s.closed || s.core.failed) return;
  commitWrite(s, ok, w.handle.id, w.handle.gen, w.handle.t0, 0, w.key);
}

/**
 * Writes `chunk` at `at` within each replica of writer `w`: only while its allocation is still
 * its own (ALLOCATED, before its deadline), checked in the core right before; the blobs are
 * pinned while the writes are in flight, so nothing reclaims them under a slow write. A writer
 * whose allocation was reclaimed writes nothing.
 */
export async function writeChunk(s: StoreState, w: PutWriter, at: number, chunk: Uint8Array): Promise<void> {
  const x = s.core.x;
  const h = w.handle;
  const code = x.obj_write_begin(h.id, h.gen);
  if (code !== MMC.MMC_OK) {
    throw new MmcError(code, code === MMC.MMC_UNMATCHED_KEY
      ? `'${w.key}' expired or was removed while being written (allocTimeoutMs); nothing more is written`
      : `'${w.key}' has too many writes in flight`);
  }
  try {
    for (let i = 0; i < h.targets.length; i++) {
      const r = s.backend.write(h.targets[i].device, h.offsets[i] + at, chunk);
      if (r) await r;
    }
  } finally {
    x.obj_write_end(h.id, h.gen);
  }
}

/** alloc in the core, evicting while it asks to; `flags` IN_BATCH for a batch's item. */
export async function reserve(s: StoreState, key: string, size: number, opts: PutOptions | undefined, flags0: number): Promise<PutWriter> {
  let keyLen = s.core.setKey(key);
  if (!Number.isSafeInteger(size) || size <= 0) throw invalid(`size must be a positive integer, got ${String(size)}`);
  const medium = parseMedium(opts?.medium);
  const replicas = checkReplicas(opts?.replicas);
  const preferredRank = checkRank(opts?.preferredRank);
  const x = s.core.x;
  let flags = flags0;
  let code = x.obj_alloc(keyLen, size, medium, replicas, preferredRank, flags);
  while (code === NEED_EVICT) {
    const m = s.core.out[0];
    x.sweep();
    const evicted = await evict(s, m, flags === flags0);
    flags = flags0 | (evicted ? ALLOC_SKIP_WATERMARK : ALLOC_SKIP_WATERMARK | ALLOC_FINAL);
    s.check(); // the store may have been closed meanwhile
    keyLen = s.core.setKey(key); // the scratch area may have served others meanwhile
    code = x.obj_alloc(keyLen, size, medium, replicas, preferredRank, flags);
  }
  if (code !== MMC.MMC_OK) throw new MmcError(code, allocMessage(code, key, size, s.core.out[0] === 1));
  return writerOf(s, key, size);
}

/** The PutWriter of the alloc whose handle and blobs are in OUT. */
function writerOf(s: StoreState, key: string, size: number): PutWriter {
  const out = s.core.out;
  const targets: MountedSegment[] = [];
  const offsets: number[] = [];
  const blobs = [];
  for (let i = 0; i < out[2]; i++) {
    const seg = s.bySlot[out[8 + 2 * i]]!;
    targets.push(seg);
    offsets.push(out[9 + 2 * i]);
    blobs.push({ segment: seg.id, rank: seg.rank, medium: MEDIUM_NAMES[seg.medium], offset: out[9 + 2 * i] });
  }
  return new PutWriter(s.host, key, size, blobs, { id: out[0], gen: out[1], t0: out[3], targets, offsets });
}
