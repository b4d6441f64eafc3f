#!/usr/bin/env node
// Benchmark: 1 MiB put+get bandwidth (GB/s), MemCache (sim backend) vs plain Buffer copies.
//
// Both sides move the same bytes: each cycle writes one 1 MiB value into a slot of a 256 MiB
// pool (so the pool is not all cache-hot) and reads one back into a fresh buffer.
//   ours:     remove(k) + put(k, v) + get(k) on a MemCache with one 1 GiB DRAM segment (sim),
//             256 keys held, keys cycled round-robin; every call awaited.
//   baseline: the memcpy limit, the work our sim backend does without the store around it:
//             seg.set(v, slot * 1 MiB) into a preallocated 256 MiB Uint8Array, then
//             Buffer.allocUnsafe(1 MiB).set(seg.subarray(...)).
// GB/s = 2 MiB (1 in, 1 out) per cycle, 1 GB = 1e9 bytes. Each measurement runs REPEATS times,
// interleaved; the MEDIAN is reported (best shown too). Goal: ours >= 0.9x baseline.
//
// Usage: node bench/put-get-1m.js [--cycles N] [--repeats N] [--json]
//        import { run, format } from './put-get-1m.js'; format(await run());
import { fileURLToPath } from 'node:url';
import { MemCache } from '../dist/index.js';
import { argNum, median, makeValues } from './lib.js';

const VALUE = 1024 * 1024;
const SLOTS = 256;
const GOAL = 0.9;
const GiB = 1024 ** 3;

/** `into`: read with getInto into one reused buffer, else get (a new buffer per read). */
async function ours(mc, keys, values, cycles, into) {
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < cycles; i++) {
    const k = keys[i % SLOTS];
    await mc.remove(k);
    await mc.put(k, values[i % values.length]);
    let got = into;
    if (into) await mc.getInto(k, into);
    else got = await mc.get(k);
    sink += got[VALUE - 1];
  }
  const ns = Number(process.hrtime.bigint() - t0);
  if (sink < 0) console.log(sink);
  return (cycles * 2 * VALUE) / ns; // bytes per ns = GB/s
}

function baseline(seg, values, cycles, into) {
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < cycles; i++) {
    const off = (i % SLOTS) * VALUE;
    seg.set(values[i % values.length], off);
    const dst = into ?? Buffer.allocUnsafe(VALUE);
    dst.set(seg.subarray(off, off + VALUE));
    sink += dst[VALUE - 1];
  }
  const ns = Number(process.hrtime.bigint() - t0);
  if (sink < 0) console.log(sink);
  return (cycles * 2 * VALUE) / ns;
}

export async function run({ cycles = 3000, repeats = 5 } = {}) {
  const keys = Array.from({ length: SLOTS }, (_, i) => `layer-0-block-${i}`);
  const values = makeValues(8, VALUE, 4096);
  const mc = await MemCache.open({ segments: [{ rank: 0, medium: 'dram', bytes: GiB }], alignment: 4096 });
  for (let i = 0; i < SLOTS; i++) await mc.put(keys[i], values[i % values.length]);
  const seg = new Uint8Array(SLOTS * VALUE);
  for (let off = 0; off < seg.length; off += VALUE) seg.set(values[0], off); // touch every page
  const w = Math.min(cycles, 1000);
  const rows = [];
  for (const [workload, into] of [
    ['1 MiB values, 256 held: remove + put + get per cycle (2 MiB moved)', undefined],
    ['the same, reading with getInto into one reused buffer (baseline copies into one too)', Buffer.allocUnsafe(VALUE)],
  ]) {
    await ours(mc, keys, values, w, into);
    baseline(seg, values, w, into);
    const o = [];
    const b = [];
    for (let r = 0; r < repeats; r++) {
      o.push(await ours(mc, keys, values, cycles, into));
      b.push(baseline(seg, values, cycles, into));
    }
    const ratio = median(o) / median(b);
    rows.push({ workload, oursGBs: median(o), baseGBs: median(b), oursBest: Math.max(...o), baseBest: Math.max(...b), ratio, goal: GOAL, met: ratio >= GOAL });
  }
  // correctness: last value of each key round-trips
  const check = await mc.get(keys[0]);
  if (!check || check.length !== VALUE) throw new Error('ours: value lost');
  await mc.close();
  return rows;
}

export function format(rows) {
  const lines = [];
  lines.push('1 MiB put+get bandwidth, GB/s (1e9 B/s, in + out): MemCache (sim, 1 GiB DRAM segment) vs plain Buffer copies');
  lines.push('(seg.set(v) into a preallocated 256 MiB buffer + copy out into Buffer.allocUnsafe). Median of repeats, interleaved.');
  lines.push('');
  lines.push('| workload | ours GB/s | Buffer copies GB/s | ours/baseline | best ours / best baseline | goal |');
  lines.push('|---|---:|---:|---:|---:|---|');
  for (const r of rows) {
    lines.push(`| ${r.workload} | ${r.oursGBs.toFixed(2)} | ${r.baseGBs.toFixed(2)} | ${r.ratio.toFixed(2)}x | ${r.oursBest.toFixed(2)} / ${r.baseBest.toFixed(2)} | >= ${r.goal}x: ${r.met ? 'MET' : 'NOT MET'} |`);
  }
  return lines.join('\n');
}

async function main() {
  const args = process.argv.slice(2);
  const rows = await run({ cycles: argNum(args, '--cycles', 3000), repeats: argNum(args, '--repeats', 5) });
  console.log(format(rows));
  if (args.includes('--json')) console.log(JSON.stringify({ bench: 'put-get-1m', rows }));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
