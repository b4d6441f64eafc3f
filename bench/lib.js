// Small helpers shared by the benchmarks.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';

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
