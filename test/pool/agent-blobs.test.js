// The agent's blob map (src/pool/agent-blobs.ts over src/pool/span-index.ts), property style
// against a simple model: a plain list of spans, searched in full. After every record / freed,
// find, startingAt, count and fenced answer as the model does, for every key and offset.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { SegmentBlobs } from '../../dist/pool/agent-blobs.js';
import { SpanIndex } from '../../dist/pool/span-index.js';

const UNITS = 48; // a segment of 48 offsets keeps overlaps frequent
const KEYS = ['a', 'b', 'c', 'd', 'e', 'f'];

/** The model: spans { key | undefined, offset, size, gen }, never overlapping, in no order. */
class Model {
  spans = [];
  cut(offset, size) {
    const end = offset + size;
    const keep = [];
    for (const s of this.spans) {
      if (s.offset + s.size <= offset || s.offset >= end) { keep.push(s); continue; }
      if (s.offset < offset) keep.push({ key: undefined, offset: s.offset, size: offset - s.offset, gen: s.gen });
      if (s.offset + s.size > end) keep.push({ key: undefined, offset: end, size: s.offset + s.size - end, gen: s.gen });
    }
    this.spans = keep;
  }
  freed(offset, size, gen) {
    this.cut(offset, size);
    this.spans.push({ key: undefined, offset, size, gen });
  }
  record(e) {
    const old = this.find(e.key);
    if (old) this.freed(old.offset, old.size, old.gen);
    this.cut(e.offset, e.size);
    this.spans.push({ ...e });
  }
  find(key) {
    return this.spans.find((s) => s.key === key);
  }
  fenced(offset, size, gen) {
    return this.spans.some((s) => s.offset < offset + size && s.offset + s.size > offset && (s.key === undefined ? s.gen >= gen : s.gen > gen));
  }
}

const range = fc.integer({ min: 0, max: UNITS - 1 }).chain((offset) => fc.record({
  offset: fc.constant(offset),
  size: fc.integer({ min: 1, max: Math.min(8, UNITS - offset) }),
  gen: fc.integer({ min: 0, max: 6 }),
}));
// ranges as an allocator of a few sizes gives them out: aligned, so that a range often comes back
// at exactly its offset and size (SegmentBlobs changes such a span in place)
const blockRange = fc.record({
  offset: fc.integer({ min: 0, max: UNITS / 8 - 1 }).map((k) => 8 * k),
  size: fc.constantFrom(4, 8),
  gen: fc.integer({ min: 0, max: 6 }),
});
const opsOver = (r) => fc.oneof(
  fc.record({ op: fc.constant('record'), key: fc.constantFrom(...KEYS), r }),
  fc.record({ op: fc.constant('freed'), r }),
);
const op = opsOver(range);

function same(blobs, model) {
  for (const k of KEYS) {
    const m = model.find(k);
    assert.equal(blobs.find(k), m && { key: m.key, offset: m.offset, size: m.size, gen: m.gen }, `find ${k}`);
  }
  for (let o = 0; o < UNITS; o++) {
    const m = model.spans.find((s) => s.offset === o && s.key !== undefined);
    assert.equal(blobs.startingAt(o)?.key, m?.key, `startingAt ${o}`);
  }
  assert.is(blobs.count, model.spans.filter((s) => s.key !== undefined).length);
}

const agrees = (ops, probes) => {
    const blobs = new SegmentBlobs();
    const model = new Model();
    for (const o of ops) {
      if (o.op === 'record') {
        blobs.record({ key: o.key, ...o.r });
        model.record({ key: o.key, ...o.r });
      } else {
        blobs.freed(o.r.offset, o.r.size, o.r.gen);
        model.freed(o.r.offset, o.r.size, o.r.gen);
      }
      same(blobs, model);
      for (const p of probes) assert.is(blobs.fenced(p.offset, p.size, p.gen), model.fenced(p.offset, p.size, p.gen), 'fenced');
    }
    blobs.clear();
    assert.is(blobs.count, 0);
    assert.is(blobs.fenced(0, UNITS, 0), false);
};

test('record / freed / find / startingAt / fenced agree with a list of spans', () => {
  fc.assert(fc.property(fc.array(op, { maxLength: 60 }), fc.array(range, { minLength: 8, maxLength: 8 }), agrees), { numRuns: 300 });
});

test('the same over aligned ranges of two sizes, mixed with any: ranges given out again at their size', () => {
  const mixed = fc.oneof({ weight: 4, arbitrary: opsOver(blockRange) }, { weight: 1, arbitrary: op });
  fc.assert(fc.property(fc.array(mixed, { maxLength: 80 }), fc.array(range, { minLength: 8, maxLength: 8 }), agrees), { numRuns: 300 });
});

test('SpanIndex: many entries across chunks, inserted in random order; overlapping and remove', () => {
  fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 0, max: 4999 }), { minLength: 0, maxLength: 1500 }), fc.integer({ min: 0, max: 5000 }), (starts, q) => {
    const idx = new SpanIndex();
    // entries [10 s, 10 s + 5): never overlapping
    for (const s of starts) idx.insert({ offset: 10 * s, size: 5 });
    const live = new Set(starts);
    for (const s of starts.slice(0, starts.length >> 1)) { idx.remove(10 * s); live.delete(s); }
    idx.remove(10 * 5001 + 1); // absent: nothing happens
    const want = [...live].sort((a, b) => a - b).filter((s) => 10 * s + 5 > 10 * q - 3 && 10 * s < 10 * q + 40).map((s) => 10 * s);
    assert.equal(idx.overlapping(10 * q - 3, 43).map((e) => e.offset), want);
    const all = [...live].sort((a, b) => a - b).map((s) => 10 * s);
    assert.equal(idx.overlapping(0, 60000).map((e) => e.offset), all);
  }), { numRuns: 60 });
});

test.run();
