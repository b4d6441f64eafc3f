// The object flows of the core: alloc -> commit (update_state), get -> get_end, exists,
// query, remove, the key listing, unmount, and the sweep of expired writers and leases. Every
// call takes its key from the scratch area (written there by the TS side) and leaves its
// results in OUT. Eviction and demotion are in evict.ts.
import {
  MMC_OK, MMC_INVALID_PARAM, MMC_DUPLICATED_OBJECT, MMC_OBJECT_NOT_EXISTS,
  MMC_NOT_ENOUGH_MEMORY, MMC_UNMATCHED_STATE, MMC_UNMATCHED_KEY, MMC_EXCEED_CAPACITY, MMC_TIMEOUT, NEED_EVICT,
} from './codes';
import { poolAlloc, poolFree, poolHigh, poolLive, poolNeed } from './pool';
import { metaSetLimit, metaUsed, metaLimit, metaRoom } from './meta';
import {
  records, blobs, objectPoolsInit, rec, blob, recInit,
  recKeyPtr, recKeyLen, recNumBlobs, recSetNumBlobs, recState, recSetState, recSize, recProt,
  recFirstBlob, recSetFirstBlob, recGen, recNext, recMedium, recFlags, recPins, recSetPins,
  blobNode, blobSeg, blobState, blobSetState, blobLeases, blobSetLeases, blobNext, blobSetNext,
  blobExpiry, blobSetExpiry,
  REC_FREE, REC_ALLOCATED, REC_READABLE, REC_ZOMBIE, REC_SHADOW, FLAG_MOVING,
  BLOB_FREE, BLOB_ALLOCATED, MAX_LEASES, MAX_PINS,
} from './object';
import { indexInit, indexFind, indexInsert, indexNeed, keyHash } from './keyindex';
import { listsInit, listPush, listRemove, listTouch, listHead, listLength, LIST_PENDING } from './lists';
import {
  segmentsInit, segmentMount, segmentUnmount, segAllocator, segRank, segBytes, segActive,
  mediumCount, mediumSlot, mediumTotal, mediumUsed, alignShift, segmentUsed,
  mediumLargestUnits, MEDIUM_HBM, MEDIUM_DRAM, MEDIA,
} from './segment';
import { ra_offset, ra_largest_free, ra_grow_need } from './allocator';
import {
  statsInit, countOp, countBatch, tpBegin, tpEnd, statsPtr,
  OP_ALLOC, OP_GET, OP_REMOVE, OP_REMOVE_ALL, OP_UPDATE_STATE, OP_QUERY, OP_GET_ALL_KEYS,
  OP_EXIST_KEY, OP_MOUNT, OP_UNMOUNT,
  TP_PUT, TP_GET, TP_ALLOC, TP_REMOVE, TP_UPDATE_STATE, TP_QUERY,
} from './stats';
import {
  scratch, scratchInit, outPtr, setOut, nextGeneration, clockMs, msOf, nowMs, expired,
  leaseMs, allocTimeoutMs, thresholdHigh, SCRATCH_SIZE, LIST_OFFSET, MAX_KEY_BYTES,
} from './scratch';
import {
  readableCount, keyNeed, storeKey, markReadable, unitsOf, lruOf, dropEmpty, dropAllocated, freeRecord,
  reapZombie, removeRecord, placeBlobs, outBlobs,
} from './lifecycle';

// @ts-ignore: decorator
@inline const MAX_REPLICAS: u32 = 8;

/** The record of the key in the scratch area, 0 when absent. */
// @ts-ignore: decorator
@inline function findKey(keyLen: u32): u32 { return indexFind(scratch, keyLen, keyHash(scratch, keyLen)); }

/** obj_alloc flags */
export const ALLOC_SKIP_WATERMARK: u32 = 1; // the caller has evicted to the low watermark already
export const ALLOC_FINAL: u32 = 2;          // never answer NEED_EVICT: nothing more can be evicted
/**
 * A flag of every call that counts an operation: the call is an item of a batch, counted on
 * the batch operation only (count_batch), never again on the single one.
 */
