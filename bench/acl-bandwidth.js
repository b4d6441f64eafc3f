#!/usr/bin/env node
// 1 MiB put+get bandwidth, in one run: plain Buffer copies, the sim backend, and the ACL backend
// through the real native addon against the stand-in libascendcl.so (test/fixtures/ascendcl),
// at the device-adapter level (write + read of 1 MiB values) and, when the store is built
// (dist/store/memcache.js), through MemCache put + get.
//
// Usage: node bench/acl-bandwidth.js [--iterations N] [--json]
//   env MMC_ACL_LIBRARY: another libascendcl.so (e.g. the real one on an Ascend host)
// Prints a Markdown table (and one JSON line with --json).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { randomFillSync } from 'node:crypto';
import { createSimBackend } from '../dist/device/sim.js';
import { createAclBackend, aclUnavailableReason } from '../dist/device/acl.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const argValue = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const ITER = argValue('--iterations', 2000);
const VALUE = 1024 * 1024;
const SEGMENT = 256 * VALUE; // values rotate through 256 MiB so the pool is not all cache-hot
const SLOTS = SEGMENT / VALUE;
const GiB = 1024 ** 3;

const src = Buffer.alloc(VALUE);
randomFillSync(src);
const dst = Buffer.alloc(VALUE);

function result(name, writeNs, readNs) {
  const bytes = ITER * VALUE;
  const w = bytes / GiB / (Number(writeNs) / 1e9);
  const r = bytes / GiB / (Number(readNs) / 1e9);
  const both = (2 * bytes) / GiB / (Number(writeNs + readNs) / 1e9);
  return { name, putGiBs: w, getGiBs: r, putGetGiBs: both, putUs: Number(writeNs) / 1e3 / ITER, getUs: Number(readNs) / 1e3 / ITER };
}

async function timed(fn) {
  const t0 = process.hrtime.bigint();
  await fn();
  return process.hrtime.bigint() - t0;
}

/** write/read `ITER` 1 MiB values through a backend, `depth` copies in flight. */
async function backendRun(name, backend, medium, depth = 1) {
  const seg = await backend.open(0, medium, SEGMENT);
  const dsts = Array.from({ length: depth }, () => Buffer.alloc(VALUE));
  // warm up: touch every slot once
  for (let i = 0; i < SLOTS; i++) await backend.write(seg, i * VALUE, src);
  const loop = (op) => async () => {
    for (let i = 0; i < ITER; i += depth) {
      const batch = [];
      for (let j = 0; j < depth && i + j < ITER; j++) {
        const off = ((i + j) % SLOTS) * VALUE;
        batch.push(op === 'w' ? backend.write(seg, off, src) : backend.read(seg, off, dsts[j]));
      }
      if (depth === 1) await batch[0];
      else await Promise.all(batch);
    }
  };
  const w = await timed(loop('w'));
  const r = await timed(loop('r'));
  if (!dsts[0].equals(src)) throw new Error(`${name}: read back differs`);
  await backend.release(seg);
  return result(name, w, r);
}

async function bufferRun() {
  const pool = Buffer.alloc(SEGMENT);
  for (let i = 0; i < SLOTS; i++) src.copy(pool, i * VALUE);
  const w = await timed(async () => {
    for (let i = 0; i < ITER; i++) src.copy(pool, (i % SLOTS) * VALUE);
  });
  const r = await timed(async () => {
    for (let i = 0; i < ITER; i++) pool.copy(dst, 0, (i % SLOTS) * VALUE, (i % SLOTS) * VALUE + VALUE);
  });
  return result('plain Buffer.copy', w, r);
}

/** MemCache put + get of 1 MiB values, when the store is built. */
async function storeRun(name, options) {
  const { MemCache } = await import('../dist/store/memcache.js');
  const store = await MemCache.open({ segments: [{ rank: 0, medium: 'hbm', bytes: 2 * SEGMENT }], ...options });
  try {
    const keys = Array.from({ length: SLOTS }, (_, i) => `bench-${i}`);
    for (const k of keys) await store.put(k, src);
    let out;
    const w = await timed(async () => {
      for (let i = 0; i < ITER; i++) {
        const k = keys[i % SLOTS];
        await store.remove(k);
        await store.put(k, src);
      }
    });
    const r = await timed(async () => {
      for (let i = 0; i < ITER; i++) out = await store.get(keys[i % SLOTS]);
    });
    if (!Buffer.from(out).equals(src)) throw new Error(`${name}: get returned other bytes`);
    return result(name, w, r);
  } finally {
    await store.close();
  }
}

function standinLibrary() {
  if (process.env.MMC_ACL_LIBRARY) return process.env.MMC_ACL_LIBRARY;
  const lib = join(root, 'test', 'fixtures', 'ascendcl', 'build', 'full', 'libascendcl.so');
  if (!existsSync(lib)) execFileSync('sh', [join(root, 'test', 'fixtures', 'ascendcl', 'build.sh')], { stdio: 'ignore' });
  return lib;
}

const rows = [];
const notes = [];
rows.push(await bufferRun());
rows.push(await backendRun('sim backend write/read (HBM)', createSimBackend(), 'hbm'));

const why = aclUnavailableReason();
let aclLibrary;
if (why) {
  notes.push(`acl backend skipped: ${why}`);
} else {
  aclLibrary = standinLibrary();
  const acl = await createAclBackend({ aclLibrary });
  rows.push(await backendRun('acl backend write/read, HBM (pool thread)', acl, 'hbm'));
  rows.push(await backendRun('acl backend write/read, DRAM pinned (pool thread)', acl, 'dram'));
  rows.push(await backendRun('acl backend write/read, HBM, 4 in flight', acl, 'hbm', 4));
  await acl.close();
  const inline = await createAclBackend({ aclLibrary, asyncThresholdBytes: Number.MAX_SAFE_INTEGER });
  rows.push(await backendRun('acl backend write/read, HBM (inline, blocks the loop)', inline, 'hbm'));
  await inline.close();
}

if (existsSync(join(root, 'dist', 'store', 'memcache.js'))) {
  for (const [name, options] of [
    ['MemCache put/get, sim', { backend: 'sim' }],
    ...(aclLibrary ? [['MemCache put/get, acl (stand-in)', { backend: 'acl', aclLibrary }]] : []),
  ]) {
    try {
      rows.push(await storeRun(name, options));
    } catch (err) {
      notes.push(`${name} skipped: ${err.message}`);
    }
  }
} else {
  notes.push('MemCache rows skipped: dist/store/memcache.js is not built');
}
if (rows.some((r) => r.name.startsWith('MemCache'))) {
  notes.push('MemCache put column: remove + put of a key each time (the store refuses duplicate puts); get: get of a stored key.');
}

const f = (x) => x.toFixed(2);
console.log(`1 MiB values, ${ITER} puts then ${ITER} gets each; Node ${process.version}; ${aclLibrary ? `ACL library ${aclLibrary}` : 'no ACL'}\n`);
console.log('| path | put GiB/s | get GiB/s | put+get GiB/s | put µs | get µs |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(`| ${r.name} | ${f(r.putGiBs)} | ${f(r.getGiBs)} | ${f(r.putGetGiBs)} | ${r.putUs.toFixed(0)} | ${r.getUs.toFixed(0)} |`);
for (const n of notes) console.log(`\n${n}`);
if (args.includes('--json')) console.log(JSON.stringify({ bench: 'acl-bandwidth', valueBytes: VALUE, iterations: ITER, rows, notes }));
