// Eviction in the pool: the meta service's core decides, the rank's agent copies HBM -> DRAM
// within its rank (COPY) and moves the blob in its map; demoted objects read back intact.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemCacheClient } from '../../dist/index.js';
import { startMeta } from '../../dist/pool/meta.js';
import { startAgent } from '../../dist/pool/agent.js';

test('HBM over its high watermark: the agent demotes to its DRAM, every object reads back intact', async () => {
  const meta = await startMeta();
  let registered;
  const done = new Promise((r) => { registered = r; });
  const agent = await startAgent({ meta: meta.url, rank: 0, hbm: 64 * 4096, dram: 1 << 20, onRegistered: () => registered() });
  await done;
  const c = await MemCacheClient.connect(meta.url);
  try {
    for (let i = 0; i < 100; i++) await c.put(`k${i}`, Buffer.alloc(4000, i), { medium: 'hbm' });
    const s = await c.stats();
    assert.ok(s.evict > 0, 'evicted');
    assert.ok(agent.blobs().dram > 0, 'the agent holds demoted blobs in DRAM');
    assert.is(agent.blobs().dram + agent.blobs().hbm, 100);
    assert.is((await c.query('k0')).blobs[0].medium, 'DRAM');
    for (let i = 0; i < 100; i++) {
      const v = await c.get(`k${i}`);
      assert.ok(v && v.length === 4000 && v.every((b) => b === i), `k${i}`);
    }
  } finally {
    await c.close();
    await agent.close();
    await meta.close();
  }
});

test.run();
