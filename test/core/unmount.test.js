// The sliced unmount of the core (assembly/drain.ts): seg_unmount_begin, seg_unmount_step,
// seg_unmount_end, through the WASM exports of the debug build (its invariants on).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { loadCore } from '../helpers/core.js';
import { MMC, MmcError } from '../../dist/errors.js';
import { checkAbi, CORE_FUNCTIONS } from '../../dist/store/core.js';

const HBM = 0;
const DRAM = 1;
const SHIFT = 6; // 64-byte units
const SEG_BYTES = 64 * 1024;

/** A fresh debug core with HBM and DRAM segments on ranks 0 and 1; the slots by 'rank/medium'. */
function fresh() {
  const x = loadCore('debug');
  const scratch = x.core_init(SHIFT, 60_000, 60_000, 90, 70, 0);
  const slots = {};
  for (const m of [HBM, DRAM]) for (const rank of [0, 1]) slots[`${rank}/${m}`] = x.seg_mount(rank, m, SEG_BYTES);
  const out = () => new Float64Array(x.memory.buffer, x.out_ptr(), 64);
  const key = (k) => {
    const bytes = new TextEncoder().encode(k);
    new Uint8Array(x.memory.buffer, scratch, bytes.length).set(bytes);
    return bytes.length;
  };
  return { x, slots, out, key };
}

/** alloc then commit: the slots of its blobs, or the alloc's code. */
function put(c, k, size, { medium = HBM, replicas = 1, rank = 0, commit = true } = {}) {
  const code = c.x.obj_alloc(c.key(k), size, medium, replicas, rank, 2);
  if (code !== MMC.MMC_OK) return code;
  const o = c.out();
  const handle = { id: o[0], gen: o[1], t0: o[3], slots: Array.from({ length: o[2] }, (_, i) => o[8 + 2 * i]) };
  if (commit) assert.is(c.x.obj_commit(handle.id, handle.gen, 1, handle.t0, 0), MMC.MMC_OK);
  return handle;
}

/** get with its lease held: { code, slot, end() }. */
function lease(c, k) {
  const code = c.x.obj_get(c.key(k), 0);
  if (code !== MMC.MMC_OK) return { code };
  const o = c.out();
  const [b, t0, slot, id, gen] = [o[0], o[1], o[3], o[5], o[6]];
  return { code, slot, end: () => c.x.obj_get_end(id, gen, b, MMC.MMC_OK, t0, 0) };
}

function read(c, k) {
  const l = lease(c, k);
  if (l.code === MMC.MMC_OK) l.end();
  return l;
}

