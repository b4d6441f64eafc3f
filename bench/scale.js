#!/usr/bin/env node
// Benchmark: 5M keys with 64-byte values. Memory per key and put latency, MemCache vs lru-cache,
// each in its OWN child process (node --expose-gc bench/scale.js --child ours|lru --keys N).
//
//   ours:     MemCache, one DRAM segment of 1 GiB (sim), alignment 64, so 5M x 64 B fit without
//             eviction (320 MB < 90% of 1 GiB); every put awaited.
//   baseline: lru-cache v11, maxSize + sizeCalculation, values copied in (Buffer.from(v)).
// Keys `key-${i}`, i = 0..N-1. RSS growth per key = (rss after - rss before) / N, both taken after
// a full GC; the latency array is allocated and touched before the "before" sample. Put latency:
// process.hrtime.bigint() around each single put (await mc.put / cache.set); worst and p99.9.
// Goals (ours): RSS per key - 64 (value slot) - key bytes <= 128 B; worst single put <= 5 ms.
// Each child also records the puts slower than 2 ms with what happened during them (GC pauses
// from PerformanceObserver, WASM memory growth, sim chunk reservation) to tell why they were slow.
//
// Two settings, both sides alike unless said (each is an option, so the earlier way can be rerun):
//   --sim populated  (default; `lazy` the earlier way) ours: the sim segment is touched whole at
//             open (`sim: { populate: true }`), as device memory is there from the mount on. Lazily,
//             the put that first writes a page of host memory takes its page fault, and on this VM
//             one such fault now and then costs 4-8 ms of kernel time (seen as 1 fault, ~6 ms sys
//             in one put). The values' bytes are then resident before the "before" sample: the
//             bytes per key beyond value and key are the RSS growth per key minus the key bytes.
//   --semi-space 4   (MiB a semi-space, min = max; default 4; 1 and 16 earlier ways) V8's young
//             generation: ours allocates almost no JS object per put, so what a scavenge copies is
//             the harness's (key strings, hrtime BigInts, the await). At 16 MiB each scavenge took
//             1-10 ms here; at 1 MiB 0.5-3 ms, but the harness's garbage, promoted after two
//             scavenges, filled the old generation: a mark-compact every ~0.7 s (13 a fill), whose
//             pause was the worst put (worst 6.0-11.9 ms a run, 2026-12-06). At 4 MiB a quarter of
//             the scavenges, max 1-5 ms, and the worst put 4.1-6.8 ms.
//   --core populated (default; `lazy` the earlier way) ours: the core's 1 GiB of linear memory
//             touched whole at open (MemCache.open({ corePopulate: true })). Lazily, the put whose
//             metadata first lands on a page takes its page fault; on this VM now and then one
//             costs 2-19 ms with nothing else going on (the slow puts the diagnostics call "none":
//             no GC, no growth). Paired child runs, 2026-12-06: worst put 1.5-5.2 ms populated (9
//             runs, one over 5) against 1.5-19.4 ms lazy (4 of 9 over 5). Populated, RSS growth no
//             longer shows the metadata: the memory rows come from one more child with the core
//             lazy (memory figures are the same run to run), the latency rows from the populated runs.
//   --v8-pool-size N (default: the machine's cores, os.availableParallelism()) V8's worker threads
//             (concurrent compile, marking, sweeping); node's default is 4. With 4 on 2 cores, the
//             slow puts of the JIT's warm-up (the first ~15,000) were the main thread waiting for a
//             core (its /proc schedstat wait time); with 2 and a 4 MiB semi-space the worst put of
//             6 runs was 2.3-4.6 ms. Both are node settings a latency-minded embedder makes too.
//
// Usage: node bench/scale.js [--keys N] [--runs R] [--sim populated|lazy] [--core populated|lazy]
//                            [--semi-space MIB] [--v8-pool-size N] [--json]
//        (default 5,000,000 keys, 3 runs per side)
//        import { run, format } from './scale.js'; format(await run({ keys: 1_000_000 }));
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { argNum, median } from './lib.js';

const VALUE = 64;
const GOAL_META = 128;
const GOAL_WORST_MS = 5;
const SLOW_MS = 2;
// every put adds its key's own small block to the metadata: only a step of this much or more is
// growth (a record chunk, a key index table)
const META_STEP = 4096;
const SELF = fileURLToPath(import.meta.url);
/** The memory figures of a child (taken from the lazy-core run when the core is populated). */
const MEMORY_FIELDS = ['rssPerKey', 'heapPerKey', 'externalPerKey', 'wasmPerKey', 'metadataPerKey', 'rssAfterMiB', 'wasmMemoryMiB', 'metadataMiB'];


