// The object flows of the core: alloc -> commit (update_state), get -> get_end, remove, query,
// eviction and demotion, unmount, the sweep of expired writers and leases. Every call takes its
// key from the scratch area (written there by the TS side) and leaves its results in OUT.
//
// Time comes from the imported `clock` (ms, f64): lease ends and commit deadlines are kept as
// u32 ms and compared wrap-aware.
import {
  MMC_OK, MMC_INVALID_PARAM, MMC_DUPLICATED_OBJECT, MMC_OBJECT_NOT_EXISTS,
  MMC_NOT_ENOUGH_MEMORY, MMC_UNMATCHED_STATE, MMC_UNMATCHED_KEY, NEED_EVICT, DEMOTE, EVICTED,
} from './codes';
import { poolAlloc, poolFree, poolHigh, poolLive, poolBytes } from './pool';
import {
  records, blobs, objectPoolsInit, rec, blob, recInit, blobInit,
  recKeyPtr, recKeyLen, recNumBlobs, recSetNumBlobs, recState, recSetState, recSize, recProt,
  recFirstBlob, recSetFirstBlob, recGen, recPrev, recNext, recMedium, recSetMedium, recFlags, recSetFlags,
  blobNode, blobSeg, blobState, blobSetState, blobLeases, blobSetLeases, blobNext, blobSetNext,
  blobExpiry, blobSetExpiry,
  REC_FREE, REC_ALLOCATED, REC_READABLE, REC_ZOMBIE, REC_SHADOW, FLAG_MOVING,
  BLOB_FREE, BLOB_ALLOCATED, BLOB_READABLE, BLOB_REMOVING,
} from './object';
import { indexInit, indexFind, indexInsert, indexRemove, keyHash, indexCount, indexBytes } from './keyindex';
import { listsInit, listPush, listRemove, listTouch, listTail, listHead, listLength, LIST_PENDING } from './lists';
import {
  segmentsInit, segmentMount, segmentUnmount, segAllocator, segRank, segMedium, segBytes, segActive,
  mediumCount, mediumSlot, mediumTotal, mediumUsed, addUsed, alignShift, segmentUsed,
  mediumLargestUnits, MEDIUM_HBM, MEDIUM_DRAM, MEDIA, MAX_SEGMENTS,
} from './segment';
import { ra_alloc, ra_free, ra_offset, ra_size, ra_largest_free, ra_footprint, RA_NONE } from './allocator';
import {
  statsInit, countOp, countBatch, countEvict, tpBegin, tpEnd, statsPtr,
  OP_ALLOC, OP_GET, OP_REMOVE, OP_REMOVE_ALL, OP_UPDATE_STATE, OP_QUERY, OP_GET_ALL_KEYS,
  OP_EXIST_KEY, OP_MOUNT, OP_UNMOUNT,
  TP_PUT, TP_GET, TP_ALLOC, TP_REMOVE, TP_UPDATE_STATE, TP_QUERY, TP_EVICT,
} from './stats';

@external("env", "clock")
declare function clock(): f64;

// Scratch layout: key bytes, then OUT (f64 results), then the key listing area.
// @ts-ignore: decorator
@inline const SCRATCH_SIZE: usize = 65536;
// @ts-ignore: decorator
@inline const OUT_OFFSET: usize = 2048;
// @ts-ignore: decorator
@inline const LIST_OFFSET: usize = 4096;
// @ts-ignore: decorator
@inline const MAX_KEY: u32 = 1024;
// @ts-ignore: decorator
@inline const MAX_REPLICAS: u32 = 8;
// How far eviction walks from the LRU tail past leased objects before giving up.
// @ts-ignore: decorator
@inline const EVICT_SCAN: u32 = 64;

/** obj_alloc flags */
export const ALLOC_SKIP_WATERMARK: u32 = 1; // the caller has evicted to the low watermark already
export const ALLOC_FINAL: u32 = 2;          // never answer NEED_EVICT: nothing more can be evicted