export const IN_BATCH: u32 = 4;

// @ts-ignore: decorator
@inline function counted(op: u32, code: i32, flags: u32): void {
  if ((flags & IN_BATCH) == 0) countOp(op, code);
}

/**
 * Sets up the core; the scratch area's address. `shift` is log2 of the alignment, `metaLimit`
 * the cap on metadata bytes (0: all that wasm32 allows less a margin).
 */
export function core_init(shift: u32, lease: u32, allocTimeout: u32, high: u32, low: u32, metaLimit: f64): usize {
  metaSetLimit(<u64>metaLimit);
  objectPoolsInit();
  indexInit();
  listsInit();
  segmentsInit(shift);
  statsInit();
  return scratchInit(lease, allocTimeout, high, low);
}

export function out_ptr(): usize { return outPtr(); }
export function list_ptr(): usize { return scratch + LIST_OFFSET; }
export function stats_ptr(): usize { return statsPtr(); }
export function stored_keys(): u32 { return readableCount(); }
export function pending_count(): u32 { return listLength(LIST_PENDING); }

/**
 * Bytes of metadata: every heap block of the core (record and blob pools, the index tables,
 * the allocators' bookkeeping, the keys, the scratch area), headers included.
 */
export function metadata_bytes(): f64 { return <f64>metaUsed(); }
/** The cap on metadata_bytes (coreMemoryLimit). */
export function metadata_limit(): f64 { return <f64>metaLimit(); }

/** Debug builds only: traps, as a bug would, so that tests see how the store takes a trap. */
export function core_trap(): void {
  if (DEBUG) unreachable();
}

export function live_records(): u32 { return poolLive(records); }
export function live_blobs(): u32 { return poolLive(blobs); }

/** Counts an operation whose outcome was decided on the TS side (e.g. a backend failure). */
export function count_op(op: u32, code: i32): void { countOp(op, code); }
export function count_batch(op: u32, anyFailure: bool, anyNotFound: bool): void { countBatch(op, anyFailure, anyNotFound); }

// ---- segments ----

/** Mounts a segment: its slot (>= 0) or an MMC code. */
export function seg_mount(rank: u32, medium: u32, bytes: f64): i32 {
  const slot = segmentMount(rank, medium, <u64>bytes);
  const code = slot >= 0 ? MMC_OK : (slot == -2 ? MMC_NOT_ENOUGH_MEMORY : MMC_INVALID_PARAM);
  countOp(OP_MOUNT, code);
  return slot >= 0 ? slot : code;
}

/** Unmounts a slot: its blobs are dropped, and objects left without any blob with them. */
export function seg_unmount(slot: u32): i32 {
  if (!segActive(slot)) {
    countOp(OP_UNMOUNT, MMC_INVALID_PARAM);
    return MMC_INVALID_PARAM;
  }
  const high = poolHigh(records);
  for (let id: u32 = 1; id < high; id++) {
    const r = rec(id);
    const st = recState(r);
    if (st == REC_FREE) continue;
    // unlink this slot's blobs; the allocator goes as a whole below
    let prev: u32 = 0;
    let b = recFirstBlob(r);
    let n = recNumBlobs(r);
    while (b) {
      const bp = blob(b);
      const next = blobNext(bp);
      if (blobSeg(bp) == slot) {
        if (prev) blobSetNext(blob(prev), next); else recSetFirstBlob(r, next);
        blobSetState(bp, BLOB_FREE);
        poolFree(blobs, b);
        n--;
      } else {
        prev = b;
      }
      b = next;
    }
    const lost = n < recNumBlobs(r);
    if (lost) recSetNumBlobs(r, n);
    if (n == 0 && st != REC_SHADOW) dropEmpty(id);
    else if (lost && st == REC_ALLOCATED) dropAllocated(id); // its writer fails at its next write
  }
  segmentUnmount(slot);
  countOp(OP_UNMOUNT, MMC_OK);
  return MMC_OK;
}


