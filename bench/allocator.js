// Benchmark: range allocator (assembly/allocator.ts, release build) vs a JS baseline.
//
// Workload, per N in {1k, 100k, 1M}: fill one instance to N live allocations of random sizes
// (log-uniform 1..1024 units, capacity 2.5x the expected live units), then time PAIRS
// iterations of "free a random live allocation, allocate a new random size in its place",
// keeping N live. Reported in ns per alloc+free pair, measured from JS through the WASM exports
// (u64 sizes cross the boundary as BigInt, which is part of the measured cost).
//
// Baseline: "JS OffsetAllocator", a straight JS port of the same algorithm (same bins, bitmaps,
// bin lists and neighbour links) in growable typed arrays, sizes as plain numbers, no BigInt:
// what a user would write to keep allocator metadata off the JS heap without WebAssembly.
//
// Usage: node bench/allocator.js            (prints the table)
//        import { run } from './allocator.js'; const rows = run();
import { fileURLToPath } from 'node:url';
import { loadReleaseCore } from './lib.js';

const GOAL_NS = 150; // per pair at 100k live
const SIZES = [1_000, 100_000, 1_000_000];
const PAIRS = 1_000_000;
const MAX_UNITS = 1024;

// ---------- baseline: JS port of the same bins ----------

const NONE = -1;
const TWO32 = 4294967296;

function log2floor(x) {
  const hi = Math.floor(x / TWO32);
  return hi ? 63 - Math.clz32(hi) : 31 - Math.clz32(x >>> 0);
}
function binFloor(size) {
  if (size < 8) return size;
  if (size < 0x80000000) {
    const shift = 28 - Math.clz32(size);
    return ((shift + 1) << 3) | ((size >>> shift) & 7);
  }
  const shift = log2floor(size) - 3;
  return ((shift + 1) << 3) | (Math.floor(size / 2 ** shift) & 7);
}
function binCeil(size) {
  if (size < 8) return size;
  if (size < 0x80000000) {
    const shift = 28 - Math.clz32(size);
    return (((shift + 1) << 3) | ((size >>> shift) & 7)) + ((size & ((1 << shift) - 1)) !== 0 ? 1 : 0);
  }
  const shift = log2floor(size) - 3;
  const p = 2 ** shift;
  let bin = ((shift + 1) << 3) | (Math.floor(size / p) & 7);
  if (size % p) bin++;
  return bin;
}
function ctz32(x) {
  return 31 - Math.clz32(x & -x);
}

