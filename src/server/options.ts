/** createServer's options, their defaults, and the limits they resolve to. */
import type { AccessOptions } from './auth.js';
import type { DataListen, PoolOps } from './data-listen.js';
import { DEFAULT_METADATA_KEY_LIMIT, DEFAULT_METADATA_TOTAL_LIMIT } from './metadata.js';

export interface ServerOptions extends AccessOptions {
  /** Largest value accepted by the data plane, bytes (default 256 MiB). */
  valueLimit?: number;
  /** Largest /metadata value, bytes (default 1 MiB). */
  metadataLimit?: number;
  /** Largest batch request body, bytes (default 1 GiB). */
  batchLimit?: number;
  /** Keys in one batch call: /batch_query_keys and every batch frame (default 16384); beyond, MMC_INVALID_PARAM. */
  batchKeyLimit?: number;
  /**
   * A request body that sends no byte for this long (headers only, or a stop half way) is cut
   * off: 408 `MMC_TIMEOUT`, the connection closed, whatever it held freed at once (default 10000).
   */
  bodyTimeoutMs?: number;
  /**
   * Memory held by request bodies buffered in flight (batches, /metadata, puts without a
   * Content-Length), bytes in total (default 1 GiB); beyond it 503 `MMC_NOT_ENOUGH_MEMORY`.
   */
  bodyMemoryLimit?: number;
  /**
   * Store space held by puts still receiving their bodies (value size × replicas), bytes in total
   * (default half the store's capacity; one put may always run alone); beyond it a new put gets
   * 503 `MMC_NOT_ENOUGH_MEMORY` instead of evicting. A put reserves its space only once its first
   * body byte arrives, and a connection carries one request at a time.
   */
  putInFlightLimit?: number;
  /** /metadata: total bytes of keys and values (default 64 MiB). */
  metadataTotalLimit?: number;
  /** /metadata: number of keys (default 65536). */
  metadataKeyLimit?: number;
  /** Advertised `host:port` (leader_address); default the address actually listened on. */
  advertise?: string;
  /**
   * Answer the hottest requests (GET/HEAD /health, GET /api/v1/objects, POST
   * /api/v1/objects/batch_put and batch_get) straight from the node:http handler, with the same
   * bytes as the Koa routes, skipping the Koa context (default true). Everything else goes through
   * Koa (the batch fast path answers its own errors, as the Koa route would).
   */
  fastPath?: boolean;
  /**
   * The binary data path (README "Binary data path"): 'off', 'HOST:PORT' or { host, port };
   * default the HTTP host and port + 1, an ephemeral port where that one is taken. It takes the
   * token, TLS and limits of the HTTP side.
   */
  dataListen?: DataListen;
  /**
   * The pool's meta service (src/pool/meta.ts): the data path's pool ops (a Pending, or undefined
   * for the store's own ops) and what GET /api/v1/data_path adds to its answer ({ pool: true }).
   */
  poolOps?: PoolOps;
}

export const DEFAULT_VALUE_LIMIT = 256 * 1024 * 1024;
export const DEFAULT_METADATA_LIMIT = 1024 * 1024;
export const DEFAULT_BATCH_LIMIT = 1024 * 1024 * 1024;
export const DEFAULT_BATCH_KEY_LIMIT = 16384;
export const DEFAULT_BODY_TIMEOUT_MS = 10_000;
export const DEFAULT_BODY_MEMORY_LIMIT = 1024 * 1024 * 1024;
export { DEFAULT_METADATA_KEY_LIMIT, DEFAULT_METADATA_TOTAL_LIMIT };

/** The limits in force, defaults filled in (putInFlightLimit stays optional: its default needs the store). */
export interface Limits {
  valueLimit: number;
  metadataLimit: number;
  batchLimit: number;
  batchKeyLimit: number;
  bodyTimeoutMs: number;
  bodyMemoryLimit: number;
  putInFlightLimit: number | undefined;
  metadataTotalLimit: number;
  metadataKeyLimit: number;
}

export function resolveLimits(o: ServerOptions): Limits {
  return {
    valueLimit: o.valueLimit ?? DEFAULT_VALUE_LIMIT,
    metadataLimit: o.metadataLimit ?? DEFAULT_METADATA_LIMIT,
    batchLimit: o.batchLimit ?? DEFAULT_BATCH_LIMIT,
    batchKeyLimit: o.batchKeyLimit ?? DEFAULT_BATCH_KEY_LIMIT,
    bodyTimeoutMs: o.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS,
    bodyMemoryLimit: o.bodyMemoryLimit ?? DEFAULT_BODY_MEMORY_LIMIT,
    putInFlightLimit: o.putInFlightLimit,
    metadataTotalLimit: o.metadataTotalLimit ?? DEFAULT_METADATA_TOTAL_LIMIT,
    metadataKeyLimit: o.metadataKeyLimit ?? DEFAULT_METADATA_KEY_LIMIT,
  };
}
