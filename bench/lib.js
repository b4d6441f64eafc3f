// Small helpers shared by the benchmarks.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { InvalidArgumentError } from 'commander';
import { fileURLToPath } from 'node:url';

/** The number after `name` in args, or dflt. */
export function argNum(args, name, dflt) {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** `count` distinct values of `size` bytes (one byte in every `stride` set from the index). */
export function makeValues(count, size, stride) {
  const vs = [];
  for (let i = 0; i < count; i++) {
    const v = new Uint8Array(size);
    for (let j = 0; j < size; j += stride) v[j] = (i + j) & 0xff;
    vs.push(v);
  }
  return vs;
}

/**
 * The release build of the WASM core (build/core.wasm) instantiated bare, without the store
 * around it: its raw exports, for benchmarks of one piece of the core.
 */
export function loadReleaseCore() {
  const module = new WebAssembly.Module(readFileSync(new URL('../build/core.wasm', import.meta.url)));
  const env = {
    abort: (_msg, _file, line, col) => { throw new Error(`WASM core abort at ${line}:${col}`); },
    seed: () => 0x9e3779b9,
    clock: () => performance.now(),
    held() {},
  };
  return new WebAssembly.Instance(module, { env }).exports;
}

/** A TCP port free on `host` right now (the OS picks it; a bench then hands it to a server it spawns). */
export function freePort(host = '127.0.0.1') {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** True when a TCP connection to host:port is accepted. */
function answers(port, host) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}

/**
 * Spawn `cmd args` and resolve with the child once it accepts TCP connections on host:port (the
 * servers a bench starts listen before they serve, so a connection accepted means ready). Rejects
 * with the child's output if it exits first or is not answering after timeoutMs. Its output is
 * kept (the last 8 KiB) and always read, so a chatty server never blocks on a full pipe.
 */
export function spawnReady(cmd, args, { port, host = '127.0.0.1', timeoutMs = 15_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const keep = (c) => { out = (out + c).slice(-8192); };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let done = false;
    const fail = (why) => { if (!done) { done = true; child.kill('SIGKILL'); reject(new Error(`${cmd} ${args.join(' ')}: ${why}\n${out}`)); } };
    child.once('error', (e) => fail(e.message));
    child.once('exit', (code, sig) => fail(`exited (${sig ?? code}) before answering on ${host}:${port}`));
    const deadline = Date.now() + timeoutMs;
    const poll = async () => {
      while (!done) {
        if (await answers(port, host)) { done = true; resolve(child); return; }
        if (Date.now() > deadline) return fail(`not answering on ${host}:${port} after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    poll();
  });
}

/** SIGTERM a spawned child and wait for it to exit (SIGKILL after graceMs). */
export function stopProcess(child, graceMs = 5_000) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => { clearTimeout(t); resolve(); });
    child.kill('SIGTERM');
  });
}

const MMC_BIN = fileURLToPath(new URL('../bin/mmc.js', import.meta.url));

/**
 * `node bin/mmc.js <args> --listen host:PORT --quiet` on a free loopback port, resolved once it
 * accepts connections: { proc, port, url }.
 */
export async function spawnMmc(args, host = '127.0.0.1') {
  const port = await freePort(host);
  // MMC_BENCH_NODE_FLAGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"): node flags for the spawned
  // servers, to profile them under a bench's load
  const flags = (process.env.MMC_BENCH_NODE_FLAGS ?? '').split(' ').filter(Boolean);
  const proc = await spawnReady(process.execPath, [...flags, MMC_BIN, ...args, '--listen', `${host}:${port}`, '--quiet'], { port, host });
  return { proc, port, url: `http://${host}:${port}` };
}

/** The all-in-one server, `mmc serve --ranks N` (sim backend): { url, procs, close() }. */
export async function startServe({ ranks = 2, hbm = '256MB', dram = '256MB', host = '127.0.0.1' } = {}) {
  const s = await spawnMmc(['serve', '--ranks', String(ranks), '--hbm', hbm, '--dram', dram], host);
  return { url: s.url, procs: [s.proc], close: () => stopProcess(s.proc) };
}

/** Polls `${url}/get_all_segments` until every rank 0..ranks-1 has a segment listed. */
async function waitForRanks(url, ranks, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ids = await fetch(`${url}/get_all_segments`).then((r) => r.text(), () => '');
    const seen = new Set(ids.split('\n').map((id) => /^rank-(\d+)-/.exec(id)?.[1]).filter(Boolean));
    if (seen.size >= ranks) return;
    if (Date.now() > deadline) throw new Error(`pool at ${url}: ${seen.size} of ${ranks} rank agents registered after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * A pool on loopback: `mmc meta` and one `mmc local --rank r` per rank (sim backend, each rank
 * hbm + dram), resolved once every agent registered at the meta service: { url (the meta's),
 * procs, close() }. Anything started is stopped again when a later step fails.
 */
export async function startPool({ ranks = 2, hbm = '256MB', dram = '256MB', host = '127.0.0.1', timeoutMs = 20_000 } = {}) {
  const procs = [];
  const close = async () => { for (const p of [...procs].reverse()) await stopProcess(p); };
  try {
    const meta = await spawnMmc(['meta'], host);
    procs.push(meta.proc);
    for (let r = 0; r < ranks; r++) {
      const agent = await spawnMmc(['local', '--meta', meta.url, '--rank', String(r), '--hbm', hbm, '--dram', dram], host);
      procs.push(agent.proc);
    }
    await waitForRanks(meta.url, ranks, timeoutMs);
    return { url: meta.url, procs, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/**
 * Ops per second of `step` (which does some ops and returns how many) run back to back for
 * `seconds` of timed work; `prepare` runs off the clock before each step and hands it its argument.
 */
export async function timed(seconds, step, prepare = async () => undefined, meter = undefined) {
  let ns = 0;
  let ops = 0;
  while (ns < seconds * 1e9) {
    const arg = await prepare();
    meter?.start();
    const t0 = process.hrtime.bigint();
    const n = await step(arg);
    ns += Number(process.hrtime.bigint() - t0);
    meter?.stop(n);
    ops += n;
  }
  return (ops * 1e9) / ns;
}

const CLOCK_TICKS = 100; // USER_HZ: 100 on every Linux architecture Node runs on

/** CPU time (µs) the processes `pids` have used so far, from /proc (Linux), or null elsewhere. */
function cpuOf(pids) {
  try {
    return pids.reduce((sum, pid) => {
      // utime and stime, fields 14 and 15 of /proc/PID/stat, counted after the command's ")"
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      return sum + ((Number(f[11]) + Number(f[12])) * 1e6) / CLOCK_TICKS;
    }, 0);
  } catch {
    return null;
  }
}

/**
 * Counts the CPU time of this (client) process and of the server processes `pids` spent within
 * start()..stop(ops) spans, and the ops done in them: perOp() gives µs per op of each, the
 * server's null where /proc is absent. Clock-tick resolution (10 ms): meant for spans summing
 * to seconds.
 */
export function cpuMeter(pids) {
  let client = 0;
  let server = 0;
  let ops = 0;
  let c0;
  let s0;
  return {
    start() { c0 = process.cpuUsage(); s0 = cpuOf(pids); },
    stop(n) {
      const c = process.cpuUsage(c0);
      client += c.user + c.system;
      const s1 = cpuOf(pids);
      server = s0 === null || s1 === null || server === null ? null : server + s1 - s0;
      ops += n;
    },
    perOp: () => (ops ? { client: client / ops, server: server === null ? null : server / ops } : null),
  };
}

/**
 * The next `per` fresh keys of a put range on `side` (a side has `cursors`, a Map, and
 * `drop(keys)`). The position lives on the side across measurements; a used-up range is removed
 * (by the caller, off the clock) and begun again.
 */
export async function freshKeys(side, keys, per) {
  const at = side.cursors.get(keys) ?? 0;
  if (at + per > keys.length) {
    await side.drop(keys);
    side.cursors.set(keys, per);
    return keys.slice(0, per);
  }
  side.cursors.set(keys, at + per);
  return keys.slice(at, at + per);
}

/** A commander option parser: a positive number (an integer when `integer`), else a usage error. */
export function positive(name, integer) {
  return (s) => {
    const n = Number(s);
    if (!(n > 0) || (integer && !Number.isInteger(n))) throw new InvalidArgumentError(`${name} must be a positive ${integer ? 'integer' : 'number'}`);
    return n;
  };
}

/**
 * A commander option parser for `--only`: comma-separated words; an op is measured when its name
 * contains one of them (case-insensitive). pickOps(OPS, words) applies it (all ops without words).
 */
export function onlyWords(s) {
  const words = s.split(',').map((w) => w.trim().toLowerCase()).filter(Boolean);
  if (!words.length) throw new InvalidArgumentError('--only needs at least one word of an operation name');
  return words;
}

export function pickOps(ops, words) {
  if (!words) return ops;
  const picked = ops.filter((o) => words.some((w) => o.op.toLowerCase().includes(w)));
  if (!picked.length) throw new Error(`--only ${words.join(',')}: no operation matches (operations: ${ops.map((o) => o.op).join('; ')})`);
  return picked;
}

/**
 * A bench side over a MemCacheClient `c` connected to `server` ({ close() }, e.g. startServe's or
 * startPool's): every reply checked (codes 0, values of the expected size); close() closes the
 * client, then stops the server's processes.
 */
export function clientSide(name, c, server) {
  const check = (ok, what) => { if (!ok) throw new Error(`${name}: ${what}`); };
  return {
    name,
    client: c,
    pids: server.procs?.map((p) => p.pid) ?? [],
    cursors: new Map(),
    transport: c.transport ?? 'http',
    async batchPut(keys, vals) {
      const codes = await c.batchPut(keys.map((k, i) => [k, vals[i]]));
      check(codes.every((x) => x === 0), `batch put answered ${codes.find((x) => x !== 0)}`);
    },
    async batchGet(keys, size) {
      const vs = await c.batchGet(keys);
      check(vs.every((v) => v?.length === size), 'batch get missed a value');
    },
    put: (k, v) => c.put(k, v),
    async get(k, size) { check((await c.get(k))?.length === size, `get of ${k} missed`); },
    async drop(keys) { await c.batchRemove(keys); },
    async close() {
      await c.close().catch(() => {});
      await server.close();
    },
  };
}

/** A whole number with thousands separators, or — for null. */
export const f0 = (x) => (x === null || x === undefined ? '—' : Math.round(x).toLocaleString('en-US'));
/** A ratio cell of a table: `1.23x`, or — where there is no baseline. */
export const fx = (r) => (r === null || r === undefined ? '—' : `${r.toFixed(2)}x`);
