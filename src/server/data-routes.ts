/**
 * The data plane under /api/v1/objects: values as raw bytes, batches as binary frames, errors
 * with real HTTP statuses.
 */
import type { Context } from 'koa';
import { MMC } from '../errors.js';
import type { PutOptions } from '../store/types.js';
import type { Route } from './app.js';
import type { Batches } from './batch.js';
import { BodyReader, type BodyRule } from './body.js';
import { CT_BINARY, CT_JSON } from './format.js';
import { decodePutOptions } from '../protocol/put-options.js';
import { keyParam, maxSizeParam, queryOf } from './params.js';
import { Refusal } from './refusal.js';
import { queryJson, sendBinary, sendJson } from './reply.js';
import { keyListFrame } from './slices.js';
import type { ServerState } from './state.js';
import type { PutWriter, StoreLike } from './store-api.js';

export const OBJ = '/api/v1/objects';

export function dataRoutes(route: Route, state: ServerState, batches: Batches): void {
  objectRoutes(route, state);
  batchRoutes(route, state, batches);
}

/** The refusal of a put when puts still receiving their values hold the in-flight limit. */
export function putsInFlightFull(limit: number): Refusal {
  return new Refusal(`MMC_NOT_ENOUGH_MEMORY: puts receiving their bodies hold the in-flight limit (${limit} bytes), retry later`, 503);
}

export function tooLargeValue(valueLimit: number): Refusal {
  return new Refusal(`MMC_INVALID_PARAM: value too large (limit ${valueLimit} bytes)`, 413);
}

function objectRoutes(route: Route, state: ServerState): void {
  const { valueLimit } = state.limits;
  const chunked: BodyRule = { limit: valueLimit, overBudgetStatus: 503, tooLarge: () => tooLargeValue(valueLimit) };
  route('put', OBJ, async (ctx) => {
    const q = queryOf(ctx);
    const key = keyParam(q, 'key', 400);
    const opts = decodePutOptions(q);
    if (ctx.req.headers['content-length'] === undefined) {
      // Chunked upload: buffered once (up to the limit), then put.
      const body = await state.bodies.read(ctx.req, ctx.res, chunked);
      if (body.length === 0) throw new Refusal('MMC_INVALID_PARAM: empty value', 400);
      await state.need(503).put(key, Buffer.concat(body.chunks, body.length), opts);
      sendJson(ctx, JSON.stringify({ success: true, key, size: body.length }));
      return;
    }
    const size = await streamPut(ctx, state, key, opts);
    sendJson(ctx, JSON.stringify({ success: true, key, size }));
  }, true);
  route('head', OBJ, async (ctx) => {
    const key = keyParam(queryOf(ctx), 'key', 400);
    const size = await valueSize(state.need(503), key);
    if (size === undefined) { ctx.status = 404; ctx.set('Content-Type', CT_JSON); return; }
    ctx.status = 200;
    ctx.set('Content-Type', CT_BINARY);
    ctx.set('Content-Length', String(size));
  }, true);
  route('get', OBJ, async (ctx) => {
    const q = queryOf(ctx);
    const key = keyParam(q, 'key', 400);
    const v = await getValue(state.need(503), key, maxSizeParam(q), valueLimit);
    if (!v) throw new Refusal('Key not found', 404);
    ctx.set('Content-Type', CT_BINARY);
    ctx.body = Buffer.from(v.buffer, v.byteOffset, v.byteLength);
  }, true);
  route('delete', OBJ, async (ctx) => {
    const key = keyParam(queryOf(ctx), 'key', 400);
    if (!(await state.need(503).remove(key))) throw new Refusal('Key not found', 404);
    sendJson(ctx, '{"success":true,"message":"key deleted"}');
  }, true);
  route('get', `${OBJ}/keys`, async (ctx) => {
    const b = await keyListFrame(await state.need(503).keys());
    sendBinary(ctx, [b], b.length);
  }, true);
  route('post', `${OBJ}/remove_all`, async (ctx) => {
    const n = await state.need(503).removeAll();
    sendJson(ctx, JSON.stringify({ success: true, removed: n }));
  }, true);
  route('get', `${OBJ}/segments`, (ctx) => {
    sendJson(ctx, JSON.stringify(state.need(503).segments()));
  }, true);
  route('get', `${OBJ}/stats`, (ctx) => {
    sendJson(ctx, JSON.stringify(state.need(503).stats()));
  }, true);
}