// Byte quantities cross to JS as f64 (exact below 2^53) so that no BigInt is made per call.
export function seg_used(slot: u32): f64 { return segActive(slot) ? <f64>segmentUsed(slot) : 0; }
export function seg_total(slot: u32): f64 { return segActive(slot) ? <f64>segBytes(slot) : 0; }
export function seg_largest_free(slot: u32): f64 {
  return segActive(slot) ? <f64>(ra_largest_free(segAllocator(slot)) << alignShift) : 0;
}
export function medium_used(m: u32): f64 { return m < MEDIA ? <f64>mediumUsed(m) : 0; }
export function medium_total(m: u32): f64 { return m < MEDIA ? <f64>mediumTotal(m) : 0; }









// ---- put: alloc, then commit ----

/**
 * Picks the medium for an alloc without one: the first tier that can hold the object (HBM,
 * evicting and demoting there as needed), else the next.
 */
function chooseMedium(units: u64, replicas: u32): i32 {
  for (let m: u32 = 0; m < MEDIA; m++) {
    if (mediumCount(m) >= replicas && units <= mediumLargestUnits(m)) return <i32>m;
  }
  for (let m: u32 = 0; m < MEDIA; m++) if (mediumCount(m) >= replicas) return <i32>m;
  return -1;
}

function allocDone(code: i32, t0: f64, flags: u32): i32 {
  const t1 = clockMs();
  counted(OP_ALLOC, code, flags);
  if (code != MMC_OK) setOut(0, 0);
  tpBegin(TP_ALLOC);
  tpEnd(TP_ALLOC, code, t0, t1);
  if (code != MMC_OK) {
    tpBegin(TP_PUT);
    tpEnd(TP_PUT, code, t0, t1);
  }
  return code;
}

/** Bytes of metadata the allocators of medium m may take for one more range each. */
function rangesNeed(m: u32): u64 {
  let need: u64 = 0;
  for (let i: u32 = 0; i < mediumCount(m); i++) need += ra_grow_need(segAllocator(mediumSlot(m, i)));
  return need;
}

/**
 * Reserves space for the key in scratch: ALLOCATED, invisible to get. medium -1 = any.
 * OUT: [0] record id, [1] generation, [2] blobs, [3] start time, [4] medium,
 * then per blob [8 + 2i] segment slot, [9 + 2i] byte offset.
 * NEED_EVICT (OUT[0] = medium): evict there and call again with ALLOC_SKIP_WATERMARK, or
 * ALLOC_FINAL once nothing more can be evicted.
 * MMC_NOT_ENOUGH_MEMORY: OUT[0] = 1 when it is the metadata (coreMemoryLimit) that has no room;
 * nothing is evicted for it.
 */
