#!/usr/bin/env node
// Benchmark (issue 11, "Failures"): a rank agent holding N objects is killed with kill -9, and the
// meta service must detect it within 3 s and drop its objects without blocking other operations
// for more than 10 ms at a time ("try it with 1M objects on one agent").
//
//   meta service   a node process running startMeta with 64-byte allocation units (mmc meta's
//                  default of 4 KiB would make the victim's simulated segment N x 4 KiB)
//   rank 1         `mmc local --hbm 0 --dram N x 64 B (+ room)`: the victim, filled with N
//                  objects of --value bytes in batches of --batch keys (one WRITES per batch)
//   rank 0         `mmc local`, same size: holds --keep objects that must stay readable
//
// Then rank 1 gets SIGKILL, and from that moment one client pings the meta service back to back
// (sizeOf of a key, over the binary data path, one in flight, the next 1 ms after the last) while
// another polls it every 10 ms:
//   detect   kill -> rank 1's segment gone from the meta service's segment list   goal <= 3,000 ms
//   drop     detected -> the meta service's key count down to rank 0's objects   reported
//   stall    the longest ping round trip from the kill to the end of the drop    goal <= 10 ms
//            (also split: before the detection, during the drop)
//            (an upper bound of the meta service's longest event loop stall; the ping's own
//            round trip on this machine is the p50 printed beside it)
//
// Usage: node bench/pool-drop.js [--objects N] [--value BYTES] [--batch N] [--keep N] [--json] [--help]
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { Command } from 'commander';
import { MemCacheClient } from '../dist/client/index.js';
import { f0, freePort, median, positive, spawnMmc, spawnReady, stopProcess } from './lib.js';

const META = new URL('../dist/pool/meta.js', import.meta.url).href;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The meta service in its own process, with 64-byte allocation units: { proc, url }. */
async function startMetaProc() {
  const port = await freePort();
  const script = `const { startMeta } = await import(${JSON.stringify(META)});
const m = await startMeta({ host: '127.0.0.1', port: ${port}, store: { alignment: 64 } });
const stop = async () => { await m.close(); process.exit(0); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);`;
  const proc = await spawnReady(process.execPath, ['--input-type=module', '-e', script], { port });
  return { proc, url: `http://127.0.0.1:${port}` };
}