let scratch: usize = 0;
let out: usize = 0;
let leaseMs: u32 = 2000;
let allocTimeoutMs: u32 = 30000;
let thresholdHigh: u32 = 90;
let thresholdLow: u32 = 80;
let generation: u32 = 0;
let readable: u32 = 0; // READABLE objects: the stored_keys gauge
let keyBlockBytes: f64 = 0;

// @ts-ignore: decorator
@inline function setOut(i: u32, v: f64): void { store<f64>(out + (<usize>i << 3), v); }
// @ts-ignore: decorator
@inline function msOf(t: f64): u32 { return <u32><u64>t; }
// @ts-ignore: decorator
@inline function nowMs(): u32 { return msOf(clock()); }
// @ts-ignore: decorator
@inline function expired(deadline: u32, now: u32): bool { return <i32>(now - deadline) >= 0; }
// @ts-ignore: decorator
@inline function unitsOf(size: u64): u64 { return (size + (<u64>1 << alignShift) - 1) >> alignShift; }
// @ts-ignore: decorator
@inline function lruOf(m: u32): u32 { return m; } // LIST_LRU_HBM == MEDIUM_HBM, LIST_LRU_DRAM == MEDIUM_DRAM

/** Sets up the core; the scratch area's address. `shift` is log2 of the alignment. */
export function core_init(shift: u32, lease: u32, allocTimeout: u32, high: u32, low: u32): usize {
  objectPoolsInit();
  indexInit();
  listsInit();
  segmentsInit(shift);
  statsInit();
  scratch = heap.alloc(SCRATCH_SIZE);
  out = scratch + OUT_OFFSET;
  leaseMs = lease;
  allocTimeoutMs = allocTimeout;
  thresholdHigh = high;
  thresholdLow = low;
  return scratch;
}

export function set_thresholds(high: u32, low: u32): void {
  thresholdHigh = high;
  thresholdLow = low;
}

export function out_ptr(): usize { return out; }
export function list_ptr(): usize { return scratch + LIST_OFFSET; }
export function stats_ptr(): usize { return statsPtr(); }
export function stored_keys(): u32 { return readable; }
export function index_keys(): u32 { return indexCount(); }
export function pending_count(): u32 { return listLength(LIST_PENDING); }
export function lru_length(m: u32): u32 { return listLength(lruOf(m)); }

/**
 * Bytes of metadata: record and blob pools, the index tables, the allocators' bookkeeping and
 * the heap blocks that hold the keys.
 */
export function metadata_bytes(): f64 {
  let allocators: usize = 0;
  for (let m: u32 = 0; m < MEDIA; m++) {
    for (let i: u32 = 0; i < mediumCount(m); i++) allocators += ra_footprint(segAllocator(mediumSlot(m, i)));
  }
  return <f64>(poolBytes(records) + poolBytes(blobs) + indexBytes() + allocators) + keyBlockBytes;
}

/** What the runtime's allocator takes for a key of `len` bytes: a 4-byte header, 16-byte steps. */
// @ts-ignore: decorator
@inline function keyBlock(len: u32): f64 { return <f64>max<u32>(16, (len + 4 + 15) & ~15); }
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
    recSetNumBlobs(r, n);
    if (n == 0 && st != REC_SHADOW) dropEmpty(id);
  }
  segmentUnmount(slot);
  countOp(OP_UNMOUNT, MMC_OK);
  return MMC_OK;
}

/** A record that lost all its blobs: out of every structure. A moving one stays for demote_end. */
function dropEmpty(id: u32): void {
  const r = rec(id);
  const st = recState(r);
  if (st == REC_READABLE || st == REC_ALLOCATED) unlinkKey(id);
  if (st == REC_READABLE) {
    readable--;
    if (recFlags(r) & FLAG_MOVING) { recSetState(r, REC_ZOMBIE); listPush(LIST_PENDING, id); return; }
    listRemove(lruOf(recMedium(r)), id);
  } else {
    listRemove(LIST_PENDING, id);
    if (recFlags(r) & FLAG_MOVING) { recSetState(r, REC_ZOMBIE); listPush(LIST_PENDING, id); return; }
  }
  freeRecord(id);
}

