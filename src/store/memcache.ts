/**
 * The embedded store: the public API over the WASM core and a device backend, a facade over its
 * parts: write.ts (put, two-phase puts), read.ts (get, exists, query, remove), evict.ts,
 * segments.ts, batch.ts, stats.ts; state.ts is what they share.
 *
 * put = alloc (core: space reserved, ALLOCATED) -> write (backend, to every replica) ->
 * commit (core: READABLE). get = lease a READABLE blob (core) -> read (backend) -> release.
 * The core answers NEED_EVICT when an alloc would pass the high watermark; the store then
 * evicts (demotions copy bytes through the backend) and asks again.
 */
import { setImmediate as yieldLoop } from 'node:timers/promises';
import type { MmcError } from '../errors.js';
import { createBackend } from '../device/index.js';
import type { DeviceBackend } from '../device/types.js';
import { resolveOptions } from './options.js';
import { Core } from './core.js';
import type {
  LayerCalls, MemCacheOptions, PutOptions, QueryResult, SegmentInfo, SegmentSpec, Stats, UpdateStateOp,
} from './types.js';
import { readStats } from './stats.js';
import {
  batchAlloc, batchExists, batchGetCodes, batchPut, batchQuery, batchRemove, batchUpdateState, batchStoreOf, type BatchStore,
} from './batch.js';
import { PutWriter, type WriterHost } from './writer.js';
import { invalid, normalizeSegment } from './validate.js';
import { StoreState } from './state.js';
import { put, allocItem, updateStateItem, commitOwn, writeChunk, sweepWriters } from './write.js';
import { readValue, readValueNow, exists, sizeOf, query, remove } from './read.js';
import { mountSegment, unmountSegment, listSegments, segmentInfo } from './segments.js';
import * as layers from './layers.js';
import type { PoolRank, PoolRankOptions } from '../pool/embedded.js';
import { holdFrees, type HeldFrees, type HeldRange } from './held.js';
import { batchLease, type LeasedItem } from './batch-lease.js';
import { batchCommit, batchDrop, batchReserve, type ReservedBatch } from './batch-reserve.js';

export { PutWriter };

const SWEEP_INTERVAL_MS = 500;
/** Keys listed between two yields to the event loop (about 4 ms of work). */
const KEYS_SLICE = 8192;

export class MemCache implements WriterHost, LayerCalls {
  private readonly s: StoreState;
  // the state's parts under their own names, for the methods here
  private readonly core: Core;
  private readonly backend: DeviceBackend;
  private readonly bySlot: StoreState['bySlot'];
  private readonly pendingPuts: StoreState['pendingPuts'];
  private readonly sweeper: ReturnType<typeof setInterval>;
  /** Warnings from the conf file (unknown keys). */
  readonly warnings: readonly string[];

  /** What the batch calls (batch.ts) use of this store. */
  private readonly batches: BatchStore;

  private constructor(core: Core, backend: DeviceBackend, alignment: number, warnings: string[]) {
    const s = new StoreState(core, backend, alignment, this);
    this.s = s;
    this.core = core;
    this.backend = backend;
    this.bySlot = s.bySlot;
    this.pendingPuts = s.pendingPuts;
    this.batches = batchStoreOf(s);
    this.warnings = warnings;
    this.sweeper = setInterval(() => {
      if (!this.core.failed) sweepWriters(this.s);
    }, SWEEP_INTERVAL_MS);
    this.sweeper.unref?.();
  }