export class JsOffsetAllocator {
  constructor(capacity) {
    this.capacity = capacity;
    this.usedUnits = 0;
    this.heads = new Int32Array(320).fill(NONE);
    this.leaves = new Uint8Array(40);
    this.topLo = 0; // exponents 0..31
    this.topHi = 0; // exponents 32..39
    this.cap = 0;
    this.grow(16);
    this.count = 1;
    this.freeSlot = NONE;
    this.off[0] = 0;
    this.size[0] = capacity;
    this.prev[0] = NONE;
    this.next[0] = NONE;
    this.insert(0, capacity);
  }
  grow(n) {
    const copy = (Ctor, old) => { const a = new Ctor(n); if (old) a.set(old); return a; };
    this.off = copy(Float64Array, this.off);
    this.size = copy(Float64Array, this.size);
    this.used = copy(Uint8Array, this.used);
    this.binPrev = copy(Int32Array, this.binPrev);
    this.binNext = copy(Int32Array, this.binNext);
    this.prev = copy(Int32Array, this.prev);
    this.next = copy(Int32Array, this.next);
    this.cap = n;
  }
  setTop(e) { if (e < 32) this.topLo |= 1 << e; else this.topHi |= 1 << (e - 32); }
  clearTop(e) { if (e < 32) this.topLo &= ~(1 << e); else this.topHi &= ~(1 << (e - 32)); }
  insert(id, size) {
    const bin = binFloor(size);
    const head = this.heads[bin];
    if (head === NONE) {
      const e = bin >> 3;
      this.leaves[e] |= 1 << (bin & 7);
      this.setTop(e);
    } else {
      this.binPrev[head] = id;
    }
    this.binPrev[id] = NONE;
    this.binNext[id] = head;
    this.heads[bin] = id;
  }
  remove(id) {
    const p = this.binPrev[id], n = this.binNext[id];
    if (p !== NONE) this.binNext[p] = n;
    else {
      const bin = binFloor(this.size[id]);
      this.heads[bin] = n;
      if (n === NONE) {
        const e = bin >> 3;
        const leaf = this.leaves[e] & ~(1 << (bin & 7));
        this.leaves[e] = leaf;
        if (!leaf) this.clearTop(e);
      }
    }
    if (n !== NONE) this.binPrev[n] = p;
  }
  findBin(minBin) {
    const e = minBin >> 3;
    const leaf = this.leaves[e] & (0xff << (minBin & 7));
    if (leaf) return (e << 3) | ctz32(leaf);
    let t;
    const from = e + 1;
    if (from < 32 && (t = this.topLo & (~0 << from))) return this.leafBin(ctz32(t));
    const hiMask = from <= 32 ? ~0 : ~0 << (from - 32);
    if ((t = this.topHi & hiMask)) return this.leafBin(32 + ctz32(t));
    return NONE;
  }
  leafBin(e) { return (e << 3) | ctz32(this.leaves[e]); }
  slot() {
    let id = this.freeSlot;
    if (id !== NONE) { this.freeSlot = this.binNext[id]; return id; }
    if (this.count === this.cap) this.grow(this.cap * 2);
    return this.count++;
  }
  release(id) {
    this.size[id] = 0;
    this.binNext[id] = this.freeSlot;
    this.freeSlot = id;
  }
  alloc(units) {
    if (units < 1 || units > this.capacity - this.usedUnits) return NONE;
    const bin = this.findBin(binCeil(units));
    let id;
    if (bin !== NONE) id = this.heads[bin];
    else {
      id = this.heads[binFloor(units)];
      for (let i = 0; i < 8 && id !== NONE && this.size[id] < units; i++) id = this.binNext[id];
      if (id === NONE || this.size[id] < units) return NONE;
    }
    const total = this.size[id];
    this.remove(id);
    this.used[id] = 1;
    this.size[id] = units;
    const rest = total - units;
    if (rest) {
      const s = this.slot();
      const n = this.next[id];
      this.off[s] = this.off[id] + units;
      this.size[s] = rest;
      this.used[s] = 0;
      this.prev[s] = id;
      this.next[s] = n;
      if (n !== NONE) this.prev[n] = s;
      this.next[id] = s;
      this.insert(s, rest);
    }
    this.usedUnits += units;
    return id;
  }
  free(id) {
    if (id < 0 || id >= this.count || !this.used[id]) return;
    let off = this.off[id], size = this.size[id];
    this.usedUnits -= size;
    this.used[id] = 0;
    const p = this.prev[id];
    if (p !== NONE && !this.used[p]) {
      this.remove(p);
      off = this.off[p];
      size += this.size[p];
      const pp = this.prev[p];
      this.prev[id] = pp;
      if (pp !== NONE) this.next[pp] = id;
      this.release(p);
    }
    const n = this.next[id];
    if (n !== NONE && !this.used[n]) {
      this.remove(n);
      size += this.size[n];
      const nn = this.next[n];
      this.next[id] = nn;
      if (nn !== NONE) this.prev[nn] = id;
      this.release(n);
    }
    this.off[id] = off;
    this.size[id] = size;
    this.insert(id, size);
  }
}

// ---------- workload ----------

function xorshift(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5; s >>>= 0;
    return s / TWO32;
  };
}

function makeWorkload(n, seed) {
  const rnd = xorshift(seed);
  const POOL = 1 << 16;
  const sizes = new Float64Array(POOL);
  let sum = 0;
  for (let i = 0; i < POOL; i++) {
    sizes[i] = Math.min(MAX_UNITS, Math.floor(2 ** (rnd() * 10))); // log-uniform 1..1024
    sum += sizes[i];
  }
  const bigSizes = Array.from(sizes, (s) => BigInt(s));
  const picks = new Int32Array(PAIRS);
  for (let i = 0; i < PAIRS; i++) picks[i] = Math.floor(rnd() * n);
  const capacity = Math.ceil((sum / POOL) * n * 2.5);
  return { n, sizes, bigSizes, picks, capacity, mask: POOL - 1 };
}

