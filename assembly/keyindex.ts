// The key index: key bytes -> record id, in SHARDS open-addressing tables with linear probing.
// A slot is 8 bytes: u32 low hash, u32 record id (0 = empty). Lookups compare the full key.
// Each shard grows on its own (doubling at 3/4 load), incrementally: while a shard moves from its
// old table to the new one, lookups and removes look in both, and inserts go to the new one.
// The old table is moved out of a whole cluster at a time, so that the clusters left in it stay
// intact and probing them stays right. Deletion shifts the following cluster back, so there are
// no tombstones.
import { hashBytes } from './hash';
import { metaAlloc, metaFree, blockNeed } from './meta';
import { rec, recKeyPtr, recKeyLen } from './object';

// @ts-ignore: decorator
@inline const SHARD_BITS: u32 = 8;
// @ts-ignore: decorator
@inline const SHARDS: u32 = 1 << SHARD_BITS;
// @ts-ignore: decorator
@inline const INITIAL_SLOTS: u32 = 16;
// A resize is spread over the inserts that follow it, as Redis's incremental rehash: each insert
// first zeroes ZERO_STEP bytes of the new table (zeroing 512 KiB of fresh pages at once cost one
// put ~2 ms of page faults), then moves the old table's clusters over, MOVE_STEP slots or more.
// Both finish long before the new table reaches 3/4 load: a shard at 3/4 load of n slots takes
// 2n * 8 / ZERO_STEP + n / MOVE_STEP inserts to resize, and has 3n/4 more before the next one.
// @ts-ignore: decorator
@inline const ZERO_STEP: u32 = 8192;
// @ts-ignore: decorator
@inline const MOVE_STEP: u32 = 64;
// Shard header:
// @ts-ignore: decorator
@inline const SH_TABLE: usize = 0;   // usize: the slot table inserts go to
// @ts-ignore: decorator
@inline const SH_MASK: usize = 4;    // u32: its slots - 1
// @ts-ignore: decorator
@inline const SH_COUNT: usize = 8;   // u32: keys in the shard, both tables
// @ts-ignore: decorator
@inline const SH_NEXT: usize = 12;   // usize: the grown table being zeroed, 0 when none
// @ts-ignore: decorator
@inline const SH_ZEROED: usize = 16; // u32: bytes of SH_NEXT zeroed so far
// @ts-ignore: decorator
@inline const SH_OLD: usize = 20;    // usize: the table being moved out of, 0 when none
// @ts-ignore: decorator
@inline const SH_OLD_MASK: usize = 24; // u32: its slots - 1
// @ts-ignore: decorator
@inline const SH_CURSOR: usize = 28; // u32: the next old slot to move; the slot before is empty
// @ts-ignore: decorator
@inline const SH_LEFT: usize = 32;   // u32: old slots not scanned yet
// @ts-ignore: decorator
@inline const SHARD_SIZE: usize = 36;
// Slot:
// @ts-ignore: decorator
@inline const SL_HASH: usize = 0;   // u32: low half of the key's hash
// @ts-ignore: decorator
@inline const SL_ID: usize = 4;     // u32: record id, 0 = empty
// @ts-ignore: decorator
@inline const SLOT_SHIFT: usize = 3; // 8 bytes a slot

let shards: usize = 0;

export function indexInit(): void {
  shards = metaAlloc(<usize>SHARDS * SHARD_SIZE);
  memory.fill(shards, 0, <usize>SHARDS * SHARD_SIZE);
  for (let i: u32 = 0; i < SHARDS; i++) {
    const s = shards + <usize>i * SHARD_SIZE;
    const t = metaAlloc(<usize>INITIAL_SLOTS << SLOT_SHIFT);
    memory.fill(t, 0, <usize>INITIAL_SLOTS << SLOT_SHIFT);
    store<usize>(s, t, SH_TABLE);
    store<u32>(s, INITIAL_SLOTS - 1, SH_MASK);
  }
}

