// Dropping a dead agent's objects (MemCache.unmount of its segments) while the meta service keeps
// answering: the longest stall of its event loop during the drop is printed (not asserted: speed
// goes in bench/), the objects of the other rank stay readable, usage drops by what it held.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemCacheClient } from '../../dist/index.js';
import { startMeta } from '../../dist/pool/meta.js';
import { startAgent } from '../../dist/pool/agent.js';
import { waitFor } from './_procs.js';

const N = 40_000;

test(`an agent holding ${N} objects goes silent: dropped in slices, the other rank's objects stay`, async () => {
  const meta = await startMeta({ store: { alignment: 64 } });
  const regs = [];
  const agents = [];
  for (const rank of [0, 1]) {
    let done;
    regs.push(new Promise((r) => { done = r; }));
    agents.push(await startAgent({ meta: meta.url, rank, hbm: 0, dram: 8 << 20, onRegistered: () => done() }));
  }
  await Promise.all(regs);
  const c = await MemCacheClient.connect(meta.url);
  try {
    const v = Buffer.from('x');
    for (let b = 0; b < N / 4000; b++) {
      const codes = await c.batchPut(Array.from({ length: 4000 }, (_, i) => [`d${b * 4000 + i}`, v]), { preferredRank: 1 });
      assert.ok(codes.every((x) => x === 0));
    }
    await c.put('stays', Buffer.from('on rank 0'), { preferredRank: 0 });
    assert.is((await c.segments()).find((s) => s.id === 'rank-1-dram').usedBytes, N * 64);
    let longest = 0;
    let last = performance.now();
    const probe = setInterval(() => { const now = performance.now(); longest = Math.max(longest, now - last); last = now; }, 1);
    await agents[1].close(); // silent from now on: the meta service drops it after 3 s
    last = performance.now();
    await waitFor(async () => !(await c.segments()).some((s) => s.id === 'rank-1-dram'), 20_000, 'rank 1 to leave');
    await meta.registry.settled();
    clearInterval(probe);
    console.log(`  ${N} objects dropped; longest event loop stall at the meta service meanwhile: ${longest.toFixed(1)} ms`);
    assert.is(Buffer.from(await c.get('stays')).toString(), 'on rank 0');
    assert.is(await c.get('d0'), undefined);
    assert.is((await c.stats()).keys, 1);
  } finally {
    await c.close();
    await agents[0].close();
    await meta.close();
  }
});

test.run();
