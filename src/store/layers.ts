/**
 * The calls inference engines make, embedded (README "Calls for inference engines"): values put
 * from and read into buffers the caller owns. Each view is written straight to the device at its
 * offset in the value (the device write takes chunks) and read straight from it: no copy of the
 * whole value. MemCache's methods of the same names delegate here.
 *
 * A put is the store's own put (alloc, evicting as needed; write to every replica; update_state)
 * and is counted as one; a batch as batchPut (batch_alloc + batch_update_state). A get is
 * counted as one get, a batch as one batch_get. Views that do not fit the value are refused once
 * the value is found: nothing is written into them and the get counts as the get it was.
 */
import { MMC, MmcError } from '../errors.js';
import { IN_BATCH } from './core.js';
import type { PutOptions } from './types.js';
import type { MountedSegment, PutWriter, WriterHost } from './writer.js';
import { countBatch, leaseAll, type BatchStore } from './batch.js';
import { errorCode, getMessage } from './validate.js';
import { batchLists, checkPutOptions, fits, misfit, viewList, type ByteList } from './views.js';

/** putFrom (one view) and putFromLayers: the views gathered, in order, into one value. */
export async function putFromLayers(s: BatchStore, host: WriterHost, key: string, views: readonly ArrayBufferView[], opts?: PutOptions): Promise<void> {
  s.check();
  await putItem(s, host, key, viewList(views), opts, 0);
}

/** batchPutFrom (`single`: one view a key) and batchPutFromLayers: per-key MMC codes, 0 = stored. */
export async function batchPutFromLayers(s: BatchStore, host: WriterHost, keys: readonly string[], lists: readonly unknown[], opts: PutOptions | undefined, single: boolean): Promise<number[]> {
  s.check();
  const items = batchLists(keys, lists, single);
  checkPutOptions(opts);
  const codes: number[] = [];
  const allocCodes: number[] = [];
  const commitCodes: number[] = [];
  for (let i = 0; i < keys.length; i++) {
    const list = items.lists[i];
    // an item whose views are refused is its own -3000, never reaches the core (as batchPut's bad entries)
    if (!list) { codes.push(errorCode(items.refused[i])); continue; }
    try {
      await putItem(s, host, keys[i], list, opts, IN_BATCH, allocCodes, commitCodes);
      codes.push(MMC.MMC_OK);
    } catch (err) {
      codes.push(errorCode(err));
    }
  }
  countBatch(s, 'batch_alloc', allocCodes);
  countBatch(s, 'batch_update_state', commitCodes);
  return codes;
}

/** One put from a list of views; a batch (`flags` IN_BATCH) collects the alloc and commit codes. */
async function putItem(s: BatchStore, host: WriterHost, key: string, list: ByteList, opts: PutOptions | undefined, flags: number, allocCodes?: number[], commitCodes?: number[]): Promise<void> {
  let w: PutWriter;
  try {
    w = await s.reserve(key, list.total, opts, flags);
    allocCodes?.push(MMC.MMC_OK);
  } catch (err) {
    allocCodes?.push(errorCode(err));
    throw err;
  }
  try {
    let at = 0;
    for (const b of list.bytes) {
      // _write checks, before each chunk, that the reservation is still this put's
      if (b.byteLength > 0) await host._write(w, at, b);
      at += b.byteLength;
    }
  } catch (err) {
    commit(s, w, false, flags, commitCodes);
    throw err;
  }
  commit(s, w, true, flags, commitCodes);
}

/**
 * update_state of a layered put's reservation, as the store commits its own puts: write_ok or
 * write_fail, counted by the core (flags 0) or on the batch (IN_BATCH: the code into `codes`).
 * A write_ok refused (the object was removed or expired meanwhile) throws.
 */
function commit(s: BatchStore, w: PutWriter, ok: boolean, flags: number, codes?: number[]): void {
  const h = w.handle;
  const c = s.core.x.obj_commit(h.id, h.gen, ok ? 1 : 0, h.t0, flags);
  codes?.push(c);
  if (ok && c !== MMC.MMC_OK) throw new MmcError(c, `'${w.key}' was removed or expired while being written`);
}