// Byte quantities cross to JS as f64 (exact below 2^53) so that no BigInt is made per call.
export function seg_used(slot: u32): f64 { return segActive(slot) ? <f64>segmentUsed(slot) : 0; }
export function seg_total(slot: u32): f64 { return segActive(slot) ? <f64>segBytes(slot) : 0; }
export function seg_largest_free(slot: u32): f64 {
  return segActive(slot) ? <f64>(ra_largest_free(segAllocator(slot)) << alignShift) : 0;
}
export function medium_used(m: u32): f64 { return m < MEDIA ? <f64>mediumUsed(m) : 0; }
export function medium_total(m: u32): f64 { return m < MEDIA ? <f64>mediumTotal(m) : 0; }
export function medium_ranks(m: u32): u32 { return m < MEDIA ? mediumCount(m) : 0; }

// ---- records and blobs ----

function unlinkKey(id: u32): void {
  const r = rec(id);
  const kp = recKeyPtr(r);
  indexRemove(keyHash(kp, recKeyLen(r)), id);
  keyBlockBytes -= keyBlock(recKeyLen(r));
  heap.free(kp);
  store<u32>(r, 0, 0);
  store<u16>(r, 0, 4);
}

function freeRecord(id: u32): void {
  const r = rec(id);
  if (DEBUG) assert(recFirstBlob(r) == 0, 'freeing a record that still has blobs');
  recSetState(r, REC_FREE);
  poolFree(records, id);
}

function freeBlob(b: u32): void {
  const bp = blob(b);
  const slot = blobSeg(bp);
  const ra = segAllocator(slot);
  const node = blobNode(bp);
  addUsed(segMedium(slot), -<i64>(ra_size(ra, node) << alignShift));
  ra_free(ra, node);
  blobSetState(bp, BLOB_FREE);
  poolFree(blobs, b);
}

/** Frees every blob of a record (all known free to go), then the record. */
function freeAllBlobs(id: u32): void {
  const r = rec(id);
  let b = recFirstBlob(r);
  while (b) {
    const next = blobNext(blob(b));
    freeBlob(b);
    b = next;
  }
  recSetFirstBlob(r, 0);
  recSetNumBlobs(r, 0);
}

/**
 * Frees the blobs of a record that nobody holds any more: no unexpired read lease, no writer
 * before its deadline (or `writerDone`). Returns the blobs kept.
 */
function reapBlobs(id: u32, now: u32, writerDone: bool): u32 {
  const r = rec(id);
  let prev: u32 = 0;
  let kept: u32 = 0;
  let b = recFirstBlob(r);
  while (b) {
    const bp = blob(b);
    const next = blobNext(bp);
    const st = blobState(bp);
    let keep = false;
    if (st == BLOB_ALLOCATED) keep = !writerDone && !expired(blobExpiry(bp), now);
    else keep = blobLeases(bp) > 0 && !expired(blobExpiry(bp), now);
    if (keep) {
      if (st != BLOB_ALLOCATED) blobSetState(bp, BLOB_REMOVING);
      prev = b;
      kept++;
    } else {
      if (prev) blobSetNext(blob(prev), next); else recSetFirstBlob(r, next);
      freeBlob(b);
    }
    b = next;
  }
  recSetNumBlobs(r, kept);
  return kept;
}

/** Takes a keyed record out of the index and its list; frees it now or leaves a zombie. */
function removeRecord(id: u32, now: u32): void {
  const r = rec(id);
  const st = recState(r);
  unlinkKey(id);
  const moving = (recFlags(r) & FLAG_MOVING) != 0;
  if (st == REC_READABLE) {
    readable--;
    if (!moving) listRemove(lruOf(recMedium(r)), id);
  } else {
    listRemove(LIST_PENDING, id);
  }
  if (reapBlobs(id, now, false) == 0 && !moving) {
    freeRecord(id);
  } else {
    recSetState(r, REC_ZOMBIE);
    listPush(LIST_PENDING, id);
  }
}