export function obj_alloc(keyLen: u32, sizeBytes: f64, medium: i32, replicas: u32, preferredRank: u32, flags: u32): i32 {
  const t0 = clockMs();
  const size = <u64>sizeBytes;
  if (keyLen == 0 || keyLen > MAX_KEY_BYTES || !(sizeBytes >= 1) || sizeBytes > 9007199254740991 || replicas == 0 || replicas > MAX_REPLICAS || medium >= <i32>MEDIA) {
    return allocDone(MMC_INVALID_PARAM, t0, flags);
  }
  const h = keyHash(scratch, keyLen);
  if (indexFind(scratch, keyLen, h)) return allocDone(MMC_DUPLICATED_OBJECT, t0, flags);
  const units = unitsOf(size);
  const mi = medium >= 0 ? medium : chooseMedium(units, replicas);
  if (mi < 0) return allocDone(mediumCount(MEDIUM_HBM) + mediumCount(MEDIUM_DRAM) ? MMC_INVALID_PARAM : MMC_NOT_ENOUGH_MEMORY, t0, flags);
  let m = <u32>mi;
  if (mediumCount(m) == 0) return allocDone(MMC_NOT_ENOUGH_MEMORY, t0, flags);
  if (replicas > mediumCount(m)) return allocDone(MMC_INVALID_PARAM, t0, flags);
  if (units > mediumLargestUnits(m)) return allocDone(MMC_NOT_ENOUGH_MEMORY, t0, flags);
  // metadata first: evicting objects would not make the room this put needs
  const fallback = medium < 0 && m == MEDIUM_HBM && mediumCount(MEDIUM_DRAM) >= replicas;
  const need = keyNeed(keyLen) + poolNeed(records, 1) + poolNeed(blobs, replicas) + indexNeed(h) +
    rangesNeed(m) + (fallback ? rangesNeed(MEDIUM_DRAM) : 0);
  if (!metaRoom(need)) {
    const code = allocDone(MMC_NOT_ENOUGH_MEMORY, t0, flags);
    setOut(0, 1);
    return code;
  }
  const canEvict = (flags & ALLOC_FINAL) == 0 && listLength(lruOf(m)) > 0;
  const bytes = (<u64>replicas * units) << alignShift;
  if (canEvict && (flags & ALLOC_SKIP_WATERMARK) == 0 &&
      (mediumUsed(m) + bytes) * 100 > <u64>thresholdHigh * mediumTotal(m)) {
    setOut(0, <f64>m);
    return NEED_EVICT;
  }
  const id = poolAlloc(records);
  const r = rec(id);
  const now = msOf(t0);
  let placed = placeBlobs(id, m, units, replicas, replicas, preferredRank, BLOB_ALLOCATED, now + allocTimeoutMs);
  if (placed == 0 && canEvict) {
    recSetState(r, REC_ALLOCATED); // so that freeRecord's bookkeeping holds
    freeRecord(id);
    setOut(0, <f64>m);
    return NEED_EVICT;
  }
  if (placed == 0 && fallback) {
    // nothing more to evict in HBM (all leased or being written): the next tier, if it has room
    m = MEDIUM_DRAM;
    placed = placeBlobs(id, m, units, replicas, replicas, preferredRank, BLOB_ALLOCATED, now + allocTimeoutMs);
  }
  if (placed == 0) {
    recSetState(r, REC_ALLOCATED);
    freeRecord(id);
    return allocDone(MMC_NOT_ENOUGH_MEMORY, t0, flags);
  }
  const kp = storeKey(keyLen);
  const gen = nextGeneration();
  recInit(r, kp, keyLen, size, m, REC_ALLOCATED, gen); // keeps the blob chain placeBlobs made
  indexInsert(h, id);
  listPush(LIST_PENDING, id);
  setOut(0, <f64>id);
  setOut(1, <f64>gen);
  setOut(2, <f64>placed);
  setOut(3, t0);
  setOut(4, <f64>m);
  outBlobs(id, 8, 2);
  tpBegin(TP_PUT);
  return allocDone(MMC_OK, t0, flags);
}

/**
 * update_state of the alloc handle (id, gen): write ok makes it READABLE, write fail drops it.
 * While a write is in flight (pinned) write ok is refused with MMC_UNMATCHED_STATE.
 */
