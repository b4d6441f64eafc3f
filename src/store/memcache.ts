/**
 * The embedded store: the public API over the WASM core and a device backend.
 *
 * put = alloc (core: space reserved, ALLOCATED) -> write (backend, to every replica) ->
 * commit (core: READABLE). get = lease a READABLE blob (core) -> read (backend) -> release.
 * The core answers NEED_EVICT when an alloc would pass the high watermark; the store then
 * evicts (demotions copy bytes through the backend) and asks again.
 */
import { setImmediate as yieldLoop } from 'node:timers/promises';
import { MMC, MmcError } from '../errors.js';
import { createBackend } from '../device/index.js';
import type { DeviceBackend, DeviceSegment } from '../device/types.js';
import { resolveOptions } from './options.js';
import {
  Core, NEED_EVICT, DEMOTE, ALLOC_SKIP_WATERMARK, ALLOC_FINAL, 
  OP,
} from './core.js';
import type {
  LayerCalls, MemCacheOptions, PutOptions, QueryResult, SegmentInfo, SegmentSpec, Stats, UpdateStateOp,
} from './types.js';
import { valueBuffer } from './slab.js';
import { readStats } from './stats.js';
import {
  batchAlloc, batchExists, batchGetCodes, batchPut, batchQuery, batchRemove, batchUpdateState, type BatchStore,
} from './batch.js';
import { PutWriter, type MountedSegment, type WriterHost } from './writer.js';
import {
  MEDIA, MEDIUM_NAMES, invalid, errorCode, checkReplicas, checkRank, parseMedium, normalizeSegment, allocMessage, getMessage,
  type NormalizedSegment,
} from './validate.js';
import * as layers from './layers.js';

export { PutWriter };

const SWEEP_INTERVAL_MS = 500;
/** Keys listed between two yields to the event loop (about 4 ms of work). */
const KEYS_SLICE = 8192;

export class MemCache implements WriterHost, LayerCalls {
  private readonly core: Core;
  private readonly backend: DeviceBackend;
  private readonly alignment: number;
  private readonly bySlot: (MountedSegment | undefined)[] = [];
  private readonly byId = new Map<string, MountedSegment>();
  /** Two-phase puts waiting for updateState by key (in flight only, never one per stored key). */
  private readonly pendingPuts = new Map<string, PutWriter>();
  private readonly sweeper: ReturnType<typeof setInterval>;
  private closed = false;
  /** Warnings from the conf file (unknown keys). */
  readonly warnings: readonly string[];

  /** What the batch calls (batch.ts) use of this store. */
  private readonly batches: BatchStore;

  private constructor(core: Core, backend: DeviceBackend, alignment: number, warnings: string[]) {
    this.core = core;
    this.backend = backend;
    this.batches = {
      core, backend, bySlot: this.bySlot,
      check: () => this.check(),
      reserve: (key, size, opts, flags) => this.reserve(key, size, opts, flags),
      writeAndCommit: (w, value, flags, codes) => this.writeAndCommit(w, value, flags, codes),
      allocItem: (key, size, opts, flags) => this.allocItem(key, size, opts, flags),
      updateStateItem: (key, op, flags) => this.updateStateItem(key, op, flags),
      readQuery: (key) => this.readQuery(key),
    };
    this.alignment = alignment;
    this.warnings = warnings;
    this.sweeper = setInterval(() => {
      if (!this.core.failed) this.sweepNow();
    }, SWEEP_INTERVAL_MS);
    this.sweeper.unref?.();
  }

