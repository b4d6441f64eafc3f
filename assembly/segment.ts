// The segment table: one range allocator per mounted segment, per-medium capacity and usage,
// and per medium the mounted slots in rank order for placement.
//
// A slot being unmounted is DRAINING (see drain.ts): it has left its medium's rank list (so
// placement never picks it) and its medium's capacity and usage (its bytes count nowhere from
// the start of the unmount on), but keeps its allocator until the drain ends, so that blobs not
// yet dropped can still be freed into it.
import { ra_create, ra_create_need, ra_destroy, ra_used, ra_capacity } from './allocator';
import { metaAlloc, metaRoom } from './meta';

export const MEDIUM_HBM: u32 = 0;
export const MEDIUM_DRAM: u32 = 1;
// @ts-ignore: decorator
@inline export const MEDIA: u32 = 2;
// @ts-ignore: decorator
@inline export const MAX_SEGMENTS: u32 = 4096;

// Slot of the segment table:
// @ts-ignore: decorator
@inline const S_ALLOCATOR: usize = 0; // u32: range allocator handle, 0 = empty slot
// @ts-ignore: decorator
@inline const S_RANK: usize = 4;      // u32
// @ts-ignore: decorator
@inline const S_MEDIUM: usize = 8;    // u32
// @ts-ignore: decorator
@inline const S_DRAINING: usize = 12; // u32: 1 from seg_unmount_begin until seg_unmount_end
// @ts-ignore: decorator
@inline const S_BYTES: usize = 16;    // u64: the size mounted
// @ts-ignore: decorator
@inline const S_CURSOR: usize = 24;   // u32: while draining, the next record id to scan
// @ts-ignore: decorator
@inline const S_END: usize = 28;      // u32: while draining, the records' high mark at its begin
// @ts-ignore: decorator
@inline const S_HELD: usize = 32;     // u64: units freed but held until their rank's agent knows (held.ts)
// @ts-ignore: decorator
@inline const SEG_SIZE: usize = 40;

let table: usize = 0;
let byRank: usize = 0;  // per medium: MAX_SEGMENTS u16 slots, sorted by rank
let counts: usize = 0;  // per medium: u32 number of mounted slots
let totals: usize = 0;  // per medium: u64 capacity in bytes (whole units)
let used: usize = 0;    // per medium: u64 allocated bytes (whole units)
let draining: u32 = 0;  // slots DRAINING: 0 lets every per-blob check be skipped
export let alignShift: u32 = 12;

export function segmentsInit(shift: u32): void {
  alignShift = shift;
  table = metaAlloc(<usize>MAX_SEGMENTS * SEG_SIZE);
  memory.fill(table, 0, <usize>MAX_SEGMENTS * SEG_SIZE);
  byRank = metaAlloc(<usize>MEDIA * MAX_SEGMENTS * 2);
  counts = metaAlloc(<usize>MEDIA * 4);
  totals = metaAlloc(<usize>MEDIA * 8);
  used = metaAlloc(<usize>MEDIA * 8);
  memory.fill(counts, 0, <usize>MEDIA * 4);
  memory.fill(totals, 0, <usize>MEDIA * 8);
  memory.fill(used, 0, <usize>MEDIA * 8);
}

// @ts-ignore: decorator
@inline function slotAddr(slot: u32): usize {
  if (DEBUG) assert(slot < MAX_SEGMENTS, 'segment slot out of range');
  return table + <usize>slot * SEG_SIZE;
}
// @ts-ignore: decorator
@inline export function segAllocator(slot: u32): usize { return <usize>load<u32>(slotAddr(slot), S_ALLOCATOR); }
// @ts-ignore: decorator
@inline export function segRank(slot: u32): u32 { return load<u32>(slotAddr(slot), S_RANK); }
// @ts-ignore: decorator
@inline export function segMedium(slot: u32): u32 { return load<u32>(slotAddr(slot), S_MEDIUM); }
// @ts-ignore: decorator
@inline export function segBytes(slot: u32): u64 { return load<u64>(slotAddr(slot), S_BYTES); }
export function segActive(slot: u32): bool { return slot < MAX_SEGMENTS && segAllocator(slot) != 0; }
// @ts-ignore: decorator
@inline export function segDraining(slot: u32): bool { return load<u32>(slotAddr(slot), S_DRAINING) != 0; }
/** Mounted and not draining: the slots whose figures count. */
export function segMounted(slot: u32): bool { return segActive(slot) && !segDraining(slot); }
/** True while some slot is draining. */
// @ts-ignore: decorator
@inline export function anyDraining(): bool { return draining != 0; }
// @ts-ignore: decorator
@inline export function drainCursor(slot: u32): u32 { return load<u32>(slotAddr(slot), S_CURSOR); }
// @ts-ignore: decorator
@inline export function drainSetCursor(slot: u32, id: u32): void { store<u32>(slotAddr(slot), id, S_CURSOR); }
// @ts-ignore: decorator
@inline export function drainEnd(slot: u32): u32 { return load<u32>(slotAddr(slot), S_END); }
/** Units of the slot's allocator held back for its agent (held.ts): allocated there, used by nobody. */
// @ts-ignore: decorator
@inline export function segHeld(slot: u32): u64 { return load<u64>(slotAddr(slot), S_HELD); }
// @ts-ignore: decorator
@inline export function segAddHeld(slot: u32, units: i64): void {
  store<u64>(slotAddr(slot), <u64>(<i64>segHeld(slot) + units), S_HELD);
}

