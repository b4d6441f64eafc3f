#!/usr/bin/env node
// Benchmark: the pool (1 `mmc meta` + 2 `mmc local`) against `mmc serve` with the same two ranks,
// in one run, both through MemCacheClient over the binary data path:
//   batch put / batch get of 4 KiB values (batches of BATCH keys), KV/s;
//   single put / get of 1 MiB values, MB/s;
//   the meta service's control alone: ALLOC + COMMIT of batches (no value byte written), keys/s.
// Goals (issue 11): batch 4 KiB put >= 74k KV/s, get >= 160k KV/s; 1 MiB >= 0.9x all-in-one;
// meta alloc+commit >= 300k keys/s in batches. Informal on a shared machine: medians of REPEATS.
//
// Usage: node bench/pool.js [--batches N] [--batch N] [--big N] [--repeats N]
import { fileURLToPath } from 'node:url';
import { MemCacheClient } from '../dist/index.js';
import { DataConn, ChunkSink } from '../dist/client/data-conn.js';
import { OP } from '../dist/protocol/data-frames.js';
import { argNum, freePort, makeValues, median, spawnReady, stopProcess } from './lib.js';

const MMC = fileURLToPath(new URL('../bin/mmc.js', import.meta.url));
const args = process.argv.slice(2);
const BATCHES = argNum(args, '--batches', 40);
const BATCH = argNum(args, '--batch', 256);
const BIG = argNum(args, '--big', 64);
const REPEATS = argNum(args, '--repeats', 3);

async function startServe() {
  const port = await freePort();
  const p = await spawnReady(process.execPath, [MMC, 'serve', '-q', '--listen', `127.0.0.1:${port}`, '--ranks', '2', '--hbm', '1GB', '--dram', '1GB'], { port });
  return { url: `http://127.0.0.1:${port}`, procs: [p] };
}

async function startPool() {
  const port = await freePort();
  const meta = await spawnReady(process.execPath, [MMC, 'meta', '-q', '--listen', `127.0.0.1:${port}`], { port });
  const url = `http://127.0.0.1:${port}`;
  const procs = [meta];
  for (const rank of [0, 1]) {
    const ap = await freePort();
    procs.push(await spawnReady(process.execPath, [MMC, 'local', '-q', '--meta', url, '--rank', String(rank), '--hbm', '1GB', '--dram', '1GB', '--listen', `127.0.0.1:${ap}`], { port: ap }));
  }
  for (;;) {
    const segs = (await (await fetch(`${url}/get_all_segments`)).text()).split('\n').filter(Boolean);
    if (segs.length === 4) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url, procs };
}

async function timed(f) {
  const t0 = performance.now();
  await f();
  return (performance.now() - t0) / 1000;
}

/** Batch put and get of 4 KiB, then single put and get of 1 MiB: rates of one repeat. */
async function workloads(c, round) {
  const small = makeValues(BATCH, 4096, 64);
  const big = makeValues(4, 1 << 20, 4096);
  const keys = (b) => small.map((_, i) => `r${round}/b${b}/${i}`);
  const put4k = await timed(async () => { for (let b = 0; b < BATCHES; b++) await c.batchPut(keys(b).map((k, i) => [k, small[i]])); });
  const get4k = await timed(async () => { for (let b = 0; b < BATCHES; b++) await c.batchGet(keys(b)); });
  const put1m = await timed(async () => { for (let i = 0; i < BIG; i++) await c.put(`r${round}/big${i}`, big[i % 4]); });
  const get1m = await timed(async () => { for (let i = 0; i < BIG; i++) await c.get(`r${round}/big${i}`); });
  await c.removeAll();
  const n = BATCHES * BATCH;
  return { put4k: n / put4k, get4k: n / get4k, put1m: BIG / put1m, get1m: BIG / get1m };
}

/** ALLOC + COMMIT of batches at the meta service, nothing written: keys/s. */
async function metaControl(url) {
  const dp = await (await fetch(`${url}/api/v1/data_path`)).json();
  const conn = await DataConn.open({ host: dp.host, port: dp.port });
  const ask = async (op, body) => { const b = Buffer.from(JSON.stringify(body)); const a = await conn.request(op, '', '', [b], b.length, new ChunkSink()); if (a.code) throw new Error(`op ${op}: ${a.code}`); };
  const n = 2048;
  const rounds = 10;
  const s = await timed(async () => {
    for (let r = 0; r < rounds; r++) {
      const keys = Array.from({ length: n }, (_, i) => `ctl${r}/${i}`);
      await ask(OP.ALLOC, { keys, sizes: keys.map(() => 4096), query: '', batch: true });
      await ask(OP.COMMIT, { keys, ok: keys.map(() => true), batch: true });
    }
  });
  conn.close();
  return (n * rounds) / s;
}

const serve = await startServe();
const pool = await startPool();
try {
  const cs = await MemCacheClient.connect(serve.url, { dataPath: 'require' });
  const cp = await MemCacheClient.connect(pool.url, { dataPath: 'require' });
  const runs = { serve: [], pool: [] };
  for (let r = 0; r < REPEATS; r++) {
    runs.serve.push(await workloads(cs, r));
    runs.pool.push(await workloads(cp, r));
  }
  const med = (side, k) => median(runs[side].map((x) => x[k]));
  const row = (k, unit, scale) => {
    const s = med('serve', k) * scale, p = med('pool', k) * scale;
    console.log(`${k.padEnd(6)} serve ${s.toFixed(0).padStart(8)} ${unit}   pool ${p.toFixed(0).padStart(8)} ${unit}   pool/serve ${(p / s).toFixed(2)}x`);
  };
  console.log(`bench/pool.js: batches of ${BATCH} x ${BATCHES}, ${BIG} x 1 MiB, median of ${REPEATS}`);
  row('put4k', 'KV/s', 1);
  row('get4k', 'KV/s', 1);
  row('put1m', 'MB/s', 1);
  row('get1m', 'MB/s', 1);
  console.log(`meta alloc+commit: ${(await metaControl(pool.url)).toFixed(0)} keys/s (batches of 2048, JSON control)`);
  await cs.close();
  await cp.close();
} finally {
  for (const p of [...serve.procs, ...pool.procs]) await stopProcess(p);
}
