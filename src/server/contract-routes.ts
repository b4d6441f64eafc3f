/**
 * The 24 endpoints of the MemCache Hybrid RESTful API, byte for byte: business errors are the
 * error body at HTTP 200.
 */
import type { Route } from './app.js';
import type { BodyRule } from './body.js';
import { CT_METRICS, allocFreeTable, ptracerTable, ratio, summaryLine, unixSeconds } from './format.js';
import { metricsText } from './metrics.js';
import { keyParam, queryOf } from './params.js';
import { keyTooLong } from '../protocol/key.js';
import { Refusal } from './refusal.js';
import { queryJson, segmentJson, sendJson, sendText } from './reply.js';
import { keyLines } from './slices.js';
import type { ServerState } from './state.js';

export function contractRoutes(route: Route, state: ServerState): void {
  metadataRoutes(route, state);
  haRoutes(route, state);
  metricsRoutes(route, state);
  keyRoutes(route, state);
  segmentRoutes(route, state);
  drainRoutes(route);
}

/** /metadata: a string store of its own. */
function metadataRoutes(route: Route, state: ServerState): void {
  const { metadata } = state;
  const limit = state.limits.metadataLimit;
  const rule: BodyRule = {
    limit, overBudgetStatus: 200,
    tooLarge: () => new Refusal(`MMC_INVALID_PARAM: metadata value too large (limit ${limit} bytes)`),
  };
  route('get', '/metadata', (ctx) => {
    const key = keyParam(queryOf(ctx), 'key');
    const v = metadata.get(key);
    if (v === undefined) throw new Refusal('Metadata key not found');
    sendText(ctx, v);
  });
  route('put', '/metadata', async (ctx) => {
    const key = keyParam(queryOf(ctx), 'key');
    const cl = ctx.req.headers['content-length'];
    const early = metadata.refusal(key, cl === undefined ? 0 : Math.min(Number(cl), limit));
    if (early) throw new Refusal(early);
    const body = await state.bodies.read(ctx.req, ctx.res, rule);
    const full = metadata.refusal(key, body.length);
    if (full) throw new Refusal(full);
    metadata.set(key, body.chunks, body.length);
    sendText(ctx, 'metadata updated');
  });
  route('delete', '/metadata', (ctx) => {
    const key = keyParam(queryOf(ctx), 'key');
    if (!metadata.delete(key)) throw new Refusal('Metadata key not found');
    sendText(ctx, 'metadata deleted');
  });
}

/** Health and HA (standalone: always the leader). */
function haRoutes(route: Route, state: ServerState): void {
  route('get', '/health', (ctx) => sendJson(ctx, state.healthBody()));
  route('get', '/role', (ctx) => sendText(ctx, 'leader'));
  route('get', '/ha_status', (ctx) => sendText(ctx, state.ready() ? 'serving' : 'starting'));
  route('get', '/leader', (ctx) => sendJson(ctx, JSON.stringify({ present: true, leader_address: state.advertised, view_version: 0 })));
}

function metricsRoutes(route: Route, state: ServerState): void {
  route('get', '/metrics', async (ctx) => {
    const text = await metricsText(state.registry);
    ctx.set('Content-Type', CT_METRICS);
    ctx.body = text;
  });
  route('get', '/metrics/summary', (ctx) => sendText(ctx, summaryLine(state.need().stats())));
  route('get', '/metrics/ptracer', (ctx) => sendText(ctx, ptracerTable(state.need().stats().tracepoints)));
  route('get', '/api/v1/analysis/alloc_free_latency', (ctx) => sendText(ctx, allocFreeTable(state.need().stats().tracepoints)));
}

function keyRoutes(route: Route, state: ServerState): void {
  const { batchKeyLimit } = state.limits;
  route('get', '/query_key', async (ctx) => {
    const key = keyParam(queryOf(ctx), 'key');
    const r = await state.need().query(key);
    if (!r) throw new Refusal('Key not found');
    sendJson(ctx, JSON.stringify(queryJson(r)));
  });
  route('get', '/batch_query_keys', async (ctx) => {
    const keys = queryOf(ctx).list('keys');
    if (!keys) throw new Refusal("Missing 'keys' parameter");
    if (keys.length > batchKeyLimit) throw new Refusal(`MMC_INVALID_PARAM: ${keys.length} keys in one batch (limit ${batchKeyLimit})`);
    if (keys.some(keyTooLong)) throw new Refusal('MMC_INVALID_PARAM: key too long');
    const r = await state.need().batchQuery(keys);
    sendJson(ctx, JSON.stringify({ success: true, data: r.map(queryJson) }));
  });
  route('delete', '/key', async (ctx) => {
    const key = keyParam(queryOf(ctx), 'key');
    if (!(await state.need().remove(key))) throw new Refusal('Key not found');
    sendJson(ctx, '{"success":true,"message":"key deleted"}');
  });
  route('delete', '/all_keys', async (ctx) => {
    await state.need().removeAll();
    sendJson(ctx, '{"success":true,"message":"all keys deleted"}');
  });
  route('get', '/get_all_keys', async (ctx) => {
    const keys = await state.need().keys();
    sendText(ctx, keys.length ? await keyLines(keys) : '');
  });
}

/** Segments and capacity (pure reads: count nothing). */
function segmentRoutes(route: Route, state: ServerState): void {
  route('get', '/get_all_segments', (ctx) => {
    const segs = state.need().segments();
    sendText(ctx, segs.length ? segs.map((s) => s.id).join('\n') + '\n' : '');
  });
  route('get', '/query_segment', (ctx) => {
    const id = queryOf(ctx).get('segment');
    if (id === undefined) throw new Refusal("Missing 'segment' parameter");
    const s = state.need().segments().find((x) => x.id === id);
    if (!s) throw new Refusal('Segment not found');
    sendJson(ctx, JSON.stringify(segmentJson(s, 'segment')));
  });
  route('get', '/api/v1/segments/status', (ctx) => {
    const id = queryOf(ctx).get('segment');
    if (id === undefined) throw new Refusal("Missing 'segment' parameter");
    if (!state.need().segments().some((x) => x.id === id)) throw new Refusal('Segment not found');
    sendJson(ctx, JSON.stringify({ success: true, segment: id, status: 1, status_name: 'OK' }));
  });
  route('get', '/api/v1/capacity/usage', (ctx) => {
    const r = state.ready();
    const segs = r ? state.mc!.segments() : [];
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
    const r = state.ready();
    const segs = r ? state.mc!.segments() : [];
    sendJson(ctx, JSON.stringify({
      timestamp: unixSeconds(), data_source_ready: r, degraded: !r,
      segments: segs.map((s) => segmentJson(s, 'segment_name')),
    }));
  });
}

/** Drain jobs: not supported, whatever the parameters. */
function drainRoutes(route: Route): void {
  const notSupported = () => { throw new Refusal('Not supported'); };
  route('post', '/api/v1/drain_jobs', notSupported);
  route('get', '/api/v1/drain_jobs/query', notSupported);
  route('post', '/api/v1/drain_jobs/cancel', notSupported);
}
