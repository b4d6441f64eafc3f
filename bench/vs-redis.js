#!/usr/bin/env node
// Benchmark (issue 10, "Speed"): memcache-hybrid against Redis, the store a user would pick
// instead (LMCache's remote backend), from ONE client process, in interleaved rounds, with the
// same values on both sides:
//   1. batch put of 4 KiB values, 1,024 a batch, one batch in flight     KV/s
//   2. batch get of 4 KiB values, 1,024 a batch, one batch in flight     KV/s
//   3. single get of a 4 KiB value, concurrency 1                        gets/s
//   4. single get of a 4 KiB value, concurrency 16                       gets/s
//   5. put + get of a 1 MiB value (the put awaited, then the get)        cycles/s
// Goal: ours >= 1.0x Redis on all five.
//
// Ours: `node bin/mmc.js serve` spawned on a free loopback port (sim backend, 512 MB HBM + 512 MB
// DRAM, room for the working set below), reached with MemCacheClient.connect(url) and its defaults
// (the transport it picked is printed). Redis: `redis-server --save '' --appendonly no` spawned on
// a free loopback port, reached with one ioredis connection; batches as MSET/MGET (default) or as
// a pipeline of SET/GET (--redis-batch pipeline), values as Buffers (getBuffer/mgetBuffer).
// Without redis-server, one line says so and ours is measured alone.
// With --pool, ours is a pool instead (bench/lib.js startPool: `mmc meta` + 2 `mmc local` rank
// agents, 256 MB HBM + 256 MB DRAM each; the client does control at the meta service and moves
// value bytes to and from the agents): issue 11's "through the pool, the data path keeps its
// speed" is this run against the default one.
//
// Puts need fresh keys (our put refuses an existing key; Redis's SET would overwrite), so each put
// op cycles over its own key range and, when the range is used up, removes it on both sides
// outside the timing. Gets read a range prefilled before the rounds. Every reply is checked
// (codes 0, values 4 KiB / 1 MiB long). Each round runs every op on both sides for --seconds, the
// side that goes first alternating per round; the table shows the median over rounds.
// Sized for a 2-core machine: the client, redis-server and the mmc server share the cores.
// With --cpu, a second table gives the CPU time per op of the client process and of the server
// processes over the measured rounds (the batch put rows count their off-clock key removal too):
// where a single get's time goes when the rows are bound by round trips.
//
// Usage: node bench/vs-redis.js [--rounds N] [--seconds S] [--redis-server PATH]
//                               [--redis-batch mset|pipeline] [--pool] [--cpu] [--json] [--help]
//        import { run, format } from './vs-redis.js'; format(await run({ rounds: 2 }));
import { accessSync, constants as fsConstants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { MemCacheClient } from '../dist/client/index.js';
import {
  clientSide, cpuMeter, f0, freePort, fx, freshKeys, makeValues, median, onlyWords, pickOps, positive, spawnReady, startPool, startServe, stopProcess, timed,
} from './lib.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const BATCH = 1024;
const GOAL = 1.0;
const GET_KEYS = 16 * BATCH; // prefilled for the get ops: 64 MiB a side
const PUT_KEYS = 16 * BATCH; // batch put range: 64 MiB a side
const BIG_KEYS = 32; // 1 MiB put+get range: 32 MiB a side
const HOST = '127.0.0.1';
export const NO_REDIS = "redis-server not found: measuring memcache-hybrid alone; install Debian's redis-server to compare";

const range = (prefix, n) => Array.from({ length: n }, (_, i) => `${prefix}/${i}`);
const KEYS = { get: range('vs/get4k', GET_KEYS), put: range('vs/put4k', PUT_KEYS), big: range('vs/put1m', BIG_KEYS) };
// Buffers (views of the same bytes), since ioredis sends only a Buffer as bytes (a plain
// Uint8Array would go as its string form); our client takes any Uint8Array, so both get these.
const asBuffer = (v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
const SMALL = makeValues(64, 4 * KiB, 64).map(asBuffer);
const BIG = makeValues(4, MiB, 4096).map(asBuffer);

/** The executable `cmd` names (a path, or a name looked up on $PATH), or undefined. */
function which(cmd) {
  const dirs = cmd.includes('/') ? [''] : (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  for (const d of dirs) {
    const p = d ? join(d, cmd) : cmd;
    try { accessSync(p, fsConstants.X_OK); return p; } catch { /* next */ }
  }
  return undefined;
}

function check(ok, what) {
  if (!ok) throw new Error(`vs-redis: ${what}`);
}

/**
 * Our side: `mmc serve` (one rank, 512 MB HBM + 512 MB DRAM), or with `pool` a pool of 1 meta
 * service + 2 rank agents (256 MB + 256 MB each, the same total), and a client with its defaults.
 */
async function openOurs(pool) {
  const server = pool ? await startPool({ ranks: 2, hbm: '256MB', dram: '256MB', host: HOST })
    : await startServe({ ranks: 1, hbm: '512MB', dram: '512MB', host: HOST });
  try {
    return clientSide('ours', await MemCacheClient.connect(server.url), server);
  } catch (e) {
    await server.close();
    throw e;
  }
}

/** Redis's side: redis-server and one ioredis connection. */
async function openRedis(path, batchHow) {
  const { Redis } = await import('ioredis');
  const port = await freePort(HOST);
  const proc = await spawnReady(path, ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no'], { port, host: HOST });
  const r = new Redis({ host: HOST, port });
  const version = /redis_version:(\S+)/.exec(await r.info('server'))?.[1] ?? '?';
  const pipeline = batchHow === 'pipeline';
  return {
    name: 'redis',
    pids: [proc.pid],
    cursors: new Map(),
    version,
    async batchPut(keys, vals) {
      if (!pipeline) return check(await r.mset(keys.flatMap((k, i) => [k, vals[i]])) === 'OK', 'MSET failed');
      const p = r.pipeline();
      for (let i = 0; i < keys.length; i++) p.set(keys[i], vals[i]);
      check((await p.exec()).every(([e]) => !e), 'pipelined SET failed');
    },
    async batchGet(keys, size) {
      let vs;
      if (pipeline) {
        const p = r.pipeline();
        for (const k of keys) p.getBuffer(k);
        vs = (await p.exec()).map(([e, v]) => (e ? undefined : v));
      } else vs = await r.mgetBuffer(keys);
      check(vs.every((v) => v?.length === size), 'Redis batch get missed a value');
    },
    put: async (k, v) => { await r.set(k, v); },
    async get(k, size) { check((await r.getBuffer(k))?.length === size, `Redis get of ${k} missed`); },
    async drop(keys) { for (let i = 0; i < keys.length; i += BATCH) await r.del(keys.slice(i, i + BATCH)); },
    async close() {
      await r.quit().catch(() => {});
      await stopProcess(proc);
    },
  };
}

/** Gets per second at `concurrency` workers over the prefilled keys, for `seconds`. */
async function concurrentGets(side, seconds, concurrency, meter) {
  let next = 0;
  let ops = 0;
  meter?.start();
  const t0 = process.hrtime.bigint();
  const end = t0 + BigInt(Math.round(seconds * 1e9));
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (process.hrtime.bigint() < end) {
      await side.get(KEYS.get[next++ % GET_KEYS], 4 * KiB);
      ops++;
    }
  }));
  const ns = Number(process.hrtime.bigint() - t0);
  meter?.stop(ops);
  return (ops * 1e9) / ns;
}

/** The five operations: what they measure, and how one side does them for `seconds`. */
const ALL_OPS = [
  {
    op: 'batch put 4 KiB (1,024 a batch)', unit: 'KV/s',
    async measure(side, seconds, meter) {
      let v = 0;
      return timed(seconds, async (keys) => {
        await side.batchPut(keys, keys.map(() => SMALL[v++ % SMALL.length]));
        return keys.length;
      }, () => freshKeys(side, KEYS.put, BATCH), meter);
    },
  },
  {
    op: 'batch get 4 KiB (1,024 a batch)', unit: 'KV/s',
    async measure(side, seconds, meter) {
      let at = 0;
      return timed(seconds, async () => {
        const keys = KEYS.get.slice(at, at + BATCH);
        at = (at + BATCH) % GET_KEYS;
        await side.batchGet(keys, 4 * KiB);
        return keys.length;
      }, undefined, meter);
    },
  },
  { op: 'single get 4 KiB, concurrency 1', unit: 'gets/s', measure: (side, seconds, meter) => concurrentGets(side, seconds, 1, meter) },
  { op: 'single get 4 KiB, concurrency 16', unit: 'gets/s', measure: (side, seconds, meter) => concurrentGets(side, seconds, 16, meter) },
  {
    op: 'put + get 1 MiB', unit: 'cycles/s',
    async measure(side, seconds, meter) {
      let v = 0;
      return timed(seconds, async ([k]) => {
        await side.put(k, BIG[v++ % BIG.length]);
        await side.get(k, MiB);
        return 1;
      }, () => freshKeys(side, KEYS.big, 1), meter);
    },
  },
];

async function prefill(side) {
  for (let i = 0; i < GET_KEYS; i += BATCH) {
    const keys = KEYS.get.slice(i, i + BATCH);
    await side.batchPut(keys, keys.map((_, j) => SMALL[(i + j) % SMALL.length]));
  }
}

/**
 * Measure: rows of { op, unit, redis, ours, ratio, met, redisRounds, oursRounds } (medians over
 * rounds; redis fields null without redis-server) plus what was measured with what.
 */
export async function run({ rounds = 3, seconds = 2, redisServer = 'redis-server', redisBatch = 'mset', pool = false, cpu = false, log = () => {}, only } = {}) {
  const OPS = pickOps(ALL_OPS, only);
  const redisPath = which(redisServer);
  if (!redisPath) log(NO_REDIS);
  const sides = [];
  try {
    sides.push(await openOurs(pool));
    if (redisPath) sides.push(await openRedis(redisPath, redisBatch));
    for (const s of sides) await prefill(s);
    const results = OPS.map(() => ({ ours: [], redis: [] }));
    // with cpu: a meter per op and side, over the measured rounds
    const meters = OPS.map(() => Object.fromEntries(sides.map((s) => [s.name, cpu ? cpuMeter(s.pids) : undefined])));
    // warm-up (JIT, connections, allocator), not reported
    for (const [i, o] of OPS.entries()) for (const s of sides) await o.measure(s, Math.min(1, seconds / 2));
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 ? [...sides].reverse() : sides;
      for (const [i, o] of OPS.entries()) for (const s of order) results[i][s.name].push(await o.measure(s, seconds, meters[i][s.name]));
    }
    const rows = OPS.map((o, i) => {
      const ours = median(results[i].ours);
      const redis = redisPath ? median(results[i].redis) : null;
      const ratio = redis ? ours / redis : null;
      const cpuPerOp = cpu ? { ours: meters[i].ours.perOp(), redis: meters[i].redis?.perOp() ?? null } : undefined;
      return { op: o.op, unit: o.unit, redis, ours, ratio, goal: GOAL, met: ratio === null ? null : ratio >= GOAL, redisRounds: results[i].redis, oursRounds: results[i].ours, cpuPerOp };
    });
    return {
      bench: 'vs-redis', rounds, seconds, node: process.version, cores: os.cpus().length,
      ours: pool ? 'pool' : 'serve', transport: sides[0].transport,
      redis: redisPath ? { path: redisPath, version: sides[1].version, client: 'ioredis', batch: redisBatch } : null,
      rows,
    };
  } finally {
    for (const s of sides) await s.close().catch(() => {});
  }
}

