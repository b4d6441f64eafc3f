// === Segment range allocator: O(1) alloc/free of unit ranges ===
// In the style of sebbbi/OffsetAllocator: free ranges are binned by a tiny float of their size
// (3 mantissa bits + exponent), a two-level bitmap (one u64 top word: one bit per exponent; one
// u8 leaf per exponent: one bit per mantissa) finds the smallest non-empty bin >= the request's
// bin in O(1), each bin is a doubly-linked list of free nodes, and every node (free or used) is
// linked to its address neighbours so that a free coalesces with both neighbours in O(1).
//
// The allocator is unit-agnostic (the caller divides bytes by its alignment). Capacities up to
// 2^40 units. All bookkeeping lives in linear memory from metaAlloc; no managed objects.
//
// ╒═════════════════ Node layout (32 bytes) ═════════════════╕
//  0  u64  offset
//  8  u64  size (bits 0..62) | USED (bit 63); 0 when the slot is on the free-slot list
// 16  u32  binPrev   (free node: previous in its bin list)
// 20  u32  binNext   (free node: next in its bin list; free slot: next free slot)
// 24  u32  prev      (address neighbour on the left, RA_NONE at offset 0)
// 28  u32  next      (address neighbour on the right, RA_NONE at the end)
//
// Nodes live in a chunked pool: chunk 0 starts with INITIAL_NODES slots and doubles (realloc,
// at most CHUNK_NODES slots = 128 KiB copied) until it holds CHUNK_NODES; every later chunk is a
// fresh CHUNK_NODES block referenced from a small chunk-pointer table, so growth never copies
// nodes beyond the first chunk. Node ids are u32: chunk = id >> CHUNK_BITS.
//
// Out of linear memory heap.alloc traps (the minimal runtime's TLSF calls unreachable): callers
// ask metaRoom(ra_create_need()) / metaRoom(ra_grow_need(ra)) first (assembly/meta.ts).

import { metaAlloc, metaRealloc, metaFree, blockNeed } from './meta';

/** No node / allocation failed. Note: WASM i32 results read as -1 in JS. */
export const RA_NONE: u32 = 0xFFFFFFFF;

// @ts-ignore: decorator
@inline const NONE: u32 = 0xFFFFFFFF;

// --- bins ---
// @ts-ignore: decorator
@inline const MANTISSA_BITS: u32 = 3;
// @ts-ignore: decorator
@inline const MANTISSA_VALUE: u32 = 1 << MANTISSA_BITS;
// @ts-ignore: decorator
@inline const MANTISSA_MASK: u32 = MANTISSA_VALUE - 1;
// exponent 0 holds the exact sizes 0..7; exponent e >= 1 holds [(8|m) << (e-1)]; 2^40 is bin 304
// @ts-ignore: decorator
@inline const EXP_COUNT: u32 = 40;
// @ts-ignore: decorator
@inline const BIN_COUNT: u32 = EXP_COUNT << MANTISSA_BITS;
// @ts-ignore: decorator
@inline const NO_BIN: u32 = 0xFFFFFFFF;
// @ts-ignore: decorator
@inline const MAX_CAPACITY: u64 = <u64>1 << 40;
// how many nodes of the request's floor bin are tried when no rounded-up bin has a range
// @ts-ignore: decorator
@inline const FALLBACK_SCAN: u32 = 8;

// --- header (one heap block per instance) ---
// @ts-ignore: decorator
@inline const H_CAPACITY: usize = 0;     // u64
// @ts-ignore: decorator
@inline const H_USED: usize = 8;         // u64 units in live allocations
// @ts-ignore: decorator
@inline const H_TOP: usize = 16;         // u64 bit e set <=> leaf[e] != 0
// @ts-ignore: decorator
@inline const H_LIVE: usize = 24;        // u32 live allocations
// @ts-ignore: decorator
@inline const H_RANGES: usize = 28;      // u32 free ranges
// @ts-ignore: decorator
@inline const H_NODE_COUNT: usize = 32;  // u32 slots ever handed out (high-water mark)
// @ts-ignore: decorator
@inline const H_FREE_SLOT: usize = 36;   // u32 head of the free-slot list
// @ts-ignore: decorator
@inline const H_CHUNKS: usize = 40;      // usize chunk-pointer table
// @ts-ignore: decorator
@inline const H_CHUNKS_CAP: usize = 48;  // u32 entries in the table
// @ts-ignore: decorator
@inline const H_NODE_CAP: usize = 52;    // u32 slots allocated
// @ts-ignore: decorator
@inline const H_LEAVES: usize = 56;      // u8[EXP_COUNT]
// @ts-ignore: decorator
@inline const H_HEADS: usize = 96;       // u32[BIN_COUNT] bin list heads
// @ts-ignore: decorator
@inline const HEADER_SIZE: usize = H_HEADS + (<usize>BIN_COUNT << 2);

