// The sliced unmount against a model: puts, gets, removes and batches interleaved with the steps
// of a drain on random data. The drain is driven through unmountSegment with steps of a few
// records (MemCache.unmount sizes them by time), a 'tick' lets one step run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { MemCache } from '../../dist/index.js';
import { unmountSegment } from '../../dist/store/segments.js';
import { pattern, equalBytes, countersAddUp } from '../helpers/store.js';

const ALIGN = 256;
const SEGMENTS = [0, 1, 2].flatMap((rank) => [{ rank, medium: 'hbm', bytes: '2MB' }, { rank, medium: 'dram', bytes: '2MB' }]);
const IDS = SEGMENTS.map((s) => `rank-${s.rank}-${s.medium}`);
const KEYS = Array.from({ length: 24 }, (_, i) => `k${i}`);
const key = fc.constantFrom(...KEYS);
const keys = fc.array(key, { maxLength: 4 });
const size = fc.integer({ min: 1, max: 3000 });
const place = { medium: fc.constantFrom(undefined, 'hbm', 'dram'), replicas: fc.constantFrom(1, 1, 2, 3), preferredRank: fc.constantFrom(0, 1, 2) };
const op = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('put'), key, size, seed: fc.nat(), ...place }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('twoPhase'), key, size, seed: fc.nat(), commit: fc.boolean(), midUnmount: fc.boolean(), ...place }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('batchPut'), keys, size, seed: fc.nat(), ...place }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('get'), key }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('batchGet'), keys }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('remove'), key }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('batchRemove'), keys }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('exists'), key }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('query'), key }) },
  { weight: 5, arbitrary: fc.record({ t: fc.constant('tick') }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('unmount') }) },
);

const tick = () => new Promise((resolve) => setImmediate(resolve));
const round = (n) => Math.ceil(n / ALIGN) * ALIGN;
const segOf = (b) => `rank-${b.rank}-${b.medium.toLowerCase()}`;

/** The model: key -> { value, segs: segment id -> offset (undefined when not known) }. */
class Model {
  constructor(target) {
    this.target = target;
    this.objects = new Map();
    this.began = false;
    this.locations = new Map(); // `${seg}@${offset}` -> [key, bytes] of the live allocations whose offset is known
  }

  /** A new object's blobs: none on the draining segment, no overlap with a live allocation. */
  add(k, value, blobs) {
    const segs = new Map();
    for (const b of blobs) {
      const seg = b.segment ?? segOf(b);
      if (this.began) assert.is.not(seg, this.target, `${k} placed on the draining segment`);
      segs.set(seg, b.offset);
    }
    this.objects.set(k, { value, segs });
    this.checkNoOverlap();
  }

  delete(k) {
    return this.objects.delete(k);
  }

  /** seg_unmount_begin: objects only on the target read as absent, the others lose that replica. */
  begin() {
    this.began = true;
    for (const [k, o] of this.objects) {
      o.segs.delete(this.target);
      if (o.segs.size === 0) this.objects.delete(k);
    }
  }

  checkNoOverlap() {
    const bySeg = new Map();
    for (const [k, o] of this.objects) {
      for (const [seg, offset] of o.segs) {
        if (offset === undefined) continue;
        if (!bySeg.has(seg)) bySeg.set(seg, []);
        bySeg.get(seg).push({ k, offset, end: offset + round(o.value.length) });
      }
    }
    for (const [seg, list] of bySeg) {
      list.sort((a, b) => a.offset - b.offset);
      for (let i = 1; i < list.length; i++) assert.ok(list[i - 1].end <= list[i].offset, `${seg}: ${list[i - 1].k} overlaps ${list[i].k}`);
    }
  }

  /** The bytes each segment should hold: the sum of its live objects' blobs. */
  usage() {
    const used = new Map();
    for (const o of this.objects.values()) {
      for (const seg of o.segs.keys()) used.set(seg, (used.get(seg) ?? 0) + round(o.value.length));
    }
    return used;
  }
}

/** A read never sees the draining segment, nor an object the model says is gone. */
async function checkRead(mc, model, k) {
  const q = await mc.query(k);
  const o = model.objects.get(k);
  if (!o) {
    assert.is(q, undefined, `${k} should read as absent`);
    return;
  }
  assert.ok(q, `${k} should be there`);
  const segs = q.blobs.map(segOf);
  if (model.began) assert.not.ok(segs.includes(model.target), `query of ${k} names the draining segment`);
  assert.equal(segs.sort(), [...o.segs.keys()].sort(), `blobs of ${k}`);
}

async function putOne(mc, model, o, onMid) {
  const value = pattern(o.seed, o.size);
  let w;
  try {
    w = await mc.alloc(o.key, o.size, { medium: o.medium, replicas: o.replicas, preferredRank: o.preferredRank });
  } catch (err) {
    if (err.codeName === 'MMC_DUPLICATED_OBJECT') assert.ok(model.objects.has(o.key), `${o.key} absent but duplicated`);
    else assert.ok(model.began && err.codeName === 'MMC_INVALID_PARAM', err.message); // too few ranks left on the medium
    return;
  }
  assert.not.ok(model.objects.has(o.key), `alloc of present ${o.key}`);
  if (model.began) assert.not.ok(w.blobs.some((b) => b.segment === model.target), 'alloc on the draining segment');
  const began = model.began;
  if (onMid) onMid();
  const doomed = !began && model.began && w.blobs.some((b) => b.segment === model.target);
  try {
    await w.write(value);
    if (o.t === 'twoPhase' && !o.commit) {
      await mc.updateState(o.key, 'write_fail');
      return;
    }
    if (o.t === 'twoPhase') await mc.updateState(o.key, 'write_ok');
    else await w.commit();
  } catch (err) {
    assert.ok(doomed, `put of ${o.key} failed: ${err.message}`);
    assert.is(err.codeName, 'MMC_UNMATCHED_KEY');
    return;
  }
  assert.not.ok(doomed, `a writer with a blob on the draining segment committed ${o.key}`);
  model.add(o.key, value, w.blobs);
}

