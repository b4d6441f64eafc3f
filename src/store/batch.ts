/**
 * The batch calls of the store: results in request order; items are counted on the batch
 * operation only (IN_BATCH), each batch once, failed if any item failed.
 */
import { Buffer } from 'node:buffer';
import { MMC, MmcError } from '../errors.js';
import type { DeviceBackend } from '../device/types.js';
import { IN_BATCH, OP, type Core, type OpName } from './core.js';
import type { PutOptions, QueryResult, UpdateStateOp } from './types.js';
import type { MountedSegment, PutWriter } from './writer.js';
import { invalid, errorCode, checkKeys } from './validate.js';
import type { StoreState } from './state.js';
import { reserve, writeAndCommit, allocItem, updateStateItem } from './write.js';
import { readQuery } from './read.js';

/** What the batches need of their store. */
export interface BatchStore {
  readonly core: Core;
  readonly backend: DeviceBackend;
  readonly bySlot: readonly (MountedSegment | undefined)[];
  check(): void;
  /** alloc in the core (evicting while it asks to), as a writer. */
  reserve(key: string, size: number, opts: PutOptions | undefined, flags: number): Promise<PutWriter>;
  /** Write a whole value through its writer, then update_state; each commit's code into `commitCodes`. */
  writeAndCommit(w: PutWriter, value: Uint8Array, flags: number, commitCodes?: number[]): Promise<void>;
  /** reserve plus the writer kept for updateState by key. */
  allocItem(key: string, size: number, opts: PutOptions | undefined, flags: number): Promise<PutWriter>;
  updateStateItem(key: string, op: UpdateStateOp, flags: number): Promise<void>;
  /** The QueryResult of OUT after an obj_query. */
  readQuery(key: string): QueryResult;
}

/** The BatchStore of a store's state (MemCache builds it once, at open). */
export function batchStoreOf(s: StoreState): BatchStore {
  return {
    core: s.core, backend: s.backend, bySlot: s.bySlot,
    check: () => s.check(),
    reserve: (key, size, opts, flags) => reserve(s, key, size, opts, flags),
    writeAndCommit: (w, value, flags, codes) => writeAndCommit(s, w, value, flags, codes),
    allocItem: (key, size, opts, flags) => allocItem(s, key, size, opts, flags),
    updateStateItem: (key, op, flags) => updateStateItem(s, key, op, flags),
    readQuery: (key) => readQuery(s, key),
  };
}

/** The code of one batch item; a refused item (bad key) is MMC_INVALID_PARAM. */
export function itemCode(s: BatchStore, fn: () => number): number {
  try {
    return fn();
  } catch (err) {
    if (s.core.failed) throw err;
    return errorCode(err);
  }
}

export function countBatch(s: Pick<BatchStore, 'core'>, op: OpName, codes: readonly number[]): void {
  const anyFailure = codes.some((c) => c !== MMC.MMC_OK && c !== MMC.MMC_UNMATCHED_KEY);
  const anyNotFound = codes.some((c) => c === MMC.MMC_UNMATCHED_KEY);
  s.core.x.count_batch(OP[op], anyFailure ? 1 : 0, anyNotFound ? 1 : 0);
}

/** A batch put is a batch_alloc plus a batch_update_state, each judged on its own items. */
export async function batchPut(s: BatchStore, entries: ReadonlyArray<readonly [string, Uint8Array]>, opts?: PutOptions): Promise<number[]> {
  s.check();
  if (!Array.isArray(entries)) throw invalid('entries must be an array of [key, value]');
  const codes: number[] = [];
  const allocCodes: number[] = [];
  const commitCodes: number[] = [];
  for (const entry of entries) {
    let code: number = MMC.MMC_OK;
    try {
      if (!Array.isArray(entry) || !(entry[1] instanceof Uint8Array)) throw invalid('each entry must be [key, Uint8Array]');
      let w: PutWriter;
      try {
        w = await s.reserve(entry[0], entry[1].length, opts, IN_BATCH);
        allocCodes.push(MMC.MMC_OK);
      } catch (err) {
        allocCodes.push(errorCode(err));
        throw err;
      }
      await s.writeAndCommit(w, entry[1], IN_BATCH, commitCodes);
    } catch (err) {
      code = errorCode(err);
    }
    codes.push(code);
  }
  countBatch(s, 'batch_alloc', allocCodes);
  countBatch(s, 'batch_update_state', commitCodes);
  return codes;
}

export interface FoundItem { i: number; id: number; gen: number; blob: number; t0: number; size: number; seg: MountedSegment; offset: number }

/** Leases each key's blob (obj_get in the batch): the codes, and where the found values lie. */
export function leaseAll(s: BatchStore, keys: readonly string[], codes: number[]): { found: FoundItem[]; total: number } {
  const x = s.core.x;
  const found: FoundItem[] = [];
  let total = 0;
  for (let i = 0; i < keys.length; i++) {
    codes[i] = itemCode(s, () => x.obj_get(s.core.setKey(keys[i]), IN_BATCH));
    if (codes[i] !== MMC.MMC_OK) continue;
    const out = s.core.out;
    found.push({ i, id: out[5], gen: out[6], blob: out[0], t0: out[1], size: out[2], seg: s.bySlot[out[3]]!, offset: out[4] });
    total += out[2];
  }
  return { found, total };
}