/**
 * Reserves `replicas` blobs of `units` on distinct ranks of medium `m`, starting at
 * `preferredRank`; links them as the chain of record `id` with `state`. Returns how many it got;
 * with fewer than `min` it undoes everything and returns 0.
 */
function placeBlobs(id: u32, m: u32, units: u64, replicas: u32, min: u32, preferredRank: u32, state: u8, expiry: u32): u32 {
  const n = mediumCount(m);
  let start: u32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    if (segRank(mediumSlot(m, i)) >= preferredRank) { start = i; break; }
  }
  const r = rec(id);
  let got: u32 = 0;
  let last: u32 = 0;
  for (let k: u32 = 0; k < n && got < replicas; k++) {
    const slot = mediumSlot(m, (start + k) % n);
    const node = ra_alloc(segAllocator(slot), units);
    if (node == RA_NONE) continue;
    const b = poolAlloc(blobs);
    blobInit(blob(b), node, slot, state, 0, expiry);
    if (last) blobSetNext(blob(last), b); else recSetFirstBlob(r, b);
    last = b;
    got++;
    addUsed(m, <i64>(units << alignShift));
  }
  if (got < min) {
    freeAllBlobs(id);
    return 0;
  }
  recSetNumBlobs(r, got);
  return got;
}

/** Writes the chain's (segment, byte offset) pairs to OUT from index `at`, `stride` apart. */
function outBlobs(id: u32, at: u32, stride: u32): void {
  let b = recFirstBlob(rec(id));
  let i = at;
  while (b) {
    const bp = blob(b);
    const slot = blobSeg(bp);
    setOut(i, <f64>slot);
    setOut(i + 1, <f64>(ra_offset(segAllocator(slot), blobNode(bp)) << alignShift));
    i += stride;
    b = blobNext(bp);
  }
}

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

function allocDone(code: i32, t0: f64): i32 {
  const t1 = clock();
  countOp(OP_ALLOC, code);
  tpBegin(TP_ALLOC);
  tpEnd(TP_ALLOC, code, t0, t1);
  if (code != MMC_OK) {
    tpBegin(TP_PUT);
    tpEnd(TP_PUT, code, t0, t1);
  }
  return code;
}

/**
 * Reserves space for the key in scratch: ALLOCATED, invisible to get. medium -1 = any.
 * OUT: [0] record id, [1] generation, [2] blobs, [3] start time, [4] medium,
 * then per blob [8 + 2i] segment slot, [9 + 2i] byte offset.
 * NEED_EVICT (OUT[0] = medium): evict there and call again with ALLOC_SKIP_WATERMARK, or
 * ALLOC_FINAL once nothing more can be evicted.
 */
