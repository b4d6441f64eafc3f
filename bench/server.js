// Server benchmarks (issue "standalone server"): the mmc server and a bare node:http server, each
// in its own process, under the same load generator (autocannon) in one run.
//   1. GET /health req/s                    goal >= 0.7x bare
//   2. GET of a 4 KiB object req/s          goal >= 0.6x bare
//   3. remote batch put / batch get of 4 KiB values through MemCacheClient, KV/s
//                                           goals >= 60k put, >= 130k get
//   4. /metrics serialization time with 1,000 segments
// Usage: node bench/server.js [--duration S] [--connections N] [--json]
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { MemCache } from '../dist/index.js';
import { MemCacheClient } from '../dist/client/index.js';
import { createMetricsRegistry, metricsText } from '../dist/server/metrics.js';

const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 ? Number(args[i + 1]) : dflt; };
const DURATION = opt('--duration', 5);
const CONNECTIONS = opt('--connections', 64);
const root = (p) => fileURLToPath(new URL(`../${p}`, import.meta.url));

function start(cmd, re) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, cmd, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const on = (c) => { out += c; const m = re.exec(out); if (m) resolve({ p, url: m[1] }); };
    p.stdout.on('data', on);
    p.stderr.on('data', on);
    p.once('exit', (code) => reject(new Error(`${cmd.join(' ')} exited ${code}: ${out}`)));
  });
}

function cannon(url, path, title) {
  return new Promise((resolve, reject) => {
    autocannon({ url: url + path, connections: CONNECTIONS, duration: DURATION, pipelining: 1, title }, (err, r) => {
      if (err) return reject(err);
      if (r.non2xx || r.errors) return reject(new Error(`${title}: ${r.non2xx} non-2xx, ${r.errors} errors`));
      resolve(r.requests.average);
    });
  });
}

const results = {};
const mmc = await start([root('bin/mmc.js'), 'serve', '--listen', '127.0.0.1:0', '--hbm', '2GB', '--dram', '1GB'], /serving on (http:\/\/[0-9.]+:\d+)/);
const bare = await start([root('bench/server-bare.js')], /listening on (http:\/\/[0-9.]+:\d+)/);
try {
  // a 4 KiB object to GET
  const c0 = await MemCacheClient.connect(mmc.url);
  await c0.put('obj4k', Buffer.alloc(4096, 7));
  await c0.close();
  // warm-up, then measure, alternating so both see the same machine state
  await cannon(mmc.url, '/health', 'warm');
  await cannon(bare.url, '/health', 'warm');
  results.health_mmc = await cannon(mmc.url, '/health', 'mmc /health');
  results.health_bare = await cannon(bare.url, '/health', 'bare /health');
  results.get4k_mmc = await cannon(mmc.url, '/api/v1/objects?key=obj4k', 'mmc GET 4 KiB');
  results.get4k_bare = await cannon(bare.url, '/api/v1/objects?key=obj4k', 'bare GET 4 KiB');

  // remote batch put / get through MemCacheClient
  const BATCH = 256;
  const INFLIGHT = 8;
  const TOTAL = 200_000;
  const client = await MemCacheClient.connect(mmc.url, { connections: INFLIGHT });
  const value = Buffer.alloc(4096, 1);
  const keys = Array.from({ length: TOTAL }, (_, i) => `bench/kv/${i}`);
  const runBatches = async (fn) => {
    let next = 0;
    const t0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: INFLIGHT }, async () => {
      while (next < TOTAL) {
        const from = next;
        next += BATCH;
        await fn(keys.slice(from, Math.min(TOTAL, from + BATCH)));
      }
    }));
    return TOTAL / (Number(process.hrtime.bigint() - t0) / 1e9);
  };
  results.batch_put_kvs = await runBatches(async (ks) => {
    const codes = await client.batchPut(ks.map((k) => [k, value]));
    if (codes.some((c) => c !== 0)) throw new Error(`batch put: ${codes.find((c) => c !== 0)}`);
  });
  results.batch_get_kvs = await runBatches(async (ks) => {
    const vs = await client.batchGet(ks);
    if (vs.some((v) => !v || v.length !== 4096)) throw new Error('batch get: missing value');
  });
  await client.removeAll();
  await client.close();
} finally {
  mmc.p.kill('SIGTERM');
  bare.p.kill('SIGTERM');
}

// /metrics with 1,000 segments (500 ranks x HBM + DRAM), serialized in-process
const segments = [];
for (let rank = 0; rank < 500; rank++) segments.push({ rank, medium: 'hbm', bytes: '1MB' }, { rank, medium: 'dram', bytes: '1MB' });
const store = await MemCache.open({ segments });
const registry = createMetricsRegistry(() => store);
for (let i = 0; i < 20; i++) await metricsText(registry);
const N = 200;
const t0 = process.hrtime.bigint();
let bytes = 0;
for (let i = 0; i < N; i++) bytes = (await metricsText(registry)).length;
results.metrics_1000_segments_ms = Number(process.hrtime.bigint() - t0) / 1e6 / N;
results.metrics_1000_segments_bytes = bytes;
await store.close();

const f = (n) => Math.round(n).toLocaleString('en-US');
if (args.includes('--json')) {
  console.log(JSON.stringify(results, null, 2));
} else {
  console.log(`autocannon: ${CONNECTIONS} connections, ${DURATION} s per run, Node ${process.version}`);
  console.log('| benchmark | mmc server | bare node:http | ratio | goal |');
  console.log('|---|---|---|---|---|');
  console.log(`| GET /health, req/s | ${f(results.health_mmc)} | ${f(results.health_bare)} | ${(results.health_mmc / results.health_bare).toFixed(2)}x | >= 0.7x |`);
  console.log(`| GET 4 KiB object, req/s | ${f(results.get4k_mmc)} | ${f(results.get4k_bare)} | ${(results.get4k_mmc / results.get4k_bare).toFixed(2)}x | >= 0.6x |`);
  console.log(`| remote batch put, 4 KiB values (256 a batch, 8 in flight), KV/s | ${f(results.batch_put_kvs)} | | | >= 60,000 |`);
  console.log(`| remote batch get, 4 KiB values (256 a batch, 8 in flight), KV/s | ${f(results.batch_get_kvs)} | | | >= 130,000 |`);
  console.log(`| /metrics with 1,000 segments, serialization ms (${f(results.metrics_1000_segments_bytes)} bytes) | ${results.metrics_1000_segments_ms.toFixed(2)} | | | report |`);
}