test('begin: the segment leaves placement, the medium figures and every read at once; steps drop, end frees', () => {
  const c = fresh();
  const { x, slots } = c;
  const s0 = slots[`0/${HBM}`];
  for (let i = 0; i < 10; i++) put(c, `only${i}`, 100, { rank: 0 });
  put(c, 'both', 100, { replicas: 2 });
  assert.is(x.medium_used(HBM), 12 * 128);
  assert.is(x.seg_unmount_begin(s0), MMC.MMC_OK);
  assert.equal([x.medium_used(HBM), x.medium_total(HBM)], [128, SEG_BYTES], 'the draining segment counts nowhere from begin');
  assert.equal([x.seg_used(s0), x.seg_total(s0), x.seg_largest_free(s0)], [0, 0, 0]);
  // nothing reaches it before a single step ran: reads see the objects only there as absent
  assert.is(read(c, 'only3').code, MMC.MMC_UNMATCHED_KEY);
  assert.is(x.obj_exists(c.key('only4'), 0), MMC.MMC_UNMATCHED_KEY);
  assert.is(x.obj_query(c.key('only5'), 0), MMC.MMC_UNMATCHED_KEY);
  assert.is(x.obj_remove(c.key('only6'), 0), MMC.MMC_UNMATCHED_KEY);
  assert.is(read(c, 'both').slot, slots[`1/${HBM}`], 'read from the replica elsewhere');
  assert.is(x.obj_query(c.key('both'), 0), MMC.MMC_OK);
  assert.equal([c.out()[2], c.out()[8]], [1, 1], 'query names the replica on rank 1 only');
  // a put of a key only the draining segment held succeeds, and lands elsewhere
  assert.equal(put(c, 'only7', 100, { rank: 0 }).slots, [slots[`1/${HBM}`]]);
  assert.is(put(c, 'two', 100, { replicas: 2 }), MMC.MMC_INVALID_PARAM, 'one HBM rank left');
  assert.is(x.seg_mount(0, HBM, SEG_BYTES) < 0, true, 'the same rank and medium cannot mount while it drains');
  assert.is(x.seg_unmount_begin(s0), MMC.MMC_INVALID_PARAM, 'already draining');
  assert.is(x.seg_unmount_end(s0), MMC.MMC_UNMATCHED_STATE, 'records remain to scan');
  let steps = 0;
  while (x.seg_unmount_step(s0, 3) === 1) steps++;
  assert.is(steps, 3, "11 records, 3 a step: 3 steps with more to come, then the last");
  assert.is(x.seg_unmount_step(s0, 3), 0, 'a step after the last one finds nothing more');
  assert.is(x.seg_unmount_end(s0), MMC.MMC_OK);
  assert.is(x.seg_unmount_step(s0, 3), MMC.MMC_INVALID_PARAM);
  assert.is(x.seg_unmount_end(s0), MMC.MMC_INVALID_PARAM);
  assert.is(x.stored_keys(), 2); // 'both' and the new 'only7'
  assert.is(x.live_blobs(), 2);
  assert.is(x.seg_mount(0, HBM, SEG_BYTES) >= 0, true, 'mounts again once ended');
});

test('a writer with a blob on the draining segment fails at its next write or commit; one elsewhere commits', () => {
  const c = fresh();
  const { x, slots } = c;
  const doomed = put(c, 'doomed', 100, { replicas: 2, commit: false });
  const pinned = put(c, 'pinned', 100, { rank: 0, commit: false });
  const fine = put(c, 'fine', 100, { rank: 1, commit: false });
  assert.is(x.obj_write_begin(pinned.id, pinned.gen), MMC.MMC_OK); // a write in flight across the begin
  assert.is(x.seg_unmount_begin(slots[`0/${HBM}`]), MMC.MMC_OK);
  assert.is(x.obj_write_begin(doomed.id, doomed.gen), MMC.MMC_UNMATCHED_KEY);
  assert.is(x.obj_commit(pinned.id, pinned.gen, 1, pinned.t0, 0), MMC.MMC_UNMATCHED_KEY);
  x.obj_write_end(pinned.id, pinned.gen);
  assert.is(x.obj_commit(fine.id, fine.gen, 1, fine.t0, 0), MMC.MMC_OK);
  assert.is(x.medium_used(HBM), 128, 'the other replica of the failed put was freed');
  while (x.seg_unmount_step(slots[`0/${HBM}`], 2) === 1);
  assert.is(x.seg_unmount_end(slots[`0/${HBM}`]), MMC.MMC_OK);
  assert.equal([x.stored_keys(), x.live_records(), x.live_blobs(), x.pending_count()], [1, 1, 1, 0]);
});

test('a demotion across the begin never carries a blob of the draining segment into an object the cursor passed', () => {
  const c = fresh();
  const { x, slots } = c;
  const target = slots[`0/${DRAM}`];
  put(c, 'a', 100, { rank: 0 }); // record 1, on HBM rank 0
  assert.is(x.evict_next(HBM), 2, 'DEMOTE');
  const out = c.out();
  const d = { id: out[0], gen: out[1], shadow: out[2], t0: out[5] };
  assert.is(out[10], target, 'the copy goes to DRAM rank 0');
  assert.is(x.seg_unmount_begin(target), MMC.MMC_OK);
  assert.is(x.seg_unmount_step(target, 1), 1, 'the cursor passed record 1, not the shadow');
  x.demote_end(d.id, d.gen, d.shadow, 1, d.t0);
  while (x.seg_unmount_step(target, 1) === 1);
  assert.is(x.seg_unmount_end(target), MMC.MMC_OK); // the debug build traps if a blob of the slot was missed
  // the target went away under the copy: the object was evicted by removal, as a failed copy is
  assert.equal([x.live_records(), x.live_blobs(), x.medium_used(HBM), x.medium_used(DRAM)], [0, 0, 0, 0]);
});

