/**
 * The standalone server: the 24 endpoints of the MemCache Hybrid RESTful API byte for byte, plus the data plane
 * under /api/v1/objects. Koa + @koa/router; the store counts every operation itself, the server
 * only calls it and reads stats() for the metrics.
 */
import http from 'node:http';
import type https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import Koa from 'koa';
import type { Context } from 'koa';
import Router from '@koa/router';
import { MMC, MmcError } from '../errors.js';
import type { PutOptions, QueryResult, SegmentInfo } from '../store/types.js';
import type { PutWriter, StoreLike } from './store-api.js';
import { Query, keyTooLong } from './query.js';
import { BodyAborted, BodyReader, BodyStalled } from './body.js';
import { Budget } from './budget.js';
import { inOrder } from './inorder.js';
import { DEFAULT_METADATA_KEY_LIMIT, DEFAULT_METADATA_TOTAL_LIMIT, MetadataStore } from './metadata.js';
import { keyLines, keyListFrame } from './slices.js';
import {
  CT_BINARY, CT_JSON, CT_METRICS, CT_TEXT, allocFreeTable, createMetricsRegistry, errorBody, metricsText,
  ptracerTable, ratio, summaryLine, unixSeconds,
} from './format.js';
import {
  FrameError, decodeBatchPutChunks, decodeKeyListChunks, encodeBatchGet, encodeCodes,
} from './framing.js';
import { accessGate, type AccessOptions } from './auth.js';
import { createHttpServer } from './tls.js';

export type { StoreLike, PutWriter } from './store-api.js';

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
}

export interface RunningServer {
  /** `http://host:port` (`https://` with TLS) */
  url: string;
  /** `host:port` as advertised in leader_address. */
  address: string;
  port: number;
  server: http.Server | https.Server;
  close(): Promise<void>;
}

export interface MmcServer {
  app: Koa;
  /** Resolves once the store is ready (ha_state `serving`). */
  readonly store: StoreLike | undefined;
  listen(host?: string, port?: number): Promise<RunningServer>;
}

export const DEFAULT_VALUE_LIMIT = 256 * 1024 * 1024;
export const DEFAULT_METADATA_LIMIT = 1024 * 1024;
export const DEFAULT_BATCH_LIMIT = 1024 * 1024 * 1024;
export const DEFAULT_BATCH_KEY_LIMIT = 16384;
export const DEFAULT_BODY_TIMEOUT_MS = 10_000;
export const DEFAULT_BODY_MEMORY_LIMIT = 1024 * 1024 * 1024;
export { DEFAULT_METADATA_KEY_LIMIT, DEFAULT_METADATA_TOTAL_LIMIT };

/** A refusal: the error body with `reason`, HTTP `status` (200 on the 24 endpoints). */
class Refusal extends Error {
  constructor(readonly reason: string, readonly status = 200) { super(reason); }
}

const NOT_FOUND_STATUS: Record<number, number> = {
  [MMC.MMC_INVALID_PARAM]: 400,
  [MMC.MMC_UNMATCHED_KEY]: 404,
  [MMC.MMC_OBJECT_NOT_EXISTS]: 404,
  [MMC.MMC_DUPLICATED_OBJECT]: 409,
  [MMC.MMC_NOT_ENOUGH_MEMORY]: 507,
  [MMC.MMC_EXCEED_CAPACITY]: 507,
  [MMC.MMC_NOT_INITIALIZED]: 503,
  [MMC.MMC_NOT_STARTED]: 503,
};

/**
 * The answer to an expected failure (a refusal, a malformed frame, a store error): its status
 * (real ones on the data plane, 200 on the contract's endpoints) and reason; undefined otherwise.
 */
function refusalOf(e: unknown, dataPlane: boolean): { status: number; reason: string; close?: boolean } | undefined {
  if (e instanceof Refusal) return { status: e.status, reason: e.reason };
  // the rest of a cut-off body would be read as the next request: the connection closes
  if (e instanceof BodyStalled) return { status: 408, reason: e.message, close: true };
  if (e instanceof BodyAborted) return { status: 400, reason: 'MMC_INVALID_PARAM: incomplete body', close: true };
  if (e instanceof FrameError) return { status: 400, reason: `MMC_INVALID_PARAM: ${e.message}` };
  if (e instanceof MmcError) return { status: dataPlane ? dataPlaneStatus(e.code) : 200, reason: e.message };
  return undefined;
}

/** Real HTTP status of an MMC error on the data plane. */
export function dataPlaneStatus(code: number): number {
  return NOT_FOUND_STATUS[code] ?? 500;
}