// @ts-ignore: decorator
@inline function shardTable(s: usize): usize { return load<usize>(s, SH_TABLE); }
// @ts-ignore: decorator
@inline function shardMask(s: usize): u32 { return load<u32>(s, SH_MASK); }
// @ts-ignore: decorator
@inline function shardCount(s: usize): u32 { return load<u32>(s, SH_COUNT); }
// @ts-ignore: decorator
@inline function shardOld(s: usize): usize { return load<usize>(s, SH_OLD); }
// @ts-ignore: decorator
@inline function shardOldMask(s: usize): u32 { return load<u32>(s, SH_OLD_MASK); }
// @ts-ignore: decorator
@inline function shardNext(s: usize): usize { return load<usize>(s, SH_NEXT); }
// @ts-ignore: decorator
@inline function slotAt(table: usize, i: u32): usize { return table + (<usize>i << SLOT_SHIFT); }
// @ts-ignore: decorator
@inline function slotHash(slot: usize): u32 { return load<u32>(slot, SL_HASH); }
// @ts-ignore: decorator
@inline function slotId(slot: usize): u32 { return load<u32>(slot, SL_ID); }
// @ts-ignore: decorator
@inline function slotSet(slot: usize, lo: u32, id: u32): void {
  store<u32>(slot, lo, SL_HASH);
  store<u32>(slot, id, SL_ID);
}

// @ts-ignore: decorator
@inline function shardOf(h: u64): usize {
  return shards + <usize>(<u32>(h >>> (64 - SHARD_BITS))) * SHARD_SIZE;
}

// @ts-ignore: decorator
@inline function sameKey(id: u32, keyPtr: usize, keyLen: u32): bool {
  const r = rec(id);
  return recKeyLen(r) == keyLen && memory.compare(recKeyPtr(r), keyPtr, keyLen) == 0;
}

export function keyHash(keyPtr: usize, keyLen: u32): u64 {
  return hashBytes(keyPtr, keyLen);
}

function findIn(table: usize, mask: u32, lo: u32, keyPtr: usize, keyLen: u32): u32 {
  let i = lo & mask;
  while (true) {
    const slot = slotAt(table, i);
    const id = slotId(slot);
    if (id == 0) return 0;
    if (slotHash(slot) == lo && sameKey(id, keyPtr, keyLen)) return id;
    i = (i + 1) & mask;
  }
}

/** The record id under this key, 0 when absent. */
export function indexFind(keyPtr: usize, keyLen: u32, h: u64): u32 {
  const s = shardOf(h);
  const id = findIn(shardTable(s), shardMask(s), <u32>h, keyPtr, keyLen);
  const old = shardOld(s);
  return id || !old ? id : findIn(old, shardOldMask(s), <u32>h, keyPtr, keyLen);
}

/** Bytes of metadata indexInsert(h, ...) may allocate: the shard's grown table. */
export function indexNeed(h: u64): u64 {
  const s = shardOf(h);
  return needsGrow(s) ? blockNeed(<u64>(shardMask(s) + 1) << (SLOT_SHIFT + 1)) : 0;
}

// @ts-ignore: decorator
@inline function resizing(s: usize): bool { return shardNext(s) != 0 || shardOld(s) != 0; }

// @ts-ignore: decorator
@inline function needsGrow(s: usize): bool {
  return !resizing(s) && (shardCount(s) + 1) * 4 > (shardMask(s) + 1) * 3;
}

/** Adds a key known to be absent. */
export function indexInsert(h: u64, id: u32): void {
  const s = shardOf(h);
  if (resizing(s)) resizeStep(s);
  else if (needsGrow(s)) {
    const bytes = <usize>(shardMask(s) + 1) << (SLOT_SHIFT + 1);
    store<usize>(s, metaAlloc(bytes), SH_NEXT);
    store<u32>(s, 0, SH_ZEROED);
    resizeStep(s);
  }
  put(shardTable(s), shardMask(s), <u32>h, id);
  store<u32>(s, shardCount(s) + 1, SH_COUNT);
}

// @ts-ignore: decorator
@inline function put(table: usize, mask: u32, lo: u32, id: u32): void {
  let i = lo & mask;
  while (slotId(slotAt(table, i)) != 0) i = (i + 1) & mask;
  slotSet(slotAt(table, i), lo, id);
}

