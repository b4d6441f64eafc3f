import type { DeviceBackend, Medium } from '../device/types.js';

/** A size: bytes as a number, or a string like '128MB', '2.5GB', '1TB' (binary units). */
export type Size = number | string;

export interface SegmentSpec {
  rank: number;
  medium: Medium | 'HBM' | 'DRAM';
  bytes: Size;
}

export interface MemCacheOptions {
  /**
   * An embedded rank of a pool (README "Pool"): { meta: URL, rank: N, listen: 'HOST:PORT' }. The
   * segments (all of rank N) go to the pool; the store opened is the whole pool's.
   */
  pool?: import('../pool/embedded.js').PoolRankOptions;
  /** Segments to mount at open. Default: from `config`, else one rank with 1 GiB HBM + 1 GiB DRAM. */
  segments?: SegmentSpec[];
  /** 'sim' (default), 'acl', or a backend object. */
  backend?: 'sim' | 'acl' | DeviceBackend;
  /** Allocation alignment in bytes: a power of two from 64; default 4096. */
  alignment?: number;
  /** Eviction watermarks in percent of a medium's capacity; defaults 90 / 80. */
  evictThresholdHigh?: number;
  evictThresholdLow?: number;
  /** Path of a reference `ock.mmc.*` key = value conf file; explicit options win over it. */
  config?: string;
  /** How long a read holds its lease, ms (default 2000). */
  leaseMs?: number;
  /**
   * How long an ALLOCATED object may wait for its update_state, ms (default 30000). A writer
   * past it writes nothing more: its put fails and its space goes to others.
   */
  allocTimeoutMs?: number;
  /**
   * Cap on the core's metadata memory (records, key index, keys, allocator bookkeeping), bytes
   * or a size string: 1MB..4GB, default 3.75GB (wasm32's 4 GiB less a margin). Beyond it a put
   * fails with MMC_NOT_ENOUGH_MEMORY ("no metadata memory left"); stored objects stay readable.
   */
  coreMemoryLimit?: Size;
  /**
   * Touch the core's memory whole at open, and each growth of it at once (default false). The core
   * starts with 1 GiB of linear memory that the OS maps page by page as metadata first lands there:
   * the put that touches a fresh page takes its page fault, on some VMs milliseconds for one page.
   * Populated, no put takes one; the cost is that memory resident from the start (RSS + 1 GiB).
   */
  corePopulate?: boolean;
  /** Load the debug build of the WASM core (internal assertions on). */
  debug?: boolean;
  /** Options of the sim backend (fault injection; `populate`: segments touched whole at open). */
  sim?: { failWrite?: number; failRead?: number; failCopy?: number; populate?: boolean };
  /** ACL backend: library path and rank -> device map. */
  aclLibrary?: string;
  devices?: number[];
}

export interface PutOptions {
  /** Medium to place on; default the first tier with room (HBM, then DRAM). */
  medium?: Medium | 'HBM' | 'DRAM';
  /** Replicas on distinct ranks, 1..8 (default 1). */
  replicas?: number;
  /** Rank tried first (default 0). */
  preferredRank?: number;
}

export interface BlobLocation {
  rank: number;
  medium: 'HBM' | 'DRAM';
}

/** The answer of query, field order as in the contract. */
export interface QueryResult {
  key: string;
  size: number;
  prot: number;
  numBlobs: number;
  valid: boolean;
  blobs: BlobLocation[];
}

export interface SegmentInfo {
  id: string;
  rank: number;
  medium: 'HBM' | 'DRAM';
  totalBytes: number;
  /** Allocated bytes, rounded up to the alignment. */
  usedBytes: number;
  /** The largest free range: fragmentation shows as largestFreeBytes < totalBytes - usedBytes. */
  largestFreeBytes?: number;
}

/** A per-item outcome of a batch call: `error` is set when the item failed or was absent. */
export interface BatchItemResult<T> {
  key: string;
  ok: boolean;
  value?: T;
  error?: import('../errors.js').MmcError;
}

export type UpdateStateOp = 'write_ok' | 'write_fail';

/** One tracepoint's accumulators: timings in microseconds over good ends only. */
export interface Tracepoint {
  name: string;
  begin: number;
  goodEnd: number;
  badEnd: number;
  minUs: number;
  maxUs: number;
  totalUs: number;
}

/**
 * Counters as named in /metrics/summary (keys, evict, alloc_req, alloc_success, alloc_fail,
 * get_not_found, ...), plus hbm_used/hbm_total/dram_used/dram_total in bytes, the core's
 * metadata_used/metadata_limit in bytes (coreMemoryLimit) and the tracepoints.
 */
export interface Stats {
  [field: string]: number | Tracepoint[];
  tracepoints: Tracepoint[];
}

/**
 * The calls inference engines make (README "Calls for inference engines"), on MemCache and
 * MemCacheClient alike: values put from and read into buffers the caller already owns. A view is
 * any ArrayBufferView, taken as the bytes it spans (byteOffset, byteLength), never copied whole.
 * Batch puts answer an MMC code per key (0 = stored, as batchPut); batch gets the bytes read per
 * key, or a negative MMC code (MMC_UNMATCHED_KEY absent, MMC_INVALID_PARAM a bad key or views
 * that do not fit: nothing is written into them), as batchGetCodes's codes.
 */
export interface LayerCalls {
  putFrom(key: string, view: ArrayBufferView, opts?: PutOptions): Promise<void>;
  /** The views gathered, in order, into one value. */
  putFromLayers(key: string, views: readonly ArrayBufferView[], opts?: PutOptions): Promise<void>;
  batchPutFrom(keys: readonly string[], views: readonly ArrayBufferView[], opts?: PutOptions): Promise<number[]>;
  batchPutFromLayers(keys: readonly string[], viewLists: readonly (readonly ArrayBufferView[])[], opts?: PutOptions): Promise<number[]>;
  /** The value into `view` (at least its size): its size, or undefined when absent. */
  getInto(key: string, view: Uint8Array): Promise<number | undefined>;
  /** The value scattered over the views in order; their lengths must add up to its size. */
  getIntoLayers(key: string, views: readonly ArrayBufferView[]): Promise<number | undefined>;
  batchGetInto(keys: readonly string[], views: readonly ArrayBufferView[]): Promise<number[]>;
  batchGetIntoLayers(keys: readonly string[], viewLists: readonly (readonly ArrayBufferView[])[]): Promise<number[]>;
}