function sendError(ctx: Context, reason: string, status = 200): void {
  ctx.status = status;
  ctx.set('Content-Type', CT_JSON);
  ctx.body = errorBody(reason);
}

function sendJson(ctx: Context, text: string): void {
  ctx.set('Content-Type', CT_JSON);
  ctx.body = text;
}

function sendText(ctx: Context, text: string | Buffer): void {
  ctx.set('Content-Type', CT_TEXT);
  ctx.body = text;
}

function sendBinary(ctx: Context, chunks: Uint8Array[], length: number): void {
  ctx.status = 200;
  ctx.set('Content-Type', CT_BINARY);
  ctx.body = chunks.length === 1 ? Buffer.from(chunks[0].buffer, chunks[0].byteOffset, chunks[0].byteLength) : Buffer.concat(chunks, length);
}

function queryJson(q: QueryResult): object {
  return {
    key: q.key, size: q.size, prot: q.prot, numBlobs: q.numBlobs, valid: q.valid,
    blobs: q.blobs.map((b) => ({ rank: b.rank, medium: b.medium })),
  };
}

function segmentJson(s: SegmentInfo, nameField: 'segment' | 'segment_name'): object {
  const remaining = Math.max(0, s.totalBytes - s.usedBytes);
  return {
    [nameField]: s.id, medium: s.medium, total_bytes: s.totalBytes, used_bytes: s.usedBytes,
    remaining_bytes: remaining, remaining_ratio: ratio(remaining, s.totalBytes),
  };
}

/** A request body as the chunks it arrived in (the socket reads), never concatenated. */
interface BodyChunks { chunks: Buffer[]; length: number }

/** The items of a batch whose key is valid UTF-8 (`bad`: the others' indexes, ascending). */
function withoutBad<T>(items: T[], bad: readonly number[]): T[] {
  if (bad.length === 0) return items;
  const out: T[] = [];
  let b = 0;
  for (let i = 0; i < items.length; i++) {
    if (b < bad.length && bad[b] === i) b++;
    else out.push(items[i]);
  }
  return out;
}

/** The answers of withoutBad's items spread back over `n` in request order, `fill` at the bad ones. */
function withBad<T>(got: T[], n: number, bad: readonly number[], fill: T): T[] {
  if (bad.length === 0) return got;
  const out = new Array<T>(n);
  let b = 0;
  let j = 0;
  for (let i = 0; i < n; i++) {
    if (b < bad.length && bad[b] === i) { out[i] = fill; b++; } else out[i] = got[j++];
  }
  return out;
}

function parsePutOptions(q: Query): PutOptions {
  const opts: PutOptions = {};
  const medium = q.get('medium');
  if (medium !== undefined) {
    const m = medium.toLowerCase();
    if (m !== 'hbm' && m !== 'dram') throw new Refusal('MMC_INVALID_PARAM: medium must be hbm or dram', 400);
    opts.medium = m;
  }
  const replicas = q.get('replicas');
  if (replicas !== undefined) {
    if (!/^[0-9]+$/.test(replicas) || Number(replicas) < 1 || Number(replicas) > 8) {
      throw new Refusal('MMC_INVALID_PARAM: replicas must be 1..8', 400);
    }
    opts.replicas = Number(replicas);
  }
  const rank = q.get('preferred_rank');
  if (rank !== undefined) {
    if (!/^[0-9]+$/.test(rank) || Number(rank) > 1 << 20) throw new Refusal('MMC_INVALID_PARAM: preferred_rank must be a rank number', 400);
    opts.preferredRank = Number(rank);
  }
  return opts;
}

/** The `max_size` of a GET (the remote getInto's buffer): a byte count, or undefined when absent. */
function maxSizeParam(q: Query): number | undefined {
  const v = q.get('max_size');
  if (v === undefined) return undefined;
  if (!/^[0-9]{1,15}$/.test(v)) throw new Refusal('MMC_INVALID_PARAM: max_size must be a byte count', 400);
  return Number(v);
}