export function obj_alloc(keyLen: u32, sizeBytes: f64, medium: i32, replicas: u32, preferredRank: u32, flags: u32): i32 {
  const t0 = clock();
  const size = <u64>sizeBytes;
  if (keyLen == 0 || keyLen > MAX_KEY || !(sizeBytes >= 1) || sizeBytes > 9007199254740991 || replicas == 0 || replicas > MAX_REPLICAS || medium >= <i32>MEDIA) {
    return allocDone(MMC_INVALID_PARAM, t0);
  }
  const h = keyHash(scratch, keyLen);
  if (indexFind(scratch, keyLen, h)) return allocDone(MMC_DUPLICATED_OBJECT, t0);
  const units = unitsOf(size);
  const mi = medium >= 0 ? medium : chooseMedium(units, replicas);
  if (mi < 0) return allocDone(mediumCount(MEDIUM_HBM) + mediumCount(MEDIUM_DRAM) ? MMC_INVALID_PARAM : MMC_NOT_ENOUGH_MEMORY, t0);
  let m = <u32>mi;
  if (mediumCount(m) == 0) return allocDone(MMC_NOT_ENOUGH_MEMORY, t0);
  if (replicas > mediumCount(m)) return allocDone(MMC_INVALID_PARAM, t0);
  if (units > mediumLargestUnits(m)) return allocDone(MMC_NOT_ENOUGH_MEMORY, t0);
  const canEvict = (flags & ALLOC_FINAL) == 0 && listLength(lruOf(m)) > 0;
  const need = (<u64>replicas * units) << alignShift;
  if (canEvict && (flags & ALLOC_SKIP_WATERMARK) == 0 &&
      (mediumUsed(m) + need) * 100 > <u64>thresholdHigh * mediumTotal(m)) {
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
  if (placed == 0 && medium < 0 && m == MEDIUM_HBM && mediumCount(MEDIUM_DRAM) >= replicas) {
    // nothing more to evict in HBM (all leased or being written): the next tier, if it has room
    m = MEDIUM_DRAM;
    placed = placeBlobs(id, m, units, replicas, replicas, preferredRank, BLOB_ALLOCATED, now + allocTimeoutMs);
  }
  if (placed == 0) {
    recSetState(r, REC_ALLOCATED);
    freeRecord(id);
    return allocDone(MMC_NOT_ENOUGH_MEMORY, t0);
  }
  const kp = heap.alloc(<usize>keyLen);
  keyBlockBytes += keyBlock(keyLen);
  memory.copy(kp, scratch, <usize>keyLen);
  const first = recFirstBlob(r);
  const n = recNumBlobs(r);
  recInit(r, kp, keyLen, size, m, REC_ALLOCATED, ++generation);
  recSetFirstBlob(r, first);
  recSetNumBlobs(r, n);
  indexInsert(h, id);
  listPush(LIST_PENDING, id);
  setOut(0, <f64>id);
  setOut(1, <f64>generation);
  setOut(2, <f64>n);
  setOut(3, t0);
  setOut(4, <f64>m);
  outBlobs(id, 8, 2);
  tpBegin(TP_PUT);
  return allocDone(MMC_OK, t0);
}

/** update_state of the alloc handle (id, gen): write ok makes it READABLE, write fail drops it. */
export function obj_commit(id: u32, gen: u32, ok: bool, t0: f64): i32 {
  const tu = clock();
  let code = MMC_OK;
  let putCode = MMC_OK;
  const r = id > 0 && id < poolHigh(records) ? rec(id) : 0;
  const st = r ? recState(r) : REC_FREE;
  if (r == 0 || recGen(r) != gen || (st != REC_ALLOCATED && st != REC_ZOMBIE)) {
    code = MMC_UNMATCHED_KEY;
    putCode = code;
  } else if (st == REC_ZOMBIE) {
    // removed while being written: the writer is done, its blobs can go
    if (reapBlobs(id, nowMs(), true) == 0 && (recFlags(r) & FLAG_MOVING) == 0) {
      listRemove(LIST_PENDING, id);
      freeRecord(id);
    }
    code = MMC_UNMATCHED_KEY;
    putCode = code;
  } else if (ok) {
    let b = recFirstBlob(r);
    while (b) {
      const bp = blob(b);
      blobSetState(bp, BLOB_READABLE);
      blobSetExpiry(bp, 0);
      b = blobNext(bp);
    }
    listRemove(LIST_PENDING, id);
    recSetState(r, REC_READABLE);
    listPush(lruOf(recMedium(r)), id);
    readable++;
  } else {
    unlinkKey(id);
    listRemove(LIST_PENDING, id);
    freeAllBlobs(id);
    freeRecord(id);
    putCode = MMC_OBJECT_NOT_EXISTS;
  }
  const t1 = clock();
  countOp(OP_UPDATE_STATE, code);
  tpBegin(TP_UPDATE_STATE);
  tpEnd(TP_UPDATE_STATE, code, tu, t1);
  tpEnd(TP_PUT, putCode, t0, t1);
  return code;
}

/** True while the alloc handle (id, gen) is still waiting for its update_state. Counts nothing. */
export function obj_handle_live(id: u32, gen: u32): bool {
  if (id == 0 || id >= poolHigh(records)) return false;
  const r = rec(id);
  return recGen(r) == gen && recState(r) == REC_ALLOCATED;
}

/** update_state by key (the two-phase API): OUT as obj_alloc's [0] id, [1] gen. */
export function obj_find_allocated(keyLen: u32): i32 {
  const id = keyLen && keyLen <= MAX_KEY ? indexFind(scratch, keyLen, keyHash(scratch, keyLen)) : 0;
  if (id == 0) {
    countOp(OP_UPDATE_STATE, MMC_UNMATCHED_KEY);
    return MMC_UNMATCHED_KEY;
  }
  const r = rec(id);
  if (recState(r) != REC_ALLOCATED) {
    countOp(OP_UPDATE_STATE, MMC_UNMATCHED_STATE);
    return MMC_UNMATCHED_STATE;
  }
  setOut(0, <f64>id);
  setOut(1, <f64>recGen(r));
  return MMC_OK;
}

// ---- get ----

/**
 * Finds a READABLE blob of the key and leases it. OUT: [0] blob id, [1] start time, [2] size,
 * [3] segment slot, [4] byte offset. The caller reads, then calls obj_get_end.
 */
export function obj_get(keyLen: u32): i32 {
  const t0 = clock();
  tpBegin(TP_GET);
  const id = indexFind(scratch, keyLen, keyHash(scratch, keyLen));
  if (id == 0) return getDone(MMC_UNMATCHED_KEY, t0);
  const r = rec(id);
  if (recState(r) != REC_READABLE) return getDone(MMC_OBJECT_NOT_EXISTS, t0);
  const b = recFirstBlob(r);
  const bp = blob(b);
  const leases = blobLeases(bp);
  if (leases < 255) blobSetLeases(bp, leases + 1);
  blobSetExpiry(bp, msOf(t0) + leaseMs);
  if ((recFlags(r) & FLAG_MOVING) == 0) listTouch(lruOf(recMedium(r)), id);
  const slot = blobSeg(bp);
  setOut(0, <f64>b);
  setOut(1, t0);
  setOut(2, <f64>recSize(r));
  setOut(3, <f64>slot);
  setOut(4, <f64>(ra_offset(segAllocator(slot), blobNode(bp)) << alignShift));
  return MMC_OK;
}

function getDone(code: i32, t0: f64): i32 {
  countOp(OP_GET, code);
  tpEnd(TP_GET, code, t0, clock());
  return code;
}

/** Ends a get: releases the lease, counts the result (code of the read). */
export function obj_get_end(b: u32, code: i32, t0: f64): void {
  const bp = blob(b);
  const leases = blobLeases(bp);
  if (leases > 0 && blobState(bp) != BLOB_FREE) blobSetLeases(bp, leases - 1);
  getDone(code, t0);
}

// ---- exists, query, remove ----

/** exist_key: MMC_OK for a READABLE object (OUT[0] = its size), else MMC_UNMATCHED_KEY. */
export function obj_exists(keyLen: u32): i32 {
  const id = indexFind(scratch, keyLen, keyHash(scratch, keyLen));
  const code = id && recState(rec(id)) == REC_READABLE ? MMC_OK : MMC_UNMATCHED_KEY;
  if (code == MMC_OK) setOut(0, <f64>recSize(rec(id)));
  countOp(OP_EXIST_KEY, code);
  return code;
}

/**
 * OUT: [0] size, [1] prot, [2] blobs, [3] valid (READABLE), [4] medium, [8 + i] rank of blob i.
 */
export function obj_query(keyLen: u32): i32 {
  const t0 = clock();
  tpBegin(TP_QUERY);
  const id = indexFind(scratch, keyLen, keyHash(scratch, keyLen));
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
  countOp(OP_QUERY, code);
  tpEnd(TP_QUERY, code, t0, clock());
  return code;
}

export function obj_remove(keyLen: u32): i32 {
  const t0 = clock();
  tpBegin(TP_REMOVE);
  const id = indexFind(scratch, keyLen, keyHash(scratch, keyLen));
  let code = MMC_UNMATCHED_KEY;
  if (id) {
    removeRecord(id, msOf(t0));
    code = MMC_OK;
  }
  countOp(OP_REMOVE, code);
  tpEnd(TP_REMOVE, code, t0, clock());
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

// ---- eviction and demotion ----

/** True while the medium's usage is above its low watermark. */
export function over_low(m: u32): bool {
  return mediumUsed(m) * 100 > <u64>thresholdLow * mediumTotal(m);
}

function leased(id: u32, now: u32): bool {
  let b = recFirstBlob(rec(id));
  while (b) {
    const bp = blob(b);
    if (blobLeases(bp) > 0 && !expired(blobExpiry(bp), now)) return true;
    b = blobNext(bp);
  }
  return false;
}

/**
 * Evicts the least recently used unleased object of medium `m`. 0: none to evict. EVICTED: it
 * was removed. DEMOTE: an HBM object gets DRAM blobs; OUT: [0] victim id, [1] gen, [2] shadow id,
 * [3] copy pairs, [4] size, [5] start time, then per pair [8 + 4i] source slot, source offset,
 * target slot, target offset. The caller copies, then calls demote_end.
 */
export function evict_next(m: u32): i32 {
  const t0 = clock();
  const now = msOf(t0);
  let id = listTail(lruOf(m));
  for (let k: u32 = 0; id && k < EVICT_SCAN; k++) {
    if (!leased(id, now)) break;
    id = recPrev(rec(id));
  }
  if (id == 0 || leased(id, now)) return 0;
  tpBegin(TP_EVICT);
  const r = rec(id);
  const units = unitsOf(recSize(r));
  // demote when DRAM has room: the copies keep it at or under its high watermark
  if (m == MEDIUM_HBM && mediumCount(MEDIUM_DRAM) > 0 &&
      (mediumUsed(MEDIUM_DRAM) + ((<u64>recNumBlobs(r) * units) << alignShift)) * 100 <= <u64>thresholdHigh * mediumTotal(MEDIUM_DRAM)) {
    const shadow = poolAlloc(records);
    const sr = rec(shadow);
    const firstRank = segRank(blobSeg(blob(recFirstBlob(r))));
    const want = recNumBlobs(r);
    recSetState(sr, REC_SHADOW); // placeBlobs may free it on failure
    const got = placeBlobs(shadow, MEDIUM_DRAM, units, want, 1, firstRank, BLOB_ALLOCATED, now + allocTimeoutMs);
    if (got > 0) {
      const first = recFirstBlob(sr);
      recInit(sr, 0, 0, recSize(r), MEDIUM_DRAM, REC_SHADOW, ++generation);
      recSetFirstBlob(sr, first);
      recSetNumBlobs(sr, got);
      listPush(LIST_PENDING, shadow);
      listRemove(lruOf(m), id);
      recSetFlags(r, recFlags(r) | FLAG_MOVING);
      // the sources are leased for as long as a writer may take
      let b = recFirstBlob(r);
      while (b) {
        const bp = blob(b);
        const leases = blobLeases(bp);
        if (leases < 255) blobSetLeases(bp, leases + 1);
        blobSetExpiry(bp, now + allocTimeoutMs);
        b = blobNext(bp);
      }
      setOut(0, <f64>id);
      setOut(1, <f64>recGen(r));
      setOut(2, <f64>shadow);
      setOut(3, <f64>got);
      setOut(4, <f64>recSize(r));
      setOut(5, t0);
      // pair i copies source blob (i mod sources) to target blob i
      let d = recFirstBlob(sr);
      let s = recFirstBlob(r);
      let i: u32 = 8;
      while (d) {
        const sp = blob(s);
        const dp = blob(d);
        const ss = blobSeg(sp);
        const ds = blobSeg(dp);
        setOut(i, <f64>ss);
        setOut(i + 1, <f64>(ra_offset(segAllocator(ss), blobNode(sp)) << alignShift));
        setOut(i + 2, <f64>ds);
        setOut(i + 3, <f64>(ra_offset(segAllocator(ds), blobNode(dp)) << alignShift));
        i += 4;
        d = blobNext(dp);
        s = blobNext(sp);
        if (s == 0) s = recFirstBlob(r);
      }
      return DEMOTE;
    }
    recSetState(sr, REC_SHADOW);
    freeRecord(shadow);
  }
  removeRecord(id, now);
  countEvict();
  tpEnd(TP_EVICT, MMC_OK, t0, clock());
  return EVICTED;
}

/** Ends a demotion: on success the object's blobs become the DRAM ones; else it is removed. */
export function demote_end(id: u32, gen: u32, shadow: u32, ok: bool, t0: f64): void {
  const now = nowMs();
  const r = rec(id);
  const sr = rec(shadow);
  // release the demotion's leases on the sources
  let b = recFirstBlob(r);
  while (b) {
    const bp = blob(b);
    const leases = blobLeases(bp);
    if (leases > 0) blobSetLeases(bp, leases - 1);
    b = blobNext(bp);
  }
  recSetFlags(r, recFlags(r) & ~FLAG_MOVING);
  listRemove(LIST_PENDING, shadow);
  const alive = recGen(r) == gen && recState(r) == REC_READABLE;
  if (ok && alive && recNumBlobs(sr) > 0) {
    // swap chains: the object takes the DRAM blobs, the shadow keeps the HBM ones to free
    const oldFirst = recFirstBlob(r);
    const oldCount = recNumBlobs(r);
    recSetFirstBlob(r, recFirstBlob(sr));
    recSetNumBlobs(r, recNumBlobs(sr));
    recSetMedium(r, MEDIUM_DRAM);
    let d = recFirstBlob(r);
    while (d) {
      const dp = blob(d);
      blobSetState(dp, BLOB_READABLE);
      blobSetExpiry(dp, 0);
      d = blobNext(dp);
    }
    listPush(lruOf(MEDIUM_DRAM), id);
    recSetFirstBlob(sr, oldFirst);
    recSetNumBlobs(sr, oldCount);
    if (reapBlobs(shadow, now, true) == 0) freeRecord(shadow);
    else { recSetState(sr, REC_ZOMBIE); listPush(LIST_PENDING, shadow); }
    countEvict();
    tpEnd(TP_EVICT, MMC_OK, t0, clock());
    return;
  }
  freeAllBlobs(shadow);
  freeRecord(shadow);
  if (alive) {
    // the copy failed: evict by removal
    listPush(lruOf(recMedium(r)), id);
    removeRecord(id, now);
    countEvict();
    tpEnd(TP_EVICT, MMC_OK, t0, clock());
  } else {
    if (recState(r) == REC_ZOMBIE && reapBlobs(id, now, true) == 0) {
      listRemove(LIST_PENDING, id);
      freeRecord(id);
    }
    tpEnd(TP_EVICT, MMC_OBJECT_NOT_EXISTS, t0, clock());
  }
}

// ---- sweep ----

/** Drops writers past their deadline and frees zombie blobs nobody holds; records freed. */
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
        unlinkKey(id);
        listRemove(LIST_PENDING, id);
        freeAllBlobs(id);
        freeRecord(id);
        freed++;
      }
    } else if (st == REC_ZOMBIE && (recFlags(r) & FLAG_MOVING) == 0) {
      if (reapBlobs(id, now, false) == 0) {
        listRemove(LIST_PENDING, id);
        freeRecord(id);
        freed++;
      }
    }
    id = next;
  }
  return freed;
}
