// The key index under growth: many keys, so that every shard grows several times, with removals
// (backward-shift deletion) interleaved; and random byte strings as keys against a Set.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { MemCache } from '../../dist/index.js';

const open = () => MemCache.open({ segments: [{ rank: 0, medium: 'dram', bytes: '64MB' }], alignment: 64, debug: true });
const one = new Uint8Array([1]);

test('200,000 keys: put, remove a third, put again, every answer right', async () => {
  const mc = await open();
  const N = 200_000;
  for (let i = 0; i < N; i++) await mc.put(`k/${i}`, one);
  assert.is(mc.stats().keys, N);
  for (let i = 0; i < N; i += 3) assert.ok(await mc.remove(`k/${i}`));
  for (let i = 0; i < N; i++) assert.is(await mc.exists(`k/${i}`), i % 3 !== 0, `k/${i}`);
  for (let i = 0; i < N; i += 3) await mc.put(`k/${i}`, one);
  const keys = await mc.keys();
  assert.is(keys.length, N);
  assert.is(new Set(keys).size, N);
  assert.is(await mc.removeAll(), N);
  assert.equal(mc.internals().liveRecords, 0);
  assert.equal(mc.segments()[0].usedBytes, 0);
  await mc.close();
});

test('keys() of 50,000 keys gives the event loop back while it lists, and counts one get_all_keys', async () => {
  const mc = await open();
  const N = 50_000;
  for (let i = 0; i < N; i++) await mc.put(`e/${i}`, one);
  const before = mc.stats().get_all_keys_req;
  let immediates = 0;
  const spin = () => { immediates++; if (immediates < 1e6) setImmediate(spin); };
  setImmediate(spin);
  const listing = mc.keys();
  const seenBefore = immediates;
  const keys = await listing;
  const ranMeanwhile = immediates - seenBefore;
  immediates = 1e6;
  assert.ok(ranMeanwhile >= 3, `other callbacks ran ${ranMeanwhile} times while 50,000 keys were listed`);
  assert.is(keys.length, N);
  assert.is(new Set(keys).size, N);
  assert.is(mc.stats().get_all_keys_req - before, 1);
  await mc.close();
});

test('random keys (any well-formed Unicode without line breaks, up to 1024 bytes) agree with a Set through puts and removes', async () => {
  const keyArb = fc.oneof(
    fc.string({ minLength: 1, maxLength: 12 }),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 40 }),
    fc.string({ minLength: 500, maxLength: 1024 }),
  ).filter((k) => { const n = Buffer.byteLength(k); return n >= 1 && n <= 1024 && k.isWellFormed() && !k.includes('\n') && !k.includes('\r'); });
  await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fc.boolean(), keyArb), { maxLength: 300 }), async (ops) => {
    const mc = await open();
    const model = new Set();
    try {
      for (const [add, k] of ops) {
        if (add) {
          if (model.has(k)) {
            await mc.put(k, one).then(() => assert.unreachable('duplicate accepted'), (e) => assert.is(e.codeName, 'MMC_DUPLICATED_OBJECT'));
          } else {
            await mc.put(k, one);
            model.add(k);
          }
        } else {
          assert.is(await mc.remove(k), model.delete(k));
        }
      }
      assert.equal((await mc.keys()).sort(), [...model].sort());
      for (const k of model) assert.ok(await mc.exists(k));
    } finally {
      await mc.close();
    }
  }), { numRuns: 200 });
});

// Shards resize incrementally (a zeroing phase, then moving clusters a few per insert): at 100k+
// keys a shard's resize spans tens of inserts, so removes and lookups land in the middle of them,
// on keys still in the old table and keys already moved.
test('random puts, removes and lookups interleaved through incremental resizes agree with a Set', async () => {
  await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), async (seed) => {
    const mc = await open();
    let x = seed;
    const rnd = (n) => { x = (Math.imul(x, 1103515245) + 12345) >>> 0; return x % n; };
    const model = new Set();
    const live = [];
    let next = 0;
    try {
      for (let op = 0; op < 120_000; op++) {
        const r = rnd(10);
        if (r < 6 || live.length === 0) {
          const k = `r/${seed}/${next++}`;
          await mc.put(k, one);
          model.add(k);
          live.push(k);
        } else if (r < 8) {
          const at = rnd(live.length);
          const k = live[at];
          live[at] = live[live.length - 1];
          live.pop();
          assert.ok(await mc.remove(k), k);
          model.delete(k);
          assert.is(await mc.remove(k), false, `${k} twice`);
        } else {
          const k = `r/${seed}/${rnd(next + 10)}`;
          assert.is(await mc.exists(k), model.has(k), k);
        }
      }
      assert.is(mc.stats().keys, model.size);
      for (const k of model) assert.ok(await mc.exists(k), k);
      assert.equal((await mc.keys()).sort(), [...model].sort());
    } finally {
      await mc.close();
    }
  }), { numRuns: 3 });
});

test.run();