export function obj_commit(id: u32, gen: u32, ok: bool, t0: f64, flags: u32): i32 {
  const tu = clockMs();
  let code = MMC_OK;
  let putCode = MMC_OK;
  const r = id > 0 && id < poolHigh(records) ? rec(id) : 0;
  const st = r ? recState(r) : REC_FREE;
  if (r == 0 || recGen(r) != gen || (st != REC_ALLOCATED && st != REC_ZOMBIE)) {
    code = MMC_UNMATCHED_KEY;
    putCode = code;
  } else if (st == REC_ZOMBIE) {
    // removed or expired while being written: the writer is done, its blobs can go
    if (recPins(r) == 0) reapZombie(id, nowMs());
    code = MMC_UNMATCHED_KEY;
    putCode = code;
  } else if (ok && recPins(r) > 0) {
    counted(OP_UPDATE_STATE, MMC_UNMATCHED_STATE, flags);
    return MMC_UNMATCHED_STATE; // the put goes on
  } else if (ok) {
    listRemove(LIST_PENDING, id);
    markReadable(id);
  } else {
    dropAllocated(id);
    putCode = MMC_OBJECT_NOT_EXISTS;
  }
  const t1 = clockMs();
  counted(OP_UPDATE_STATE, code, flags);
  tpBegin(TP_UPDATE_STATE);
  tpEnd(TP_UPDATE_STATE, code, tu, t1);
  tpEnd(TP_PUT, putCode, t0, t1);
  return code;
}

/** The record of handle (id, gen) while it is ALLOCATED or a zombie (removed while written); else 0. */
function writerRecord(id: u32, gen: u32): usize {
  if (id == 0 || id >= poolHigh(records)) return 0;
  const r = rec(id);
  const st = recState(r);
  return recGen(r) == gen && (st == REC_ALLOCATED || st == REC_ZOMBIE) ? r : 0;
}

/**
 * Before a write of the handle (id, gen): MMC_OK if it is still ALLOCATED and before its
 * deadline, and then its blobs are pinned until obj_write_end. MMC_UNMATCHED_KEY when the
 * object expired, was removed or reclaimed: nothing may be written. A writer past its deadline
 * is dropped here rather than at the next sweep. Counts nothing.
 */
export function obj_write_begin(id: u32, gen: u32): i32 {
  const r = writerRecord(id, gen);
  if (r == 0 || recState(r) != REC_ALLOCATED) return MMC_UNMATCHED_KEY;
  if (expired(blobExpiry(blob(recFirstBlob(r))), nowMs())) {
    dropAllocated(id);
    return MMC_UNMATCHED_KEY;
  }
  const pins = recPins(r);
  if (pins >= MAX_PINS) return MMC_EXCEED_CAPACITY;
  recSetPins(r, pins + 1);
  return MMC_OK;
}

/**
 * Pins the blobs of a fresh handle whose write went asynchronous in the same turn as its
 * obj_alloc (nothing can have reclaimed it in between). Ends with obj_write_end.
 */
export function obj_pin(id: u32, gen: u32): void {
  const r = writerRecord(id, gen);
  if (DEBUG) assert(r != 0 && recPins(r) < MAX_PINS, 'obj_pin: not a fresh handle');
  if (r) recSetPins(r, recPins(r) + 1);
}

/** Ends a write begun by obj_write_begin or obj_pin; a zombie nobody holds any more is freed. */
export function obj_write_end(id: u32, gen: u32): void {
  const r = writerRecord(id, gen);
  if (r == 0) return;
  const pins = recPins(r);
  if (DEBUG) assert(pins > 0, 'obj_write_end: not pinned');
  if (pins == 0) return;
  recSetPins(r, pins - 1);
  if (pins == 1 && recState(r) == REC_ZOMBIE) reapZombie(id, nowMs());
}

/** True while the alloc handle (id, gen) is still waiting for its update_state. Counts nothing. */
export function obj_handle_live(id: u32, gen: u32): bool {
  if (id == 0 || id >= poolHigh(records)) return false;
  const r = rec(id);
  return recGen(r) == gen && recState(r) == REC_ALLOCATED;
}