  /**
   * Opens a store: loads the WASM core, opens the backend and mounts the segments. With `pool`,
   * an embedded rank of a pool instead (src/pool/embedded.ts): the pool's client, with this
   * process's segments served as rank `pool.rank`.
   */
  static open(options: MemCacheOptions & { pool: PoolRankOptions }): Promise<PoolRank>;
  static open(options?: MemCacheOptions): Promise<MemCache>;
  static async open(options: MemCacheOptions = {}): Promise<MemCache | PoolRank> {
    if (options.pool !== undefined) return (await import('../pool/embedded.js')).openPoolRank({ ...options, pool: options.pool });
    const o = resolveOptions(options);
    const backend = await openBackend(options);
    const core = new Core({
      debug: options.debug ?? false, alignShift: Math.log2(o.alignment), leaseMs: o.leaseMs, allocTimeoutMs: o.allocTimeoutMs,
      high: o.high, low: o.low, metaLimit: o.metaLimit, populate: o.corePopulate,
    });
    if (core.x.metadata_bytes() > core.x.metadata_limit()) {
      throw invalid(`coreMemoryLimit ${o.metaLimit} is below what the core takes at start (${core.x.metadata_bytes()} bytes)`);
    }
    const mc = new MemCache(core, backend, o.alignment, o.warnings);
    try {
      for (const seg of o.segments) await mountSegment(mc.s, seg);
    } catch (err) {
      await mc.close();
      throw err;
    }
    return mc;
  }

  /** True once open and until close (or until the core failed: see check). */
  get ready(): boolean {
    return !this.closed && !this.core.failed;
  }

  private get closed(): boolean {
    return this.s.closed;
  }

  private set closed(closed: boolean) {
    this.s.closed = closed;
  }

  private check(): void {
    this.s.check();
  }

  // ---- segments (segments.ts) ----

  async mount(spec: SegmentSpec): Promise<SegmentInfo> {
    this.check();
    return segmentInfo(this.s, await mountSegment(this.s, normalizeSegment(spec, this.s.alignment)));
  }

  /**
   * Unmounts a segment by id ('rank-1-dram'): it leaves segments() at once, then its blobs go, and
   * objects left without any, in ~1 ms steps between turns of the event loop (segments.ts).
   */
  async unmount(id: string): Promise<void> {
    this.check();
    await unmountSegment(this.s, id);
  }

  /** Mounted segments: HBM first, then DRAM, each by rank. */
  segments(): SegmentInfo[] {
    this.check();
    return listSegments(this.s);
  }

  // ---- put (write.ts) ----

  /**
   * Stores `value` under `key`. MmcError on failure; nothing is left behind by a failed put.
   * The common case (no eviction, a synchronous backend) runs without an await.
   */
  put(key: string, value: Uint8Array, opts?: PutOptions): Promise<void> {
    return put(this.s, key, value, opts);
  }

  /** Two-phase put, first phase: reserves space; write through the returned PutWriter, then commit. */
  async alloc(key: string, size: number, opts?: PutOptions): Promise<PutWriter> {
    return allocItem(this.s, key, size, opts, 0);
  }

  /** The same as alloc: a streaming put (used by the server's data plane). */
  beginPut(key: string, size: number, opts?: PutOptions): Promise<PutWriter> {
    return this.alloc(key, size, opts);
  }

  /** Two-phase put, second phase, by key. */
  async updateState(key: string, op: UpdateStateOp): Promise<void> {
    return updateStateItem(this.s, key, op, 0);
  }

  /** @internal update_state of a writer's own handle. */
  _commit(w: PutWriter, ok: boolean): void {
    commitOwn(this.s, w, ok);
  }

  /**
   * @internal Writes `chunk` at `at` within each replica of writer `w`, while its allocation is
   * still its own (see writeChunk).
   */
  _write(w: PutWriter, at: number, chunk: Uint8Array): Promise<void> {
    return writeChunk(this.s, w, at, chunk);
  }

  // ---- get, exists, query, remove (read.ts) ----

  /**
   * The value under `key`, or undefined when absent. A key still being written (allocated, not
   * yet committed) rejects with MMC_OBJECT_NOT_EXISTS.
   */
  get(key: string): Promise<Uint8Array | undefined> {
    return readValue(this.s, key, undefined) as Promise<Uint8Array | undefined>;
  }

  /**
   * Reads the value under `key` into the caller's buffer (no allocation per get): the value's
   * length, or undefined when absent. A `dst` shorter than the value is MMC_INVALID_PARAM.
   */
  getInto(key: string, dst: Uint8Array): Promise<number | undefined> {
    if (!(dst instanceof Uint8Array)) return Promise.reject(invalid('dst must be a Uint8Array'));
    return readValue(this.s, key, dst) as Promise<number | undefined>;
  }

