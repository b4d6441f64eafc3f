/**
 * The pool meta service's two-phase batch put (src/pool/meta-pool.ts): batch_alloc and
 * batch_update_state as batchAlloc / batchUpdateState do them and count them (batch.ts), but a
 * batch's items are kept as numbers in typed arrays (handle, replicas) rather than as a PutWriter
 * and its arrays per key, and committed by handle rather than by key. At 1,024 keys a batch the
 * objects per key and their GC were most of the meta service's time.
 */
import { MMC, MmcError } from '../errors.js';
import type { DeviceSegment } from '../device/types.js';
import { IN_BATCH, NEED_EVICT } from './core.js';
import type { PutOptions } from './types.js';
import { allocMessage, checkRank, checkReplicas, errorCode, invalid, parseMedium } from './validate.js';
import { countBatch } from './batch.js';
import { reserve } from './write.js';
import type { StoreState } from './state.js';

/** A reserved batch: item i placed (`errors` has no entry for it) or refused. */
export interface ReservedBatch {
  n: number;
  /** The MmcError of each refused item, by index. */
  errors: Map<number, MmcError>;
  ids: Uint32Array;
  gens: Uint32Array;
  t0s: Float64Array;
  /** Replicas of item i (0: refused); at most `stride`, the replicas asked for. */
  replicas: Uint8Array;
  stride: number;
  /** Replica r of item i at [i * stride + r]: its segment and byte offset. */
  segs: (DeviceSegment | undefined)[];
  offsets: Float64Array;
}

function take(s: StoreState, b: ReservedBatch, i: number): void {
  const out = s.core.out;
  const n = out[2];
  b.ids[i] = out[0];
  b.gens[i] = out[1];
  b.t0s[i] = out[3];
  b.replicas[i] = n;
  for (let r = 0; r < n; r++) {
    b.segs[i * b.stride + r] = s.bySlot[out[8 + 2 * r]]!.device;
    b.offsets[i * b.stride + r] = out[9 + 2 * r];
  }
}

/** An item that must evict first: the store's own reserve (which evicts), its handle copied. */
async function reserveEvicting(s: StoreState, b: ReservedBatch, i: number, key: string, size: number, opts: PutOptions | undefined): Promise<void> {
  const w = await reserve(s, key, size, opts, IN_BATCH);
  const h = w.handle;
  b.ids[i] = h.id;
  b.gens[i] = h.gen;
  b.t0s[i] = h.t0;
  b.replicas[i] = h.targets.length;
  h.targets.forEach((t, r) => {
    b.segs[i * b.stride + r] = t.device;
    b.offsets[i * b.stride + r] = h.offsets[r];
  });
}

/** batch_alloc of keys[i] (sizes[i] bytes), counted once as batch_alloc. */
export async function batchReserve(s: StoreState, keys: readonly string[], sizes: readonly number[], opts?: PutOptions): Promise<ReservedBatch> {
  s.check();
  const n = keys.length;
  if (sizes.length !== n) throw invalid('sizes must be one per key');
  const medium = parseMedium(opts?.medium);
  const replicas = checkReplicas(opts?.replicas);
  const rank = checkRank(opts?.preferredRank);
  const b: ReservedBatch = {
    n, errors: new Map(), ids: new Uint32Array(n), gens: new Uint32Array(n), t0s: new Float64Array(n),
    replicas: new Uint8Array(n), stride: replicas, segs: new Array(n * replicas), offsets: new Float64Array(n * replicas),
  };
  const x = s.core.x;
  const codes = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const key = keys[i];
    const size = sizes[i];
    try {
      const keyLen = s.core.setKey(key);
      if (!Number.isSafeInteger(size) || size <= 0) throw invalid(`size must be a positive integer, got ${String(size)}`);
      const code = x.obj_alloc(keyLen, size, medium, replicas, rank, IN_BATCH);
      if (code === NEED_EVICT) await reserveEvicting(s, b, i, key, size, opts);
      else if (code !== MMC.MMC_OK) throw new MmcError(code, allocMessage(code, key, size, s.core.out[0] === 1));
      else take(s, b, i);
      codes[i] = MMC.MMC_OK;
    } catch (err) {
      if (s.core.failed) throw err;
      const e = err instanceof MmcError ? err : new MmcError(errorCode(err), String((err as Error)?.message ?? err));
      b.errors.set(i, e);
      b.replicas[i] = 0;
      codes[i] = e.code;
    }
  }
  countBatch(s, 'batch_alloc', codes);
  return b;
}

/**
 * batch_update_state of a reserved batch's placed items: write_ok where ok[i] is 1, else
 * write_fail; counted once as batch_update_state. Each item's code (refused items: their
 * alloc's code); an item whose handle is no longer its own (expired, removed) is
 * MMC_UNMATCHED_KEY, one with a write in flight MMC_UNMATCHED_STATE, as by key.
 */
export function batchCommit(s: StoreState, b: ReservedBatch, ok: Uint8Array): number[] {
  s.check();
  if (ok.length !== b.n) throw invalid(`${ok.length} write results for a batch of ${b.n}`);
  const x = s.core.x;
  const codes = new Array<number>(b.n);
  const counted: number[] = [];
  for (let i = 0; i < b.n; i++) {
    if (b.replicas[i] === 0) { codes[i] = b.errors.get(i)?.code ?? MMC.MMC_ERROR; continue; }
    codes[i] = x.obj_commit(b.ids[i], b.gens[i], ok[i] === 1 ? 1 : 0, b.t0s[i], IN_BATCH);
    counted.push(codes[i]);
  }
  countBatch(s, 'batch_update_state', counted);
  return codes;
}

/**
 * Item i of a reserved batch given up before its writes (its agent is gone): write_fail, counted
 * as a single update_state (as PutWriter.abort is), and `e` is its error from now on.
 */
export function batchDrop(s: StoreState, b: ReservedBatch, i: number, e: MmcError): void {
  if (b.replicas[i] === 0) return;
  b.replicas[i] = 0;
  b.errors.set(i, e);
  if (!s.closed && !s.core.failed) s.core.x.obj_commit(b.ids[i], b.gens[i], 0, b.t0s[i], 0);
}
