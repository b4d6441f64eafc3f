// Property tests: random operation sequences against a plain Map model.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { MemCache } from '../../dist/index.js';
import { pattern, equalBytes, countersAddUp } from '../helpers/store.js';

const KEYS = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'ключ', '键', 'x'.repeat(300)];
const key = fc.constantFrom(...KEYS);
const size = fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 20_000 }));
const medium = fc.constantFrom(undefined, 'hbm', 'dram');
const op = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('put'), key, size, medium, replicas: fc.constantFrom(1, 1, 2), seed: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('twoPhase'), key, size, medium, commit: fc.boolean(), seed: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('get'), key }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('remove'), key }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('exists'), key }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('batchRemove'), keys: fc.array(key, { maxLength: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('batchGet'), keys: fc.array(key, { maxLength: 4 }) }) },
);

/** Live allocations must not overlap inside a segment. */
function assertNoOverlap(locations) {
  const bySeg = new Map();
  for (const [k, list] of locations) {
    for (const l of list) {
      if (!bySeg.has(l.segment)) bySeg.set(l.segment, []);
      bySeg.get(l.segment).push({ ...l, key: k });
    }
  }
  for (const [seg, list] of bySeg) {
    list.sort((x, y) => x.offset - y.offset);
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1];
      assert.ok(prev.offset + prev.size <= list[i].offset, `${seg}: ${prev.key} overlaps ${list[i].key}`);
    }
  }
}

test('without eviction: the store agrees with a Map, allocations never overlap, freeing all returns one range', async () => {
  await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 60 }), async (ops) => {
    const mc = await MemCache.open({
      segments: [0, 1].flatMap((rank) => [{ rank, medium: 'hbm', bytes: '8MB' }, { rank, medium: 'dram', bytes: '8MB' }]),
      alignment: 256, debug: true,
    });
    const model = new Map();
    const locations = new Map(); // key -> [{segment, offset, size}] (sizes rounded to the alignment)
    const round = (n) => Math.ceil(n / 256) * 256;
    try {
      for (const o of ops) {
        switch (o.t) {
          case 'put':
          case 'twoPhase': {
            const value = pattern(o.seed, o.size);
            let w;
            try {
              w = await mc.alloc(o.key, o.size, { medium: o.medium, replicas: o.replicas ?? 1 });
            } catch (err) {
              assert.ok(model.has(o.key), `alloc of absent ${o.key} failed: ${err.message}`);
              assert.is(err.codeName, 'MMC_DUPLICATED_OBJECT');
              break;
            }
            assert.not.ok(model.has(o.key), `alloc of present ${o.key} succeeded`);
            assert.is(w.blobs.length, o.replicas ?? 1);
            assert.is(new Set(w.blobs.map((b) => b.rank)).size, w.blobs.length, 'replicas on distinct ranks');
            locations.set(o.key, w.blobs.map((b) => ({ segment: b.segment, offset: b.offset, size: round(o.size) })));
            assertNoOverlap(locations);
            await w.write(value);
            if (o.t === 'twoPhase' && !o.commit) {
              await mc.updateState(o.key, 'write_fail');
              locations.delete(o.key);
            } else {
              if (o.t === 'twoPhase') await mc.updateState(o.key, 'write_ok');
              else await w.commit();
              model.set(o.key, value);
            }
            break;
          }
          case 'get': {
            const v = await mc.get(o.key);
            if (model.has(o.key)) assert.ok(equalBytes(v, model.get(o.key)), `get ${o.key}`);
            else assert.is(v, undefined);
            break;
          }
          case 'remove':
            assert.is(await mc.remove(o.key), model.delete(o.key));
            locations.delete(o.key);
            break;
          case 'exists':
            assert.is(await mc.exists(o.key), model.has(o.key));
            break;
          case 'batchRemove': {
            const codes = await mc.batchRemove(o.keys);
            assert.equal(codes, o.keys.map((k) => {
              const had = model.delete(k);
              locations.delete(k);
              return had ? 0 : -3102;
            }));
            break;
          }
          case 'batchGet': {
            const values = await mc.batchGet(o.keys);
            o.keys.forEach((k, i) => assert.ok(model.has(k) ? equalBytes(values[i], model.get(k)) : values[i] === undefined, k));
            break;
          }
        }
      }
      assert.equal((await mc.keys()).sort(), [...model.keys()].sort());
      const s = mc.stats();
      assert.is(s.keys, model.size);
      assert.equal(countersAddUp(s), []);
      const used = mc.segments().reduce((a, x) => a + x.usedBytes, 0);
      const expected = [...locations.values()].flat().reduce((a, l) => a + l.size, 0);
      assert.is(used, expected, 'used bytes = sum of live allocations');
      assert.is(s.evict, 0);
      await mc.removeAll();
      for (const seg of mc.segments()) {
        assert.equal([seg.usedBytes, seg.largestFreeBytes], [0, seg.totalBytes], `${seg.id} is one free range again`);
      }
    } finally {
      await mc.close();
    }
  }), { numRuns: 400 });
});

