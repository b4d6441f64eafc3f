// Concurrency: many operations in flight at once over a backend whose copies complete later, in
// random order (as a device's asynchronous copies do), under eviction and demotion pressure.
// Whatever interleaving happens, a read returns an intact value once put under that key, and
// when everything has settled the store's accounting returns to empty.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { MemCache, createSimBackend } from '../../dist/index.js';
import { countersAddUp } from '../helpers/store.js';

/** A sim backend whose write/read/copy happen when their promise settles, after a random delay. */
function lateBackend(rand) {
  const sim = createSimBackend();
  const later = (fn) => new Promise((resolve, reject) => {
    const run = () => { try { fn(); resolve(); } catch (e) { reject(e); } };
    const r = rand();
    if (r < 0.3) queueMicrotask(run);
    else if (r < 0.7) setImmediate(run);
    else setTimeout(run, Math.floor(r * 3));
  });
  return {
    name: 'late',
    open: (rank, medium, bytes) => sim.open(rank, medium, bytes),
    write: (seg, off, src) => later(() => sim.write(seg, off, src)),
    read: (seg, off, dst) => later(() => sim.read(seg, off, dst)),
    copy: (a, ao, b, bo, n) => later(() => sim.copy(a, ao, b, bo, n)),
    release: (seg) => sim.release(seg),
    close: () => sim.close(),
  };
}

/** A value that carries its own checksum: [seed u32][size u32] then bytes derived from the seed. */
function value(seed, size) {
  const b = new Uint8Array(Math.max(size, 8));
  const dv = new DataView(b.buffer);
  dv.setUint32(0, seed);
  dv.setUint32(4, b.length);
  let x = seed || 1;
  for (let i = 8; i < b.length; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; b[i] = x & 255; }
  return b;
}

function intact(b) {
  if (!b || b.length < 8) return false;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return dv.getUint32(4) === b.length && Buffer.from(value(dv.getUint32(0), b.length)).equals(Buffer.from(b));
}

const seedOf = (b) => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0);

test('concurrent puts, gets, removes and batches under eviction: no torn or foreign value, all space returned', async () => {
  await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 60, max: 95 }), async (seed, high) => {
    let s = seed;
    const rand = () => { s = (s * 1103515245 + 12345) & 0x7fffffff; return s / 0x80000000; };
    const mc = await MemCache.open({
      backend: lateBackend(rand),
      segments: [0, 1].flatMap((rank) => [{ rank, medium: 'hbm', bytes: 16 * 1024 }, { rank, medium: 'dram', bytes: 32 * 1024 }]),
      alignment: 512, evictThresholdHigh: high, evictThresholdLow: high - 25, debug: true,
    });
    const putSeeds = new Map(); // key -> seeds ever put under it
    const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
    try {
      for (let wave = 0; wave < 6; wave++) {
        const ops = [];
        for (let i = 0; i < 40; i++) {
          const k = keys[Math.floor(rand() * keys.length)];
          const r = rand();
          if (r < 0.4) {
            const sd = 1 + Math.floor(rand() * 1e9);
            const v = value(sd, 8 + Math.floor(rand() * 6000));
            if (!putSeeds.has(k)) putSeeds.set(k, new Set());
            putSeeds.get(k).add(sd);
            const medium = rand() < 0.5 ? 'hbm' : undefined;
            ops.push(mc.put(k, v, { medium, replicas: rand() < 0.2 ? 2 : 1 }).catch((e) => {
              assert.ok(['MMC_DUPLICATED_OBJECT', 'MMC_NOT_ENOUGH_MEMORY', 'MMC_UNMATCHED_KEY'].includes(e.codeName), e.message);
            }));
          } else if (r < 0.75) {
            ops.push(mc.get(k).then((v) => {
              if (v === undefined) return;
              assert.ok(intact(v), `torn value under ${k}`);
              assert.ok(putSeeds.get(k)?.has(seedOf(v)), `foreign value under ${k}`);
            }, (e) => assert.is(e.codeName, 'MMC_OBJECT_NOT_EXISTS', e.message)));
          } else if (r < 0.9) {
            ops.push(mc.remove(k));
          } else {
            const ks = [k, keys[Math.floor(rand() * keys.length)]];
            ops.push(mc.batchGet(ks).then((vs) => vs.forEach((v, j) => {
              if (v !== undefined) assert.ok(intact(v) && putSeeds.get(ks[j])?.has(seedOf(v)), `batch value under ${ks[j]}`);
            })));
          }
        }
        await Promise.all(ops);
      }
      const st = mc.stats();
      assert.equal(countersAddUp(st), []);
      assert.ok(st.hbm_used <= st.hbm_total && st.dram_used <= st.dram_total);
      for (const k of await mc.keys()) assert.ok(intact(await mc.get(k)), k);
      await mc.removeAll();
      mc.sweep(); // zombies whose readers are done
      for (const seg of mc.segments()) assert.equal([seg.usedBytes, seg.largestFreeBytes], [0, seg.totalBytes], seg.id);
      const inside = mc.internals();
      assert.equal([inside.liveRecords, inside.liveBlobs, inside.pending], [0, 0, 0]);
    } finally {
      await mc.close();
    }
  }), { numRuns: 60 });
});

test.run();