/** update_state by key (the two-phase API): OUT as obj_alloc's [0] id, [1] gen. */
export function obj_find_allocated(keyLen: u32, flags: u32): i32 {
  const id = keyLen && keyLen <= MAX_KEY_BYTES ? findKey(keyLen) : 0;
  if (id == 0) {
    counted(OP_UPDATE_STATE, MMC_UNMATCHED_KEY, flags);
    return MMC_UNMATCHED_KEY;
  }
  const r = rec(id);
  if (recState(r) != REC_ALLOCATED) {
    counted(OP_UPDATE_STATE, MMC_UNMATCHED_STATE, flags);
    return MMC_UNMATCHED_STATE;
  }
  setOut(0, <f64>id);
  setOut(1, <f64>recGen(r));
  return MMC_OK;
}

// ---- get ----

/**
 * Finds a READABLE blob of the key and leases it. OUT: [0] blob id, [1] start time, [2] size,
 * [3] segment slot, [4] byte offset, [5] record id, [6] generation. The caller reads, then calls
 * obj_get_end with (record id, generation, blob id). MMC_EXCEED_CAPACITY when every replica
 * already has MAX_LEASES readers.
 */
export function obj_get(keyLen: u32, flags: u32): i32 {
  const t0 = clockMs();
  tpBegin(TP_GET);
  const id = findKey(keyLen);
  if (id == 0) return getDone(MMC_UNMATCHED_KEY, t0, flags);
  const r = rec(id);
  if (recState(r) != REC_READABLE) return getDone(MMC_OBJECT_NOT_EXISTS, t0, flags);
  let b = recFirstBlob(r);
  while (b && blobLeases(blob(b)) >= MAX_LEASES) b = blobNext(blob(b));
  if (b == 0) return getDone(MMC_EXCEED_CAPACITY, t0, flags);
  const bp = blob(b);
  blobSetLeases(bp, blobLeases(bp) + 1);
  blobSetExpiry(bp, msOf(t0) + leaseMs);
  if ((recFlags(r) & FLAG_MOVING) == 0) listTouch(lruOf(recMedium(r)), id);
  const slot = blobSeg(bp);
  setOut(0, <f64>b);
  setOut(1, t0);
  setOut(2, <f64>recSize(r));
  setOut(3, <f64>slot);
  setOut(4, <f64>(ra_offset(segAllocator(slot), blobNode(bp)) << alignShift));
  setOut(5, <f64>id);
  setOut(6, <f64>recGen(r));
  return MMC_OK;
}

function getDone(code: i32, t0: f64, flags: u32): i32 {
  counted(OP_GET, code, flags);
  tpEnd(TP_GET, code, t0, clockMs());
  return code;
}

/**
 * Ends a get: releases the lease taken on blob `b` of record (id, gen) and counts the result
 * (`code` of the read). Returns the get's code: MMC_TIMEOUT when the lease was lost meanwhile
 * (the blob left the record: it outlived its lease and was freed, or its segment was
 * unmounted), for its bytes may then be another object's.
 */
export function obj_get_end(id: u32, gen: u32, b: u32, code: i32, t0: f64, flags: u32): i32 {
  let held = false;
  if (id > 0 && id < poolHigh(records)) {
    const r = rec(id);
    const st = recState(r);
    if (recGen(r) == gen && (st == REC_READABLE || st == REC_ZOMBIE)) {
      let c = recFirstBlob(r);
      while (c && c != b) c = blobNext(blob(c));
      if (c) {
        const bp = blob(c);
        const leases = blobLeases(bp);
        if (leases > 0) blobSetLeases(bp, leases - 1);
        held = true;
      }
    }
  }
  return getDone(held || code != MMC_OK ? code : MMC_TIMEOUT, t0, flags);
}

// ---- exists, query, remove ----

/** exist_key: MMC_OK for a READABLE object (OUT[0] = its size), else MMC_UNMATCHED_KEY. */
export function obj_exists(keyLen: u32, flags: u32): i32 {
  const id = findKey(keyLen);
  const code = id && recState(rec(id)) == REC_READABLE ? MMC_OK : MMC_UNMATCHED_KEY;
  if (code == MMC_OK) setOut(0, <f64>recSize(rec(id)));
  counted(OP_EXIST_KEY, code, flags);
  return code;
}