// --- node pool ---
// @ts-ignore: decorator
@inline const NODE_BITS: usize = 5;
// @ts-ignore: decorator
@inline const NODE_SIZE: usize = 1 << NODE_BITS;
// @ts-ignore: decorator
@inline const CHUNK_BITS: u32 = 12;
// @ts-ignore: decorator
@inline const CHUNK_NODES: u32 = 1 << CHUNK_BITS;
// @ts-ignore: decorator
@inline const CHUNK_MASK: u32 = CHUNK_NODES - 1;
// @ts-ignore: decorator
@inline const INITIAL_NODES: u32 = 16;
// @ts-ignore: decorator
@inline const INITIAL_CHUNKS: u32 = 4;
// keeps ids below NONE
// @ts-ignore: decorator
@inline const MAX_NODES: u32 = 0xFFFFF000;

// @ts-ignore: decorator
@inline const N_OFFSET: usize = 0;
// @ts-ignore: decorator
@inline const N_SIZE: usize = 8;
// @ts-ignore: decorator
@inline const N_BIN_PREV: usize = 16;
// @ts-ignore: decorator
@inline const N_BIN_NEXT: usize = 20;
// @ts-ignore: decorator
@inline const N_PREV: usize = 24;
// @ts-ignore: decorator
@inline const N_NEXT: usize = 28;
// @ts-ignore: decorator
@inline const USED: u64 = <u64>1 << 63;
// @ts-ignore: decorator
@inline const SIZE_MASK: u64 = USED - 1;

// === size <-> bin ===

/** Bin whose lower bound is <= size (where a free range of this size is kept). */
// @ts-ignore: decorator
@inline function binFloor(size: u64): u32 {
  if (size < <u64>MANTISSA_VALUE) return <u32>size;
  const shift = <u32>(63 - clz(size)) - MANTISSA_BITS;
  return ((shift + 1) << MANTISSA_BITS) | (<u32>(size >> shift) & MANTISSA_MASK);
}

/** Smallest bin whose lower bound is >= size (every range in it or above fits). */
// @ts-ignore: decorator
@inline function binCeil(size: u64): u32 {
  if (size < <u64>MANTISSA_VALUE) return <u32>size;
  const shift = <u32>(63 - clz(size)) - MANTISSA_BITS;
  let bin = ((shift + 1) << MANTISSA_BITS) | (<u32>(size >> shift) & MANTISSA_MASK);
  if (size & ((<u64>1 << shift) - 1)) bin++;
  return bin;
}

// === accessors ===

// @ts-ignore: decorator
@inline function nodeAt(table: usize, id: u32): usize {
  return load<usize>(table + (<usize>(id >> CHUNK_BITS) << alignof<usize>()))
    + (<usize>(id & CHUNK_MASK) << NODE_BITS);
}

// @ts-ignore: decorator
@inline function chunks(ra: usize): usize {
  return load<usize>(ra, H_CHUNKS);
}

// @ts-ignore: decorator
@inline function headPtr(ra: usize, bin: u32): usize {
  return ra + H_HEADS + (<usize>bin << 2);
}

// @ts-ignore: decorator
@inline function leafPtr(ra: usize, exp: u32): usize {
  return ra + H_LEAVES + <usize>exp;
}

// === bins ===

