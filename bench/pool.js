#!/usr/bin/env node
// Benchmark (issue 11, "Tests and benchmarks"): the pool across processes against the all-in-one
// server with the same ranks and sizes, from ONE client process, in the same run, interleaved:
//   pool:       `mmc meta` + 2 `mmc local --rank 0|1` (sim backend, 256 MB HBM + 256 MB DRAM
//               each); the client does control at the meta service, value bytes at the agents
//   all-in-one: `mmc serve --ranks 2` (sim backend, 256 MB HBM + 256 MB DRAM per rank)
// both spawned on free loopback ports (bench/lib.js startPool / startServe) and reached with
// MemCacheClient.connect(url) and its defaults (the binary data path; the transport is printed).
//
//   1. batch put of 4 KiB values, 1,024 a batch, one batch in flight     KV/s    goal >= 74,000
//   2. batch get of 4 KiB values, 1,024 a batch, one batch in flight     KV/s    goal >= 160,000
//   3. single put of a 1 MiB value, one in flight                        puts/s  goal >= 0.9x all-in-one
//   4. single get of a 1 MiB value, one in flight                        gets/s  goal >= 0.9x all-in-one
//   5. batch put of 64 B values, 1,024 a batch (control-bound puts)      keys/s  reported
//   6. meta alloc+commit alone, 1,024 keys a batch (pool only)           keys/s  goal >= 300,000
//   7. one small round trip: exists of an absent key, one in flight      trips/s reported
// Row 7 is the price of a control message here (the pool's goes to the meta service). A pool put
// is the all-in-one's put plus two of them (ALLOC, COMMIT), a get plus one (LOOKUP): below the
// table the bench prints the 1 MiB ceilings that follow from the round trip it measured.
// The 74k / 160k goals are the all-in-one figures of issue 11's day (Mooncake publishes 30k / 127k
// over TCP on one host). Row 6 is what a batch put costs at the meta service: one ALLOC and one
// COMMIT message of 1,024 keys each through the client's own pool transport (no value written, so
// the committed keys hold no bytes; they are removed off the clock and never read).
//
// Puts go to fresh keys (a put refuses an existing key): each put op cycles over its own key range
// and removes it off the clock when used up. Gets read ranges prefilled before the rounds. Every
// reply is checked (codes 0, values of the right size). Each round runs every op on both sides for
// --seconds, the side that goes first alternating per round; the table shows medians over rounds.
// Sized for a 2-core machine: the client, the meta service and two agents (or mmc serve) share it.
// `npm run bench` skips this file (it spawns servers); run it directly.
//
// Usage: node bench/pool.js [--rounds N] [--seconds S] [--json] [--help]
//        import { run, format } from './pool.js'; format(await run({ rounds: 1, seconds: 1 }));
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { Command } from 'commander';
import { MemCacheClient } from '../dist/client/index.js';
import { clientSide, f0, freshKeys, fx, makeValues, median, onlyWords, pickOps, positive, startPool, startServe, timed } from './lib.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const BATCH = 1024;
const SIZES = { ranks: 2, hbm: '256MB', dram: '256MB' };
const range = (prefix, n) => Array.from({ length: n }, (_, i) => `${prefix}/${i}`);
const KEYS = {
  get: range('pool/get4k', 16 * BATCH), // prefilled: 64 MiB a side
  put: range('pool/put4k', 16 * BATCH), // 64 MiB a side
  getBig: range('pool/get1m', 32), // prefilled: 32 MiB a side
  putBig: range('pool/put1m', 32),
  tiny: range('pool/put64', 16 * BATCH),
  control: range('pool/alloc', 16 * BATCH),
};
const SMALL = makeValues(64, 4 * KiB, 64);
const BIG = makeValues(4, MiB, 4096);
const TINY = makeValues(64, 64, 1);

/**
 * The meta service's alloc + commit of `keys` (`size` bytes each) as one batch each, through the
 * client's pool transport (the same control messages its batchPut sends).
 */
