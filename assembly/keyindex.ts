// The key index: key bytes -> record id, in SHARDS open-addressing tables with linear probing.
// A slot is 8 bytes: u32 low hash, u32 record id (0 = empty). Lookups compare the full key.
// Each shard grows on its own (doubling at 3/4 load), so a growth step rehashes about
// 1/SHARDS of the keys: bounded work per put instead of one stop-the-world rehash.
// Deletion shifts the following cluster back, so there are no tombstones.
import { hashBytes } from './hash';
import { metaAlloc, metaFree, blockNeed } from './meta';
import { rec, recKeyPtr, recKeyLen } from './object';

// @ts-ignore: decorator
@inline const SHARD_BITS: u32 = 8;
// @ts-ignore: decorator
@inline const SHARDS: u32 = 1 << SHARD_BITS;
// @ts-ignore: decorator
@inline const INITIAL_SLOTS: u32 = 16;
// Shard header:
// @ts-ignore: decorator
@inline const SH_TABLE: usize = 0;  // usize: the slot table
// @ts-ignore: decorator
@inline const SH_MASK: usize = 4;   // u32: slots - 1
// @ts-ignore: decorator
@inline const SH_COUNT: usize = 8;  // u32: keys in the shard
// @ts-ignore: decorator
@inline const SHARD_SIZE: usize = 12;
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
  for (let i: u32 = 0; i < SHARDS; i++) {
    const s = shards + <usize>i * SHARD_SIZE;
    const t = metaAlloc(<usize>INITIAL_SLOTS << 3);
    memory.fill(t, 0, <usize>INITIAL_SLOTS << 3);
    store<usize>(s, t, SH_TABLE);
    store<u32>(s, INITIAL_SLOTS - 1, SH_MASK);
    store<u32>(s, 0, SH_COUNT);
  }
}

// @ts-ignore: decorator
@inline function shardTable(s: usize): usize { return load<usize>(s, SH_TABLE); }
// @ts-ignore: decorator
@inline function shardMask(s: usize): u32 { return load<u32>(s, SH_MASK); }
// @ts-ignore: decorator
@inline function shardCount(s: usize): u32 { return load<u32>(s, SH_COUNT); }
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

/** The record id under this key, 0 when absent. */
export function indexFind(keyPtr: usize, keyLen: u32, h: u64): u32 {
  const s = shardOf(h);
  const table = shardTable(s);
  const mask = shardMask(s);
  const lo = <u32>h;
  let i = lo & mask;
  while (true) {
    const slot = slotAt(table, i);
    const id = slotId(slot);
    if (id == 0) return 0;
    if (slotHash(slot) == lo && sameKey(id, keyPtr, keyLen)) return id;
    i = (i + 1) & mask;
  }
}

/** Bytes of metadata indexInsert(h, ...) may allocate: the shard's grown table. */
export function indexNeed(h: u64): u64 {
  const s = shardOf(h);
  const slots = shardMask(s) + 1;
  return (shardCount(s) + 1) * 4 > slots * 3 ? blockNeed(<u64>slots << (SLOT_SHIFT + 1)) : 0;
}

/** Adds a key known to be absent. */
export function indexInsert(h: u64, id: u32): void {
  const s = shardOf(h);
  let mask = shardMask(s);
  const count = shardCount(s) + 1;
  if (count * 4 > (mask + 1) * 3) {
    grow(s);
    mask = shardMask(s);
  }
  put(shardTable(s), mask, <u32>h, id);
  store<u32>(s, count, SH_COUNT);
}

// @ts-ignore: decorator
@inline function put(table: usize, mask: u32, lo: u32, id: u32): void {
  let i = lo & mask;
  while (slotId(slotAt(table, i)) != 0) i = (i + 1) & mask;
  slotSet(slotAt(table, i), lo, id);
}

function grow(s: usize): void {
  const old = shardTable(s);
  const oldSlots = shardMask(s) + 1;
  const slots = oldSlots << 1;
  const mask = slots - 1;
  const t = metaAlloc(<usize>slots << SLOT_SHIFT);
  memory.fill(t, 0, <usize>slots << SLOT_SHIFT);
  for (let i: u32 = 0; i < oldSlots; i++) {
    const slot = slotAt(old, i);
    const id = slotId(slot);
    if (id) put(t, mask, slotHash(slot), id);
  }
  metaFree(old);
  store<usize>(s, t, SH_TABLE);
  store<u32>(s, mask, SH_MASK);
}

/** Removes the entry of record `id` (present under hash `h`). */
export function indexRemove(h: u64, id: u32): void {
  const s = shardOf(h);
  const table = shardTable(s);
  const mask = shardMask(s);
  let i = <u32>h & mask;
  while (slotId(slotAt(table, i)) != id) {
    if (DEBUG) assert(slotId(slotAt(table, i)) != 0, 'index: removing an absent record');
    i = (i + 1) & mask;
  }
  // Backward-shift deletion: pull later members of the cluster into the hole when their home
  // slot does not lie cyclically in (hole, j].
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
  if (DEBUG) assert(shardCount(s) > 0, 'index: shard count underflow');
  store<u32>(s, shardCount(s) - 1, SH_COUNT);
}