function benchWasm(core, w) {
  const { ra_create, ra_alloc, ra_free, ra_destroy, ra_live } = core;
  const ra = ra_create(BigInt(w.capacity));
  const live = new Int32Array(w.n);
  const { bigSizes, picks, mask } = w;
  let failed = 0;
  for (let i = 0; i < w.n; i++) {
    live[i] = ra_alloc(ra, bigSizes[i & mask]);
    if (live[i] < 0) failed++;
  }
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < PAIRS; i++) {
    const k = picks[i];
    ra_free(ra, live[k]);
    const id = ra_alloc(ra, bigSizes[(i + w.n) & mask]);
    live[k] = id;
    failed += id >>> 31;
  }
  const ns = Number(process.hrtime.bigint() - t0) / PAIRS;
  if (ra_live(ra) + failed < w.n) throw new Error('wasm allocator lost allocations');
  ra_destroy(ra);
  return { ns, failed };
}

function benchJs(w) {
  const a = new JsOffsetAllocator(w.capacity);
  const live = new Int32Array(w.n);
  const { sizes, picks, mask } = w;
  let failed = 0;
  for (let i = 0; i < w.n; i++) {
    live[i] = a.alloc(sizes[i & mask]);
    if (live[i] < 0) failed++;
  }
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < PAIRS; i++) {
    const k = picks[i];
    a.free(live[k]);
    const id = a.alloc(sizes[(i + w.n) & mask]);
    live[k] = id;
    failed += id >>> 31;
  }
  const ns = Number(process.hrtime.bigint() - t0) / PAIRS;
  return { ns, failed };
}

/** Runs the benchmark; returns [{ live, oursNs, baselineNs, ratio, oursFailed, baselineFailed }]. */
export function run({ sizes = SIZES, repeats = 3 } = {}) {
  const core = loadReleaseCore();
  // warm-up both paths (JIT tiers, wasm tier-up)
  const warm = makeWorkload(10_000, 1);
  benchWasm(core, warm);
  benchJs(warm);
  const rows = [];
  for (const n of sizes) {
    const w = makeWorkload(n, 0x5eed + n);
    let ours = Infinity, base = Infinity, oursFailed = 0, baselineFailed = 0;
    for (let r = 0; r < repeats; r++) {
      const a = benchWasm(core, w);
      const b = benchJs(w);
      if (a.ns < ours) { ours = a.ns; oursFailed = a.failed; }
      if (b.ns < base) { base = b.ns; baselineFailed = b.failed; }
    }
    rows.push({ live: n, oursNs: ours, baselineNs: base, ratio: ours / base, oursFailed, baselineFailed });
  }
  return rows;
}

function main() {
  const rows = run();
  console.log(`range allocator: ${PAIRS} alloc+free pairs per row, best of 3, sizes log-uniform 1..${MAX_UNITS} units`);
  console.log('baseline: JS OffsetAllocator (JS port of the same bins in typed arrays, number sizes)');
  console.log('');
  console.log('live N     | ours ns/pair | baseline ns/pair | ours/baseline | failed allocs (ours/base)');
  console.log('-----------|--------------|------------------|---------------|--------------------------');
  for (const r of rows) {
    console.log(
      `${String(r.live).padEnd(10)} | ${r.oursNs.toFixed(1).padStart(12)} | ${r.baselineNs.toFixed(1).padStart(16)} | ${r.ratio.toFixed(2).padStart(13)} | ${r.oursFailed}/${r.baselineFailed}`,
    );
  }
  const at100k = rows.find((r) => r.live === 100_000);
  if (at100k) {
    const met = at100k.oursNs <= GOAL_NS;
    console.log('');
    console.log(`goal <= ${GOAL_NS} ns per pair at 100k live: ${met ? 'MET' : 'NOT MET'} (${at100k.oursNs.toFixed(1)} ns)`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main();
