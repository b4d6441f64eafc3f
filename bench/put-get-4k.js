#!/usr/bin/env node
// Benchmark: 4 KiB put+get cycles per second, MemCache (sim backend) vs lru-cache, in one run.
//
// Two workloads, both sides doing the same work through their public APIs:
//   "working set": both stores hold the same N keys of 4 KiB (prefilled, outside the timing);
//     each cycle replaces one key (ours: remove + put, since put refuses an existing key;
//     lru-cache: set, which replaces) and reads another key (get returns a fresh copy on both
//     sides). Keys are cycled round-robin so nothing is evicted and the store never fills.
//   "put+get+remove": an empty store; each cycle puts a key, gets it and removes it.
// Ours: MemCache.open({ segments: 1 rank, 1 GiB HBM + 1 GiB DRAM }), every call awaited, as users
// call it. Baseline: lru-cache v11 with maxSize + sizeCalculation; values copied in
// (Buffer.from(v)) and out (Buffer.from(got)), since our get returns a fresh buffer and our put
// copies into the segment.
// Each measurement runs REPEATS times, ours and the baseline interleaved; the MEDIAN is reported
// (best also shown). Goal: ours >= 1.5x lru-cache on the working-set cycle.
//
// Usage: node bench/put-get-4k.js [--cycles N] [--keys N] [--repeats N] [--json]
//        import { run, format } from './put-get-4k.js'; format(await run());
import { fileURLToPath } from 'node:url';
import { LRUCache } from 'lru-cache';
import { MemCache } from '../dist/index.js';
import { argNum, median, makeValues } from './lib.js';

const VALUE = 4096;
const GOAL = 1.5;
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

async function openOurs() {
  return MemCache.open({
    segments: [
      { rank: 0, medium: 'hbm', bytes: GiB },
      { rank: 0, medium: 'dram', bytes: GiB },
    ],
    alignment: 4096,
    evictThresholdHigh: 90,
    evictThresholdLow: 80,
  });
}

function openLru(keys) {
  return new LRUCache({ maxSize: keys * VALUE * 4, sizeCalculation: (v) => v.length });
}

// ---- working set: N keys held, each cycle replaces one and reads another ----

async function oursWorkingSet(mc, keys, values, cycles) {
  const n = keys.length;
  const nv = values.length;
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < cycles; i++) {
    const k = keys[i % n];
    await mc.remove(k);
    await mc.put(k, values[i % nv]);
    const got = await mc.get(keys[(i + (n >> 1)) % n]);
    sink += got[0];
  }
  const ns = Number(process.hrtime.bigint() - t0);
  if (sink < 0) console.log(sink);
  return (cycles * 1e9) / ns;
}

function lruWorkingSet(cache, keys, values, cycles) {
  const n = keys.length;
  const nv = values.length;
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < cycles; i++) {
    cache.set(keys[i % n], Buffer.from(values[i % nv]));
    const got = Buffer.from(cache.get(keys[(i + (n >> 1)) % n]));
    sink += got[0];
  }
  const ns = Number(process.hrtime.bigint() - t0);
  if (sink < 0) console.log(sink);
  return (cycles * 1e9) / ns;
}

// ---- put + get + remove on an empty store ----

async function oursPutGetRemove(mc, keys, values, cycles) {
  const n = keys.length;
  const nv = values.length;
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < cycles; i++) {
    const k = keys[i % n];
    await mc.put(k, values[i % nv]);
    const got = await mc.get(k);
    sink += got[0];
    await mc.remove(k);
  }
  const ns = Number(process.hrtime.bigint() - t0);
  if (sink < 0) console.log(sink);
  return (cycles * 1e9) / ns;
}

function lruPutGetRemove(cache, keys, values, cycles) {
  const n = keys.length;
  const nv = values.length;
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < cycles; i++) {
    const k = keys[i % n];
    cache.set(k, Buffer.from(values[i % nv]));
    const got = Buffer.from(cache.get(k));
    sink += got[0];
    cache.delete(k);
  }
  const ns = Number(process.hrtime.bigint() - t0);
  if (sink < 0) console.log(sink);
  return (cycles * 1e9) / ns;
}