async function waitFor(f, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!(await f())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Fills rank `rank` with `n` objects of `value`, `batch` keys a batch: keys/s. */
async function fill(c, prefix, n, value, batch, rank) {
  const t0 = performance.now();
  for (let at = 0; at < n; at += batch) {
    const entries = [];
    for (let i = at; i < Math.min(n, at + batch); i++) entries.push([`${prefix}/${i}`, value]);
    const codes = await c.batchPut(entries, { preferredRank: rank });
    const bad = codes.findIndex((x) => x !== 0);
    if (bad >= 0) throw new Error(`fill of rank ${rank}: put of ${entries[bad][0]} answered ${codes[bad]}`);
  }
  return (n * 1000) / (performance.now() - t0);
}

/** Pings `c` (sizeOf of a key) one at a time, 1 ms apart, until stop(): the round trips, ms. */
function pinger(c) {
  const rtts = [];
  let running = true;
  const done = (async () => {
    while (running) {
      const t0 = performance.now();
      await c.sizeOf('pool-drop/probe');
      rtts.push(performance.now() - t0);
      await sleep(1);
    }
  })();
  return { rtts, async stop() { running = false; await done; return rtts; } };
}

export async function run({ objects = 1_000_000, value = 64, batch = 16384, keep = 1000 } = {}) {
  const seg = `${Math.ceil((objects * Math.ceil(value / 64) * 64 * 1.1) / 1024) + 1024}KB`;
  const procs = [];
  const clients = [];
  try {
    const meta = await startMetaProc();
    procs.push(meta.proc);
    const agents = [];
    for (const rank of [0, 1]) {
      const a = await spawnMmc(['local', '--meta', meta.url, '--rank', String(rank), '--hbm', '0', '--dram', seg]);
      procs.push(a.proc);
      agents.push(a);
    }
    const c = await MemCacheClient.connect(meta.url);
    clients.push(c);
    await waitFor(async () => (await c.segments()).length === 2, 20_000, 'both agents registered');
    const v = Buffer.alloc(value, 7);
    await fill(c, 'pool-drop/keep', keep, v, batch, 0);
    const putRate = await fill(c, 'pool-drop/victim', objects, v, batch, 1);
    if ((await c.stats()).keys !== objects + keep) throw new Error('the fill did not store every object');
    const probe = await MemCacheClient.connect(meta.url);
    clients.push(probe);
    const ping = pinger(probe);
    await sleep(200); // the ping's round trip before the kill
    const before = ping.rtts.length;
    const tKill = performance.now();
    agents[1].proc.kill('SIGKILL');
    await waitFor(async () => !(await c.segments()).some((s) => s.id === 'rank-1-dram'), 30_000, 'rank 1 dropped');
    const tDetect = performance.now();
    const atDetect = ping.rtts.length;
    await waitFor(async () => (await c.stats()).keys === keep, 120_000, "rank 1's objects dropped");
    const tDropped = performance.now();
    const rtts = await ping.stop();
    const longest = (xs) => (xs.length ? Math.max(...xs) : 0);
    const kept = await c.batchGet([`pool-drop/keep/0`, `pool-drop/keep/${keep - 1}`]);
    if (!kept.every((x) => x?.length === value)) throw new Error("rank 0's objects did not stay readable");
    return {
      objects, value, putRate,
      detectMs: tDetect - tKill,
      dropMs: tDropped - tDetect,
      stallMs: longest(rtts.slice(before)),
      stallDetectMs: longest(rtts.slice(before, atDetect)),
      stallDropMs: longest(rtts.slice(atDetect)),
      pingP50Ms: median(rtts.slice(0, before)),
      pings: rtts.length - before,
    };
  } finally {
    for (const c of clients) await c.close().catch(() => {});
    for (const p of procs.reverse()) await stopProcess(p);
  }
}

export function format(r) {
  const ok = (x, goal) => (x <= goal ? 'met' : 'NOT met');
  const rows = [
    ['detect (kill -9 -> segment gone)', `${f0(r.detectMs)} ms`, '<= 3,000 ms', ok(r.detectMs, 3000)],
    ['drop (detected -> objects gone)', `${f0(r.dropMs)} ms`, 'reported', ''],
    ['longest meta stall meanwhile', `${r.stallMs.toFixed(1)} ms`, '<= 10 ms', ok(r.stallMs, 10)],
    ['... of which before the detection', `${r.stallDetectMs.toFixed(1)} ms`, '', ''],
    ['... of which during the drop', `${r.stallDropMs.toFixed(1)} ms`, '', ''],
  ];
  const lines = [
    `pool drop: ${f0(r.objects)} objects of ${r.value} B on one agent, killed with kill -9 (filled at ${f0(r.putRate)} keys/s; ${f0(r.pings)} pings meanwhile, ping p50 ${r.pingP50Ms.toFixed(2)} ms before the kill; ${os.cpus().length} cores)`,
    '',
    '| | measured | goal | |',
    '|---|---:|---:|---|',
    ...rows.map((x) => `| ${x.join(' | ')} |`),
  ];
  return lines.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const o = new Command('pool-drop.js')
    .description('kill -9 of a rank agent holding N objects: detection, drop time, longest meta stall')
    .option('--objects <n>', 'objects on the killed agent', positive('--objects', true), 1_000_000)
    .option('--value <bytes>', 'value size', positive('--value', true), 64)
    .option('--batch <n>', 'keys a batch put while filling', positive('--batch', true), 16384)
    .option('--keep <n>', 'objects on the other agent (must stay readable)', positive('--keep', true), 1000)
    .option('--json', 'print the result as JSON')
    .parse()
    .opts();
  const r = await run(o);
  console.log(o.json ? JSON.stringify(r) : format(r));
}
