/**
 * Access: a bearer token, checked in front of everything else (the fast paths and the Koa routes).
 *
 * With a token set, every request needs `Authorization: Bearer <token>` except the reads of the
 * admin API listed in OPEN_READS (GET/HEAD /health, /metrics, /role, ...). The list is of exact
 * paths, so anything not on it (the data plane, a mutating method, an unknown or oddly spelled
 * path) needs the token: a mistake here closes a door, never opens one.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type http from 'node:http';
import { answerResponse } from './answer.js';
import type { TlsOptions } from './tls.js';
import { REASON } from '../protocol/reasons.js';
import { checkToken } from '../protocol/token.js';

/** Reads of the admin API that stay open with a token set (GET and HEAD only). */
export const OPEN_READS: ReadonlySet<string> = new Set([
  '/health', '/role', '/ha_status', '/leader',
  '/metrics', '/metrics/summary', '/metrics/ptracer', '/api/v1/analysis/alloc_free_latency',
  '/metadata', '/query_key', '/batch_query_keys', '/get_all_keys',
  '/get_all_segments', '/query_segment', '/api/v1/segments/status',
  '/api/v1/capacity/usage', '/api/v1/capacity/segment_remaining',
  '/api/v1/drain_jobs/query',
]);

/** True if `method url` needs the token. */
export function needsToken(method: string | undefined, url: string): boolean {
  if (method !== 'GET' && method !== 'HEAD') return true;
  if (url.charCodeAt(0) !== 47 /* / */) return true; // absolute-form and the like: not on the list
  let end = url.indexOf('?');
  if (end < 0) end = url.length;
  const hash = url.indexOf('#');
  if (hash >= 0 && hash < end) end = hash;
  return !OPEN_READS.has(url.slice(0, end));
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const BEARER_CHALLENGE: http.OutgoingHttpHeaders = { 'WWW-Authenticate': 'Bearer realm="memcache-hybrid"' };

function refuse(res: http.ServerResponse, status: 401 | 403, reason: typeof REASON.NO_TOKEN | typeof REASON.WRONG_TOKEN): void {
  // The request body, if any, is left unread: Node discards it after the response.
  answerResponse(res, { status, reason }, status === 401 ? BEARER_CHALLENGE : undefined);
}

/**
 * `handler` behind the token check: no token, `handler` itself. A request that needs the token
 * and has no bearer credentials gets 401 with `WWW-Authenticate: Bearer`; a wrong token 403; both
 * with the contract's error body. Tokens are compared in constant time (as SHA-256 digests, so
 * the length does not show either).
 */
export function accessGate(token: string | undefined, handler: Handler): Handler {
  if (token === undefined) return handler;
  const matches = tokenMatcher(token);
  return (req, res) => {
    if (!needsToken(req.method, req.url ?? '')) { handler(req, res); return; }
    const auth = req.headers.authorization;
    const m = auth === undefined ? null : /^Bearer +([^ ]+) *$/i.exec(auth);
    if (m === null) { refuse(res, 401, REASON.NO_TOKEN); return; }
    if (!matches(m[1]!)) { refuse(res, 403, REASON.WRONG_TOKEN); return; }
    handler(req, res);
  };
}

/**
 * A check of presented tokens against `token`, in constant time (as SHA-256 digests, so the
 * length does not show either); shared by the HTTP gate and the binary data path's HELLO.
 */
export function tokenMatcher(token: string): (got: string | Uint8Array) => boolean {
  const want = createHash('sha256').update(checkToken(token)).digest();
  return (got) => timingSafeEqual(createHash('sha256').update(got).digest(), want);
}

/** Options of createServer; both apply to what listen() serves (not to `app` used on its own). */
export interface AccessOptions {
  /**
   * A bearer token: required (`Authorization: Bearer <token>`) for every request but the reads of
   * the admin API in OPEN_READS. One word of printable ASCII.
   */
  token?: string;
  /** Serve HTTPS (node:https, the same handler) with these PEM contents; see TlsOptions. */
  tls?: TlsOptions;
}
