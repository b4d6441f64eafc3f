// The core's metadata memory has a cap (coreMemoryLimit): at the cap a put fails with
// MMC_NOT_ENOUGH_MEMORY ("metadata"), never a WebAssembly trap; what was stored stays readable,
// removes free room and later puts work. A core that trapped anyway refuses every call.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { MemCache, MmcError } from '../../dist/index.js';
import { pattern, equalBytes, countersAddUp, rejectsWith } from '../helpers/store.js';

const MiB = 1 << 20;

function open(coreMemoryLimit, extra = {}) {
  return MemCache.open({
    segments: [{ rank: 0, medium: 'dram', bytes: 256 * MiB }], alignment: 64, coreMemoryLimit, debug: true, ...extra,
  });
}

/** Key i: mostly short, every 7th 1000 bytes long. */
const keyOf = (prefix, i) => `${prefix}${i}-${'x'.repeat(i % 7 === 0 ? 1000 : 20)}`;

test('coreMemoryLimit: checked at open, reported by stats()', async () => {
  for (const bad of [0, 1000, -1, 'lots', 2 ** 33]) {
    await rejectsWith(open(bad), 'MMC_INVALID_PARAM', /coreMemoryLimit/);
  }
  const mc = await open('3MB');
  const s = mc.stats();
  assert.is(s.metadata_limit, 3 * MiB);
  assert.ok(s.metadata_used > 0 && s.metadata_used < MiB, String(s.metadata_used));
  assert.is(s.metadata_used, mc.internals().metadataBytes);
  await mc.close();
  const d = await MemCache.open({ segments: [{ rank: 0, medium: 'dram', bytes: MiB }] });
  assert.is(d.stats().metadata_limit, 4 * 1024 * MiB - 256 * MiB); // wasm32's 4 GiB less a margin
  await d.close();
});

test('filling to the cap: MMC_NOT_ENOUGH_MEMORY naming metadata; stored keys read back; removes make room for later puts', async () => {
  const mc = await open('4MB');
  let n = 0;
  let err;
  for (;; n++) {
    try {
      await mc.put(keyOf('k', n), pattern(n, 64));
    } catch (e) {
      err = e;
      break;
    }
  }
  assert.instance(err, MmcError);
  assert.is(err.codeName, 'MMC_NOT_ENOUGH_MEMORY');
  assert.match(err.message, /metadata/);
  assert.ok(n > 1000, `${n} objects fit in 4 MiB`);
  const s = mc.stats();
  assert.ok(s.metadata_used <= s.metadata_limit, `${s.metadata_used} <= ${s.metadata_limit}`);
  assert.is(s.keys, n);
  assert.is(s.alloc_fail, 1);
  // refused again, and the batch and two-phase forms say so too
  const refused = keyOf('k', n);
  await rejectsWith(mc.put(refused, pattern(1, 64)), 'MMC_NOT_ENOUGH_MEMORY', /metadata/);
  assert.equal(await mc.batchPut([[refused, pattern(1, 64)]]), [-3016]);
  await rejectsWith(mc.alloc(refused, 64), 'MMC_NOT_ENOUGH_MEMORY', /metadata/);
  for (let i = 0; i < n; i++) assert.ok(equalBytes(await mc.get(keyOf('k', i)), pattern(i, 64)), keyOf('k', i));
  assert.is((await mc.keys()).length, n);
  // remove half, then the same number of puts fit again
  const used = mc.stats().metadata_used;
  for (let i = 0; i < n; i += 2) assert.ok(await mc.remove(keyOf('k', i)));
  assert.ok(mc.stats().metadata_used < used);
  // keys of the same sizes fit again (all but a few: the index's shards fill unevenly)
  let again = 0;
  for (let i = 0; i < n; i += 2) {
    try {
      await mc.put(keyOf('n', i), pattern(i + 1, 64));
    } catch (e) {
      assert.match(e.message, /metadata/);
      break;
    }
    again++;
  }
  assert.ok(again >= 0.9 * (n / 2), `${again} of ${n / 2} put again`);
  for (let i = 1; i < n; i += 2) assert.ok(equalBytes(await mc.get(keyOf('k', i)), pattern(i, 64)));
  for (let i = 0; i < 2 * again; i += 2) assert.ok(equalBytes(await mc.get(keyOf('n', i)), pattern(i + 1, 64)));
  assert.equal(countersAddUp(mc.stats()), []);
  await mc.removeAll();
  assert.is(mc.segments()[0].usedBytes, 0);
  await mc.close();
});