/**
 * Values in request order (views into one buffer for the whole batch), undefined where absent
 * or failed, with each item's MMC code: 0 found, MMC_UNMATCHED_KEY absent, else its error.
 * `into`: that buffer (at least `total` bytes), given by the caller once the total is known; the
 * found values lie in it back to back in request order.
 */
export async function batchGetCodes(s: BatchStore, keys: readonly string[], into?: (total: number) => Uint8Array): Promise<{ values: (Uint8Array | undefined)[]; codes: number[] }> {
  s.check();
  checkKeys(keys);
  const n = keys.length;
  const codes = new Array<number>(n);
  const { found, total } = leaseAll(s, keys, codes);
  const values = new Array<Uint8Array | undefined>(n).fill(undefined);
  const buf = into ? into(total) : Buffer.allocUnsafe(total);
  const reads: Promise<unknown>[] = [];
  let pos = 0;
  for (const f of found) {
    const dst = buf.subarray(pos, pos + f.size);
    pos += f.size;
    values[f.i] = dst;
    try {
      const r = s.backend.read(f.seg.device, f.offset, dst);
      if (r) reads.push(r.catch((err: unknown) => { codes[f.i] = errorCode(err); }));
    } catch (err) {
      codes[f.i] = errorCode(err);
    }
  }
  if (reads.length) await Promise.all(reads);
  for (const f of found) {
    codes[f.i] = s.core.x.obj_get_end(f.id, f.gen, f.blob, codes[f.i], f.t0, IN_BATCH);
    if (codes[f.i] !== MMC.MMC_OK) values[f.i] = undefined;
  }
  countBatch(s, 'batch_get', codes);
  return { values, codes };
}

export async function batchExists(s: BatchStore, keys: readonly string[]): Promise<boolean[]> {
  s.check();
  checkKeys(keys);
  const codes = keys.map((key) => itemCode(s, () => s.core.x.obj_exists(s.core.setKey(key), IN_BATCH)));
  countBatch(s, 'batch_exist_key', codes);
  return codes.map((c) => c === MMC.MMC_OK);
}

export async function batchRemove(s: BatchStore, keys: readonly string[]): Promise<number[]> {
  s.check();
  checkKeys(keys);
  const codes = keys.map((key) => itemCode(s, () => s.core.x.obj_remove(s.core.setKey(key), IN_BATCH)));
  countBatch(s, 'batch_remove', codes);
  return codes;
}

export async function batchQuery(s: BatchStore, keys: readonly string[]): Promise<QueryResult[]> {
  s.check();
  checkKeys(keys);
  const codes: number[] = [];
  const results = keys.map((key) => {
    const code = itemCode(s, () => s.core.x.obj_query(s.core.setKey(key), IN_BATCH));
    codes.push(code);
    return code === MMC.MMC_OK ? s.readQuery(key) : { key: String(key), size: 0, prot: 0, numBlobs: 0, valid: false, blobs: [] };
  });
  countBatch(s, 'batch_query', codes);
  return results;
}

/** Two-phase batch put, first phase: a PutWriter or the MmcError of each item. */
export async function batchAlloc(s: BatchStore, entries: ReadonlyArray<readonly [string, number]>, opts?: PutOptions): Promise<(PutWriter | MmcError)[]> {
  s.check();
  if (!Array.isArray(entries)) throw invalid('entries must be an array of [key, size]');
  const results: (PutWriter | MmcError)[] = [];
  for (const entry of entries) {
    try {
      if (!Array.isArray(entry)) throw invalid('each entry must be [key, size]');
      results.push(await s.allocItem(entry[0], entry[1], opts, IN_BATCH));
    } catch (err) {
      results.push(err instanceof MmcError ? err : new MmcError(MMC.MMC_ERROR, String(err)));
    }
  }
  countBatch(s, 'batch_alloc', results.map((r) => (r instanceof MmcError ? r.code : MMC.MMC_OK)));
  return results;
}

/** Two-phase batch put, second phase: per-item MMC code. */
export async function batchUpdateState(s: BatchStore, keys: readonly string[], ops: UpdateStateOp | readonly UpdateStateOp[]): Promise<number[]> {
  s.check();
  checkKeys(keys);
  if (Array.isArray(ops) && ops.length !== keys.length) throw invalid('ops must be one state or one per key');
  const codes: number[] = [];
  for (let i = 0; i < keys.length; i++) {
    const op = (Array.isArray(ops) ? ops[i] : ops) as UpdateStateOp;
    try {
      await s.updateStateItem(keys[i], op, IN_BATCH);
      codes.push(MMC.MMC_OK);
    } catch (err) {
      codes.push(errorCode(err));
    }
  }
  countBatch(s, 'batch_update_state', codes);
  return codes;
}