/** Pushes free node `id` (at `p`, of `size`) onto the front of its bin. */
// @ts-ignore: decorator
@inline function insertIntoBin(ra: usize, t: usize, id: u32, p: usize, size: u64): void {
  const bin = binFloor(size);
  const hp = headPtr(ra, bin);
  const head = load<u32>(hp);
  if (head == NONE) {
    const exp = bin >> MANTISSA_BITS;
    const lp = leafPtr(ra, exp);
    store<u8>(lp, load<u8>(lp) | <u8>(<u32>1 << (bin & MANTISSA_MASK)));
    store<u64>(ra, load<u64>(ra, H_TOP) | (<u64>1 << exp), H_TOP);
  } else {
    store<u32>(nodeAt(t, head), id, N_BIN_PREV);
  }
  store<u32>(p, NONE, N_BIN_PREV);
  store<u32>(p, head, N_BIN_NEXT);
  store<u32>(hp, id);
}

/** Unlinks free node at `p` (of `size`) from its bin. */
// @ts-ignore: decorator
@inline function removeFromBin(ra: usize, t: usize, p: usize, size: u64): void {
  const prev = load<u32>(p, N_BIN_PREV);
  const next = load<u32>(p, N_BIN_NEXT);
  if (prev != NONE) {
    store<u32>(nodeAt(t, prev), next, N_BIN_NEXT);
  } else {
    const bin = binFloor(size);
    store<u32>(headPtr(ra, bin), next);
    if (next == NONE) {
      const exp = bin >> MANTISSA_BITS;
      const lp = leafPtr(ra, exp);
      const leaf = load<u8>(lp) & ~<u8>(<u32>1 << (bin & MANTISSA_MASK));
      store<u8>(lp, leaf);
      if (!leaf) store<u64>(ra, load<u64>(ra, H_TOP) & ~(<u64>1 << exp), H_TOP);
    }
  }
  if (next != NONE) store<u32>(nodeAt(t, next), prev, N_BIN_PREV);
}

/** Smallest non-empty bin >= minBin, or NO_BIN. */
// @ts-ignore: decorator
@inline function findBin(ra: usize, minBin: u32): u32 {
  const exp = minBin >> MANTISSA_BITS;
  const leaf = <u32>load<u8>(leafPtr(ra, exp)) & (0xFF << (minBin & MANTISSA_MASK));
  if (leaf) return (exp << MANTISSA_BITS) | <u32>ctz(leaf);
  const top = load<u64>(ra, H_TOP) & (<u64>-1 << <u64>(exp + 1));
  if (!top) return NO_BIN;
  const e = <u32>ctz(top);
  return (e << MANTISSA_BITS) | <u32>ctz(<u32>load<u8>(leafPtr(ra, e)));
}

// === node pool ===

// @ts-ignore: decorator
@inline function releaseSlot(ra: usize, id: u32, p: usize): void {
  store<u64>(p, 0, N_SIZE);
  store<u32>(p, load<u32>(ra, H_FREE_SLOT), N_BIN_NEXT);
  store<u32>(ra, id, H_FREE_SLOT);
}

/** Adds slots to the pool. False if the id space is exhausted (metaAlloc traps when out of memory). */
function growNodes(ra: usize): bool {
  const cap = load<u32>(ra, H_NODE_CAP);
  let table = load<usize>(ra, H_CHUNKS);
  if (cap < CHUNK_NODES) {
    // chunk 0 doubles up to CHUNK_NODES; the only copy of nodes, bounded by one chunk
    const newCap = min(cap << 1, CHUNK_NODES);
    store<usize>(table, metaRealloc(load<usize>(table), <usize>newCap << NODE_BITS));
    store<u32>(ra, newCap, H_NODE_CAP);
    return true;
  }
  if (cap >= MAX_NODES) return false;
  const idx = cap >> CHUNK_BITS;
  const tableCap = load<u32>(ra, H_CHUNKS_CAP);
  if (idx >= tableCap) {
    const newTableCap = tableCap << 1;
    table = metaRealloc(table, <usize>newTableCap << alignof<usize>());
    store<usize>(ra, table, H_CHUNKS);
    store<u32>(ra, newTableCap, H_CHUNKS_CAP);
  }
  store<usize>(table + (<usize>idx << alignof<usize>()), metaAlloc(<usize>CHUNK_NODES << NODE_BITS));
  store<u32>(ra, cap + CHUNK_NODES, H_NODE_CAP);
  return true;
}