/**
 * OUT: [0] size, [1] prot, [2] blobs, [3] valid (READABLE), [4] medium, [8 + i] rank of blob i.
 */
export function obj_query(keyLen: u32, flags: u32): i32 {
  const t0 = clockMs();
  tpBegin(TP_QUERY);
  const id = findKey(keyLen);
  let code = MMC_UNMATCHED_KEY;
  if (id) {
    code = MMC_OK;
    const r = rec(id);
    setOut(0, <f64>recSize(r));
    setOut(1, <f64>recProt(r));
    setOut(2, <f64>recNumBlobs(r));
    setOut(3, recState(r) == REC_READABLE ? 1 : 0);
    setOut(4, <f64>recMedium(r));
    let b = recFirstBlob(r);
    let i: u32 = 8;
    while (b) {
      const bp = blob(b);
      setOut(i++, <f64>segRank(blobSeg(bp)));
      b = blobNext(bp);
    }
  }
  counted(OP_QUERY, code, flags);
  tpEnd(TP_QUERY, code, t0, clockMs());
  return code;
}

export function obj_remove(keyLen: u32, flags: u32): i32 {
  const t0 = clockMs();
  tpBegin(TP_REMOVE);
  const id = findKey(keyLen);
  let code = MMC_UNMATCHED_KEY;
  if (id) {
    removeRecord(id, msOf(t0));
    code = MMC_OK;
  }
  counted(OP_REMOVE, code, flags);
  tpEnd(TP_REMOVE, code, t0, clockMs());
  return code;
}

/** Removes every keyed object; how many. */
export function obj_remove_all(): u32 {
  const now = nowMs();
  const high = poolHigh(records);
  let n: u32 = 0;
  for (let id: u32 = 1; id < high; id++) {
    const st = recState(rec(id));
    if (st == REC_READABLE || st == REC_ALLOCATED) {
      removeRecord(id, now);
      n++;
    }
  }
  countOp(OP_REMOVE_ALL, MMC_OK);
  return n;
}

/**
 * Lists READABLE keys from record id `cursor` on into the list area as (u16 length, bytes)
 * entries; OUT[0] = entries. Returns the cursor to continue from, 0 when done. The first call
 * (cursor 1) counts one get_all_keys.
 */
export function keys_fill(cursor: u32): u32 {
  if (cursor <= 1) countOp(OP_GET_ALL_KEYS, MMC_OK);
  const area = scratch + LIST_OFFSET;
  const end = scratch + SCRATCH_SIZE;
  const high = poolHigh(records);
  let p = area;
  let n: u32 = 0;
  let id: u32 = cursor < 1 ? 1 : cursor;
  for (; id < high; id++) {
    const r = rec(id);
    if (recState(r) != REC_READABLE) continue;
    const len = recKeyLen(r);
    if (p + 2 + <usize>len > end) break;
    store<u16>(p, <u16>len);
    memory.copy(p + 2, recKeyPtr(r), <usize>len);
    p += 2 + <usize>len;
    n++;
  }
  setOut(0, <f64>n);
  return id < high ? id : 0;
}





// ---- sweep ----

/**
 * Drops writers past their deadline (their blobs stay while a write is in flight) and frees
 * zombie blobs nobody holds; records dropped.
 */
export function sweep(): u32 {
  const now = nowMs();
  let freed: u32 = 0;
  let id = listHead(LIST_PENDING);
  while (id) {
    const r = rec(id);
    const next = recNext(r);
    const st = recState(r);
    if (st == REC_ALLOCATED) {
      const b = recFirstBlob(r);
      if (b == 0 || expired(blobExpiry(blob(b)), now)) {
        dropAllocated(id);
        freed++;
      }
    } else if (st == REC_ZOMBIE && reapZombie(id, now)) {
      freed++;
    }
    id = next;
  }
  return freed;
}