async function allocCommit(c, keys, size) {
  const pool = c.data;
  if (typeof pool?.alloc !== 'function') throw new Error('pool: the client has no pool transport (is the URL a meta service?)');
  const placed = await pool.alloc({ keys, sizes: keys.map(() => size), query: '', batch: true });
  const bad = placed.items.find((it) => it.code !== 0);
  if (bad) throw new Error(`pool: alloc answered ${bad.code} ${bad.reason ?? ''}`);
  const codes = await pool.commit({ batch: true, id: placed.lease, ok: keys.map(() => true) });
  if (codes.some((x) => x !== 0)) throw new Error(`pool: commit answered ${codes.find((x) => x !== 0)}`);
  return keys.length;
}

/** A batch put op of `vals` over the fresh keys of `keys`. */
function batchPutOp(keys, vals) {
  return (side, seconds) => {
    let v = 0;
    return timed(seconds, async (ks) => {
      await side.batchPut(ks, ks.map(() => vals[v++ % vals.length]));
      return ks.length;
    }, () => freshKeys(side, keys, BATCH));
  };
}

/** The ops: what they measure, their goal, how one side does them for `seconds` (null: not on that side). */
const ALL_OPS = [
  { op: 'batch put 4 KiB (1,024 a batch)', unit: 'KV/s', goal: { min: 74_000 }, measure: batchPutOp(KEYS.put, SMALL) },
  {
    op: 'batch get 4 KiB (1,024 a batch)', unit: 'KV/s', goal: { min: 160_000 },
    measure(side, seconds) {
      let at = 0;
      return timed(seconds, async () => {
        const ks = KEYS.get.slice(at, at + BATCH);
        at = (at + BATCH) % KEYS.get.length;
        await side.batchGet(ks, 4 * KiB);
        return ks.length;
      });
    },
  },
  {
    op: 'single put 1 MiB', unit: 'puts/s', goal: { ratio: 0.9 },
    measure(side, seconds) {
      let v = 0;
      return timed(seconds, async ([k]) => { await side.put(k, BIG[v++ % BIG.length]); return 1; }, () => freshKeys(side, KEYS.putBig, 1));
    },
  },
  {
    op: 'single get 1 MiB', unit: 'gets/s', goal: { ratio: 0.9 },
    measure(side, seconds) {
      let at = 0;
      return timed(seconds, async () => { await side.get(KEYS.getBig[at++ % KEYS.getBig.length], MiB); return 1; });
    },
  },
  { op: 'batch put 64 B (1,024 a batch)', unit: 'keys/s', goal: null, measure: batchPutOp(KEYS.tiny, TINY) },
  {
    op: 'meta alloc+commit (1,024 keys a batch)', unit: 'keys/s', goal: { min: 300_000 },
    measure(side, seconds) {
      if (side.name !== 'pool') return null;
      return timed(seconds, (ks) => allocCommit(side.client, ks, 64), () => freshKeys(side, KEYS.control, BATCH));
    },
  },
  {
    op: 'round trip: exists of an absent key', unit: 'trips/s', goal: null,
    measure(side, seconds) {
      return timed(seconds, async () => {
        if (await side.client.exists('pool/absent')) throw new Error(`${side.name}: pool/absent exists`);
        return 1;
      });
    },
  },
];

/**
 * What the measured control round trip leaves a pool's 1 MiB put and get at most, against the
 * all-in-one's: a put does its work plus two round trips (ALLOC, COMMIT), a get plus one (LOOKUP).
 * Null without the rows it needs.
 */
export function ceilings(rows) {
  const find = (words) => rows.find((r) => r.op.startsWith(words));
  const trip = find('round trip')?.pool;
  const ceiling = (r, trips, what) => (r?.allInOne && trip ? { op: r.op, ratio: 1 / (1 + (trips * r.allInOne) / trip), what } : null);
  const out = [ceiling(find('single put 1 MiB'), 2, 'ALLOC and COMMIT'), ceiling(find('single get 1 MiB'), 1, 'LOOKUP')].filter(Boolean);
  return out.length ? { tripUs: 1e6 / trip, rows: out } : null;
}

async function open(name) {
  const server = name === 'pool' ? await startPool(SIZES) : await startServe(SIZES);
  try {
    return clientSide(name, await MemCacheClient.connect(server.url), server);
  } catch (e) {
    await server.close();
    throw e;
  }
}

async function prefill(side) {
  for (let i = 0; i < KEYS.get.length; i += BATCH) {
    const ks = KEYS.get.slice(i, i + BATCH);
    await side.batchPut(ks, ks.map((_, j) => SMALL[(i + j) % SMALL.length]));
  }
  for (const [i, k] of KEYS.getBig.entries()) await side.put(k, BIG[i % BIG.length]);
}