/** A fresh slot id, or NONE. May move chunk 0: re-read node pointers after calling. */
// @ts-ignore: decorator
@inline function newSlot(ra: usize): u32 {
  let id = load<u32>(ra, H_FREE_SLOT);
  if (id != NONE) {
    store<u32>(ra, load<u32>(nodeAt(chunks(ra), id), N_BIN_NEXT), H_FREE_SLOT);
    return id;
  }
  id = load<u32>(ra, H_NODE_COUNT);
  if (id >= load<u32>(ra, H_NODE_CAP)) {
    if (!growNodes(ra)) return NONE;
  }
  store<u32>(ra, id + 1, H_NODE_COUNT);
  return id;
}

/** Tries the first FALLBACK_SCAN nodes of the request's floor bin. */
function fallbackFit(ra: usize, units: u64): u32 {
  let id = load<u32>(headPtr(ra, binFloor(units)));
  for (let i: u32 = 0; i < FALLBACK_SCAN && id != NONE; i++) {
    const p = nodeAt(chunks(ra), id);
    if (load<u64>(p, N_SIZE) >= units) return id;
    id = load<u32>(p, N_BIN_NEXT);
  }
  return NONE;
}

// === API ===

/** Bytes of metadata one ra_alloc may allocate: a grown node pool when no slot is left. */
export function ra_grow_need(ra: usize): u64 {
  if (load<u32>(ra, H_FREE_SLOT) != NONE || load<u32>(ra, H_NODE_COUNT) < load<u32>(ra, H_NODE_CAP)) return 0;
  const cap = load<u32>(ra, H_NODE_CAP);
  if (cap < CHUNK_NODES) return blockNeed(<u64>min(cap << 1, CHUNK_NODES) << NODE_BITS);
  const tableCap = load<u32>(ra, H_CHUNKS_CAP);
  const table: u64 = (cap >> CHUNK_BITS) >= tableCap ? blockNeed(<u64>tableCap << (alignof<usize>() + 1)) : 0;
  return blockNeed(<u64>CHUNK_NODES << NODE_BITS) + table;
}

/** Bytes of metadata ra_create allocates. */
export function ra_create_need(): u64 {
  return blockNeed(HEADER_SIZE) + blockNeed(<u64>INITIAL_CHUNKS << alignof<usize>()) + blockNeed(<u64>INITIAL_NODES << NODE_BITS);
}

/** New allocator over [0, capacityUnits). 0 if the capacity is out of range (1..2^40). */
export function ra_create(capacityUnits: u64): usize {
  if (capacityUnits - 1 >= MAX_CAPACITY) return 0;
  const ra = metaAlloc(HEADER_SIZE);
  memory.fill(ra, 0, H_HEADS);
  memory.fill(ra + H_HEADS, 0xFF, HEADER_SIZE - H_HEADS);
  store<u64>(ra, capacityUnits, H_CAPACITY);
  store<u32>(ra, NONE, H_FREE_SLOT);
  const table = metaAlloc(<usize>INITIAL_CHUNKS << alignof<usize>());
  memory.fill(table, 0, <usize>INITIAL_CHUNKS << alignof<usize>());
  store<usize>(table, metaAlloc(<usize>INITIAL_NODES << NODE_BITS));
  store<usize>(ra, table, H_CHUNKS);
  store<u32>(ra, INITIAL_CHUNKS, H_CHUNKS_CAP);
  store<u32>(ra, INITIAL_NODES, H_NODE_CAP);
  // node 0: the whole capacity, free
  store<u32>(ra, 1, H_NODE_COUNT);
  const p = nodeAt(chunks(ra), 0);
  store<u64>(p, 0, N_OFFSET);
  store<u64>(p, capacityUnits, N_SIZE);
  store<u32>(p, NONE, N_PREV);
  store<u32>(p, NONE, N_NEXT);
  insertIntoBin(ra, chunks(ra), 0, p, capacityUnits);
  store<u32>(ra, 1, H_RANGES);
  return ra;
}

