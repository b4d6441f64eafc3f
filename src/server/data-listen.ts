/**
 * The binary data path's listener: TCP, or TLS with the HTTP side's certificates (and its client
 * certificate requirement), the HTTP side's token; one DataSession per connection. Where it
 * listens is found by clients at GET /api/v1/data_path.
 */
import net from 'node:net';
import tls from 'node:tls';
import { parseAddress, BadAddress, type ListenAddress } from '../address.js';
import { MMC, MmcError, invalid } from '../errors.js';
import { REASON } from '../protocol/reasons.js';
import type { Route } from './app.js';
import { tokenMatcher } from './auth.js';
import type { Batches } from './batch.js';
import { DataOps, type Answers, type Pending, type SessionOps } from './data-ops.js';
import type { Head } from '../protocol/data-frames.js';
import { DataSession } from './data-session.js';
import { ReadSlab, withSlab } from '../protocol/read-slab.js';
import type { ServerOptions } from './options.js';
import { Refusal } from './refusal.js';
import { sendJson } from './reply.js';
import type { ServerState } from './state.js';
import { tlsServerOptions } from './tls.js';

/** Where the data path listens, as GET /api/v1/data_path answers it. */
export interface DataPathInfo { host: string; port: number; tls: boolean }

/** ServerOptions.poolOps: ops the meta service adds to the data path, and its discovery answer. */
export interface PoolOps {
  begin(head: Head, key: Uint8Array, aux: Uint8Array, out: Answers): Pending | undefined;
  /** SessionOps.quick for the pool's ops (the store's own are not taken quick beside them). */
  quick?: SessionOps['quick'];
  info: Record<string, unknown>;
}

export interface DataListener {
  info: DataPathInfo;
  close(): Promise<void>;
}

/**
 * createServer's `dataListen`: 'off', 'HOST:PORT' (':PORT' for 127.0.0.1) or { host, port };
 * undefined: the HTTP host, HTTP port + 1 (an ephemeral port where that one is taken).
 */
export type DataListen = 'off' | string | ListenAddress;

/** Where to listen (undefined: off), and whether a taken port falls back to an ephemeral one. */
export function dataAddress(v: DataListen | undefined, httpHost: string, httpPort: number): { at: ListenAddress; fallback: boolean } | undefined {
  if (v === 'off') return undefined;
  if (v === undefined) return { at: { host: httpHost, port: httpPort < 65535 ? httpPort + 1 : 0 }, fallback: true };
  if (typeof v !== 'string') return { at: v, fallback: false };
  try {
    return { at: parseAddress(v, { emptyHost: '127.0.0.1', lenient: true }), fallback: false };
  } catch (e) {
    if (e instanceof BadAddress) throw invalid(`dataListen: expected HOST:PORT or off, got '${v}'`);
    throw e;
  }
}

function tryListen(server: net.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => reject(e);
    server.once('error', onError);
    server.listen(port, host, () => { server.off('error', onError); resolve(); });
  });
}

/** Listen at `at`; `onError` hears unexpected failures (answered with the generic reason). */
export async function listenData(
  state: ServerState, batches: Batches, options: ServerOptions, at: ListenAddress, fallback: boolean, onError?: (e: unknown) => void,
): Promise<DataListener> {
  const store = new DataOps(state, batches);
  const pool = options.poolOps;
  const ops: SessionOps = pool ? { begin: (h, k, a, out) => pool.begin(h, k, a, out) ?? store.begin(h, k, a, out), quick: pool.quick } : store;
  const token = options.token === undefined ? undefined : tokenMatcher(options.token);
  const sockets = new Set<net.Socket>();
  const onSocket = (accepted: net.Socket) => {
    // plain TCP reads go through a slab (TLS decrypts into buffers of its own)
    const slab = options.tls ? undefined : new ReadSlab();
    const plain = slab && withSlab(accepted, slab);
    const socket = plain ?? accepted;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    new DataSession(socket, ops, { token, timeoutMs: state.limits.bodyTimeoutMs, onError }, plain && slab);
  };
  const server = options.tls ? tls.createServer(tlsServerOptions(options.tls), onSocket) : net.createServer({ pauseOnConnect: true }, onSocket);
  server.on('tlsClientError', () => {}); // a refused handshake concerns that peer alone
  try {
    await tryListen(server, at.host, at.port).catch((e: NodeJS.ErrnoException) => {
      if (!fallback || e.code !== 'EADDRINUSE') throw e;
      return tryListen(server, at.host, 0);
    });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'EADDRINUSE' ? 'address already in use' : err.code === 'EACCES' ? 'permission denied' : err.message;
    throw new MmcError(MMC.MMC_ERROR, `cannot listen on ${at.host}:${at.port} (binary data path): ${why}`);
  }
  const a = server.address() as net.AddressInfo;
  return {
    info: { host: a.address, port: a.port, tls: options.tls !== undefined },
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    }),
  };
}

/** GET /api/v1/data_path: where the data path listens, 404 when it is off (or not yet listening). */
export function discoveryRoute(route: Route, info: () => DataPathInfo | undefined, extra?: Record<string, unknown>): void {
  route('get', '/api/v1/data_path', (ctx) => {
    const i = info();
    if (i === undefined) throw new Refusal(REASON.NOT_FOUND, 404);
    sendJson(ctx, JSON.stringify(extra ? { ...i, ...extra } : i));
  }, true);
}