/** One insert's share of a resize: zeroing the new table, then moving clusters out of the old. */
function resizeStep(s: usize): void {
  const next = shardNext(s);
  if (next) {
    const bytes = (shardMask(s) + 1) << (<u32>SLOT_SHIFT + 1);
    const done = load<u32>(s, SH_ZEROED);
    const n = min(ZERO_STEP, bytes - done);
    memory.fill(next + done, 0, n);
    if (done + n < bytes) {
      store<u32>(s, done + n, SH_ZEROED);
      return;
    }
    // zeroed: the new table takes the inserts, the old one is moved out of from an empty slot
    const old = shardTable(s);
    const oldMask = shardMask(s);
    let first: u32 = 0;
    while (slotId(slotAt(old, first)) != 0) first++; // there is one: load stays under 1
    store<usize>(s, old, SH_OLD);
    store<u32>(s, oldMask, SH_OLD_MASK);
    store<u32>(s, first, SH_CURSOR);
    store<u32>(s, oldMask + 1, SH_LEFT);
    store<usize>(s, next, SH_TABLE);
    store<u32>(s, (oldMask << 1) | 1, SH_MASK);
    store<usize>(s, 0, SH_NEXT);
  }
  moveStep(s);
}

/**
 * Moves MOVE_STEP or more old slots' entries to the new table, stopping after an empty slot so
 * that the old table keeps whole clusters only; frees the old table once every slot is scanned.
 */
function moveStep(s: usize): void {
  const old = shardOld(s);
  const oldMask = shardOldMask(s);
  const table = shardTable(s);
  const mask = shardMask(s);
  let i = load<u32>(s, SH_CURSOR);
  let left = load<u32>(s, SH_LEFT);
  let scanned: u32 = 0;
  while (left > 0) {
    const slot = slotAt(old, i);
    const id = slotId(slot);
    i = (i + 1) & oldMask;
    left--;
    scanned++;
    if (id) {
      put(table, mask, slotHash(slot), id);
      slotSet(slot, 0, 0);
    } else if (scanned >= MOVE_STEP) break;
  }
  if (left == 0) {
    if (DEBUG) assert(slotId(slotAt(old, i)) == 0, 'index: an old slot left behind');
    metaFree(old);
    store<usize>(s, 0, SH_OLD);
    return;
  }
  store<u32>(s, i, SH_CURSOR);
  store<u32>(s, left, SH_LEFT);
}

/** Removes `id` from one table when it is there (backward-shift deletion); false when absent. */
function removeFrom(table: usize, mask: u32, lo: u32, id: u32): bool {
  let i = lo & mask;
  while (true) {
    const jid = slotId(slotAt(table, i));
    if (jid == id) break;
    if (jid == 0) return false;
    i = (i + 1) & mask;
  }
  // Pull later members of the cluster into the hole when their home slot does not lie
  // cyclically in (hole, j]. They stay in their cluster: a resize's moved region stays empty.
  let hole = i;
  let j = (i + 1) & mask;
  while (true) {
    const slot = slotAt(table, j);
    const jid = slotId(slot);
    if (jid == 0) break;
    const home = slotHash(slot) & mask;
    const inRange = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!inRange) {
      slotSet(slotAt(table, hole), slotHash(slot), jid);
      hole = j;
    }
    j = (j + 1) & mask;
  }
  slotSet(slotAt(table, hole), 0, 0);
  return true;
}

/** Removes the entry of record `id` (present under hash `h`). */
export function indexRemove(h: u64, id: u32): void {
  const s = shardOf(h);
  const lo = <u32>h;
  if (!removeFrom(shardTable(s), shardMask(s), lo, id)) {
    const old = shardOld(s);
    const found = old != 0 && removeFrom(old, shardOldMask(s), lo, id);
    if (DEBUG) assert(found, 'index: removing an absent record');
  }
  if (DEBUG) assert(shardCount(s) > 0, 'index: shard count underflow');
  store<u32>(s, shardCount(s) - 1, SH_COUNT);
}
