/**
 * The hottest requests answered straight from the node:http handler, with the same bytes as the
 * Koa routes (errors included), skipping the Koa context: GET/HEAD /health, GET /api/v1/objects
 * and POST batch_put / batch_get. A request that is not plain (a query Koa must refuse, no
 * declared length, a store not ready) goes to Koa with its body unread.
 */
import type http from 'node:http';
import type Koa from 'koa';
import type { PutOptions } from '../store/types.js';
import { INTERNAL_ERROR, answerOf, answerResponse } from './answer.js';
import type { Batches, Reply } from './batch.js';
import { OBJ, getValue } from './data-routes.js';
import { CT_BINARY, CT_JSON } from './format.js';
import { keyTooLong } from '../protocol/key.js';
import { decodePutOptions } from '../protocol/put-options.js';
import { maxSizeParam } from './params.js';
import { Query } from './query.js';
import { Refusal } from './refusal.js';
import type { ServerState } from './state.js';
import type { StoreLike } from './store-api.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
/** Answers a failure as the Koa routes would. */
type Fail = (res: http.ServerResponse, e: unknown) => void;

const BATCH_PUT = `${OBJ}/batch_put`;
const BATCH_GET = `${OBJ}/batch_get`;

/** `koa` behind the fast path. */
export function fastPath(state: ServerState, batches: Batches, app: Koa, koa: Handler): Handler {
  /** The error answer of the fast path: as the route wrapper, and the outermost middleware for the rest. */
  const fail: Fail = (res, e) => {
    let a = answerOf(e, true);
    if (!a) {
      app.emit('error', e);
      a = INTERNAL_ERROR;
    }
    answerResponse(res, a);
  };
  /** True if the fast path took the request. */
  const batchRoute = (req: http.IncomingMessage, res: http.ServerResponse, url: string): boolean => {
    const cl = req.headers['content-length'];
    if (cl === undefined || !(Number(cl) <= state.limits.batchLimit) || url.includes('#')) return false;
    if (url === BATCH_GET) {
      void fastBatch(res, () => batches.get(req, res), fail);
      return true;
    }
    const opts = batchPutOptions(url);
    if (opts === undefined) return false;
    void fastBatch(res, () => batches.put(opts, req, res), fail);
    return true;
  };
  return (req, res) => {
    const url = req.url ?? '';
    const mc = state.mc;
    if (req.method === 'GET' || req.method === 'HEAD') {
      if (url === '/health') {
        const b = Buffer.from(state.healthBody());
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
        if (key !== undefined && !keyTooLong(key)) { void fastGet(res, mc, key, maxSize, state.limits.valueLimit, fail); return; }
      }
    } else if (req.method === 'POST' && mc && mc.ready && url.startsWith('/api/v1/objects/batch_') && batchRoute(req, res, url)) {
      return;
    }
    koa(req, res);
  };
}

async function fastGet(res: http.ServerResponse, s: StoreLike, key: string, maxSize: number | undefined, valueLimit: number, fail: Fail): Promise<void> {
  let v: Uint8Array | undefined;
  try {
    v = await getValue(s, key, maxSize, valueLimit);
    if (!v) throw new Refusal('Key not found', 404);
  } catch (e) {
    fail(res, e);
    return;
  }
  res.writeHead(200, { 'Content-Type': CT_BINARY, 'Content-Length': v.byteLength });
  res.end(v);
}

async function fastBatch(res: http.ServerResponse, reply: () => Promise<Reply>, fail: Fail): Promise<void> {
  let out: Reply;
  try {
    out = await reply();
  } catch (e) {
    fail(res, e);
    return;
  }
  writeChunks(res, out);
}

/** The options of a batch_put URL, or undefined when Koa must answer (another path, bad options). */
function batchPutOptions(url: string): PutOptions | undefined {
  let qs: string;
  if (url === BATCH_PUT) qs = '';
  else if (url.startsWith(BATCH_PUT) && url.charCodeAt(BATCH_PUT.length) === 63 /* ? */) qs = url.slice(BATCH_PUT.length + 1);
  else return undefined;
  try {
    return decodePutOptions(new Query(qs));
  } catch {
    return undefined; // the Koa route answers the refusal
  }
}

/** A binary 200 answer written as its chunks (no concatenation). */
function writeChunks(res: http.ServerResponse, out: Reply): void {
  res.writeHead(200, { 'Content-Type': CT_BINARY, 'Content-Length': out.length });
  if (out.chunks.length === 1) { res.end(out.chunks[0]); return; }
  res.cork();
  for (const c of out.chunks) res.write(c);
  res.end();
  res.uncork();
}