function avgKeyBytes(n) {
  let total = 0;
  for (let digits = 1, lo = 0; lo < n; digits++, lo = lo === 0 ? 10 : lo * 10) {
    const hi = Math.min(n, lo === 0 ? 10 : lo * 10);
    total += (hi - lo) * (4 + digits);
  }
  return total / n;
}

function gcNow() {
  if (globalThis.gc) {
    globalThis.gc();
    globalThis.gc();
  }
}

const GC_KIND = {
  [perfConstants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [perfConstants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [perfConstants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [perfConstants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

async function child(side, n, populate, corePopulate) {
  const lat = new Float64Array(n); // ns per put
  lat.fill(1); // touch the pages before the "before" sample
  const value = new Uint8Array(VALUE).fill(7);
  let mc = null;
  let cache = null;
  let mem = null;
  let backend = null;
  let x = null;
  if (side === 'ours') {
    const { MemCache } = await import('../dist/index.js');
    mc = await MemCache.open({
      segments: [{ rank: 0, medium: 'dram', bytes: 1024 ** 3 }],
      alignment: 64,
      sim: { populate },
      corePopulate,
      evictThresholdHigh: 90,
      evictThresholdLow: 80,
    });
    // bench-only peeks at private fields, for attributing slow puts (read, never written)
    mem = mc.core?.x?.memory ?? null;
    x = mc.core?.x ?? null;
    backend = mc.backend ?? null;
  } else {
    const { LRUCache } = await import('lru-cache');
    cache = new LRUCache({ maxSize: n * VALUE * 4, sizeCalculation: (v) => v.length });
  }
  // GC pauses, with their start times, to match against slow puts
  const gcs = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push({ start: e.startTime, ms: e.duration, kind: GC_KIND[e.detail?.kind] ?? String(e.detail?.kind) });
  });
  obs.observe({ entryTypes: ['gc'] });

  gcNow();
  await new Promise((r) => setTimeout(r, 50));
  const before = process.memoryUsage();
  const wasmBefore = mem ? mem.buffer.byteLength : 0;
  const metaBefore = mc ? mc.internals().metadataBytes : 0;
  const slow = [];
  const { performance } = await import('node:perf_hooks');
  const tStart = process.hrtime.bigint();
  if (side === 'ours') {
    for (let i = 0; i < n; i++) {
      value[0] = i & 0xff;
      const k = `key-${i}`;
      const wasm0 = mem.buffer.byteLength;
      const res0 = backend ? backend.resident : 0;
      const meta0 = x ? x.metadata_bytes() : 0;
      const p0 = performance.now();
      const t0 = process.hrtime.bigint();
      await mc.put(k, value);
      const dt = Number(process.hrtime.bigint() - t0);
      lat[i] = dt;
      if (dt > SLOW_MS * 1e6) {
        slow.push({ i, ms: dt / 1e6, at: p0, wasmGrew: mem.buffer.byteLength - wasm0, simChunk: (backend ? backend.resident : 0) - res0, metaGrew: x ? x.metadata_bytes() - meta0 : 0 });
      }
    }
  } else {
    for (let i = 0; i < n; i++) {
      value[0] = i & 0xff;
      const k = `key-${i}`;
      const p0 = performance.now();
      const t0 = process.hrtime.bigint();
      cache.set(k, Buffer.from(value));
      const dt = Number(process.hrtime.bigint() - t0);
      lat[i] = dt;
      if (dt > SLOW_MS * 1e6) slow.push({ i, ms: dt / 1e6, at: p0 });
    }
  }
  const totalS = Number(process.hrtime.bigint() - tStart) / 1e9;
  // let the observer deliver the last GC entries, then measure after a full GC
  await new Promise((r) => setTimeout(r, 50));
  gcNow();
  await new Promise((r) => setTimeout(r, 50));
  const after = process.memoryUsage();
  obs.disconnect();
  const held = mc ? mc.stats().keys : cache.size;
  if (held !== n) throw new Error(`${side}: holds ${held} of ${n} keys (evicted?)`);
  // spot check
  const probe = mc ? await mc.get('key-12345') : cache.get('key-12345');
  if (n > 12345 && (!probe || probe[0] !== (12345 & 0xff))) throw new Error(`${side}: key-12345 lost or wrong`);

  const sorted = Float64Array.from(lat).sort();
  const q = (p) => sorted[Math.min(n - 1, Math.floor(p * n))] / 1e6;
  let worstI = 0;
  for (let i = 1; i < n; i++) if (lat[i] > lat[worstI]) worstI = i;
  // attribute slow puts: GC pauses overlapping them
  for (const s of slow) {
    const overlapping = gcs.filter((g) => g.start + g.ms >= s.at && g.start <= s.at + s.ms);
    s.gcMs = overlapping.reduce((a, g) => a + g.ms, 0);
    s.gc = overlapping.map((g) => `${g.kind} ${g.ms.toFixed(1)}ms`).join(', ');
  }
  const slowCauses = { gc: 0, wasmGrow: 0, simChunk: 0, metadataGrow: 0, none: 0 };
  for (const s of slow) {
    if (s.gcMs > 0) slowCauses.gc++;
    if (s.wasmGrew) slowCauses.wasmGrow++;
    if (s.simChunk) slowCauses.simChunk++;
    const grew = Math.abs(s.metaGrew ?? 0) >= META_STEP;
    if (grew) slowCauses.metadataGrow++;
    if (!(s.gcMs > 0) && !s.wasmGrew && !s.simChunk && !grew) slowCauses.none++;
  }
  const gcByKind = {};
  for (const g of gcs) {
    const k = (gcByKind[g.kind] ??= { count: 0, totalMs: 0, maxMs: 0 });
    k.count++;
    k.totalMs += g.ms;
    k.maxMs = Math.max(k.maxMs, g.ms);
  }
  const out = {
    side, keys: n, avgKeyBytes: avgKeyBytes(n), seconds: totalS, putsPerSec: n / totalS,
    rssPerKey: (after.rss - before.rss) / n,
    heapPerKey: (after.heapUsed - before.heapUsed) / n,
    externalPerKey: (after.external + after.arrayBuffers - before.external - before.arrayBuffers) / n,
    wasmPerKey: mem ? (mem.buffer.byteLength - wasmBefore) / n : null,
    metadataPerKey: mc ? (mc.internals().metadataBytes - metaBefore) / n : null,
    simResidentPerKey: backend ? backend.resident / n : null,
    worstMs: lat[worstI] / 1e6, worstAt: worstI,
    p50Ms: q(0.5), p99Ms: q(0.99), p999Ms: q(0.999), p9999Ms: q(0.9999),
    slowCount: slow.length, slowCauses,
    slowest: slow.sort((a, b) => b.ms - a.ms).slice(0, 12),
    gcByKind,
    rssAfterMiB: after.rss / 1024 ** 2,
    wasmMemoryMiB: mem ? mem.buffer.byteLength / 1024 ** 2 : null,
    metadataMiB: mc ? mc.internals().metadataBytes / 1024 ** 2 : null,
  };
  if (mc) await mc.close();
  process.stdout.write(`RESULT ${JSON.stringify(out)}\n`);
}

function spawnChild(side, n, { sim, core, semiSpace, v8PoolSize }) {
  return new Promise((resolve, reject) => {
    // the young generation fixed at its size (min = max): growing it mid-fill cost one 12 ms
    // scavenge of the harness's own garbage (key strings, hrtime BigInts) inside a timed put
    const semi = [`--min-semi-space-size=${semiSpace}`, `--max-semi-space-size=${semiSpace}`];
    const p = spawn(process.execPath, ['--expose-gc', '--max-old-space-size=4096', ...semi, `--v8-pool-size=${v8PoolSize}`, SELF, '--child', side, '--keys', String(n), '--sim', sim, '--core', core], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    p.stdout.on('data', (c) => { out += c; });
    p.once('error', reject);
    p.once('exit', (code) => {
      const m = /^RESULT (.*)$/m.exec(out);
      if (code !== 0 || !m) reject(new Error(`child ${side} exited ${code}: ${out.slice(-2000)}`));
      else resolve(JSON.parse(m[1]));
    });
  });
}


/** One side over several runs: the median of every number, plus the worst put over all runs. */
function combine(results) {
  const out = { ...results[0] };
  for (const k of Object.keys(out)) if (typeof out[k] === 'number') out[k] = median(results.map((r) => r[k]));
  const worstRun = results.reduce((a, b) => (b.worstMs > a.worstMs ? b : a));
  out.runs = results.length;
  out.worstMedianMs = median(results.map((r) => r.worstMs));
  out.worstMaxMs = worstRun.worstMs;
  out.worstAt = worstRun.worstAt;
  out.worstEachMs = results.map((r) => r.worstMs);
  // the diagnostics come from the run with the worst put
  out.slowest = worstRun.slowest;
  out.slowCauses = worstRun.slowCauses;
  out.gcByKind = worstRun.gcByKind;
  out.perRun = results.map(({ slowest, gcByKind, ...rest }) => rest);
  return out;
}

/**
 * Rows: one per side (ours, lru-cache). Each run spawns a fresh child per side (interleaved);
 * numbers are the MEDIAN over runs, the worst put is reported as the median and the max over runs.
 */
export async function run({ keys = 5_000_000, runs = 3, sim = 'populated', core = 'populated', semiSpace = 4, v8PoolSize = availableParallelism() } = {}) {
  if (sim !== 'populated' && sim !== 'lazy') throw new Error(`--sim must be populated or lazy, got ${sim}`);
  if (core !== 'populated' && core !== 'lazy') throw new Error(`--core must be populated or lazy, got ${core}`);
  if (!(semiSpace > 0)) throw new Error(`--semi-space must be a positive number of MiB, got ${semiSpace}`);
  if (!Number.isInteger(v8PoolSize) || v8PoolSize < 0) throw new Error(`--v8-pool-size must be a whole number of threads, got ${v8PoolSize}`);
  const o = [];
  const l = [];
  // the core populated: its metadata is resident before the "before" sample; one more run with it
  // lazy gives the memory rows (see --core)
  const memoryRun = core === 'populated' ? await spawnChild('ours', keys, { sim, core: 'lazy', semiSpace, v8PoolSize }) : undefined;
  for (let r = 0; r < runs; r++) {
    o.push(await spawnChild('ours', keys, { sim, core, semiSpace, v8PoolSize }));
    l.push(await spawnChild('lru', keys, { sim, core, semiSpace, v8PoolSize }));
  }
  const ours = combine(o);
  const lru = combine(l);
  if (memoryRun) {
    for (const k of MEMORY_FIELDS) ours[k] = memoryRun[k];
    ours.lazyCoreWorstMs = memoryRun.worstMs; // shown, not counted: the goal is the populated runs'
  }
  ours.core = core;
  // a populated segment held the values' bytes before the fill: they are not in the growth
  for (const r of [ours, lru]) r.metaBeyond = r.rssPerKey - (r === ours && sim === 'populated' ? 0 : VALUE) - r.avgKeyBytes;
  ours.sim = sim;
  ours.semiSpace = semiSpace;
  ours.v8PoolSize = v8PoolSize;
  ours.metaGoalMet = ours.metaBeyond <= GOAL_META;
  ours.worstGoalMet = ours.worstMaxMs <= GOAL_WORST_MS;
  return [ours, lru];
}

const f1 = (x) => (x === null || x === undefined ? '-' : x.toFixed(1));
const f2 = (x) => (x === null || x === undefined ? '-' : x.toFixed(2));
const f3 = (x) => (x === null || x === undefined ? '-' : x.toFixed(3));

export function format(rows) {
  const [ours, lru] = rows;
  const lines = [];
  lines.push(`scale: ${ours.keys.toLocaleString('en-US')} keys \`key-\${i}\` (avg ${ours.avgKeyBytes.toFixed(2)} B) x 64 B values, one put each, each side in its own process;`);
  lines.push(`${ours.runs} run(s) per side, interleaved: medians over runs; worst put as max over runs (median in brackets)`);
  lines.push(`ours: MemCache, 1 GiB sim DRAM segment (${ours.sim === 'populated' ? 'populated at open' : 'reserved lazily'}), core memory ${ours.core === 'populated' ? 'populated at open (memory rows: one more run with it lazy)' : 'faulted in lazily'}, alignment 64, awaited put; baseline: lru-cache v11 maxSize+sizeCalculation, Buffer.from(v); V8 semi-space ${ours.semiSpace} MiB and --v8-pool-size=${ours.v8PoolSize} both`);
  lines.push('');
  lines.push('| measure | ours | lru-cache | ours/lru | goal (ours) |');
  lines.push('|---|---:|---:|---:|---|');
  lines.push(`| RSS growth per key, B | ${f1(ours.rssPerKey)} | ${f1(lru.rssPerKey)} | ${f2(ours.rssPerKey / lru.rssPerKey)}x | |`);
  lines.push(`| RSS per key beyond the 64 B value and the key bytes, B | ${f1(ours.metaBeyond)} | ${f1(lru.metaBeyond)} | ${f2(ours.metaBeyond / lru.metaBeyond)}x | <= ${GOAL_META}: ${ours.metaGoalMet ? 'MET' : 'NOT MET'} |`);
  lines.push(`| JS heap used growth per key, B | ${f1(ours.heapPerKey)} | ${f1(lru.heapPerKey)} | | |`);
  lines.push(`| WASM memory growth per key, B | ${f1(ours.wasmPerKey)} | - | | |`);
  lines.push(`| internals().metadataBytes per key, B | ${f1(ours.metadataPerKey)} | - | | |`);
  lines.push(`| WASM memory at the end, MiB (metadataBytes, MiB) | ${f1(ours.wasmMemoryMiB)} (${f1(ours.metadataMiB)}) | - | | |`);
  lines.push(`| sim segment resident per key, B${ours.sim === 'populated' ? ' (all of it, populated at open)' : ''} | ${f1(ours.simResidentPerKey)} | - | | |`);
  lines.push(`| worst single put, ms: max over runs (median) | ${f2(ours.worstMaxMs)} (${f2(ours.worstMedianMs)}) | ${f2(lru.worstMaxMs)} (${f2(lru.worstMedianMs)}) | ${f3(ours.worstMaxMs / lru.worstMaxMs)}x | <= ${GOAL_WORST_MS}: ${ours.worstGoalMet ? 'MET' : 'NOT MET'} |`);
  lines.push(`| worst put of each run, ms | ${ours.worstEachMs.map(f2).join(', ')} | ${lru.worstEachMs.map(f2).join(', ')} | | |`);
  if (ours.lazyCoreWorstMs !== undefined) lines.push(`| worst put of the memory run (core lazy), ms | ${f2(ours.lazyCoreWorstMs)} | | | |`);
  lines.push(`| p99.9 put, ms | ${f3(ours.p999Ms)} | ${f3(lru.p999Ms)} | ${f2(ours.p999Ms / lru.p999Ms)}x | |`);
  lines.push(`| p99.99 put, ms | ${f3(ours.p9999Ms)} | ${f3(lru.p9999Ms)} | ${f2(ours.p9999Ms / lru.p9999Ms)}x | |`);
  lines.push(`| p50 put, ms | ${f3(ours.p50Ms)} | ${f3(lru.p50Ms)} | | |`);
  lines.push(`| puts > ${SLOW_MS} ms | ${ours.slowCount} | ${lru.slowCount} | | |`);
  lines.push(`| puts/s (whole fill) | ${Math.round(ours.putsPerSec).toLocaleString('en-US')} | ${Math.round(lru.putsPerSec).toLocaleString('en-US')} | ${f2(ours.putsPerSec / lru.putsPerSec)}x | |`);
  for (const r of rows) {
    const label = r.side === 'ours' ? 'ours' : 'lru-cache';
    lines.push('');
    lines.push(`${label} (run with the worst put, #${r.worstAt}): puts > ${SLOW_MS} ms overlapping: ${Object.entries(r.slowCauses).map(([k, v]) => `${k} ${v}`).join(', ')} (of ${r.slowCount})`);
    lines.push(`${label}: GC ${Object.entries(r.gcByKind).map(([k, g]) => `${k} ${g.count}x total ${g.totalMs.toFixed(0)} ms max ${g.maxMs.toFixed(1)} ms`).join('; ') || 'none'}`);
    if (r.slowest.length) {
      lines.push(`${label}: slowest puts: ${r.slowest.slice(0, 6).map((s) => `#${s.i} ${s.ms.toFixed(1)}ms${s.gc ? ` [GC: ${s.gc}]` : ''}${s.wasmGrew ? ` [wasm +${(s.wasmGrew / 1024 ** 2).toFixed(1)}MiB]` : ''}${s.simChunk ? ` [sim chunk +${(s.simChunk / 1024 ** 2).toFixed(0)}MiB]` : ''}${Math.abs(s.metaGrew ?? 0) >= META_STEP ? ` [metadata +${(s.metaGrew / 1024).toFixed(0)}KiB]` : ''}`).join(', ')}`);
    }
  }
  return lines.join('\n');
}

async function main() {
  const args = process.argv.slice(2);
  const n = argNum(args, '--keys', 5_000_000);
  const ci = args.indexOf('--child');
  if (ci >= 0) {
    await child(args[ci + 1], n, args[args.indexOf('--sim') + 1] === 'populated', args[args.indexOf('--core') + 1] === 'populated');
    return;
  }
  const si = args.indexOf('--sim');
  const co = args.indexOf('--core');
  const rows = await run({ keys: n, runs: argNum(args, '--runs', 3), sim: si >= 0 ? args[si + 1] : 'populated', core: co >= 0 ? args[co + 1] : 'populated', semiSpace: argNum(args, '--semi-space', 4), v8PoolSize: argNum(args, '--v8-pool-size', availableParallelism()) });
  console.log(format(rows));
  if (args.includes('--json')) console.log(JSON.stringify({ bench: 'scale', rows }));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