export function format(res) {
  const how = res.redis?.batch === 'pipeline' ? 'pipelined SET/GET' : 'MSET/MGET';
  const lines = [
    `memcache-hybrid (${res.ours === 'pool' ? 'a pool: mmc meta + 2 mmc local, client -> agents' : 'mmc serve'}, sim backend) over transport: ${res.transport}` +
      (res.redis ? `; Redis ${res.redis.version} via ioredis, one connection, batches as ${how}` : '; Redis: not measured'),
    `${res.rounds} round(s) x ${res.seconds} s per op and side, interleaved; median over rounds; node ${res.node}, ${res.cores} cores`,
    '',
    '| operation | unit | Redis | ours | ours/Redis | goal >= 1.0x |',
    '|---|---|---:|---:|---:|---|',
  ];
  for (const r of res.rows) {
    const goal = r.met === null ? 'not measured' : r.met ? 'met' : 'NOT met';
    lines.push(`| ${r.op} | ${r.unit} | ${f0(r.redis)} | ${f0(r.ours)} | ${fx(r.ratio)} | ${goal} |`);
  }
  if (res.rows.some((r) => r.cpuPerOp)) {
    const us = (x) => (x === null || x === undefined ? '—' : x.toFixed(1));
    lines.push('', 'CPU time per op (µs), over the measured rounds: the client process, and the server processes (redis-server; mmc serve, or the meta service and agents)', '',
      '| operation | Redis: client | Redis: server | ours: client | ours: server |', '|---|---:|---:|---:|---:|');
    for (const r of res.rows) {
      const { redis: R, ours: O } = r.cpuPerOp;
      lines.push(`| ${r.op} | ${us(R?.client)} | ${us(R?.server)} | ${us(O?.client)} | ${us(O?.server)} |`);
    }
  }
  return lines.join('\n');
}