test('mounting segments until the metadata is full: MMC_NOT_ENOUGH_MEMORY naming metadata', async () => {
  const mc = await open('1MB');
  let rank = 1;
  let err;
  for (; rank < 4000; rank++) {
    try {
      await mc.mount({ rank, medium: 'dram', bytes: '1MB' });
    } catch (e) {
      err = e;
      break;
    }
  }
  assert.instance(err, MmcError);
  assert.is(err.codeName, 'MMC_NOT_ENOUGH_MEMORY');
  assert.match(err.message, /metadata/);
  assert.ok(rank > 10, `${rank - 1} mounts fit`);
  assert.is(mc.segments().length, rank);
  const s = mc.stats();
  assert.ok(s.metadata_used <= s.metadata_limit);
  await mc.unmount('rank-1-dram');
  await mc.mount({ rank: 1, medium: 'dram', bytes: '1MB' }); // the room it gave back serves again
  await mc.close();
});

test('a core that trapped refuses every further call with one clear MmcError; close still works', async () => {
  const mc = await open('8MB');
  await mc.put('kept', pattern(1, 100));
  const core = mc.core; // the TS-private field, reachable from JS
  let trap;
  try {
    core.x.core_trap(); // a debug-only export that traps as a bug would
  } catch (e) {
    trap = e;
  }
  assert.instance(trap, MmcError);
  assert.is(trap.codeName, 'MMC_ERROR');
  assert.match(trap.message, /the core failed: .*unreachable.*; the store must be reopened/);
  assert.is(mc.ready, false);
  for (const call of [() => mc.get('kept'), () => mc.put('new', pattern(2, 10)), () => mc.exists('kept'), () => mc.remove('kept'),
    () => mc.batchGet(['kept']), () => mc.keys(), () => mc.query('kept'), () => mc.alloc('w', 10)]) {
    const e = await rejectsWith(Promise.resolve().then(call), 'MMC_ERROR', /the core failed/);
    assert.is(e, trap);
  }
  assert.throws(() => mc.stats(), /the core failed/);
  await mc.close();
});

test('property: random puts and removes under a small cap never trap; counters add up; values intact', async () => {
  const keyArb = fc.oneof(
    fc.integer({ min: 0, max: 400 }).map((i) => `k${i}`),
    fc.tuple(fc.integer({ min: 0, max: 400 }), fc.integer({ min: 1, max: 1000 })).map(([i, len]) => `L${i}-${'y'.repeat(len)}`),
  );
  let refusals = 0;
  const opArb = fc.tuple(fc.constantFrom('put', 'put', 'put', 'remove', 'batchPut'), keyArb, fc.integer({ min: 1, max: 300 }));
  await fc.assert(fc.asyncProperty(fc.array(opArb, { minLength: 20, maxLength: 400, size: 'max' }), fc.integer({ min: 0, max: 160 * 1024 }), async (ops, room) => {
    // about 1.1 MB go to the fixed tables and the first pool chunks; `room` is what keys get
    const mc = await open(1140 * 1024 + room);
    const model = new Map();
    try {
      let seed = 0;
      for (const [op, key, size] of ops) {
        const value = pattern(++seed, size);
        if (op === 'remove') {
          assert.is(await mc.remove(key), model.delete(key));
          continue;
        }
        const code = op === 'put'
          ? await mc.put(key, value).then(() => 0, (e) => {
            assert.instance(e, MmcError);
            if (e.code === -3016) assert.match(e.message, /metadata/);
            return e.code;
          })
          : (await mc.batchPut([[key, value]]))[0];
        if (code === 0) model.set(key, value);
        if (code === -3016) refusals++;
        else if (code !== 0) assert.ok(code === -3016 || (code === -3006 && model.has(key)), `unexpected code ${code}`);
      }
      const s = mc.stats();
      assert.ok(s.metadata_used <= s.metadata_limit);
      assert.is(s.keys, model.size);
      assert.equal(countersAddUp(s), []);
      for (const [k, v] of model) assert.ok(equalBytes(await mc.get(k), v), k);
    } finally {
      await mc.close();
    }
  }), { numRuns: 40 });
  assert.ok(refusals > 0, 'the cap was reached in some runs');
});

test.run();
