// Real pool processes for the tests: `mmc meta` and `mmc local` spawned on loopback ports, each
// resolved once it logged that it is up; stopped (SIGKILL when asked) by the tests.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DataConn, ChunkSink, answerError } from '../../dist/client/data-conn.js';

export const MMC = fileURLToPath(new URL('../../bin/mmc.js', import.meta.url));

/** A port free now (and the next one, where the meta service's data path goes). */
export async function freePort() {
  for (;;) {
    const port = await new Promise((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
    });
    if (port < 65535 && await new Promise((resolve) => {
      const s = net.createServer().once('error', () => resolve(false)).listen(port + 1, '127.0.0.1', () => s.close(() => resolve(true)));
    })) return port;
  }
}

/** Spawns `mmc <args>`; resolves with the process once its stderr matches `ready`. */
export function spawnMmc(args, ready, timeoutMs = 20_000, env = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [MMC, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    let err = '';
    const exited = new Promise((r) => p.once('exit', (code, sig) => r({ code, sig })));
    const timer = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`mmc ${args[0]} not ready: ${err}`)); }, timeoutMs);
    p.stderr.on('data', (c) => {
      err += c;
      const m = ready.exec(err);
      if (m) { clearTimeout(timer); resolve({ p, m, exited, log: () => err }); }
    });
    p.once('exit', (code) => { clearTimeout(timer); reject(new Error(`mmc ${args[0]} exited ${code}: ${err}`)); });
  });
}

export async function startMetaProc(port, extra = []) {
  const r = await spawnMmc(['meta', '--listen', `127.0.0.1:${port}`, ...extra], /listening on (http:\/\/[0-9.]+:\d+)/);
  return { ...r, url: r.m[1] };
}

/** An agent of `rank`; resolves when it registered (unless `registered` is false). */
export function startLocalProc(meta, rank, extra = [], registered = true) {
  const args = ['local', '--meta', meta, '--rank', String(rank), '--hbm', '8MB', '--dram', '8MB', ...extra];
  return spawnMmc(args, registered ? /registered at/ : /serving its segments on/);
}

export async function stop(proc, signal = 'SIGTERM') {
  if (proc && proc.p.exitCode === null && proc.p.signalCode === null) {
    proc.p.kill(signal);
    await proc.exited;
  }
}

/** Polls `f` until it returns a truthy value (or throws after `timeoutMs`). */
export async function waitFor(f, timeoutMs = 15_000, what = 'condition') {
  const t0 = Date.now();
  for (;;) {
    const v = await f();
    if (v) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** /proc/PID/io's byte counters (rchar, wchar: every byte through read/write calls, sockets too). */
export function ioOf(pid) {
  const t = readFileSync(`/proc/${pid}/io`, 'utf8');
  const n = (k) => Number(new RegExp(`^${k}: (\\d+)$`, 'm').exec(t)[1]);
  return { rchar: n('rchar'), wchar: n('wchar') };
}

/** The segment ids /get_all_segments lists. */
export async function segmentIds(url) {
  const r = await fetch(`${url}/get_all_segments`);
  return (await r.text()).split('\n').filter(Boolean);
}

/** A control message (op, body) to an in-process meta service's data path: its answer's payload. */
export async function metaControl(meta, op, body) {
  const dp = meta.server.dataPath;
  const m = await DataConn.open({ host: dp.host, port: dp.port });
  try {
    const sink = new ChunkSink();
    const a = await m.request(op, '', '', [body], body.length, sink);
    if (a.code !== 0) throw answerError(a);
    return Buffer.concat(sink.chunks);
  } finally {
    m.close();
  }
}