/** One row: medians, the ratio, and whether the goal is met (null when it cannot be judged). */
function row(o, pool, all) {
  const p = pool.length ? median(pool) : null;
  const a = all.length ? median(all) : null;
  const ratio = p !== null && a !== null ? p / a : null;
  let met = null;
  if (o.goal?.min !== undefined && p !== null) met = p >= o.goal.min;
  if (o.goal?.ratio !== undefined && ratio !== null) met = ratio >= o.goal.ratio;
  const goal = o.goal === null ? 'report' : o.goal.min !== undefined ? `>= ${f0(o.goal.min)}` : `>= ${o.goal.ratio}x all-in-one`;
  return { op: o.op, unit: o.unit, pool: p, allInOne: a, ratio, goal, met, poolRounds: pool, allInOneRounds: all };
}

/** Measure: { bench, rounds, seconds, node, cores, transport, rows } (rows: see row()). */
export async function run({ rounds = 3, seconds = 1, only } = {}) {
  const OPS = pickOps(ALL_OPS, only);
  const sides = [];
  try {
    sides.push(await open('pool'));
    sides.push(await open('all-in-one'));
    for (const s of sides) await prefill(s);
    const results = OPS.map(() => ({ pool: [], 'all-in-one': [] }));
    // warm-up (JIT, connections to the agents, allocators), not reported
    for (const o of OPS) for (const s of sides) await o.measure(s, Math.min(0.5, seconds / 2));
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 ? [...sides].reverse() : sides;
      for (const [i, o] of OPS.entries()) {
        for (const s of order) {
          const x = await o.measure(s, seconds);
          if (x !== null) results[i][s.name].push(x);
        }
      }
    }
    return {
      bench: 'pool', rounds, seconds, node: process.version, cores: os.cpus().length, sizes: SIZES,
      transport: { pool: sides[0].transport, allInOne: sides[1].transport },
      rows: OPS.map((o, i) => row(o, results[i].pool, results[i]['all-in-one'])),
    };
  } finally {
    for (const s of sides) await s.close().catch(() => {});
  }
}

export function format(res) {
  const lines = [
    `pool (mmc meta + ${res.sizes.ranks} mmc local, client -> agents) vs all-in-one (mmc serve --ranks ${res.sizes.ranks}); ` +
      `sim backend, ${res.sizes.hbm} HBM + ${res.sizes.dram} DRAM a rank; transports: ${res.transport.pool} / ${res.transport.allInOne}`,
    `${res.rounds} round(s) x ${res.seconds} s per op and side, interleaved; median over rounds; node ${res.node}, ${res.cores} cores`,
    '',
    '| operation | unit | pool | all-in-one | pool/all-in-one | goal | |',
    '|---|---|---:|---:|---:|---|---|',
  ];
  for (const r of res.rows) {
    const met = r.met === null ? '' : r.met ? 'met' : 'NOT met';
    lines.push(`| ${r.op} | ${r.unit} | ${f0(r.pool)} | ${f0(r.allInOne)} | ${fx(r.ratio)} | ${r.goal} | ${met} |`);
  }
  const c = ceilings(res.rows);
  if (c) {
    lines.push('', `A control round trip to the meta service took ${c.tripUs.toFixed(0)} µs in this run; with it, at most:`);
    for (const x of c.rows) lines.push(`- ${x.op}: ${fx(x.ratio)} all-in-one (the all-in-one's op plus ${x.what})`);
  }
  return lines.join('\n');
}

async function main() {
  const opts = new Command('pool')
    .description('the pool (mmc meta + 2 mmc local) vs the all-in-one mmc serve --ranks 2, from one client process, interleaved rounds')
    .option('--rounds <n>', 'measured rounds (median reported)', positive('--rounds', true), 3)
    .option('--seconds <s>', 'seconds per op and side in each round', positive('--seconds', false), 1)
    .option('--only <words>', 'measure only the operations whose name contains one of these comma-separated words', onlyWords)
    .option('--json', 'print the results as JSON instead of the table')
    .parse(process.argv)
    .opts();
  const res = await run(opts);
  console.log(opts.json ? JSON.stringify(res, null, 2) : format(res));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