  /**
   * get into the buffer `dst(size)` gives once the value's size is known (at least that long): the
   * bytes as its view, or undefined when absent. The binary data path reads into buffers it reuses.
   */
  getWith(key: string, dst: (size: number) => Uint8Array): Promise<Uint8Array | undefined> {
    return readValue(this.s, key, dst) as Promise<Uint8Array | undefined>;
  }

  /**
   * getWith, answered at once where the backend reads synchronously (a Promise only where it does
   * not); a failure is thrown. The binary data path answers a get within the socket read it came in.
   */
  getWithNow(key: string, dst: (size: number) => Uint8Array): Uint8Array | undefined | Promise<Uint8Array | undefined> {
    return readValueNow(this.s, key, dst) as Uint8Array | undefined | Promise<Uint8Array | undefined>;
  }

  exists(key: string): Promise<boolean> {
    return exists(this.s, key);
  }

  /** exist_key that also tells the size: the object's length in bytes, or undefined when absent. */
  async sizeOf(key: string): Promise<number | undefined> {
    return sizeOf(this.s, key);
  }

  async query(key: string): Promise<QueryResult | undefined> {
    return query(this.s, key);
  }

  /** True if the key was there. */
  remove(key: string): Promise<boolean> {
    return remove(this.s, key);
  }

  /** Removes every object; how many there were. */
  async removeAll(): Promise<number> {
    this.check();
    this.pendingPuts.clear();
    return this.core.x.obj_remove_all();
  }

  /**
   * Every stored key. Read a page at a time, giving the event loop back every KEYS_SLICE keys, so
   * that listing millions of keys never holds other callers (a server's /health) for long; keys
   * put or removed meanwhile may or may not be listed.
   */
  async keys(): Promise<string[]> {
    this.check();
    const keys: string[] = [];
    let cursor = 1;
    let nextYield = KEYS_SLICE;
    while ((cursor = this.core.keysPage(cursor, keys)) !== 0) {
      if (keys.length >= nextYield) {
        await yieldLoop();
        this.check();
        nextYield = keys.length + KEYS_SLICE;
      }
    }
    return keys;
  }

  // ---- batches (batch.ts): results in request order; items are counted on the batch operation only ----

  batchPut(entries: ReadonlyArray<readonly [string, Uint8Array]>, opts?: PutOptions): Promise<number[]> {
    return batchPut(this.batches, entries, opts);
  }

  /**
   * Values in request order, undefined where absent (or failed: see batchGetCodes). The found
   * values are views into one buffer allocated for the whole batch (one allocation, not one per
   * value).
   */
  async batchGet(keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    return (await this.batchGetCodes(keys)).values;
  }

  /** batchGet with each item's MMC code: 0 found, MMC_UNMATCHED_KEY absent, else its error. */
  batchGetCodes(keys: readonly string[], into?: (total: number) => Uint8Array): Promise<{ values: (Uint8Array | undefined)[]; codes: number[] }> {
    return batchGetCodes(this.batches, keys, into);
  }

  /** @internal The pool's meta service: batch_get's leases, ended by the caller or (`endNow`) at once (store/batch-lease.ts). */
  batchLease(keys: readonly string[], endNow = false): { codes: number[]; leased: LeasedItem[] } {
    return batchLease(this.batches, keys, endNow);
  }

  /** @internal The pool's meta service: freed ranges held until their agent knows (store/held.ts). */
  holdFrees(onHold: (r: HeldRange) => void): HeldFrees {
    return holdFrees(this.s, onHold);
  }

  batchExists(keys: readonly string[]): Promise<boolean[]> {
    return batchExists(this.batches, keys);
  }

  batchRemove(keys: readonly string[]): Promise<number[]> {
    return batchRemove(this.batches, keys);
  }

  batchQuery(keys: readonly string[]): Promise<QueryResult[]> {
    return batchQuery(this.batches, keys);
  }

  /** Two-phase batch put, first phase: a PutWriter or the MmcError of each item. */
  batchAlloc(entries: ReadonlyArray<readonly [string, number]>, opts?: PutOptions): Promise<(PutWriter | MmcError)[]> {
    return batchAlloc(this.batches, entries, opts);
  }