export function createServer(store: StoreLike | Promise<StoreLike>, options: ServerOptions = {}): MmcServer {
  const valueLimit = options.valueLimit ?? DEFAULT_VALUE_LIMIT;
  const metadataLimit = options.metadataLimit ?? DEFAULT_METADATA_LIMIT;
  const batchLimit = options.batchLimit ?? DEFAULT_BATCH_LIMIT;
  const batchKeyLimit = options.batchKeyLimit ?? DEFAULT_BATCH_KEY_LIMIT;
  const bodyTimeoutMs = options.bodyTimeoutMs ?? DEFAULT_BODY_TIMEOUT_MS;
  const bodyBudget = new Budget(options.bodyMemoryLimit ?? DEFAULT_BODY_MEMORY_LIMIT);
  /** Set once the store is ready (its default is half the store's capacity). */
  let putBudget: Budget | undefined;
  let mc: StoreLike | undefined;
  let startError: unknown;
  if (typeof (store as Promise<StoreLike>).then === 'function') {
    (store as Promise<StoreLike>).then((s) => { mc = s; }, (e) => { startError = e; });
  } else mc = store as StoreLike;
  let advertised = options.advertise ?? 'unknown';

  const ready = () => mc !== undefined && mc.ready;
  const metadata = new MetadataStore(
    options.metadataTotalLimit ?? DEFAULT_METADATA_TOTAL_LIMIT, options.metadataKeyLimit ?? DEFAULT_METADATA_KEY_LIMIT);
  const registry = createMetricsRegistry(() => mc);

  /** The store, or a refusal when it is not ready (status for the data plane). */
  const need = (status = 200): StoreLike => {
    if (!mc || !mc.ready) {
      throw new Refusal(startError ? 'MMC_NOT_INITIALIZED: store failed to start' : 'MMC_NOT_INITIALIZED: store is starting', status === 200 ? 200 : 503);
    }
    return mc;
  };
  const query = (ctx: Context) => new Query(ctx.querystring);
  const putsInFlight = (s: StoreLike): Budget => {
    if (!putBudget) {
      let capacity = 0;
      for (const seg of s.segments()) capacity += seg.totalBytes;
      putBudget = new Budget(options.putInFlightLimit ?? Math.floor(capacity / 2));
    }
    return putBudget;
  };
  /**
   * The one reader of buffered request bodies: at most `limit` bytes (else `tooLarge`), held
   * against the memory budget of bodies in flight (the declared length before a byte is read,
   * else as bytes arrive) until the response closes, cut off when it stalls.
   */
  const readBody = async (req: http.IncomingMessage, res: http.ServerResponse, limit: number, tooLarge: () => Refusal, status: number): Promise<BodyChunks> => {
    const cl = req.headers['content-length'];
    const declared = cl === undefined ? -1 : Number(cl);
    if (declared > limit) throw tooLarge(); // Node discards the unread body after the response
    const hold = bodyBudget.hold(res);
    const overBudget = () => new Refusal(
      `MMC_NOT_ENOUGH_MEMORY: request bodies in flight are over the limit (${bodyBudget.limit} bytes), retry later`, status);
    if (declared > 0 && !hold.grow(declared)) throw overBudget();
    const reader = new BodyReader(req, bodyTimeoutMs);
    const chunks: Buffer[] = [];
    let length = 0;
    try {
      for (let c = await reader.next(); c !== null; c = await reader.next()) {
        length += c.length;
        if (length > limit) throw tooLarge();
        if (declared < 0 && !hold.grow(c.length)) throw overBudget();
        chunks.push(c);
      }
    } catch (e) {
      chunks.length = 0;
      hold.release();
      throw e;
    } finally {
      reader.close();
    }
    if (declared >= 0 && length !== declared) throw new Refusal('MMC_INVALID_PARAM: incomplete body', 400);
    return { chunks, length };
  };

  /** A required key parameter (admin endpoints: business errors at HTTP 200; data plane: 400). */
  const keyParam = (q: Query, name: string, status = 200): string => {
    const key = q.get(name);
    if (key === undefined) throw new Refusal(`Missing '${name}' parameter`, status === 200 ? 200 : 400);
    if (keyTooLong(key)) throw new Refusal('MMC_INVALID_PARAM: key too long', status === 200 ? 200 : 400);
    return key;
  };

  const healthBody = () => {
    const r = ready();
    return JSON.stringify({
      status: 'ok', role: 'leader', ha_state: r ? 'serving' : 'starting', service_ready: r,
      leader_address: advertised, view_version: 0,
    });
  };
  const app = new Koa();
  const router = new Router({ sensitive: true, strict: true });
  /** path -> methods, for 405 and the Allow header. */
  const allowed = new Map<string, Set<string>>();
  type Handler = (ctx: Context) => unknown;
  const route = (method: 'get' | 'put' | 'post' | 'delete' | 'head', path: string, h: Handler, dataPlane = false) => {
    let set = allowed.get(path);
    if (!set) allowed.set(path, (set = new Set()));
    set.add(method.toUpperCase());
    if (method === 'get') set.add('HEAD');
    const wrapped = async (ctx: Context) => {
      try {
        await h(ctx);
      } catch (e) {
        const r = refusalOf(e, dataPlane);
        if (!r) throw e;
        if (r.close) ctx.set('Connection', 'close');
        sendError(ctx, r.reason, r.status);
      }
    };
    (router as unknown as Record<string, (p: string, h: Handler) => void>)[method](path, wrapped);
  };

  // Outermost: unexpected failures become the error body, never a bare 500 page.
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (e) {
      ctx.app.emit('error', e, ctx);
      sendError(ctx, 'Internal server error', 500);
    }
  });
  app.silent = true;

  // ---- metadata: a string store of its own ----
  route('get', '/metadata', (ctx) => {
    const key = keyParam(query(ctx), 'key');
    const v = metadata.get(key);
    if (v === undefined) throw new Refusal('Metadata key not found');
    sendText(ctx, v);
  });
  route('put', '/metadata', async (ctx) => {
    const key = keyParam(query(ctx), 'key');
    const cl = ctx.req.headers['content-length'];
    const early = metadata.refusal(key, cl === undefined ? 0 : Math.min(Number(cl), metadataLimit));
    if (early) throw new Refusal(early);
    const body = await readBody(ctx.req, ctx.res, metadataLimit,
      () => new Refusal(`MMC_INVALID_PARAM: metadata value too large (limit ${metadataLimit} bytes)`), 200);
    const full = metadata.refusal(key, body.length);
    if (full) throw new Refusal(full);
    metadata.set(key, body.chunks, body.length);
    sendText(ctx, 'metadata updated');
  });
  route('delete', '/metadata', (ctx) => {
    const key = keyParam(query(ctx), 'key');
    if (!metadata.delete(key)) throw new Refusal('Metadata key not found');
    sendText(ctx, 'metadata deleted');
  });

  // ---- health and HA (standalone: always the leader) ----
  route('get', '/health', (ctx) => sendJson(ctx, healthBody()));
  route('get', '/role', (ctx) => sendText(ctx, 'leader'));
  route('get', '/ha_status', (ctx) => sendText(ctx, ready() ? 'serving' : 'starting'));
  route('get', '/leader', (ctx) => sendJson(ctx, JSON.stringify({ present: true, leader_address: advertised, view_version: 0 })));

  // ---- metrics ----
  route('get', '/metrics', async (ctx) => {
    const text = await metricsText(registry);
    ctx.set('Content-Type', CT_METRICS);
    ctx.body = text;
  });
  route('get', '/metrics/summary', (ctx) => sendText(ctx, summaryLine(need().stats())));
  route('get', '/metrics/ptracer', (ctx) => sendText(ctx, ptracerTable(need().stats().tracepoints)));
  route('get', '/api/v1/analysis/alloc_free_latency', (ctx) => sendText(ctx, allocFreeTable(need().stats().tracepoints)));

  // ---- keys ----
  route('get', '/query_key', async (ctx) => {
    const key = keyParam(query(ctx), 'key');
    const r = await need().query(key);
    if (!r) throw new Refusal('Key not found');
    sendJson(ctx, JSON.stringify(queryJson(r)));
  });
  route('get', '/batch_query_keys', async (ctx) => {
    const keys = query(ctx).list('keys');
    if (!keys) throw new Refusal("Missing 'keys' parameter");
    if (keys.length > batchKeyLimit) throw new Refusal(`MMC_INVALID_PARAM: ${keys.length} keys in one batch (limit ${batchKeyLimit})`);
    if (keys.some(keyTooLong)) throw new Refusal('MMC_INVALID_PARAM: key too long');
    const r = await need().batchQuery(keys);
    sendJson(ctx, JSON.stringify({ success: true, data: r.map(queryJson) }));
  });
  route('delete', '/key', async (ctx) => {
    const key = keyParam(query(ctx), 'key');
    if (!(await need().remove(key))) throw new Refusal('Key not found');
    sendJson(ctx, '{"success":true,"message":"key deleted"}');
  });
  route('delete', '/all_keys', async (ctx) => {
    await need().removeAll();
    sendJson(ctx, '{"success":true,"message":"all keys deleted"}');
  });
  route('get', '/get_all_keys', async (ctx) => {
    const keys = await need().keys();
    sendText(ctx, keys.length ? await keyLines(keys) : '');
  });

  // ---- segments and capacity (pure reads: count nothing) ----
  route('get', '/get_all_segments', (ctx) => {
    const segs = need().segments();
    sendText(ctx, segs.length ? segs.map((s) => s.id).join('\n') + '\n' : '');
  });
  route('get', '/query_segment', (ctx) => {
    const id = query(ctx).get('segment');
    if (id === undefined) throw new Refusal("Missing 'segment' parameter");
    const s = need().segments().find((x) => x.id === id);
    if (!s) throw new Refusal('Segment not found');
    sendJson(ctx, JSON.stringify(segmentJson(s, 'segment')));
  });
  route('get', '/api/v1/segments/status', (ctx) => {
    const id = query(ctx).get('segment');
    if (id === undefined) throw new Refusal("Missing 'segment' parameter");
    if (!need().segments().some((x) => x.id === id)) throw new Refusal('Segment not found');
    sendJson(ctx, JSON.stringify({ success: true, segment: id, status: 1, status_name: 'OK' }));
  });
  route('get', '/api/v1/capacity/usage', (ctx) => {
    const r = ready();
    const segs = r ? mc!.segments() : [];
    const usage = (medium: 'HBM' | 'DRAM') => {
      let total = 0;
      let used = 0;
      for (const s of segs) if (s.medium === medium) { total += s.totalBytes; used += s.usedBytes; }
      return { total_bytes: total, used_bytes: used, free_bytes: Math.max(0, total - used), usage_ratio: ratio(used, total) };
    };
    sendJson(ctx, JSON.stringify({
      timestamp: unixSeconds(), data_source_ready: r, degraded: !r, npu: usage('HBM'), cpu: usage('DRAM'),
    }));
  });
  route('get', '/api/v1/capacity/segment_remaining', (ctx) => {
    const r = ready();
    const segs = r ? mc!.segments() : [];
    sendJson(ctx, JSON.stringify({
      timestamp: unixSeconds(), data_source_ready: r, degraded: !r,
      segments: segs.map((s) => segmentJson(s, 'segment_name')),
    }));
  });

  // ---- drain jobs: not supported, whatever the parameters ----
  const notSupported = () => { throw new Refusal('Not supported'); };
  route('post', '/api/v1/drain_jobs', notSupported);
  route('get', '/api/v1/drain_jobs/query', notSupported);
  route('post', '/api/v1/drain_jobs/cancel', notSupported);

  // ---- data plane: real HTTP status codes ----
  const OBJ = '/api/v1/objects';
  route('put', OBJ, async (ctx) => {
    const q = query(ctx);
    const key = keyParam(q, 'key', 400);
    const opts = parsePutOptions(q);
    const cl = ctx.req.headers['content-length'];
    if (cl === undefined) {
      // Chunked upload: buffered once (up to the limit), then put.
      const body = await readBody(ctx.req, ctx.res, valueLimit,
        () => new Refusal(`MMC_INVALID_PARAM: value too large (limit ${valueLimit} bytes)`, 413), 503);
      if (body.length === 0) throw new Refusal('MMC_INVALID_PARAM: empty value', 400);
      await need(503).put(key, Buffer.concat(body.chunks, body.length), opts);
      sendJson(ctx, JSON.stringify({ success: true, key, size: body.length }));
      return;
    }
    const size = Number(cl);
    if (size === 0) throw new Refusal('MMC_INVALID_PARAM: empty value', 400);
    if (size > valueLimit) throw new Refusal(`MMC_INVALID_PARAM: value too large (limit ${valueLimit} bytes)`, 413);
    // Nothing is reserved (nothing evicted) before the first body byte arrives, and then only
    // within the space that puts still receiving their bodies may hold.
    const inFlight = putsInFlight(need(503)).hold(ctx.res);
    const reader = new BodyReader(ctx.req, bodyTimeoutMs);
    let w: PutWriter | undefined;
    try {
      let chunk = await reader.next();
      if (chunk === null) throw new Refusal('MMC_INVALID_PARAM: incomplete body', 400);
      if (!inFlight.grow(size * (opts.replicas ?? 1), true)) {
        throw new Refusal(`MMC_NOT_ENOUGH_MEMORY: puts receiving their bodies hold the in-flight limit (${putBudget!.limit} bytes), retry later`, 503);
      }
      w = await need(503).beginPut(key, size, opts);
      let got = 0;
      for (; chunk !== null; chunk = await reader.next()) {
        got += chunk.length;
        await w.write(chunk);
      }
      if (got !== size) throw new Refusal('MMC_INVALID_PARAM: incomplete body', 400);
      const done = w;
      w = undefined;
      await done.commit();
    } catch (e) {
      if (w) await w.abort(); // the space is freed now, not when the socket closes
      throw e;
    } finally {
      inFlight.release();
      reader.close(); // after a refusal the rest of the body is drained (the connection stays usable)
    }
    sendJson(ctx, JSON.stringify({ success: true, key, size }));
  }, true);
  route('head', OBJ, async (ctx) => {
    const key = keyParam(query(ctx), 'key', 400);
    const s = need(503);
    let size: number | undefined;
    const sizeOf = (s as { sizeOf?: (k: string) => number | undefined | Promise<number | undefined> }).sizeOf;
    if (typeof sizeOf === 'function') size = await sizeOf.call(s, key);
    else if (await s.exists(key)) size = (await s.query(key))?.size;
    if (size === undefined) { ctx.status = 404; ctx.set('Content-Type', CT_JSON); return; }
    ctx.status = 200;
    ctx.set('Content-Type', CT_BINARY);
    ctx.set('Content-Length', String(size));
  }, true);
  /**
   * The value of a data-plane GET. With `max_size` (the remote getInto) a larger value is refused
   * by the store's getInto, counted a failed get as embedded; its buffer is that size, so values
   * at or over the value limit (none is stored through this server) are read by get.
   */
  const getValue = async (s: StoreLike, key: string, maxSize: number | undefined): Promise<Uint8Array | undefined> => {
    if (maxSize === undefined || maxSize >= valueLimit || !s.getInto) {
      const v = await s.get(key);
      if (v && maxSize !== undefined && v.byteLength > maxSize) throw new Refusal(`MMC_INVALID_PARAM: dst holds ${maxSize} bytes, the value of '${key}' has ${v.byteLength}`, 400);
      return v;
    }
    const dst = Buffer.allocUnsafe(maxSize);
    const n = await s.getInto(key, dst);
    return n === undefined ? undefined : dst.subarray(0, n);
  };
  route('get', OBJ, async (ctx) => {
    const q = query(ctx);
    const key = keyParam(q, 'key', 400);
    const v = await getValue(need(503), key, maxSizeParam(q));
    if (!v) throw new Refusal('Key not found', 404);
    ctx.set('Content-Type', CT_BINARY);
    ctx.body = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  }, true);
  route('delete', OBJ, async (ctx) => {
    const key = keyParam(query(ctx), 'key', 400);
    if (!(await need(503).remove(key))) throw new Refusal('Key not found', 404);
    sendJson(ctx, '{"success":true,"message":"key deleted"}');
  }, true);
  route('get', `${OBJ}/keys`, async (ctx) => {
    const b = await keyListFrame(await need(503).keys());
    sendBinary(ctx, [b], b.length);
  }, true);
  route('post', `${OBJ}/remove_all`, async (ctx) => {
    const n = await need(503).removeAll();
    sendJson(ctx, JSON.stringify({ success: true, removed: n }));
  }, true);
  route('get', `${OBJ}/segments`, (ctx) => {
    sendJson(ctx, JSON.stringify(need(503).segments()));
  }, true);
  route('get', `${OBJ}/stats`, (ctx) => {
    sendJson(ctx, JSON.stringify(need(503).stats()));
  }, true);

  /** The body of a batch route as its chunks (values stay views of the socket reads). */
  const batchBody = (req: http.IncomingMessage, res: http.ServerResponse): Promise<BodyChunks> =>
    readBody(req, res, batchLimit, () => new Refusal(`MMC_INVALID_PARAM: batch too large (limit ${batchLimit} bytes)`, 413), 503);
  /** Keys of a key-list body (at most batchKeyLimit); those not valid UTF-8 listed in `bad`. */
  const batchKeys = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const body = await batchBody(req, res);
    return decodeKeyListChunks(body.chunks, body.length, batchKeyLimit);
  };
  // batch_put and batch_get, shared by the Koa routes and the fast path in `handler`
  const batchPutReply = async (opts: PutOptions, req: http.IncomingMessage, res: http.ServerResponse): Promise<{ chunks: Uint8Array[]; length: number }> => {
    const body = await batchBody(req, res);
    const { entries, bad } = decodeBatchPutChunks(body.chunks, body.length, batchKeyLimit);
    for (const [, v] of entries) if (v.byteLength > valueLimit) throw new Refusal(`MMC_INVALID_PARAM: value too large (limit ${valueLimit} bytes)`, 413);
    const codes = await need(503).batchPut(withoutBad(entries, bad), opts);
    const b = encodeCodes(withBad(codes, entries.length, bad, MMC.MMC_INVALID_PARAM));
    return { chunks: [b], length: b.length };
  };
  const batchGetReply = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<{ chunks: Uint8Array[]; length: number }> => {
    const { keys, bad } = await batchKeys(req, res);
    const { values, codes } = await need(503).batchGetCodes(withoutBad(keys, bad));
    return encodeBatchGet(withBad(values, keys.length, bad, undefined), withBad(codes, keys.length, bad, MMC.MMC_INVALID_PARAM));
  };
  route('post', `${OBJ}/batch_put`, async (ctx) => {
    const opts = parsePutOptions(query(ctx));
    const { chunks, length } = await batchPutReply(opts, ctx.req, ctx.res);
    sendBinary(ctx, chunks, length);
  }, true);
  route('post', `${OBJ}/batch_get`, async (ctx) => {
    const { chunks, length } = await batchGetReply(ctx.req, ctx.res);
    sendBinary(ctx, chunks, length);
  }, true);
  route('post', `${OBJ}/batch_exists`, async (ctx) => {
    const { keys, bad } = await batchKeys(ctx.req, ctx.res);
    const r = await need(503).batchExists(withoutBad(keys, bad));
    const codes = r.map((x) => (x ? 0 : MMC.MMC_UNMATCHED_KEY));
    const b = encodeCodes(withBad(codes, keys.length, bad, MMC.MMC_INVALID_PARAM));
    sendBinary(ctx, [b], b.length);
  }, true);
  route('post', `${OBJ}/batch_remove`, async (ctx) => {
    const { keys, bad } = await batchKeys(ctx.req, ctx.res);
    const codes = await need(503).batchRemove(withoutBad(keys, bad));
    const b = encodeCodes(withBad(codes, keys.length, bad, MMC.MMC_INVALID_PARAM));
    sendBinary(ctx, [b], b.length);
  }, true);
  route('post', `${OBJ}/batch_query`, async (ctx) => {
    const { keys, bad } = await batchKeys(ctx.req, ctx.res);
    // the JSON answer has no per-item code: a key that is not UTF-8 refuses the call
    if (bad.length) throw new Refusal('MMC_INVALID_PARAM: key is not valid UTF-8', 400);
    const r = await need(503).batchQuery(keys);
    sendJson(ctx, JSON.stringify({ success: true, data: r.map(queryJson) }));
  }, true);

  app.use(router.routes());
  // Reached only when no route matched: 405 on a known path, else 404.
  app.use((ctx) => {
    const methods = allowed.get(ctx.path);
    if (methods) {
      ctx.set('Allow', [...methods].join(', '));
      sendError(ctx, 'Method not allowed', 405);
    } else {
      sendError(ctx, 'Not found', 404);
    }
  });

  const koaHandler = app.callback();
  /** The error answer of the fast paths: as the route wrapper (Refusal, FrameError, MmcError) and the outermost middleware (the rest). */
  const fastError = (res: http.ServerResponse, e: unknown) => {
    let r = refusalOf(e, true);
    if (!r) {
      app.emit('error', e);
      r = { status: 500, reason: 'Internal server error' };
    }
    const b = Buffer.from(errorBody(r.reason));
    res.writeHead(r.status, { 'Content-Type': CT_JSON, 'Content-Length': b.length, ...(r.close ? { Connection: 'close' } : {}) });
    res.end(b);
  };
  const fastGet = async (req: http.IncomingMessage, res: http.ServerResponse, s: StoreLike, key: string, maxSize: number | undefined) => {
    let v: Uint8Array | undefined;
    try {
      v = await getValue(s, key, maxSize);
      if (!v) throw new Refusal('Key not found', 404);
    } catch (e) {
      fastError(res, e);
      return;
    }
    res.writeHead(200, { 'Content-Type': CT_BINARY, 'Content-Length': v.byteLength });
    res.end(v);
  };
  /**
   * POST batch_put / batch_get straight from the node:http handler, answering as the Koa routes do
   * (same status, headers and body, errors included), the response written as chunks (no
   * concatenation). Taken only when the request is plain: the exact path, a declared length within
   * the limit, valid put options, a ready store; anything else goes to Koa with its body unread.
   */
  const fastBatch = async (req: http.IncomingMessage, res: http.ServerResponse, reply: () => Promise<{ chunks: Uint8Array[]; length: number }>) => {
    let out: { chunks: Uint8Array[]; length: number };
    try {
      out = await reply();
    } catch (e) {
      fastError(res, e);
      return;
    }
    res.writeHead(200, { 'Content-Type': CT_BINARY, 'Content-Length': out.length });
    if (out.chunks.length === 1) { res.end(out.chunks[0]); return; }
    res.cork();
    for (const c of out.chunks) res.write(c);
    res.end();
    res.uncork();
  };
  const BATCH_PUT = `${OBJ}/batch_put`;
  const BATCH_GET = `${OBJ}/batch_get`;
  /** True if the fast path took the request. */
  const fastBatchRoute = (req: http.IncomingMessage, res: http.ServerResponse, url: string): boolean => {
    const cl = req.headers['content-length'];
    if (cl === undefined || !(Number(cl) <= batchLimit) || url.includes('#')) return false;
    if (url === BATCH_GET) {
      void fastBatch(req, res, () => batchGetReply(req, res));
      return true;
    }
    let qs: string;
    if (url === BATCH_PUT) qs = '';
    else if (url.startsWith(BATCH_PUT) && url.charCodeAt(BATCH_PUT.length) === 63 /* ? */) qs = url.slice(BATCH_PUT.length + 1);
    else return false;
    let opts: PutOptions;
    try {
      opts = parsePutOptions(new Query(qs));
    } catch {
      return false; // the Koa route answers the refusal
    }
    void fastBatch(req, res, () => batchPutReply(opts, req, res));
    return true;
  };
  const handler = options.fastPath === false ? koaHandler : (req: http.IncomingMessage, res: http.ServerResponse) => {
    const url = req.url ?? '';
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (url === '/health') {
        const b = Buffer.from(healthBody());
        res.writeHead(200, { 'Content-Type': CT_JSON, 'Content-Length': b.length });
        res.end(req.method === 'HEAD' ? undefined : b);
        return;
      }
      if (req.method === 'GET' && url.startsWith('/api/v1/objects?') && mc && mc.ready) {
        // The query ends at a '#' (a fragment), as Koa's parser has it.
        const hash = url.indexOf('#', 16);
        let key: string | undefined;
        let maxSize: number | undefined;
        try {
          const q = new Query(url.slice(16, hash < 0 ? undefined : hash));
          key = q.get('key');
          maxSize = maxSizeParam(q);
        } catch {
          key = undefined; // not UTF-8, or a bad max_size: the Koa route answers the refusal
        }
        if (key !== undefined && !keyTooLong(key)) { void fastGet(req, res, mc, key, maxSize); return; }
      }
    } else if (req.method === 'POST' && mc && mc.ready && url.startsWith('/api/v1/objects/batch_') && fastBatchRoute(req, res, url)) {
      return;
    }
    koaHandler(req, res);
  };

  return {
    app,
    get store() { return mc; },
    listen(host = '127.0.0.1', port = 8000): Promise<RunningServer> {
      // A request head of up to 1 MiB (Node's default is 16 KiB), so that an oversized key in the
      // query string gets the contract's `key too long` answer rather than a bare 431.
      const server = createHttpServer(options.tls, { keepAliveTimeout: 65_000, maxHeaderSize: 1 << 20 }, inOrder(accessGate(options.token, handler)));
      // A request that is not HTTP at all (or a head over the limit) still gets the error body.
      server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
        // As Node's own handler: answer only if no response on this socket has begun.
        const inFlight = (socket as Socket & { _httpMessage?: http.ServerResponse | null })._httpMessage;
        if (socket.writable && (!inFlight || !inFlight.headersSent)) {
          const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
          const body = errorBody(status === 431 ? 'MMC_INVALID_PARAM: request head too large' : 'MMC_INVALID_PARAM: malformed HTTP request');
          socket.write(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: ${CT_JSON}\r\n` +
            `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
        }
        socket.destroy();
      });
      return new Promise((resolve, reject) => {
        const onError = (e: Error) => reject(e);
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          const a = server.address() as AddressInfo;
          const h = a.family === 'IPv6' || a.address.includes(':') ? `[${a.address}]` : a.address;
          const address = `${h}:${a.port}`;
          if (options.advertise === undefined) advertised = address;
          resolve({
            url: `${options.tls ? 'https' : 'http'}://${address}`, address, port: a.port, server,
            close: () => new Promise<void>((res) => {
              server.close(() => res());
              server.closeIdleConnections();
              setTimeout(() => server.closeAllConnections(), 2000).unref();
            }),
          });
        });
      });
    },
  };
}