async function main() {
  const opts = new Command('vs-redis')
    .description('memcache-hybrid vs Redis (ioredis) from one client process, interleaved rounds')
    .option('--rounds <n>', 'measured rounds (median reported)', positive('--rounds', true), 3)
    .option('--seconds <s>', 'seconds per op and side in each round', positive('--seconds', false), 2)
    .option('--redis-server <path>', 'redis-server executable (path or name on $PATH)', 'redis-server')
    .option('--redis-batch <how>', 'Redis batches as "mset" (MSET/MGET) or "pipeline" (pipelined SET/GET)', (s) => {
      if (s !== 'mset' && s !== 'pipeline') throw new InvalidArgumentError('mset or pipeline');
      return s;
    }, 'mset')
    .option('--cpu', 'also print the CPU time per op of the client and of the server processes (Linux /proc)')
    .option('--pool', 'our side is a pool (1 mmc meta + 2 mmc local agents, value bytes client <-> agents) instead of mmc serve')
    .option('--only <words>', 'measure only the operations whose name contains one of these comma-separated words', onlyWords)
    .option('--json', 'print the results as JSON instead of the table')
    .parse(process.argv)
    .opts();
  const res = await run({ ...opts, log: (line) => console.error(line) });
  console.log(opts.json ? JSON.stringify(res, null, 2) : format(res));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
