/**
 * An embedded rank: `MemCache.open({ pool: { meta, rank, listen }, segments })` in an inference
 * worker. The process contributes its segments to the pool as a rank agent (agent.ts, serving other
 * clients on `listen`) and uses the whole pool through a MemCacheClient against the meta service;
 * requests for its own rank's blobs run in-process (agent-local.ts), never over a socket.
 */
import { invalid } from '../errors.js';
import { parseAddress } from '../address.js';
import { MemCacheClient } from '../client/index.js';
import type { MemCacheOptions, SegmentSpec } from '../store/types.js';
import { parseSize } from '../config.js';
import { startAgent, type RunningAgent } from './agent.js';

export interface PoolRankOptions {
  /** The meta service's URL. */
  meta: string;
  rank: number;
  /** HOST:PORT where this rank serves other clients (default 127.0.0.1, any free port). */
  listen?: string;
  /** HOST:PORT other clients reach it at (default the listen address). */
  advertise?: string;
  token?: string;
}

/** The pool seen from an embedded rank: the client's API, plus the rank's agent. */
export type PoolRank = MemCacheClient & { readonly agent: RunningAgent };

function sizes(segments: readonly SegmentSpec[] | undefined, rank: number): { hbm: number; dram: number } {
  const out = { hbm: 0, dram: 0 };
  for (const s of segments ?? []) {
    if (s.rank !== rank) throw invalid(`an embedded rank contributes its own segments: rank ${String(s.rank)} is not ${rank}`);
    const m = String(s.medium).toLowerCase();
    if (m !== 'hbm' && m !== 'dram') throw invalid(`segment medium must be hbm or dram, got ${String(s.medium)}`);
    out[m] += parseSize(s.bytes);
  }
  if (out.hbm + out.dram === 0) throw invalid('an embedded rank needs segments (hbm or dram of its rank)');
  return out;
}

/** Starts the rank's agent, waits for its registration, connects to the pool. */
export async function openPoolRank(options: MemCacheOptions & { pool: PoolRankOptions }): Promise<PoolRank> {
  const p = options.pool;
  const at = p.listen !== undefined ? parseAddress(p.listen, { emptyHost: '127.0.0.1' }) : { host: '127.0.0.1', port: 0 };
  const backend = options.backend ?? 'sim';
  let registered!: () => void;
  const done = new Promise<void>((resolve) => { registered = resolve; });
  const agent = await startAgent({
    meta: p.meta, rank: p.rank, host: at.host, port: at.port, advertise: p.advertise, token: p.token,
    ...sizes(options.segments, p.rank), backend, aclLibrary: options.aclLibrary, devices: options.devices, sim: options.sim,
    onRegistered: () => registered(),
  });
  try {
    await done;
    const client = await MemCacheClient.connect(p.meta, { token: p.token });
    const close = client.close.bind(client);
    return Object.assign(client, {
      agent,
      async close() { await close(); await agent.close(); },
    });
  } catch (e) {
    await agent.close();
    throw e;
  }
}