// @ts-ignore: decorator
@inline export function mediumCount(m: u32): u32 { return load<u32>(counts + (<usize>m << 2)); }
// @ts-ignore: decorator
@inline export function mediumSlot(m: u32, i: u32): u32 {
  return <u32>load<u16>(byRank + (<usize>(m * MAX_SEGMENTS + i) << 1));
}
// @ts-ignore: decorator
@inline export function mediumTotal(m: u32): u64 { return load<u64>(totals + (<usize>m << 3)); }
// @ts-ignore: decorator
@inline export function mediumUsed(m: u32): u64 { return load<u64>(used + (<usize>m << 3)); }
// @ts-ignore: decorator
@inline export function addUsed(m: u32, bytes: i64): void {
  store<u64>(used + (<usize>m << 3), <u64>(<i64>mediumUsed(m) + bytes));
}

/** Mounts a segment; its slot, or -1 when the (rank, medium) is taken or no slot is left, -2 out of metadata memory. */
export function segmentMount(rank: u32, medium: u32, bytes: u64): i32 {
  const units = bytes >> alignShift;
  if (medium >= MEDIA || units == 0) return -1;
  let free: i32 = -1;
  for (let s: u32 = 0; s < MAX_SEGMENTS; s++) {
    if (segAllocator(s) == 0) { if (free < 0) free = <i32>s; continue; }
    if (segRank(s) == rank && segMedium(s) == medium) return -1;
  }
  if (free < 0) return -1;
  if (!metaRoom(ra_create_need())) return -2;
  const ra = ra_create(units);
  if (ra == 0) return -2;
  const a = slotAddr(<u32>free);
  store<u32>(a, <u32>ra, S_ALLOCATOR);
  store<u32>(a, rank, S_RANK);
  store<u32>(a, medium, S_MEDIUM);
  store<u64>(a, bytes, S_BYTES);
  store<u64>(totals + (<usize>medium << 3), mediumTotal(medium) + (units << alignShift));
  insertByRank(medium, <u32>free);
  return free;
}

/**
 * Starts draining a mounted slot: out of placement, its capacity and usage out of its medium's;
 * its records are scanned over [1, end).
 */
export function segmentDrain(slot: u32, end: u32): void {
  if (DEBUG) assert(segMounted(slot), 'segmentDrain: no mounted segment in the slot');
  const m = segMedium(slot);
  const ra = segAllocator(slot);
  // held ranges already left the medium's usage when they were freed
  addUsed(m, -<i64>((ra_used(ra) - segHeld(slot)) << alignShift));
  store<u64>(totals + (<usize>m << 3), mediumTotal(m) - (ra_capacity(ra) << alignShift));
  removeByRank(m, slot);
  const a = slotAddr(slot);
  store<u32>(a, 1, S_DRAINING);
  store<u32>(a, 1, S_CURSOR);
  store<u32>(a, end, S_END);
  draining++;
}

/** Drops a drained slot's allocator; the drain has already detached its blobs. */
export function segmentUnmount(slot: u32): void {
  if (DEBUG) assert(segActive(slot) && segDraining(slot), 'segmentUnmount: the slot is not draining');
  if (DEBUG) assert(drainCursor(slot) >= drainEnd(slot), 'segmentUnmount: the drain has not ended');
  ra_destroy(segAllocator(slot));
  memory.fill(slotAddr(slot), 0, SEG_SIZE);
  draining--;
}

function insertByRank(m: u32, slot: u32): void {
  const base = byRank + (<usize>(m * MAX_SEGMENTS) << 1);
  const n = mediumCount(m);
  let i = n;
  while (i > 0 && segRank(<u32>load<u16>(base + (<usize>(i - 1) << 1))) > segRank(slot)) {
    store<u16>(base + (<usize>i << 1), load<u16>(base + (<usize>(i - 1) << 1)));
    i--;
  }
  store<u16>(base + (<usize>i << 1), <u16>slot);
  store<u32>(counts + (<usize>m << 2), n + 1);
}

function removeByRank(m: u32, slot: u32): void {
  const base = byRank + (<usize>(m * MAX_SEGMENTS) << 1);
  const n = mediumCount(m);
  let i: u32 = 0;
  while (<u32>load<u16>(base + (<usize>i << 1)) != slot) {
    i++;
    if (DEBUG) assert(i < n, 'removeByRank: the slot is not mounted on this medium');
  }
  for (; i + 1 < n; i++) store<u16>(base + (<usize>i << 1), load<u16>(base + (<usize>(i + 1) << 1)));
  store<u32>(counts + (<usize>m << 2), n - 1);
}

/** Bytes allocated in the slot (whole units), but for the ranges held back for its agent. */
export function segmentUsed(slot: u32): u64 { return (ra_used(segAllocator(slot)) - segHeld(slot)) << alignShift; }

/** The largest segment capacity on a medium, in units. */
export function mediumLargestUnits(m: u32): u64 {
  let best: u64 = 0;
  const n = mediumCount(m);
  for (let i: u32 = 0; i < n; i++) {
    const c = ra_capacity(segAllocator(mediumSlot(m, i)));
    if (c > best) best = c;
  }
  return best;
}