test('seg_unmount in one call still drops the slot\'s objects and keeps the others', () => {
  const c = fresh();
  const { x, slots } = c;
  for (let i = 0; i < 50; i++) put(c, `k${i}`, 64, { medium: DRAM, rank: i % 2 });
  assert.is(x.seg_unmount(slots[`1/${DRAM}`]), MMC.MMC_OK);
  assert.is(x.stored_keys(), 25);
  assert.is(x.medium_used(DRAM), 25 * 64);
  assert.is(x.seg_unmount(slots[`1/${DRAM}`]), MMC.MMC_INVALID_PARAM);
});

test('the loader refuses a core without the sliced unmount, naming the function', () => {
  const x = loadCore('release');
  assert.ok(['seg_unmount_begin', 'seg_unmount_step', 'seg_unmount_end'].every((f) => CORE_FUNCTIONS.includes(f)));
  checkAbi(x);
  const { seg_unmount_step: _, ...old } = x;
  try {
    checkAbi(old);
    assert.unreachable('a core without seg_unmount_step passed');
  } catch (e) {
    assert.instance(e, MmcError);
    assert.is(e.codeName, 'MMC_NOT_INITIALIZED');
    assert.match(e.message, 'function seg_unmount_step is missing in the core');
  }
});

// ---- property: random operations on the core, a sliced unmount among them ----

const KEYS = Array.from({ length: 16 }, (_, i) => `k${i}`);
const key = fc.constantFrom(...KEYS);
const op = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('put'), key, size: fc.integer({ min: 1, max: 4000 }), medium: fc.constantFrom(HBM, DRAM), replicas: fc.constantFrom(1, 1, 2), rank: fc.constantFrom(0, 1), commit: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('commit'), pick: fc.nat(), ok: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('write'), pick: fc.nat() }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('get'), key }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('getEnd'), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('remove'), key }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('query'), key }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('evict'), medium: fc.constantFrom(HBM, DRAM) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('demoteEnd'), pick: fc.nat(), ok: fc.boolean() }) },
  { weight: 6, arbitrary: fc.record({ t: fc.constant('step'), records: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('begin') }) },
);

/** Takes the item `pick` picks out of `list` (undefined when empty). */
const take = (list, pick) => (list.length ? list.splice(pick % list.length, 1)[0] : undefined);

class Run {
  constructor(target) {
    this.c = fresh();
    this.target = target;
    this.draining = false;
    this.writers = [];
    this.leases = [];
    this.demotions = [];
  }

  get slot() { return this.c.slots[this.target]; }

  /** The (rank, medium) of the target, as query reports blobs. */
  onTarget(rank, medium) { return `${rank}/${medium}` === this.target; }

  apply(o) {
    const { x } = this.c;
    switch (o.t) {
      case 'put': {
        const h = put(this.c, o.key, o.size, o);
        if (typeof h === 'object' && this.draining) assert.not.ok(h.slots.includes(this.slot), 'placed on the draining segment');
        if (typeof h === 'object' && !o.commit) this.writers.push(h);
        return;
      }
      case 'commit': {
        const h = take(this.writers, o.pick);
        if (h) x.obj_commit(h.id, h.gen, o.ok ? 1 : 0, h.t0, 0);
        return;
      }
      case 'write': {
        const h = this.writers[o.pick % (this.writers.length || 1)];
        if (h && x.obj_write_begin(h.id, h.gen) === MMC.MMC_OK) x.obj_write_end(h.id, h.gen);
        return;
      }
      case 'get': {
        const l = lease(this.c, o.key);
        if (l.code !== MMC.MMC_OK) return;
        if (this.draining) assert.is.not(l.slot, this.slot, 'a get leased a blob of the draining segment');
        this.leases.push(l);
        return;
      }
      case 'getEnd':
        take(this.leases, o.pick)?.end();
        return;
      case 'remove':
        x.obj_remove(this.c.key(o.key), 0);
        return;
      case 'query': {
        if (x.obj_query(this.c.key(o.key), 0) !== MMC.MMC_OK || !this.draining) return;
        const out = this.c.out();
        for (let i = 0; i < out[2]; i++) assert.not.ok(this.onTarget(out[8 + i], out[4]), 'query named the draining segment');
        return;
      }
      case 'evict': {
        if (x.evict_next(o.medium) !== 2) return; // DEMOTE
        const out = this.c.out();
        this.demotions.push({ id: out[0], gen: out[1], shadow: out[2], t0: out[5] });
        return;
      }
      case 'demoteEnd': {
        const d = take(this.demotions, o.pick);
        if (d) x.demote_end(d.id, d.gen, d.shadow, o.ok ? 1 : 0, d.t0);
        return;
      }
      case 'step':
        if (this.draining) x.seg_unmount_step(this.slot, o.records);
        return;
      case 'begin':
        if (!this.draining) this.begin();
    }
  }