/** Frees all bookkeeping of an instance. */
export function ra_destroy(ra: usize): void {
  if (!ra) return;
  const table = load<usize>(ra, H_CHUNKS);
  const chunks = (load<u32>(ra, H_NODE_CAP) + CHUNK_MASK) >> CHUNK_BITS;
  for (let i: u32 = 0; i < chunks; i++) metaFree(load<usize>(table + (<usize>i << alignof<usize>())));
  metaFree(table);
  metaFree(ra);
}

/** Allocates exactly `units`; the node id, or RA_NONE when no free range can take it. */
export function ra_alloc(ra: usize, units: u64): u32 {
  const capacity = load<u64>(ra, H_CAPACITY);
  // units == 0 wraps to a huge value
  if (units - 1 >= capacity - load<u64>(ra, H_USED)) return NONE;
  const bin = findBin(ra, binCeil(units));
  let id: u32;
  if (bin != NO_BIN) {
    id = load<u32>(headPtr(ra, bin));
  } else {
    id = fallbackFit(ra, units);
    if (id == NONE) return NONE;
  }
  let t = chunks(ra);
  let p = nodeAt(t, id);
  const total = load<u64>(p, N_SIZE);
  if (DEBUG) assert(!(total & USED) && total >= units);
  const rest = total - units;
  let slot = NONE;
  if (rest) {
    slot = newSlot(ra);
    if (slot == NONE) return NONE;
    t = chunks(ra); // the table or chunk 0 may have moved
    p = nodeAt(t, id);
  }
  removeFromBin(ra, t, p, total);
  store<u64>(p, units | USED, N_SIZE);
  if (rest) {
    const q = nodeAt(t, slot);
    const next = load<u32>(p, N_NEXT);
    store<u64>(q, load<u64>(p, N_OFFSET) + units, N_OFFSET);
    store<u64>(q, rest, N_SIZE);
    store<u32>(q, id, N_PREV);
    store<u32>(q, next, N_NEXT);
    if (next != NONE) store<u32>(nodeAt(t, next), slot, N_PREV);
    store<u32>(p, slot, N_NEXT);
    insertIntoBin(ra, t, slot, q, rest);
  } else {
    store<u32>(ra, load<u32>(ra, H_RANGES) - 1, H_RANGES);
  }
  store<u64>(ra, load<u64>(ra, H_USED) + units, H_USED);
  store<u32>(ra, load<u32>(ra, H_LIVE) + 1, H_LIVE);
  return id;
}

/** Frees a live node, coalescing with free neighbours. Not-live ids: assert in DEBUG, ignored otherwise. */
export function ra_free(ra: usize, id: u32): void {
  if (id >= load<u32>(ra, H_NODE_COUNT)) {
    if (DEBUG) assert(false, "ra_free: unknown node");
    return;
  }
  const t = chunks(ra);
  const p = nodeAt(t, id);
  const word = load<u64>(p, N_SIZE);
  if (!(word & USED)) {
    if (DEBUG) assert(false, "ra_free: node not live");
    return;
  }
  let size = word & SIZE_MASK;
  let offset = load<u64>(p, N_OFFSET);
  store<u64>(ra, load<u64>(ra, H_USED) - size, H_USED);
  store<u32>(ra, load<u32>(ra, H_LIVE) - 1, H_LIVE);
  let ranges = load<u32>(ra, H_RANGES) + 1;

  const prev = load<u32>(p, N_PREV);
  if (prev != NONE) {
    const pp = nodeAt(t, prev);
    const psize = load<u64>(pp, N_SIZE);
    if (!(psize & USED)) {
      removeFromBin(ra, t, pp, psize);
      offset = load<u64>(pp, N_OFFSET);
      size += psize;
      const pprev = load<u32>(pp, N_PREV);
      store<u32>(p, pprev, N_PREV);
      if (pprev != NONE) store<u32>(nodeAt(t, pprev), id, N_NEXT);
      releaseSlot(ra, prev, pp);
      ranges--;
    }
  }
  const next = load<u32>(p, N_NEXT);
  if (next != NONE) {
    const np = nodeAt(t, next);
    const nsize = load<u64>(np, N_SIZE);
    if (!(nsize & USED)) {
      removeFromBin(ra, t, np, nsize);
      size += nsize;
      const nnext = load<u32>(np, N_NEXT);
      store<u32>(p, nnext, N_NEXT);
      if (nnext != NONE) store<u32>(nodeAt(t, nnext), id, N_PREV);
      releaseSlot(ra, next, np);
      ranges--;
    }
  }
  store<u64>(p, offset, N_OFFSET);
  store<u64>(p, size, N_SIZE);
  insertIntoBin(ra, t, id, p, size);
  store<u32>(ra, ranges, H_RANGES);
}

