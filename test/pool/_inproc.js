// A pool in this process for the tests: a meta service and rank agents (over TCP unless
// `inProcess`), resolved once every agent registered.
import { startMeta } from '../../dist/pool/meta.js';
import { startAgent } from '../../dist/pool/agent.js';
import { MemCacheClient } from '../../dist/index.js';

export async function inProcessPool({ ranks = [0, 1], hbm = 8 << 20, dram = 8 << 20, inProcess = false, client = {} } = {}) {
  const meta = await startMeta();
  const agents = await Promise.all(ranks.map((rank) => new Promise((resolve, reject) => {
    let a;
    const registered = () => resolve(a ?? registeredEarly);
    let registeredEarly;
    startAgent({ meta: meta.url, rank, hbm, dram, inProcess, onRegistered: () => { if (a) resolve(a); else registeredEarly = true; } })
      .then((x) => { a = x; if (registeredEarly) resolve(a); void registered; }, reject);
  })));
  const mc = await MemCacheClient.connect(meta.url, client);
  return {
    mc, meta, agents, store: meta.store,
    stats: async () => meta.store.stats(),
    async close() { await mc.close(); for (const a of agents) await a.close(); await meta.close(); },
  };
}

/**
 * inProcessPool for a whole uvu suite: started in its before hook, closed in its after hook; the
 * object returned is filled in (mc, meta, agents, ...) once the suite starts.
 */
export function poolForSuite(suite, options) {
  const pool = {};
  suite.before(async () => { Object.assign(pool, await inProcessPool(options)); });
  suite.after(async () => { await pool.close?.(); });
  return pool;
}