/** The size of a key's value, or undefined when absent (HEAD, and the binary data path's SIZE). */
export async function valueSize(s: StoreLike, key: string): Promise<number | undefined> {
  const sizeOf = (s as { sizeOf?: (k: string) => number | undefined | Promise<number | undefined> }).sizeOf;
  if (typeof sizeOf === 'function') return sizeOf.call(s, key);
  return (await s.exists(key)) ? (await s.query(key))?.size : undefined;
}

/**
 * The value of a data-plane GET (the Koa route and the fast path). With `max_size` (the remote
 * getInto) a larger value is refused by the store's getInto, counted a failed get as embedded;
 * its buffer is that size, so values at or over the value limit (none is stored through this
 * server) are read by get.
 */
export async function getValue(s: StoreLike, key: string, maxSize: number | undefined, valueLimit: number): Promise<Uint8Array | undefined> {
  if (maxSize === undefined || maxSize >= valueLimit || !s.getInto) {
    const v = await s.get(key);
    if (v && maxSize !== undefined && v.byteLength > maxSize) throw new Refusal(`MMC_INVALID_PARAM: dst holds ${maxSize} bytes, the value of '${key}' has ${v.byteLength}`, 400);
    return v;
  }
  const dst = Buffer.allocUnsafe(maxSize);
  const n = await s.getInto(key, dst);
  return n === undefined ? undefined : dst.subarray(0, n);
}

/**
 * A put with a Content-Length, streamed into the store as its body arrives. Nothing is reserved
 * (nothing evicted) before the first body byte arrives, and then only within the space that puts
 * still receiving their bodies may hold. Returns the size stored.
 */
async function streamPut(ctx: Context, state: ServerState, key: string, opts: PutOptions): Promise<number> {
  const { valueLimit, bodyTimeoutMs } = state.limits;
  const size = Number(ctx.req.headers['content-length']);
  if (size === 0) throw new Refusal('MMC_INVALID_PARAM: empty value', 400);
  if (size > valueLimit) throw tooLargeValue(valueLimit);
  const budget = state.putsInFlight(state.need(503));
  const inFlight = budget.hold(ctx.res);
  const reader = new BodyReader(ctx.req, bodyTimeoutMs);
  let w: PutWriter | undefined;
  try {
    let chunk = await reader.next();
    if (chunk === null) throw new Refusal('MMC_INVALID_PARAM: incomplete body', 400);
    if (!inFlight.grow(size * (opts.replicas ?? 1), true)) {
      throw putsInFlightFull(budget.limit);
    }
    w = await state.need(503).beginPut(key, size, opts);
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
  return size;
}

function batchRoutes(route: Route, state: ServerState, batches: Batches): void {
  route('post', `${OBJ}/batch_put`, async (ctx) => {
    const { chunks, length } = await batches.put(decodePutOptions(queryOf(ctx)), ctx.req, ctx.res);
    sendBinary(ctx, chunks, length);
  }, true);
  route('post', `${OBJ}/batch_get`, async (ctx) => {
    const { chunks, length } = await batches.get(ctx.req, ctx.res);
    sendBinary(ctx, chunks, length);
  }, true);
  route('post', `${OBJ}/batch_exists`, async (ctx) => {
    const { chunks, length } = await batches.codes(ctx.req, ctx.res,
      async (keys) => (await state.need(503).batchExists(keys)).map((x) => (x ? 0 : MMC.MMC_UNMATCHED_KEY)));
    sendBinary(ctx, chunks, length);
  }, true);
  route('post', `${OBJ}/batch_remove`, async (ctx) => {
    const { chunks, length } = await batches.codes(ctx.req, ctx.res, (keys) => state.need(503).batchRemove(keys));
    sendBinary(ctx, chunks, length);
  }, true);
  route('post', `${OBJ}/batch_query`, async (ctx) => {
    const { keys, bad } = await batches.keys(ctx.req, ctx.res);
    // the JSON answer has no per-item code: a key that is not UTF-8 refuses the call
    if (bad.length) throw new Refusal('MMC_INVALID_PARAM: key is not valid UTF-8', 400);
    const r = await state.need(503).batchQuery(keys);
    sendJson(ctx, JSON.stringify({ success: true, data: r.map(queryJson) }));
  }, true);
}
