/**
 * What the server and the CLI need of the embedded store (src/store/memcache.ts, class MemCache).
 * Structural, so the server depends only on the store's public surface.
 */
import type { PutOptions, QueryResult, SegmentInfo, Stats } from '../store/types.js';

type Awaitable<T> = T | Promise<T>;

export interface PutWriter {
  /** `chunk` is the caller's again once this settles (the data path reads the next bytes into it): copy what must stay. */
  write(chunk: Uint8Array): Awaitable<void>;
  commit(): Awaitable<void>;
  abort(): Awaitable<void>;
}

export interface StoreLike {
  readonly ready: boolean;
  put(key: string, bytes: Uint8Array, opts?: PutOptions): Awaitable<void>;
  get(key: string): Awaitable<Uint8Array | undefined>;
  /** get into `dst`: the length, or undefined when absent; a `dst` shorter than the value is MMC_INVALID_PARAM. */
  getInto?(key: string, dst: Uint8Array): Awaitable<number | undefined>;
  /** get into the buffer `dst(size)` gives (MemCache.getWith). */
  getWith?(key: string, dst: (size: number) => Uint8Array): Awaitable<Uint8Array | undefined>;
  /** getWith at once where the store can (MemCache.getWithNow); a failure is thrown. */
  getWithNow?(key: string, dst: (size: number) => Uint8Array): Awaitable<Uint8Array | undefined>;
  exists(key: string): Awaitable<boolean>;
  query(key: string): Awaitable<QueryResult | undefined>;
  remove(key: string): Awaitable<boolean>;
  removeAll(): Awaitable<number>;
  keys(): Awaitable<string[]>;
  batchPut(entries: [string, Uint8Array][], opts?: PutOptions): Awaitable<number[]>;
  batchGet(keys: string[]): Awaitable<(Uint8Array | undefined)[]>;
  /** `into`: the buffer for the found values, given once their total is known (MemCache.batchGetCodes). */
  batchGetCodes(keys: string[], into?: (total: number) => Uint8Array): Awaitable<{ values: (Uint8Array | undefined)[]; codes: number[] }>;
  batchExists(keys: string[]): Awaitable<boolean[]>;
  batchRemove(keys: string[]): Awaitable<number[]>;
  batchQuery(keys: string[]): Awaitable<QueryResult[]>;
  beginPut(key: string, size: number, opts?: PutOptions): Awaitable<PutWriter>;
  segments(): SegmentInfo[];
  stats(): Stats;
  close(): Awaitable<void>;
}
