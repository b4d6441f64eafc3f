/** Mounting and unmounting segments: a device segment from the backend, a slot in the core. */
import { MMC, MmcError } from '../errors.js';
import type { DeviceSegment } from '../device/types.js';
import { OP } from './core.js';
import type { SegmentInfo } from './types.js';
import type { MountedSegment } from './writer.js';
import { MEDIA, MEDIUM_NAMES, invalid, type NormalizedSegment } from './validate.js';
import type { StoreState } from './state.js';

/** Opens the device segment of a checked spec and mounts it in the core. */
export async function mountSegment(s: StoreState, n: NormalizedSegment): Promise<MountedSegment> {
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

/** Unmounts a segment by id: its blobs go, and objects left without any. */
export async function unmountSegment(s: StoreState, id: string): Promise<void> {
  const m = s.byId.get(id);
  if (!m) {
    s.core.x.count_op(OP.unmount, MMC.MMC_INVALID_PARAM);
    throw invalid(`Segment not found: ${String(id)}`);
  }
  s.core.x.seg_unmount(m.slot);
  s.bySlot[m.slot] = undefined;
  s.byId.delete(id);
  await s.backend.release(m.device);
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