  /** @internal The allocation unit: every blob's offset is a multiple of it (the pool's meta service). */
  get alignment(): number {
    return this.s.alignment;
  }

  /** @internal The pool's meta service: batchAlloc kept as numbers (store/batch-reserve.ts). */
  batchReserve(keys: readonly string[], sizes: readonly number[], opts?: PutOptions): Promise<ReservedBatch> {
    return batchReserve(this.s, keys, sizes, opts);
  }

  /** @internal The pool's meta service: batchUpdateState of a batchReserve's items by handle. */
  batchCommit(b: ReservedBatch, ok: Uint8Array): number[] {
    return batchCommit(this.s, b, ok);
  }

  /** @internal Item i of a batchReserve given up before its writes: write_fail, `e` its error. */
  batchDrop(b: ReservedBatch, i: number, e: MmcError): void {
    batchDrop(this.s, b, i, e);
  }

  /** Two-phase batch put, second phase: per-item MMC code. */
  batchUpdateState(keys: readonly string[], ops: UpdateStateOp | readonly UpdateStateOp[]): Promise<number[]> {
    return batchUpdateState(this.batches, keys, ops);
  }

  // ---- stats ----

  /** The counters, named as the /metrics/summary fields, plus medium usage and the tracepoints. */
  stats(): Stats {
    this.check();
    return readStats(this.core);
  }

  /** Internal figures for benchmarks and tests: metadata bytes and live record counts. */
  internals(): { metadataBytes: number; liveRecords: number; liveBlobs: number; pending: number; pendingPuts: number; wasmMemoryBytes: number } {
    const x = this.core.x;
    return {
      metadataBytes: x.metadata_bytes(), liveRecords: x.live_records(), liveBlobs: x.live_blobs(),
      pending: x.pending_count(), pendingPuts: this.pendingPuts.size, wasmMemoryBytes: x.memory.buffer.byteLength,
    };
  }

  /** Runs the sweep of expired writers and released leases now (it also runs on a timer). */
  sweep(): number {
    this.check();
    return sweepWriters(this.s);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // (a failed core is closed as any other: close never calls into it)
    this.closed = true;
    clearInterval(this.sweeper);
    this.pendingPuts.clear();
    await this.backend.close();
  }

  // ---- the calls inference engines make (layers.ts): from and into the caller's views ----

  putFrom(key: string, view: ArrayBufferView, opts?: PutOptions): Promise<void> { return layers.putFromLayers(this.batches, this, key, [view], opts); }
  putFromLayers(key: string, views: readonly ArrayBufferView[], opts?: PutOptions): Promise<void> { return layers.putFromLayers(this.batches, this, key, views, opts); }
  batchPutFrom(keys: readonly string[], views: readonly ArrayBufferView[], opts?: PutOptions): Promise<number[]> { return layers.batchPutFromLayers(this.batches, this, keys, views, opts, true); }
  batchPutFromLayers(keys: readonly string[], viewLists: readonly (readonly ArrayBufferView[])[], opts?: PutOptions): Promise<number[]> { return layers.batchPutFromLayers(this.batches, this, keys, viewLists, opts, false); }
  getIntoLayers(key: string, views: readonly ArrayBufferView[]): Promise<number | undefined> { return layers.getIntoLayers(this.batches, key, views); }
  batchGetInto(keys: readonly string[], views: readonly ArrayBufferView[]): Promise<number[]> { return layers.batchGetIntoLayers(this.batches, keys, views, true); }
  batchGetIntoLayers(keys: readonly string[], viewLists: readonly (readonly ArrayBufferView[])[]): Promise<number[]> { return layers.batchGetIntoLayers(this.batches, keys, viewLists, false); }
}

/** The backend of `options.backend`: 'sim' (default), 'acl', or the object given. */
async function openBackend(options: MemCacheOptions): Promise<DeviceBackend> {
  const b = options.backend ?? 'sim';
  if (typeof b === 'object' && b !== null) return b;
  if (b === 'sim' || b === 'acl') return createBackend(b, { sim: options.sim, aclLibrary: options.aclLibrary, devices: options.devices });
  throw invalid(`unknown backend '${String(b)}' (sim or acl)`);
}
