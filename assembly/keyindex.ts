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
// Shard header: usize table, u32 mask, u32 count
// @ts-ignore: decorator
@inline const SHARD_SIZE: usize = 12;

let shards: usize = 0;
let total: u32 = 0;

export function indexInit(): void {
  shards = metaAlloc(<usize>SHARDS * SHARD_SIZE);
  for (let i: u32 = 0; i < SHARDS; i++) {
    const s = shards + <usize>i * SHARD_SIZE;
    const t = metaAlloc(<usize>INITIAL_SLOTS << 3);
    memory.fill(t, 0, <usize>INITIAL_SLOTS << 3);
    store<usize>(s, t, 0);
    store<u32>(s, INITIAL_SLOTS - 1, 4);
    store<u32>(s, 0, 8);
  }
}

/** Keys in the index. */
export function indexCount(): u32 { return total; }

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
  const table = load<usize>(s, 0);
  const mask = load<u32>(s, 4);
  const lo = <u32>h;
  let i = lo & mask;
  while (true) {
    const slot = table + (<usize>i << 3);
    const id = load<u32>(slot, 4);
    if (id == 0) return 0;
    if (load<u32>(slot) == lo && sameKey(id, keyPtr, keyLen)) return id;
    i = (i + 1) & mask;
  }
}

/** Bytes of metadata indexInsert(h, ...) may allocate: the shard's grown table. */
export function indexNeed(h: u64): u64 {
  const s = shardOf(h);
  const slots = load<u32>(s, 4) + 1;
  return (load<u32>(s, 8) + 1) * 4 > slots * 3 ? blockNeed(<u64>slots << 4) : 0;
}

/** Adds a key known to be absent. */
export function indexInsert(h: u64, id: u32): void {
  const s = shardOf(h);
  let mask = load<u32>(s, 4);
  const count = load<u32>(s, 8) + 1;
  if (count * 4 > (mask + 1) * 3) {
    grow(s);
    mask = load<u32>(s, 4);
  }
  put(load<usize>(s, 0), mask, <u32>h, id);
  store<u32>(s, count, 8);
  total++;
}

// @ts-ignore: decorator
@inline function put(table: usize, mask: u32, lo: u32, id: u32): void {
  let i = lo & mask;
  while (load<u32>(table + (<usize>i << 3), 4) != 0) i = (i + 1) & mask;
  const slot = table + (<usize>i << 3);
  store<u32>(slot, lo);
  store<u32>(slot, id, 4);
}

function grow(s: usize): void {
  const old = load<usize>(s, 0);
  const oldSlots = load<u32>(s, 4) + 1;
  const slots = oldSlots << 1;
  const mask = slots - 1;
  const t = metaAlloc(<usize>slots << 3);
  memory.fill(t, 0, <usize>slots << 3);
  for (let i: u32 = 0; i < oldSlots; i++) {
    const slot = old + (<usize>i << 3);
    const id = load<u32>(slot, 4);
    if (id) put(t, mask, load<u32>(slot), id);
  }
  metaFree(old);
  store<usize>(s, t, 0);
  store<u32>(s, mask, 4);
}

/** Removes the entry of record `id` (present under hash `h`). */
export function indexRemove(h: u64, id: u32): void {
  const s = shardOf(h);
  const table = load<usize>(s, 0);
  const mask = load<u32>(s, 4);
  let i = <u32>h & mask;
  while (load<u32>(table + (<usize>i << 3), 4) != id) {
    if (DEBUG) assert(load<u32>(table + (<usize>i << 3), 4) != 0, 'index: removing an absent record');
    i = (i + 1) & mask;
  }
  // Backward-shift deletion: pull later members of the cluster into the hole when their home
  // slot does not lie cyclically in (hole, j].
  let hole = i;
  let j = (i + 1) & mask;
  while (true) {
    const slot = table + (<usize>j << 3);
    const jid = load<u32>(slot, 4);
    if (jid == 0) break;
    const home = load<u32>(slot) & mask;
    const inRange = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!inRange) {
      const h2 = table + (<usize>hole << 3);
      store<u32>(h2, load<u32>(slot));
      store<u32>(h2, jid, 4);
      hole = j;
    }
    j = (j + 1) & mask;
  }
  store<u64>(table + (<usize>hole << 3), 0);
  store<u32>(s, load<u32>(s, 8) - 1, 8);
  total--;
}

/** Empties every shard (remove_all), keeping the tables' current sizes. */
export function indexClear(): void {
  for (let i: u32 = 0; i < SHARDS; i++) {
    const s = shards + <usize>i * SHARD_SIZE;
    memory.fill(load<usize>(s, 0), 0, <usize>(load<u32>(s, 4) + 1) << 3);
    store<u32>(s, 0, 8);
  }
  total = 0;
}