  begin() {
    assert.is(this.c.x.seg_unmount_begin(this.slot), MMC.MMC_OK);
    this.draining = true;
  }

  /** Every medium's figures are the sum of its mounted (not draining) segments'. */
  checkFigures() {
    const { x, slots } = this.c;
    for (const m of [HBM, DRAM]) {
      const mine = Object.entries(slots).filter(([name]) => name.endsWith(`/${m}`) && !(this.draining && name === this.target));
      assert.is(x.medium_used(m), mine.reduce((a, [, s]) => a + x.seg_used(s), 0), `medium ${m} used`);
      assert.is(x.medium_total(m), mine.length * SEG_BYTES, `medium ${m} total`);
    }
  }

  /** Ends everything in flight, then the drain; every segment then holds exactly its objects. */
  finish() {
    const { x, slots } = this.c;
    for (const l of this.leases.splice(0)) l.end();
    for (const d of this.demotions.splice(0)) x.demote_end(d.id, d.gen, d.shadow, 1, d.t0);
    for (const h of this.writers.splice(0)) x.obj_commit(h.id, h.gen, 1, h.t0, 0);
    if (!this.draining) this.begin();
    while (x.seg_unmount_step(this.slot, 3) === 1) this.checkFigures();
    assert.is(x.seg_unmount_end(this.slot), MMC.MMC_OK); // the debug build checks no blob of the slot is left
    x.sweep();
    const used = new Map();
    let blobs = 0;
    for (const k of KEYS) {
      if (x.obj_query(this.c.key(k), 0) !== MMC.MMC_OK) continue;
      const out = this.c.out();
      const bytes = Math.ceil(out[0] / 64) * 64;
      for (let i = 0; i < out[2]; i++) {
        const name = `${out[8 + i]}/${out[4]}`;
        assert.is.not(name, this.target);
        used.set(name, (used.get(name) ?? 0) + bytes);
        blobs++;
      }
    }
    for (const [name, s] of Object.entries(slots)) if (name !== this.target) assert.is(x.seg_used(s), used.get(name) ?? 0, `usage of ${name}`);
    assert.is(x.live_blobs(), blobs, 'no blob is left but the live objects\'');
    this.checkCounters();
  }

  checkCounters() {
    const { x } = this.c;
    const block = new Float64Array(x.memory.buffer, x.stats_ptr(), 64);
    for (let op = 0; op < 16; op++) {
      const [req, ok, fail, nf] = block.subarray(op * 4, op * 4 + 4);
      assert.is(req, ok + fail + nf, `counters of op ${op}`);
    }
  }
}

test('property: a sliced unmount amid puts, writers, leases, removes and demotions', () => {
  fc.assert(fc.property(
    fc.constantFrom('0/0', '1/0', '0/1', '1/1'), fc.array(op, { minLength: 1, maxLength: 150 }),
    (target, ops) => {
      const run = new Run(target);
      for (const o of ops) {
        run.apply(o);
        run.checkFigures();
      }
      run.finish();
    },
  ), { numRuns: 300 });
});

test.run();