/** Rows: one per workload, ops/s as cycles per second (median of `repeats`). */
export async function run({ cycles = 200_000, keys: nKeys = 10_000, repeats = 5 } = {}) {
  const keys = Array.from({ length: nKeys }, (_, i) => `kv-block-${i}`);
  const values = makeValues(64, VALUE, 64);
  const rows = [];

  // working set
  {
    const mc = await openOurs();
    const cache = openLru(nKeys);
    for (let i = 0; i < nKeys; i++) {
      await mc.put(keys[i], values[i % values.length]);
      cache.set(keys[i], Buffer.from(values[i % values.length]));
    }
    // warm-up (JIT), not timed
    await oursWorkingSet(mc, keys, values, Math.min(cycles, 50_000));
    lruWorkingSet(cache, keys, values, Math.min(cycles, 50_000));
    const ours = [];
    const base = [];
    for (let r = 0; r < repeats; r++) {
      ours.push(await oursWorkingSet(mc, keys, values, cycles));
      base.push(lruWorkingSet(cache, keys, values, cycles));
    }
    const st = mc.stats();
    if (st.keys !== nKeys) throw new Error(`ours holds ${st.keys} keys, expected ${nKeys}`);
    if (cache.size !== nKeys) throw new Error(`lru-cache holds ${cache.size} keys, expected ${nKeys}`);
    await mc.close();
    rows.push({
      workload: `working set ${nKeys} keys x 4 KiB: replace 1 + get 1 per cycle`,
      oursOps: median(ours), baseOps: median(base), oursBest: Math.max(...ours), baseBest: Math.max(...base),
      ratio: median(ours) / median(base), goal: GOAL, met: median(ours) / median(base) >= GOAL,
    });
  }

  // put + get + remove
  {
    const mc = await openOurs();
    const cache = openLru(nKeys);
    await oursPutGetRemove(mc, keys, values, Math.min(cycles, 50_000));
    lruPutGetRemove(cache, keys, values, Math.min(cycles, 50_000));
    const ours = [];
    const base = [];
    for (let r = 0; r < repeats; r++) {
      ours.push(await oursPutGetRemove(mc, keys, values, cycles));
      base.push(lruPutGetRemove(cache, keys, values, cycles));
    }
    await mc.close();
    rows.push({
      workload: 'empty store: put + get + remove per cycle',
      oursOps: median(ours), baseOps: median(base), oursBest: Math.max(...ours), baseBest: Math.max(...base),
      ratio: median(ours) / median(base), goal: null, met: null,
    });
  }
  return rows;
}

const f0 = (x) => Math.round(x).toLocaleString('en-US');

export function format(rows) {
  const lines = [];
  lines.push('4 KiB put+get cycles/s: MemCache (sim, 1 GiB HBM + 1 GiB DRAM, awaited public API) vs lru-cache v11');
  lines.push('(maxSize + sizeCalculation, values copied in and out). Median of repeats, ours/baseline interleaved.');
  lines.push('');
  lines.push('| workload | ours cycles/s | lru-cache cycles/s | ours/lru | best ours / best lru | goal |');
  lines.push('|---|---:|---:|---:|---:|---|');
  for (const r of rows) {
    const goal = r.goal === null ? 'report' : `>= ${r.goal.toFixed(1)}x: ${r.met ? 'MET' : 'NOT MET'}`;
    lines.push(`| ${r.workload} | ${f0(r.oursOps)} | ${f0(r.baseOps)} | ${r.ratio.toFixed(2)}x | ${f0(r.oursBest)} / ${f0(r.baseBest)} | ${goal} |`);
  }
  return lines.join('\n');
}

async function main() {
  const args = process.argv.slice(2);
  const rows = await run({
    cycles: argNum(args, '--cycles', 200_000),
    keys: argNum(args, '--keys', 10_000),
    repeats: argNum(args, '--repeats', 5),
  });
  console.log(format(rows));
  if (args.includes('--json')) console.log(JSON.stringify({ bench: 'put-get-4k', rows }));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