/** Start offset (units) of a live node; 0 for an unknown id. */
export function ra_offset(ra: usize, id: u32): u64 {
  if (id >= load<u32>(ra, H_NODE_COUNT)) {
    if (DEBUG) assert(false, "ra_offset: unknown node");
    return 0;
  }
  const p = nodeAt(chunks(ra), id);
  if (DEBUG) assert(load<u64>(p, N_SIZE) & USED, "ra_offset: node not live");
  return load<u64>(p, N_OFFSET);
}

/** Size (units) of a live node, exactly as requested; 0 for an unknown id. */
export function ra_size(ra: usize, id: u32): u64 {
  if (id >= load<u32>(ra, H_NODE_COUNT)) {
    if (DEBUG) assert(false, "ra_size: unknown node");
    return 0;
  }
  const word = load<u64>(nodeAt(chunks(ra), id), N_SIZE);
  if (DEBUG) assert(word & USED, "ra_size: node not live");
  return word & SIZE_MASK;
}

export function ra_used(ra: usize): u64 {
  return load<u64>(ra, H_USED);
}

export function ra_free_units(ra: usize): u64 {
  return load<u64>(ra, H_CAPACITY) - load<u64>(ra, H_USED);
}

/** Largest free range: scans the highest non-empty bin. */
export function ra_largest_free(ra: usize): u64 {
  const top = load<u64>(ra, H_TOP);
  if (!top) return 0;
  const e = <u32>(63 - clz(top));
  const bin = (e << MANTISSA_BITS) | <u32>(31 - clz(<u32>load<u8>(leafPtr(ra, e))));
  let best: u64 = 0;
  let id = load<u32>(headPtr(ra, bin));
  while (id != NONE) {
    const p = nodeAt(chunks(ra), id);
    const s = load<u64>(p, N_SIZE);
    if (s > best) best = s;
    id = load<u32>(p, N_BIN_NEXT);
  }
  return best;
}

export function ra_free_ranges(ra: usize): u32 {
  return load<u32>(ra, H_RANGES);
}

export function ra_live(ra: usize): u32 {
  return load<u32>(ra, H_LIVE);
}

export function ra_capacity(ra: usize): u64 {
  return load<u64>(ra, H_CAPACITY);
}

/** Bytes of linear memory held by the instance's bookkeeping (header, chunk table, node chunks). */
export function ra_footprint(ra: usize): usize {
  const nodes = <usize>load<u32>(ra, H_NODE_CAP);
  return HEADER_SIZE + (<usize>load<u32>(ra, H_CHUNKS_CAP) << alignof<usize>()) + (nodes << NODE_BITS);
}

// ra_check's tallies, handed from one of its parts to the next (tests only: never reentered)
let ckSlots: u32 = 0;
let ckNodes: u32 = 0;
let ckFirst: u32 = NONE;
let ckFree: u32 = 0;

/**
 * Full consistency check, O(nodes + bins); for tests. 0 if consistent, otherwise the number of
 * the first failed check.
 */
export function ra_check(ra: usize): u32 {
  let failed = checkFreeSlots(ra);
  if (failed == 0) failed = checkNodes(ra);
  if (failed == 0) failed = checkChain(ra);
  if (failed == 0) failed = checkBins(ra);
  return failed;
}

