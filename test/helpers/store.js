// Shared helpers for store tests.
import { MemCache, createSimBackend } from '../../dist/index.js';

export const MiB = 1 << 20;

/** A store over small sim segments: `ranks` ranks with `hbm` and `dram` bytes each. */
export function openSmall({ ranks = 1, hbm = 4 * MiB, dram = 8 * MiB, ...rest } = {}) {
  const segments = [];
  for (let rank = 0; rank < ranks; rank++) {
    if (hbm) segments.push({ rank, medium: 'hbm', bytes: hbm });
    if (dram) segments.push({ rank, medium: 'dram', bytes: dram });
  }
  return MemCache.open({ segments, debug: true, ...rest });
}

/** Bytes whose content is derived from (seed, length): a wrong byte anywhere is caught. */
export function pattern(seed, length) {
  const b = new Uint8Array(length);
  let x = (seed * 2654435761 + length) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    b[i] = x & 255;
  }
  return b;
}

export function equalBytes(a, b) {
  if (!a || !b || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Counter deltas between two stats() snapshots (numbers only). */
export function delta(before, after) {
  const d = {};
  for (const [k, v] of Object.entries(after)) {
    if (typeof v === 'number' && v !== before[k]) d[k] = v - before[k];
  }
  return d;
}

/** Every single operation: requests = successes + failures + not_found. */
export function countersAddUp(stats) {
  const bad = [];
  for (const k of Object.keys(stats)) {
    if (!k.endsWith('_req')) continue;
    const op = k.slice(0, -4);
    const sum = stats[`${op}_success`] + stats[`${op}_fail`] + (stats[`${op}_not_found`] ?? 0);
    if (!op.startsWith('batch_') && sum !== stats[k]) bad.push(`${op}: ${stats[k]} != ${sum}`);
  }
  return bad;
}

/**
 * A sim backend whose reads, while `hold` is true, complete only at `release()`: a read in flight
 * holds its lease meanwhile.
 */
export function slowReadBackend() {
  const sim = createSimBackend();
  const waiting = [];
  const ctl = {
    hold: false,
    release() { for (const r of waiting.splice(0)) r(); },
    backend: {
      name: 'slow-reads',
      open: (rank, medium, bytes) => sim.open(rank, medium, bytes),
      write: (seg, off, src) => sim.write(seg, off, src),
      copy: (a, ao, b, bo, n) => sim.copy(a, ao, b, bo, n),
      release: (seg) => sim.release(seg),
      close: () => sim.close(),
      read(seg, off, dst) {
        sim.read(seg, off, dst);
        return ctl.hold ? new Promise((r) => waiting.push(r)) : undefined;
      },
    },
  };
  return ctl;
}

/**
 * A sim backend whose writes, reads and copies, while `holdWrites` / `holdReads` / `holdCopies`
 * is set, land later: a held write or copy moves its bytes only when released, a held read
 * resolves only when released (its bytes are copied at once, as the lease under test is what
 * matters). `releaseWrites(n)`, `releaseReads(n)` and `releaseCopies(n)` let the oldest n land
 * (all without n).
 */
export function heldBackend() {
  const sim = createSimBackend();
  const writes = [];
  const reads = [];
  const copies = [];
  const land = (list, n = list.length) => { for (const f of list.splice(0, n)) f(); };
  const ctl = {
    holdWrites: false,
    holdReads: false,
    holdCopies: false,
    get copiesHeld() { return copies.length; },
    releaseCopies(n) { land(copies, n); },
    get writesHeld() { return writes.length; },
    get readsHeld() { return reads.length; },
    releaseWrites(n) { land(writes, n); },
    releaseReads(n) { land(reads, n); },
    backend: {
      name: 'held',
      open: (rank, medium, bytes) => sim.open(rank, medium, bytes),
      release: (seg) => sim.release(seg),
      close: () => sim.close(),
      copy(a, ao, b, bo, n) {
        if (!ctl.holdCopies) return sim.copy(a, ao, b, bo, n);
        return new Promise((resolve) => copies.push(() => { sim.copy(a, ao, b, bo, n); resolve(); }));
      },
      write(seg, off, src) {
        if (!ctl.holdWrites) return sim.write(seg, off, src);
        return new Promise((resolve) => writes.push(() => { sim.write(seg, off, src); resolve(); }));
      },
      read(seg, off, dst) {
        sim.read(seg, off, dst);
        return ctl.holdReads ? new Promise((resolve) => reads.push(resolve)) : undefined;
      },
    },
  };
  return ctl;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Asserts that `promise` rejects with an MmcError of `codeName` (and a message matching `match`). */
export async function rejectsWith(promise, codeName, match) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  if (!err) throw new Error(`expected ${codeName}, got a success`);
  if (err.codeName !== codeName) throw new Error(`expected ${codeName}, got ${err.codeName}: ${err.message}`);
  if (match && !match.test(err.message)) throw new Error(`message ${JSON.stringify(err.message)} does not match ${match}`);
  return err;
}
