/**
 * The meta service (`mmc meta`, DESIGN.md "The pool"): the REST contract over a MemCache whose
 * segments are the agents' (remote-backend.ts), the registry of rank agents, and the pool's
 * control ops on the binary data path. It never holds a value byte: clients write and read them
 * at the agents, with the grants it hands out.
 */
import { MMC, MmcError } from '../errors.js';
import { OP, type Head } from '../protocol/data-frames.js';
import { checkHeartbeat, checkRegister, type RegisterAnswer } from '../protocol/pool-frames.js';
import { decodeAlloc, decodeCommit, decodeLookup, decodeRelease, encodePlacement } from '../protocol/pool-control.js';
import { encodeCodes } from '../protocol/framing.js';
import { createServer, type ServerOptions } from '../server/index.js';
import type { RunningServer } from '../server/listen.js';
import type { Answers, Pending } from '../server/data-ops.js';
import type { PoolOps } from '../server/data-listen.js';
import { MemCache } from '../store/memcache.js';
import type { MemCacheOptions } from '../store/types.js';
import { ABSENT, binaryBody, controlBody, quickBinary, refused, type ControlHandler, type JsonHandler } from './control-body.js';
import { MetaPool } from './meta-pool.js';
import { Registry, type RegistryOptions } from './registry.js';
import { RemoteBackend } from './remote-backend.js';
import { demotions } from './meta-copy.js';
import { agentConns } from './agent-conns.js';
import { FreeNotices } from './meta-free.js';

export interface MetaOptions extends RegistryOptions {
  host?: string;
  port?: number;
  /** The REST server's options (token, TLS, limits, dataListen, advertise). */
  server?: ServerOptions;
  /** The core's options (watermarks, leases, alignment); segments and backend are the pool's. */
  store?: Omit<MemCacheOptions, 'segments' | 'backend'>;
}

export interface RunningMeta {
  url: string;
  server: RunningServer;
  store: MemCache;
  registry: Registry;
  /** Freed ranges held until their agents acknowledge them (meta-free.ts). */
  frees: FreeNotices;
  close(): Promise<void>;
}

/** The pool's ops on the meta service's data path; the store's own ops are answered as by mmc serve. */
export function metaOps(pool: MetaPool, registry: Registry): PoolOps {
  // synchronous (MetaPool.lookup): answered at once where the session can (quick)
  const lookup = (c: Uint8Array[]) => encodePlacement(pool.lookup(decodeLookup(c)));
  // the batch ops in binary (pool-control.ts), the rare ones in JSON
  const binary: Record<number, [string, ControlHandler]> = {
    [OP.ALLOC]: ['alloc', async (c) => encodePlacement(await pool.alloc(decodeAlloc(c)))],
    [OP.COMMIT]: ['commit', async (c) => encodeCodes(await pool.commit(decodeCommit(c)))],
    [OP.LOOKUP]: ['lookup', lookup],
    [OP.RELEASE]: ['release', (c) => { pool.release(decodeRelease(c)); return undefined; }],
  };
  const json: Record<number, [string, JsonHandler]> = {
    [OP.REGISTER]: ['register', async (v): Promise<RegisterAnswer> => {
      const a = await registry.register(checkRegister(v));
      return { secret: a.secret.toString('base64'), segments: a.segments };
    }],
    [OP.HEARTBEAT]: ['heartbeat', (v) => { const h = checkHeartbeat(v); return registry.heartbeat(h.rank, h.incarnation) ? undefined : ABSENT; }],
  };
  return {
    info: { pool: true },
    quick(head, _key, _aux, out, value) {
      return head.op === OP.LOOKUP && quickBinary(head, out, value, lookup);
    },
    begin(head: Head, _key: Uint8Array, _aux: Uint8Array, out: Answers): Pending | undefined {
      const b = binary[head.op];
      if (b) return binaryBody(head, out, b[0], b[1]);
      const j = json[head.op];
      if (j) return controlBody(head, out, j[0], j[1]);
      if (head.op === OP.WRITE || head.op === OP.READ || head.op === OP.COPY) {
        return refused(head, out, new MmcError(MMC.MMC_INVALID_PARAM, `op ${head.op} goes to a rank agent, not to the meta service`));
      }
      return undefined;
    },
  };
}

/** Starts a meta service listening on host:port (HTTP) and its data path (port + 1 by default). */
export async function startMeta(o: MetaOptions = {}): Promise<RunningMeta> {
  const backend = new RemoteBackend();
  const store = await MemCache.open({ ...o.store, backend, segments: [] });
  const registry = new Registry(store, o);
  const pool = new MetaPool(store, backend, registry, o.store?.allocTimeoutMs);
  const conns = agentConns();
  const frees = new FreeNotices(store, registry, conns, o.log ?? (() => {}));
  const copy = demotions(registry, conns);
  backend.onCopy = async (src, srcOffset, dst, dstOffset, bytes) => {
    await copy(src, srcOffset, dst, dstOffset, bytes);
    pool.moved({ rank: src.rank, medium: src.medium, offset: srcOffset }, { rank: dst.rank, medium: dst.medium, offset: dstOffset });
  };
  let server: RunningServer;
  try {
    server = await createServer(store, { ...o.server, poolOps: metaOps(pool, registry) }).listen(o.host ?? '127.0.0.1', o.port ?? 0);
  } catch (e) {
    registry.close();
    pool.close();
    frees.close();
    conns.close();
    await store.close();
    throw e;
  }
  return {
    url: server.url, server, store, registry, frees,
    async close() {
      registry.close();
      pool.close();
      frees.close();
      conns.close();
      await server.close();
      await store.close();
    },
  };
}
