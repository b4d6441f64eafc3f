/**
 * The standalone server: the 24 endpoints of the MemCache Hybrid RESTful API byte for byte, plus
 * the data plane under /api/v1/objects. Koa + @koa/router; the store counts every operation
 * itself, the server only calls it and reads stats() for the metrics. In parts, as Koa's own
 * lib/: state.ts (what the parts share), body.ts (reading bodies), answer.ts (errors answered
 * once), app.ts (the Koa app), contract-routes.ts, data-routes.ts, batch.ts, fast-path.ts,
 * listen.ts. This is the package's `memcache-hybrid/server` entry.
 */
import type Koa from 'koa';
import { Batches } from './batch.js';
import { createApp } from './app.js';
import { contractRoutes } from './contract-routes.js';
import { dataRoutes } from './data-routes.js';
import { fastPath } from './fast-path.js';
import { listen, type RunningServer } from './listen.js';
import { dataAddress, discoveryRoute, listenData, type DataListener } from './data-listen.js';
import type { ServerOptions } from './options.js';
import { ServerState } from './state.js';
import type { StoreLike } from './store-api.js';

export type { StoreLike, PutWriter } from './store-api.js';
export type { ServerOptions } from './options.js';
export type { RunningServer } from './listen.js';
export type { TlsOptions } from './tls.js';
export type { DataPathInfo, DataListen } from './data-listen.js';
export {
  DEFAULT_VALUE_LIMIT, DEFAULT_METADATA_LIMIT, DEFAULT_BATCH_LIMIT, DEFAULT_BATCH_KEY_LIMIT, DEFAULT_BODY_TIMEOUT_MS,
  DEFAULT_BODY_MEMORY_LIMIT, DEFAULT_METADATA_KEY_LIMIT, DEFAULT_METADATA_TOTAL_LIMIT,
} from './options.js';
export { dataPlaneStatus } from '../protocol/status.js';

export interface MmcServer {
  app: Koa;
  /** Resolves once the store is ready (ha_state `serving`). */
  readonly store: StoreLike | undefined;
  listen(host?: string, port?: number): Promise<RunningServer>;
}

export function createServer(store: StoreLike | Promise<StoreLike>, options: ServerOptions = {}): MmcServer {
  const state = new ServerState(store, options);
  const batches = new Batches(state);
  let data: DataListener | undefined;
  const app = createApp((route) => {
    contractRoutes(route, state);
    dataRoutes(route, state, batches);
    discoveryRoute(route, () => data?.info, options.poolOps?.info);
  });
  const koaHandler = app.callback();
  const handler = options.fastPath === false ? koaHandler : fastPath(state, batches, app, koaHandler);
  return {
    app,
    get store() { return state.mc; },
    listen(host = '127.0.0.1', port = 8000): Promise<RunningServer> {
      // called now, so that options listen() refuses (a bad token) still throw here
      const http = listen(handler, options, host, port, (address) => {
        if (options.advertise === undefined) state.advertised = address;
      });
      return http.then(async (running) => {
        try {
          const where = dataAddress(options.dataListen, host, running.port);
          if (where === undefined) return running;
          data = await listenData(state, batches, options, where.at, where.fallback, (e) => app.emit('error', e));
        } catch (e) {
          await running.close();
          throw e;
        }
        const listener = data;
        return { ...running, dataPath: listener.info, close: async () => { await Promise.all([listener.close(), running.close()]); } };
      });
    },
  };
}