async function batchPutOp(mc, model, o) {
  const entries = [...new Set(o.keys)].map((k, i) => [k, pattern(o.seed + i, o.size)]);
  const codes = await mc.batchPut(entries, { medium: o.medium, replicas: o.replicas, preferredRank: o.preferredRank });
  for (let i = 0; i < entries.length; i++) {
    const [k, v] = entries[i];
    if (codes[i] === 0) {
      assert.not.ok(model.objects.has(k), `batchPut of present ${k}`);
      model.add(k, v, (await mc.query(k)).blobs);
    } else if (codes[i] === -3006) assert.ok(model.objects.has(k), `${k} absent but duplicated`);
    else assert.ok(model.began && codes[i] === -3000, `batchPut of ${k}: ${codes[i]}`);
  }
}

async function readOp(mc, model, o) {
  switch (o.t) {
    case 'get': {
      const v = await mc.get(o.key);
      const m = model.objects.get(o.key);
      assert.ok(m ? equalBytes(v, m.value) : v === undefined, `get ${o.key}`);
      return;
    }
    case 'batchGet': {
      const values = await mc.batchGet(o.keys);
      o.keys.forEach((k, i) => {
        const m = model.objects.get(k);
        assert.ok(m ? equalBytes(values[i], m.value) : values[i] === undefined, `batchGet ${k}`);
      });
      return;
    }
    case 'exists':
      assert.is(await mc.exists(o.key), model.objects.has(o.key), `exists ${o.key}`);
      return;
    case 'query':
      await checkRead(mc, model, o.key);
  }
}

async function step(mc, model, o, unmount) {
  switch (o.t) {
    case 'put':
      return putOne(mc, model, o);
    case 'twoPhase':
      return putOne(mc, model, o, o.midUnmount ? unmount : undefined);
    case 'batchPut':
      return batchPutOp(mc, model, o);
    case 'remove':
      assert.is(await mc.remove(o.key), model.delete(o.key), `remove ${o.key}`);
      return;
    case 'batchRemove': {
      const codes = await mc.batchRemove(o.keys);
      assert.equal(codes, o.keys.map((k) => (model.delete(k) ? 0 : -3102)));
      return;
    }
    case 'tick':
      return tick();
    case 'unmount':
      return unmount();
    default:
      return readOp(mc, model, o);
  }
}

async function checkEnd(mc, model) {
  const s = mc.stats();
  assert.equal(countersAddUp(s), []);
  assert.equal((await mc.keys()).sort(), [...model.objects.keys()].sort());
  assert.is(s.keys, model.objects.size);
  const used = model.usage();
  const segs = mc.segments();
  assert.equal(segs.map((x) => x.id).sort(), IDS.filter((id) => id !== model.target).sort());
  for (const seg of segs) assert.is(seg.usedBytes, used.get(seg.id) ?? 0, `usage of ${seg.id} = its live objects`);
  assert.is(segs.filter((x) => x.medium === 'HBM').reduce((a, x) => a + x.usedBytes, 0), s.hbm_used);
  assert.is(segs.filter((x) => x.medium === 'DRAM').reduce((a, x) => a + x.usedBytes, 0), s.dram_used);
  assert.is(s.hbm_total + s.dram_total, 5 * 2 * 1024 * 1024);
  for (const k of model.objects.keys()) await checkRead(mc, model, k);
  assert.equal(s.unmount_req, 1 + s.unmount_fail);
}

test('a sliced unmount amid puts, gets, removes and batches agrees with the model', async () => {
  const run = async (target, stepRecords, preload, ops) => {
    const mc = await MemCache.open({ segments: SEGMENTS, alignment: ALIGN, debug: true });
    const model = new Model(target);
    let drain;
    const unmount = () => {
      if (!drain) {
        const totals = mc.stats().hbm_total + mc.stats().dram_total;
        drain = unmountSegment(mc.s, target, { first: stepRecords, min: stepRecords, max: stepRecords, targetMs: 1e9 });
        model.begin();
        assert.not.ok(mc.segments().some((x) => x.id === target), 'the draining segment left segments() at once');
        assert.is(mc.stats().hbm_total + mc.stats().dram_total, totals - 2 * 1024 * 1024, 'its capacity left at once');
      }
    };
    try {
      for (const o of preload) await step(mc, model, o, unmount);
      for (const o of ops) await step(mc, model, o, unmount);
      unmount(); // if no op began it
      await drain;
      await checkEnd(mc, model);
    } finally {
      await mc.close();
      await drain?.catch(() => undefined); // a failed run closes the store under its drain
    }
  };
  const put = fc.record({ t: fc.constant('put'), key, size, seed: fc.nat(), ...place });
  await fc.assert(fc.asyncProperty(
    fc.constantFrom(...IDS), fc.integer({ min: 1, max: 4 }), fc.array(put, { maxLength: 30 }), fc.array(op, { minLength: 1, maxLength: 60 }), run,
  ), { numRuns: 150 });
});

test.run();