/**
 * getIntoLayers: the value scattered over the views in order (their lengths must add up to its
 * size): its size, or undefined when absent.
 */
export async function getIntoLayers(s: BatchStore, key: string, views: readonly ArrayBufferView[]): Promise<number | undefined> {
  s.check();
  const list = viewList(views);
  const x = s.core.x;
  const code = x.obj_get(s.core.setKey(key), 0);
  if (code === MMC.MMC_UNMATCHED_KEY) return undefined;
  if (code !== MMC.MMC_OK) throw new MmcError(code, getMessage(code, key));
  const out = s.core.out;
  const blob = out[0], t0 = out[1], size = out[2], seg = s.bySlot[out[3]]!, offset = out[4], id = out[5], gen = out[6];
  const ok = fits(list, size, true);
  let c: number = MMC.MMC_OK;
  try {
    if (ok) await readInto(s, seg, offset, size, list);
  } catch (err) {
    c = errorCode(err);
    throw err;
  } finally {
    if (!s.core.failed) c = x.obj_get_end(id, gen, blob, c, t0, 0);
  }
  if (c !== MMC.MMC_OK) throw new MmcError(c, getMessage(c, key));
  if (!ok) throw misfit(list, size, key, true);
  return size;
}

/**
 * batchGetInto (`single`: one view a key, at least the value's size, as getInto's buffer) and
 * batchGetIntoLayers (the views add up to the value's size): per key the bytes read, or a
 * negative MMC code: MMC_UNMATCHED_KEY (-3102) absent, MMC_INVALID_PARAM (-3000) a bad key or
 * views that do not fit (nothing written into them), else that item's error.
 */
export async function batchGetIntoLayers(s: BatchStore, keys: readonly string[], lists: readonly unknown[], single: boolean): Promise<number[]> {
  s.check();
  const items = batchLists(keys, lists, single);
  // items with refused views never reach the core (nor the count), as batchPut's bad entries
  const sent: number[] = [];
  for (let i = 0; i < keys.length; i++) if (items.lists[i]) sent.push(i);
  const codes = new Array<number>(sent.length);
  const { found } = leaseAll(s, sent.map((i) => keys[i]), codes);
  const reads: Promise<void>[] = [];
  for (const f of found) {
    const list = items.lists[sent[f.i]]!;
    if (!fits(list, f.size, !single)) continue;
    reads.push(readInto(s, f.seg, f.offset, f.size, list).catch((err: unknown) => { codes[f.i] = errorCode(err); }));
  }
  if (reads.length) await Promise.all(reads);
  for (const f of found) codes[f.i] = s.core.x.obj_get_end(f.id, f.gen, f.blob, codes[f.i], f.t0, IN_BATCH);
  countBatch(s, 'batch_get', codes);
  const answers = items.refused.map((e) => (e ? errorCode(e) : 0));
  sent.forEach((i, j) => { answers[i] = codes[j]; });
  for (const f of found) {
    const i = sent[f.i];
    if (codes[f.i] === MMC.MMC_OK) answers[i] = fits(items.lists[i]!, f.size, !single) ? f.size : MMC.MMC_INVALID_PARAM;
  }
  return answers;
}

/**
 * Reads the `size` bytes of a blob straight into the views, each from its offset in the value.
 * Every read is over before this settles (a failed one included), so the lease is never ended
 * under a read still in flight.
 */
async function readInto(s: BatchStore, seg: MountedSegment, offset: number, size: number, list: ByteList): Promise<void> {
  const pending: Promise<void>[] = [];
  let failure: { err: unknown } | undefined;
  let at = 0;
  for (const b of list.bytes) {
    if (at >= size) break;
    const n = Math.min(b.byteLength, size - at);
    if (n === 0) continue; // a layer of zero length
    try {
      const r = s.backend.read(seg.device, offset + at, n === b.byteLength ? b : b.subarray(0, n));
      if (r) pending.push(r);
    } catch (err) {
      failure = { err };
      break;
    }
    at += n;
  }
  if (pending.length) {
    for (const r of await Promise.allSettled(pending)) if (r.status === 'rejected') failure ??= { err: r.reason };
  }
  if (failure) throw failure.err;
}
