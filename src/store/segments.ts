/** Mounting and unmounting segments: a device segment from the backend, a slot in the core. */
import { MMC, MmcError } from '../errors.js';
import type { DeviceSegment } from '../device/types.js';
import { OP } from './core.js';
import type { SegmentInfo } from './types.js';
import type { MountedSegment } from './writer.js';
import { MEDIA, MEDIUM_NAMES, invalid, type NormalizedSegment } from './validate.js';
import type { StoreState } from './state.js';

/**
 * Opens the device segment of a checked spec and mounts it in the core; while an unmount of the
 * same id is draining, once that has ended.
 */
export async function mountSegment(s: StoreState, n: NormalizedSegment): Promise<MountedSegment> {
  const draining = drainsOf(s).get(n.id);
  if (draining) {
    // the same rank's segment back while its old one drains (a restarted rank): mounted once gone
    await draining.catch(() => undefined);
    s.check();
  }
  if (s.byId.has(n.id)) {
    s.core.x.count_op(OP.mount, MMC.MMC_INVALID_PARAM);
    throw invalid(`segment ${n.id} is already mounted`);
  }
  let device: DeviceSegment;
  try {
    device = await s.backend.open(n.rank, MEDIA[n.medium], n.bytes);
  } catch (err) {
    s.core.x.count_op(OP.mount, MMC.MMC_ERROR);
    throw err;
  }
  const slot = s.core.x.seg_mount(n.rank, n.medium, n.bytes);
  if (slot < 0) {
    await s.backend.release(device);
    throw new MmcError(slot, slot === MMC.MMC_NOT_ENOUGH_MEMORY ? `cannot mount ${n.id}: no metadata memory left in the core (coreMemoryLimit)` : `cannot mount ${n.id}`);
  }
  const m: MountedSegment = { id: n.id, slot, rank: n.rank, medium: n.medium, device };
  s.bySlot[slot] = m;
  s.byId.set(n.id, m);
  return m;
}

export interface DrainSteps { first: number; min: number; max: number; targetMs: number }
/**
 * Records the first step of an unmount scans, and the bounds of the steps after it. Each step's
 * size follows the time the last one took, aiming at targetMs: scanning a record the drain
 * drops costs about 0.2 µs here, one it only passes over far less, so a fixed size would either
 * crawl over a store of other ranks' objects or hold the event loop too long over the rank's own.
 */
const STEPS: DrainSteps = Object.freeze({ first: 4096, min: 1024, max: 65536, targetMs: 1 });

/** How a drain went: for the bench and tests (MemCache.unmount resolves with nothing). */
export interface DrainReport { steps: number; longestStepMs: number; totalMs: number }

/** The drains in flight per store, by segment id: a second unmount and a mount of the id wait for them. */
const drains = new WeakMap<StoreState, Map<string, Promise<DrainReport>>>();

function drainsOf(s: StoreState): Map<string, Promise<DrainReport>> {
  let d = drains.get(s);
  if (!d) drains.set(s, (d = new Map()));
  return d;
}

/** The next step's size after one of `size` records took `ms`. */
function nextStep(steps: DrainSteps, size: number, ms: number): number {
  if (ms < steps.targetMs / 2) return Math.min(size * 2, steps.max);
  if (ms > steps.targetMs * 1.5) return Math.max(size >> 1, steps.min);
  return size;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Unmounts a segment by id: it leaves segments() and the medium's figures at once (the core's
 * seg_unmount_begin: nothing is placed on it or read from it any more), then its records are
 * scanned in steps of about a millisecond with a turn of the event loop between them (its blobs
 * go, and objects left without any), then its slot and device segment are released. A second
 * unmount of the same id meanwhile waits for the same drain. `steps`: for tests that want the
 * drain in many small slices.
 */
export function unmountSegment(s: StoreState, id: string, steps: DrainSteps = STEPS): Promise<DrainReport> {
  const d = drainsOf(s);
  const inFlight = d.get(id);
  if (inFlight) return inFlight;
  const m = s.byId.get(id);
  if (!m) {
    s.core.x.count_op(OP.unmount, MMC.MMC_INVALID_PARAM);
    return Promise.reject(invalid(`Segment not found: ${String(id)}`));
  }
  const code = s.core.x.seg_unmount_begin(m.slot);
  if (code !== MMC.MMC_OK) return Promise.reject(new MmcError(code, `cannot unmount ${id}`));
  s.byId.delete(id);
  const p = drain(s, m, steps).finally(() => d.delete(id));
  d.set(id, p);
  return p;
}

/** The steps and the end of an unmount begun in the core. Stops with the store's error if it closes meanwhile. */
async function drain(s: StoreState, m: MountedSegment, steps: DrainSteps): Promise<DrainReport> {
  const x = s.core.x;
  const report: DrainReport = { steps: 0, longestStepMs: 0, totalMs: 0 };
  const start = performance.now();
  let size = steps.first;
  for (;;) {
    const t0 = performance.now();
    const more = x.seg_unmount_step(m.slot, size);
    const ms = performance.now() - t0;
    report.steps++;
    report.longestStepMs = Math.max(report.longestStepMs, ms);
    size = nextStep(steps, size, ms);
    if (more !== 1) break; // 0: done (a negative code: not draining, which end reports)
    await turn();
    s.check();
  }
  const code = x.seg_unmount_end(m.slot);
  if (code !== MMC.MMC_OK) throw new MmcError(code, `cannot end the unmount of ${m.id}`);
  // reads and writes begun before the unmount found their device through bySlot until now
  s.bySlot[m.slot] = undefined;
  await s.backend.release(m.device);
  report.totalMs = performance.now() - start;
  return report;
}

/** Mounted segments: HBM first, then DRAM, each by rank. */
export function listSegments(s: StoreState): SegmentInfo[] {
  return [...s.byId.values()]
    .sort((a, b) => a.medium - b.medium || a.rank - b.rank)
    .map((m) => segmentInfo(s, m));
}

export function segmentInfo(s: StoreState, m: MountedSegment): SegmentInfo {
  const x = s.core.x;
  return {
    id: m.id, rank: m.rank, medium: MEDIUM_NAMES[m.medium],
    totalBytes: x.seg_total(m.slot), usedBytes: x.seg_used(m.slot), largestFreeBytes: x.seg_largest_free(m.slot),
  };
}