test('with eviction: a get returns the last value put or nothing, never a wrong byte; counters add up', async () => {
  await fc.assert(fc.asyncProperty(fc.array(op, { minLength: 20, maxLength: 120 }), fc.integer({ min: 55, max: 95 }), async (ops, high) => {
    const mc = await MemCache.open({
      segments: [0, 1].flatMap((rank) => [{ rank, medium: 'hbm', bytes: 64 * 1024 }, { rank, medium: 'dram', bytes: 128 * 1024 }]),
      alignment: 1024, evictThresholdHigh: high, evictThresholdLow: high - 20, debug: true,
    });
    const model = new Map(); // what was last put under each key (it may have been evicted since)
    try {
      for (const o of ops) {
        switch (o.t) {
          case 'put':
          case 'twoPhase': {
            const value = pattern(o.seed, o.size);
            try {
              if (o.t === 'put') await mc.put(o.key, value, { medium: o.medium, replicas: o.replicas });
              else {
                const w = await mc.alloc(o.key, o.size, { medium: o.medium });
                await w.write(value);
                await mc.updateState(o.key, o.commit ? 'write_ok' : 'write_fail');
                if (!o.commit) { model.delete(o.key); break; }
              }
              model.set(o.key, value);
            } catch (err) {
              assert.ok(['MMC_DUPLICATED_OBJECT', 'MMC_NOT_ENOUGH_MEMORY'].includes(err.codeName), err.message);
              if (err.codeName === 'MMC_DUPLICATED_OBJECT') assert.ok(await mc.exists(o.key) || (await mc.query(o.key)) !== undefined);
            }
            break;
          }
          case 'get':
          case 'batchGet': {
            const keys = o.t === 'get' ? [o.key] : o.keys;
            const values = o.t === 'get' ? [await mc.get(o.key)] : await mc.batchGet(keys);
            keys.forEach((k, i) => {
              if (values[i] !== undefined) assert.ok(equalBytes(values[i], model.get(k)), `wrong bytes for ${k}`);
            });
            break;
          }
          case 'remove':
            await mc.remove(o.key);
            model.delete(o.key);
            break;
          case 'batchRemove':
            await mc.batchRemove(o.keys);
            for (const k of o.keys) model.delete(k);
            break;
          case 'exists':
            if (await mc.exists(o.key)) assert.ok(model.has(o.key));
            break;
        }
        const s = mc.stats();
        assert.ok(s.hbm_used <= s.hbm_total && s.dram_used <= s.dram_total, 'usage within capacity');
      }
      const keys = await mc.keys();
      for (const k of keys) assert.ok(model.has(k), `stored key ${k} was never put or was removed`);
      const s = mc.stats();
      assert.is(s.keys, keys.length);
      assert.equal(countersAddUp(s), []);
      const segs = mc.segments();
      assert.is(segs.filter((x) => x.medium === 'HBM').reduce((a, x) => a + x.usedBytes, 0), s.hbm_used);
      assert.is(segs.filter((x) => x.medium === 'DRAM').reduce((a, x) => a + x.usedBytes, 0), s.dram_used);
      await mc.removeAll();
      for (const seg of mc.segments()) assert.equal([seg.usedBytes, seg.largestFreeBytes], [0, seg.totalBytes], seg.id);
      assert.equal(mc.internals().liveBlobs, 0);
      assert.equal(mc.internals().liveRecords, 0);
    } finally {
      await mc.close();
    }
  }), { numRuns: 400 });
});

test.run();
