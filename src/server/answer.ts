/**
 * Errors answered once: every failure a request meets becomes an ErrorAnswer (status, reason,
 * whether the connection must close) here, and one of three writers sends it as the contract's
 * error body: through a Koa context (the routes, the 404/405 fallback), a node:http response
 * (the fast path, the access gate) or a bare socket (a request that is not HTTP at all).
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import type { Context } from 'koa';
import { MmcError } from '../errors.js';
import { BodyAborted, BodyStalled } from './body.js';
import { CT_JSON, errorBody } from './format.js';
import { FrameError } from '../protocol/framing.js';
import { REASON, type CodedReason, type Reason } from '../protocol/reasons.js';
import { dataPlaneStatus } from '../protocol/status.js';
import { Refusal } from './refusal.js';

export interface ErrorAnswer { status: number; reason: Reason; close?: boolean }

/** An unexpected failure: a generic reason (the detail goes to the app's 'error' event). */
export const INTERNAL_ERROR: ErrorAnswer = { status: 500, reason: REASON.INTERNAL_ERROR };

/**
 * The answer to an expected failure (a refusal, a malformed frame, a store error): its status
 * (real ones on the data plane, 200 on the contract's endpoints) and reason; undefined otherwise.
 */
export function answerOf(e: unknown, dataPlane: boolean): ErrorAnswer | undefined {
  if (e instanceof Refusal) return { status: e.status, reason: e.reason };
  // the rest of a cut-off body would be read as the next request: the connection closes
  if (e instanceof BodyStalled) return { status: 408, reason: e.message as CodedReason, close: true };
  if (e instanceof BodyAborted) return { status: 400, reason: 'MMC_INVALID_PARAM: incomplete body', close: true };
  if (e instanceof FrameError) return { status: 400, reason: `MMC_INVALID_PARAM: ${e.message}` };
  // an MmcError's message is `${codeName}: text` (its constructor)
  if (e instanceof MmcError) return { status: dataPlane ? dataPlaneStatus(e.code) : 200, reason: e.message as CodedReason };
  return undefined;
}

/** The answer to a request node:http could not parse (a head over the limit, a timeout, not HTTP). */
export function clientErrorAnswer(code: string | undefined): ErrorAnswer {
  if (code === 'HPE_HEADER_OVERFLOW') return { status: 431, reason: 'MMC_INVALID_PARAM: request head too large', close: true };
  const status = code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  return { status, reason: 'MMC_INVALID_PARAM: malformed HTTP request', close: true };
}

/** The answer through a Koa context (Koa adds the length). */
export function answerKoa(ctx: Context, a: ErrorAnswer): void {
  if (a.close) ctx.set('Connection', 'close');
  ctx.status = a.status;
  ctx.set('Content-Type', CT_JSON);
  ctx.body = errorBody(a.reason);
}

/** The answer on a node:http response (the fast path, the access gate with its `extra` headers). */
export function answerResponse(res: http.ServerResponse, a: ErrorAnswer, extra?: http.OutgoingHttpHeaders): void {
  const b = Buffer.from(errorBody(a.reason));
  res.writeHead(a.status, { 'Content-Type': CT_JSON, 'Content-Length': b.length, ...(a.close ? { Connection: 'close' } : {}), ...extra });
  res.end(b);
}

/** The answer written raw on a socket that has no request object; the connection closes. */
export function answerSocket(socket: Socket, a: ErrorAnswer): void {
  const body = errorBody(a.reason);
  socket.write(`HTTP/1.1 ${a.status} ${http.STATUS_CODES[a.status]}\r\nContent-Type: ${CT_JSON}\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