/** ra_check 1-3: the free-slot list holds only empty slots, once each. */
function checkFreeSlots(ra: usize): u32 {
  const count = load<u32>(ra, H_NODE_COUNT);
  ckSlots = 0;
  let s = load<u32>(ra, H_FREE_SLOT);
  while (s != NONE) {
    if (s >= count) return 1;
    const p = nodeAt(chunks(ra), s);
    if (load<u64>(p, N_SIZE) != 0) return 2;
    if (++ckSlots > count) return 3;
    s = load<u32>(p, N_BIN_NEXT);
  }
  return 0;
}

/** ra_check 4-6: every slot is a node or free, and exactly one node has no left neighbour. */
function checkNodes(ra: usize): u32 {
  const count = load<u32>(ra, H_NODE_COUNT);
  ckFirst = NONE;
  ckNodes = 0;
  for (let id: u32 = 0; id < count; id++) {
    const p = nodeAt(chunks(ra), id);
    if (!(load<u64>(p, N_SIZE) & SIZE_MASK)) continue;
    ckNodes++;
    if (load<u32>(p, N_PREV) == NONE) {
      if (ckFirst != NONE) return 4;
      ckFirst = id;
    }
  }
  if (ckNodes + ckSlots != count) return 5;
  if (ckFirst == NONE) return 6;
  return 0;
}

/** ra_check 7-17: the neighbour chain covers [0, capacity) contiguously and matches the header. */
function checkChain(ra: usize): u32 {
  const count = load<u32>(ra, H_NODE_COUNT);
  let at: u64 = 0, used: u64 = 0;
  let live: u32 = 0, free: u32 = 0, seen: u32 = 0;
  let prev = NONE;
  let prevFree = false;
  let id = ckFirst;
  while (id != NONE) {
    if (id >= count) return 7;
    if (++seen > ckNodes) return 8;
    const p = nodeAt(chunks(ra), id);
    if (load<u32>(p, N_PREV) != prev) return 9;
    if (load<u64>(p, N_OFFSET) != at) return 10;
    const word = load<u64>(p, N_SIZE);
    const size = word & SIZE_MASK;
    if (!size) return 11;
    if (word & USED) {
      live++;
      used += size;
      prevFree = false;
    } else {
      if (prevFree) return 12; // two adjacent free ranges
      free++;
      prevFree = true;
    }
    at += size;
    prev = id;
    id = load<u32>(p, N_NEXT);
  }
  ckFree = free;
  if (seen != ckNodes) return 13;
  if (at != load<u64>(ra, H_CAPACITY)) return 14;
  if (used != load<u64>(ra, H_USED)) return 15;
  if (live != load<u32>(ra, H_LIVE)) return 16;
  if (free != load<u32>(ra, H_RANGES)) return 17;
  return 0;
}

/** ra_check 18-26: the bitmaps say which bins hold ranges, and each bin holds its free ranges. */
function checkBins(ra: usize): u32 {
  const count = load<u32>(ra, H_NODE_COUNT);
  let binned: u32 = 0;
  const top = load<u64>(ra, H_TOP);
  for (let e: u32 = 0; e < EXP_COUNT; e++) {
    const leaf = <u32>load<u8>(leafPtr(ra, e));
    if ((leaf != 0) != (((top >> <u64>e) & 1) != 0)) return 18;
    for (let m: u32 = 0; m < MANTISSA_VALUE; m++) {
      const bin = (e << MANTISSA_BITS) | m;
      let b = load<u32>(headPtr(ra, bin));
      if ((b != NONE) != (((leaf >> m) & 1) != 0)) return 19;
      let bprev = NONE;
      while (b != NONE) {
        if (b >= count) return 20;
        if (++binned > ckFree) return 21;
        const p = nodeAt(chunks(ra), b);
        const word = load<u64>(p, N_SIZE);
        if ((word & USED) || !word) return 22;
        if (binFloor(word) != bin) return 23;
        if (load<u32>(p, N_BIN_PREV) != bprev) return 24;
        bprev = b;
        b = load<u32>(p, N_BIN_NEXT);
      }
    }
  }
  if ((top >> EXP_COUNT) != 0) return 25;
  if (binned != ckFree) return 26;
  return 0;
}
