// MemCache.unmount drains a segment in steps between turns of the event loop: other operations
// go on meanwhile; a second unmount of the id and a mount of it wait for the drain; close stops it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemCache } from '../../dist/index.js';
import { pattern, equalBytes, countersAddUp } from '../helpers/store.js';

const turn = () => new Promise((resolve) => setImmediate(resolve));

/** A store of `n` 64-byte objects on rank-0-dram and room for others on rank-1-dram. */
async function filled(n) {
  const mc = await MemCache.open({
    segments: [{ rank: 0, medium: 'dram', bytes: n * 64 + 65536 }, { rank: 1, medium: 'dram', bytes: '8MB' }],
    alignment: 64, debug: true,
  });
  const v = new Uint8Array(64);
  for (let i = 0; i < n; i++) await mc.put(`k${i}`, v, { preferredRank: 0 });
  return mc;
}

test('1M objects on one segment: other operations interleave with its unmount (longest event-loop gap printed)', async () => {
  const n = 1_000_000;
  const mc = await filled(n);
  assert.is(mc.stats().keys, n);
  let done = false;
  let others = 0;
  let longest = 0;
  const loop = (async () => {
    let last = performance.now();
    while (!done) {
      const v = pattern(others, 64);
      await mc.put(`other${others}`, v, { preferredRank: 1 });
      assert.ok(equalBytes(await mc.get(`other${others}`), v));
      assert.is(await mc.get(`k${others}`), undefined, 'an object of the draining segment reads as absent');
      others++;
      await turn();
      const now = performance.now();
      longest = Math.max(longest, now - last);
      last = now;
    }
  })();
  const t0 = performance.now();
  const unmounted = mc.unmount('rank-0-dram');
  assert.equal(mc.segments().map((s) => s.id), ['rank-1-dram'], 'it left segments() at once');
  assert.is(mc.stats().dram_total, 8 * 1024 * 1024);
  await unmounted;
  const ms = performance.now() - t0;
  const whileDraining = others;
  done = true;
  await loop;
  console.log(`  unmount of ${n} objects: ${ms.toFixed(0)} ms, ${whileDraining} other put+get rounds meanwhile, longest event-loop gap ${longest.toFixed(2)} ms`);
  assert.ok(whileDraining >= 20, `only ${whileDraining} other rounds completed while it drained`);
  const s = mc.stats();
  assert.is(s.keys, others);
  assert.equal([s.dram_used, mc.segments()[0].usedBytes], [others * 64, others * 64]);
  assert.equal(mc.internals().liveRecords, others);
  assert.equal(countersAddUp(s), []);
  await mc.close();
});

test('a second unmount of the id waits for the same drain; after it, the id is not found', async () => {
  const mc = await filled(20_000);
  const first = mc.unmount('rank-0-dram');
  const second = mc.unmount('rank-0-dram');
  await Promise.all([first, second]);
  assert.is(mc.stats().keys, 0);
  let err;
  try {
    await mc.unmount('rank-0-dram');
  } catch (e) {
    err = e;
  }
  assert.is(err?.codeName, 'MMC_INVALID_PARAM');
  assert.match(err.message, /Segment not found/);
  const s = mc.stats();
  // one drain counted once; the not-found ones as failures
  assert.equal([s.unmount_req, s.unmount_success], [s.unmount_fail + 1, 1]);
  await mc.close();
});

test('mounting the id again while it drains waits for the drain, then mounts an empty segment', async () => {
  const mc = await filled(20_000);
  const order = [];
  const unmounted = mc.unmount('rank-0-dram').then(() => order.push('unmounted'));
  const mounted = mc.mount({ rank: 0, medium: 'dram', bytes: '1MB' }).then((info) => {
    order.push('mounted');
    return info;
  });
  const info = await mounted;
  await unmounted;
  assert.equal(order, ['unmounted', 'mounted']);
  assert.equal([info.id, info.usedBytes, info.totalBytes], ['rank-0-dram', 0, 1024 * 1024]);
  assert.is(await mc.get('k1'), undefined);
  await mc.put('again', pattern(1, 100), { preferredRank: 0 });
  assert.equal((await mc.query('again')).blobs, [{ rank: 0, medium: 'DRAM' }]);
  await mc.close();
});

test('closing the store under a drain ends the unmount with the store\'s error', async () => {
  const mc = await filled(50_000);
  const unmounted = mc.unmount('rank-0-dram');
  await mc.close();
  let err;
  try {
    await unmounted;
  } catch (e) {
    err = e;
  }
  assert.is(err?.codeName, 'MMC_NOT_INITIALIZED');
  assert.match(err.message, /closed/);
});

test.run();