  /** Opens a store: loads the WASM core, opens the backend and mounts the segments. */
  static async open(options: MemCacheOptions = {}): Promise<MemCache> {
    const o = resolveOptions(options);
    const backend = await openBackend(options);
    const core = new Core({
      debug: options.debug ?? false, alignShift: Math.log2(o.alignment), leaseMs: o.leaseMs, allocTimeoutMs: o.allocTimeoutMs,
      high: o.high, low: o.low, metaLimit: o.metaLimit,
    });
    if (core.x.metadata_bytes() > core.x.metadata_limit()) {
      throw invalid(`coreMemoryLimit ${o.metaLimit} is below what the core takes at start (${core.x.metadata_bytes()} bytes)`);
    }
    const mc = new MemCache(core, backend, o.alignment, o.warnings);
    try {
      for (const s of o.segments) await mc.mountNormalized(s);
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

  private check(): void {
    if (this.closed) throw new MmcError(MMC.MMC_NOT_INITIALIZED, 'the store is closed');
    if (this.core.failed) throw this.core.failed;
  }

  // ---- segments ----

  async mount(spec: SegmentSpec): Promise<SegmentInfo> {
    this.check();
    const s = normalizeSegment(spec, this.alignment);
    const m = await this.mountNormalized(s);
    return this.info(m);
  }

  private async mountNormalized(s: NormalizedSegment): Promise<MountedSegment> {
    if (this.byId.has(s.id)) {
      this.core.x.count_op(OP.mount, MMC.MMC_INVALID_PARAM);
      throw invalid(`segment ${s.id} is already mounted`);
    }
    let device: DeviceSegment;
    try {
      device = await this.backend.open(s.rank, MEDIA[s.medium], s.bytes);
    } catch (err) {
      this.core.x.count_op(OP.mount, MMC.MMC_ERROR);
      throw err;
    }
    const slot = this.core.x.seg_mount(s.rank, s.medium, s.bytes);
    if (slot < 0) {
      await this.backend.release(device);
      throw new MmcError(slot, slot === MMC.MMC_NOT_ENOUGH_MEMORY ? `cannot mount ${s.id}: no metadata memory left in the core (coreMemoryLimit)` : `cannot mount ${s.id}`);
    }
    const m: MountedSegment = { id: s.id, slot, rank: s.rank, medium: s.medium, device };
    this.bySlot[slot] = m;
    this.byId.set(s.id, m);
    return m;
  }

  /** Unmounts a segment by id ('rank-1-dram'): its blobs go, and objects left without any. */
  async unmount(id: string): Promise<void> {
    this.check();
    const m = this.byId.get(id);
    if (!m) {
      this.core.x.count_op(OP.unmount, MMC.MMC_INVALID_PARAM);
      throw invalid(`Segment not found: ${String(id)}`);
    }
    this.core.x.seg_unmount(m.slot);
    this.bySlot[m.slot] = undefined;
    this.byId.delete(id);
    await this.backend.release(m.device);
  }

  /** Mounted segments: HBM first, then DRAM, each by rank. */
  segments(): SegmentInfo[] {
    this.check();
    return [...this.byId.values()]
      .sort((a, b) => a.medium - b.medium || a.rank - b.rank)
      .map((m) => this.info(m));
  }

  private info(m: MountedSegment): SegmentInfo {
    return {
      id: m.id, rank: m.rank, medium: MEDIUM_NAMES[m.medium],
      totalBytes: this.core.x.seg_total(m.slot), usedBytes: this.core.x.seg_used(m.slot),
      largestFreeBytes: this.core.x.seg_largest_free(m.slot),
    };
  }

  // ---- put ----

  /**
   * Stores `value` under `key`. MmcError on failure; nothing is left behind by a failed put.
   * The common case (no eviction, a synchronous backend) runs without an await: alloc, write,
   * commit, in one turn of the event loop, with no per-put object beyond the returned promise.
   */
  put(key: string, value: Uint8Array, opts?: PutOptions): Promise<void> {
    try {
      this.check();
      if (!(value instanceof Uint8Array)) throw invalid('value must be a Uint8Array');
      const x = this.core.x;
      const keyLen = this.core.setKey(key);
      const size = value.length;
      if (size === 0) throw invalid('size must be a positive integer, got 0');
      const code = opts === undefined
        ? x.obj_alloc(keyLen, size, -1, 1, 0, 0)
        : x.obj_alloc(keyLen, size, parseMedium(opts.medium), checkReplicas(opts.replicas), checkRank(opts.preferredRank), 0);
      if (code === NEED_EVICT) return this.putEvicting(key, value, opts);
      if (code !== MMC.MMC_OK) throw new MmcError(code, allocMessage(code, key, size, this.core.out[0] === 1));
      const out = this.core.out;
      const id = out[0], gen = out[1], n = out[2], t0 = out[3];
      for (let i = 0; i < n; i++) {
        let r: void | Promise<void>;
        try {
          r = this.backend.write(this.bySlot[out[8 + 2 * i]]!.device, out[9 + 2 * i], value);
        } catch (err) {
          this.commitWrite(false, id, gen, t0, 0, key);
          throw err;
        }
        if (r) {
          // the write lands later: its blobs are held until it has (same turn as the alloc)
          const rest = this.locations(i + 1);
          x.obj_pin(id, gen);
          return this.putFinish(r, id, gen, t0, key, value, rest);
        }
      }
      this.commitWrite(true, id, gen, t0, 0, key);
      return RESOLVED;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** The (segment, offset) pairs of OUT's blobs from index `from` on, copied out of the core. */
  private locations(from: number): [MountedSegment, number][] {
    const out = this.core.out;
    const list: [MountedSegment, number][] = [];
    for (let i = from; i < out[2]; i++) list.push([this.bySlot[out[8 + 2 * i]]!, out[9 + 2 * i]]);
    return list;
  }

  /**
   * The rest of a put whose write went asynchronous; its blobs are pinned (obj_pin) until the
   * writes are over, so a sweep or remove meanwhile takes the key but leaves the space alone.
   */
  private async putFinish(pending: Promise<void>, id: number, gen: number, t0: number, key: string, value: Uint8Array, rest: [MountedSegment, number][]): Promise<void> {
    const x = this.core.x;
    try {
      await pending;
      for (const [seg, offset] of rest) {
        const r = this.backend.write(seg.device, offset, value);
        if (r) await r;
      }
    } catch (err) {
      x.obj_write_end(id, gen);
      this.commitWrite(false, id, gen, t0, 0, key);
      throw err;
    }
    x.obj_write_end(id, gen);
    this.commitWrite(true, id, gen, t0, 0, key);
  }

  /** A put that must evict first. */
  private async putEvicting(key: string, value: Uint8Array, opts?: PutOptions): Promise<void> {
    const w = await this.reserve(key, value.length, opts, 0);
    await this.writeAndCommit(w, value, 0);
  }

  /**
   * The write and update_state of a whole value through its writer; `flags` IN_BATCH or 0. A
   * batch passes `commitCodes` to get the code of each commit (write_fail's when the write threw).
   */
  private async writeAndCommit(w: PutWriter, value: Uint8Array, flags: number, commitCodes?: number[]): Promise<void> {
    const h = w.handle;
    try {
      await this._write(w, 0, value);
    } catch (err) {
      this.commitWrite(false, h.id, h.gen, h.t0, flags, w.key, commitCodes);
      throw err;
    }
    this.commitWrite(true, h.id, h.gen, h.t0, flags, w.key, commitCodes);
  }

  /**
   * The one commit of a written object: update_state write_ok (`ok`) or write_fail; a write_ok
   * the core refuses (the object was removed or expired meanwhile) throws. `codes` collects the
   * core's code for a batch.
   */
  private commitWrite(ok: boolean, id: number, gen: number, t0: number, flags: number, key: string, codes?: number[]): void {
    const c = this.core.x.obj_commit(id, gen, ok ? 1 : 0, t0, flags);
    codes?.push(c);
    if (ok && c !== MMC.MMC_OK) throw new MmcError(c, `'${key}' was removed or expired while being written`);
  }

  /** Two-phase put, first phase: reserves space; write through the returned PutWriter, then commit. */
  async alloc(key: string, size: number, opts?: PutOptions): Promise<PutWriter> {
    return this.allocItem(key, size, opts, 0);
  }

  private async allocItem(key: string, size: number, opts: PutOptions | undefined, flags: number): Promise<PutWriter> {
    this.check();
    const w = await this.reserve(key, size, opts, flags);
    this.pendingPuts.set(key, w);
    return w;
  }

  /** The same as alloc: a streaming put (used by the server's data plane). */
  beginPut(key: string, size: number, opts?: PutOptions): Promise<PutWriter> {
    return this.alloc(key, size, opts);
  }

  /** Two-phase put, second phase, by key. */
  async updateState(key: string, op: UpdateStateOp): Promise<void> {
    return this.updateStateItem(key, op, 0);
  }

  private async updateStateItem(key: string, op: UpdateStateOp, flags: number): Promise<void> {
    this.check();
    if (op !== 'write_ok' && op !== 'write_fail') throw invalid(`state must be 'write_ok' or 'write_fail', got ${String(op)}`);
    const keyLen = this.core.setKey(key);
    const code = this.core.x.obj_find_allocated(keyLen, flags);
    if (code !== MMC.MMC_OK) {
      this.pendingPuts.delete(key);
      throw new MmcError(code, code === MMC.MMC_UNMATCHED_KEY ? `'${key}' is not allocated` : `'${key}' is not being written`);
    }
    const out = this.core.out;
    const id = out[0], gen = out[1];
    const w = this.pendingPuts.get(key);
    const own = w !== undefined && w.handle.id === id && w.handle.gen === gen;
    const c = this.core.x.obj_commit(id, gen, op === 'write_ok' ? 1 : 0, own ? w.handle.t0 : performance.now(), flags);
    if (c === MMC.MMC_UNMATCHED_STATE) throw new MmcError(c, `'${key}' has a write in flight: update_state after it ends`);
    if (w) this.pendingPuts.delete(key);
    if (own) w._settle();
    if (c !== MMC.MMC_OK) throw new MmcError(c, `update_state of '${key}' failed`);
  }

  /** @internal update_state of a writer's own handle. */
  _commit(w: PutWriter, ok: boolean): void {
    if (this.pendingPuts.get(w.key) === w) this.pendingPuts.delete(w.key);
    if (this.closed || this.core.failed) return;
    this.commitWrite(ok, w.handle.id, w.handle.gen, w.handle.t0, 0, w.key);
  }

  /**
   * @internal Writes `chunk` at `at` within each replica of writer `w`: only while its
   * allocation is still its own (ALLOCATED, before its deadline), checked in the core right
   * before; the blobs are pinned while the writes are in flight, so nothing reclaims them under
   * a slow write. A writer whose allocation was reclaimed writes nothing.
   */
  async _write(w: PutWriter, at: number, chunk: Uint8Array): Promise<void> {
    const x = this.core.x;
    const h = w.handle;
    const code = x.obj_write_begin(h.id, h.gen);
    if (code !== MMC.MMC_OK) {
      throw new MmcError(code, code === MMC.MMC_UNMATCHED_KEY
        ? `'${w.key}' expired or was removed while being written (allocTimeoutMs); nothing more is written`
        : `'${w.key}' has too many writes in flight`);
    }
    try {
      for (let i = 0; i < h.targets.length; i++) {
        const r = this.backend.write(h.targets[i].device, h.offsets[i] + at, chunk);
        if (r) await r;
      }
    } finally {
      x.obj_write_end(h.id, h.gen);
    }
  }

  /** alloc in the core, evicting while it asks to; `flags` IN_BATCH for a batch's item. */
  private async reserve(key: string, size: number, opts: PutOptions | undefined, flags0: number): Promise<PutWriter> {
    let keyLen = this.core.setKey(key);
    if (!Number.isSafeInteger(size) || size <= 0) throw invalid(`size must be a positive integer, got ${String(size)}`);
    const medium = parseMedium(opts?.medium);
    const replicas = checkReplicas(opts?.replicas);
    const preferredRank = checkRank(opts?.preferredRank);
    const x = this.core.x;
    let flags = flags0;
    let code = x.obj_alloc(keyLen, size, medium, replicas, preferredRank, flags);
    while (code === NEED_EVICT) {
      const m = this.core.out[0];
      x.sweep();
      const evicted = await this.evict(m, flags === flags0);
      flags = flags0 | (evicted ? ALLOC_SKIP_WATERMARK : ALLOC_SKIP_WATERMARK | ALLOC_FINAL);
      this.check(); // the store may have been closed meanwhile
      keyLen = this.core.setKey(key); // the scratch area may have served others meanwhile
      code = x.obj_alloc(keyLen, size, medium, replicas, preferredRank, flags);
    }
    if (code !== MMC.MMC_OK) throw new MmcError(code, allocMessage(code, key, size, this.core.out[0] === 1));
    const out = this.core.out;
    const n = out[2];
    const targets: MountedSegment[] = [];
    const offsets: number[] = [];
    const blobs = [];
    for (let i = 0; i < n; i++) {
      const seg = this.bySlot[out[8 + 2 * i]]!;
      targets.push(seg);
      offsets.push(out[9 + 2 * i]);
      blobs.push({ segment: seg.id, rank: seg.rank, medium: MEDIUM_NAMES[seg.medium], offset: out[9 + 2 * i] });
    }
    return new PutWriter(this, key, size, blobs, { id: out[0], gen: out[1], t0: out[3], targets, offsets });
  }

  /**
   * Evicts on medium m: one victim, or (toLow) down to the low watermark. HBM victims are copied
   * to DRAM when it has room. True if anything was evicted.
   */
  private async evict(m: number, toLow: boolean): Promise<boolean> {
    const x = this.core.x;
    let any = false;
    do {
      const code = x.evict_next(m);
      if (code === 0) break;
      any = true;
      if (code === DEMOTE) {
        const out = this.core.out;
        const id = out[0], gen = out[1], shadow = out[2], pairs = out[3], size = out[4], t0 = out[5];
        const copies: number[] = [];
        for (let i = 0; i < pairs * 4; i++) copies.push(out[8 + i]);
        let ok = 1;
        try {
          for (let i = 0; i < copies.length; i += 4) {
            const r = this.backend.copy(this.bySlot[copies[i]]!.device, copies[i + 1], this.bySlot[copies[i + 2]]!.device, copies[i + 3], size);
            if (r) await r;
          }
        } catch {
          ok = 0; // the object is evicted by removal instead
        }
        x.demote_end(id, gen, shadow, ok, t0);
      }
    } while (toLow && x.over_low(m));
    return any;
  }

  // ---- get, exists, query, remove ----

  /**
   * The value under `key`, or undefined when absent. A key still being written (allocated, not
   * yet committed) rejects with MMC_OBJECT_NOT_EXISTS.
   */
  get(key: string): Promise<Uint8Array | undefined> {
    return this.read(key, undefined) as Promise<Uint8Array | undefined>;
  }

  /**
   * Reads the value under `key` into the caller's buffer (no allocation per get): the value's
   * length, or undefined when absent. A `dst` shorter than the value is MMC_INVALID_PARAM.
   */
  getInto(key: string, dst: Uint8Array): Promise<number | undefined> {
    if (!(dst instanceof Uint8Array)) return Promise.reject(invalid('dst must be a Uint8Array'));
    return this.read(key, dst) as Promise<number | undefined>;
  }

  /** get (into a new buffer) or getInto (into `into`): the bytes, or the length read into `into`. */
  private read(key: string, into: Uint8Array | undefined): Promise<Uint8Array | number | undefined> {
    let blob = 0;
    let id = 0, gen = 0, t0 = 0;
    const x = this.core.x;
    try {
      this.check();
      const code = x.obj_get(this.core.setKey(key), 0);
      if (code !== MMC.MMC_OK) {
        if (code === MMC.MMC_UNMATCHED_KEY) return NOTHING;
        throw new MmcError(code, getMessage(code, key));
      }
      const out = this.core.out;
      blob = out[0];
      t0 = out[1];
      id = out[5];
      gen = out[6];
      const size = out[2];
      if (into && into.length < size) throw invalid(`dst holds ${into.length} bytes, the value of '${key}' has ${size}`);
      const dst = into ? into.subarray(0, size) : valueBuffer(size);
      const result = into ? size : dst;
      const r = this.backend.read(this.bySlot[out[3]]!.device, out[4], dst);
      if (r) {
        const b = blob;
        blob = 0;
        return r.then(() => {
          const c = x.obj_get_end(id, gen, b, MMC.MMC_OK, t0, 0);
          if (c !== MMC.MMC_OK) throw new MmcError(c, getMessage(c, key));
          return result;
        }, (err: unknown) => {
          if (!this.core.failed) x.obj_get_end(id, gen, b, MMC.MMC_ERROR, t0, 0);
          throw err;
        });
      }
      x.obj_get_end(id, gen, blob, MMC.MMC_OK, t0, 0);
      return Promise.resolve(result);
    } catch (err) {
      if (blob && !this.core.failed) x.obj_get_end(id, gen, blob, errorCode(err), t0, 0);
      return Promise.reject(err);
    }
  }

  exists(key: string): Promise<boolean> {
    try {
      this.check();
      return this.core.x.obj_exists(this.core.setKey(key), 0) === MMC.MMC_OK ? TRUE : FALSE;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** exist_key that also tells the size: the object's length in bytes, or undefined when absent. */
  async sizeOf(key: string): Promise<number | undefined> {
    this.check();
    return this.core.x.obj_exists(this.core.setKey(key), 0) === MMC.MMC_OK ? this.core.out[0] : undefined;
  }

  async query(key: string): Promise<QueryResult | undefined> {
    this.check();
    if (this.core.x.obj_query(this.core.setKey(key), 0) !== MMC.MMC_OK) return undefined;
    return this.readQuery(key);
  }

  private readQuery(key: string): QueryResult {
    const out = this.core.out;
    const numBlobs = out[2];
    const medium = MEDIUM_NAMES[out[4]];
    const blobs = [];
    for (let i = 0; i < numBlobs; i++) blobs.push({ rank: out[8 + i], medium });
    return { key, size: out[0], prot: out[1], numBlobs, valid: out[3] === 1, blobs };
  }

  /** True if the key was there. */
  remove(key: string): Promise<boolean> {
    try {
      this.check();
      return this.core.x.obj_remove(this.core.setKey(key), 0) === MMC.MMC_OK ? TRUE : FALSE;
    } catch (err) {
      return Promise.reject(err);
    }
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
  batchGetCodes(keys: readonly string[]): Promise<{ values: (Uint8Array | undefined)[]; codes: number[] }> {
    return batchGetCodes(this.batches, keys);
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
    return this.sweepNow();
  }

  private sweepNow(): number {
    const x = this.core.x;
    const freed = x.sweep();
    if (freed > 0) {
      // two-phase puts whose writer timed out: forget their writers too
      for (const [key, w] of this.pendingPuts) {
        if (!x.obj_handle_live(w.handle.id, w.handle.gen)) this.pendingPuts.delete(key);
      }
    }
    return freed;
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

const RESOLVED: Promise<void> = Promise.resolve();
const NOTHING: Promise<undefined> = Promise.resolve(undefined);
const TRUE: Promise<boolean> = Promise.resolve(true);
const FALSE: Promise<boolean> = Promise.resolve(false);
