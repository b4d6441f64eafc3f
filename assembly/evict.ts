// Eviction and demotion: the least recently used unleased object of a medium goes; an HBM
// victim is copied to DRAM (by the TS side, through the backend) when DRAM has room.
import { MMC_OK, MMC_OBJECT_NOT_EXISTS, MMC_UNMATCHED_STATE, DEMOTE, EVICTED } from './codes';
import { poolAlloc, poolNeed } from './pool';
import { metaRoom } from './meta';
import {
  records, rec, blob, recInit, recNumBlobs, recSetNumBlobs, recState, recSetState, recSize, recFirstBlob,
  recSetFirstBlob, recGen, recPrev, recMedium, recSetMedium, recFlags, recSetFlags,
  blobNode, blobSeg, blobLeases, blobSetLeases, blobNext, blobExpiry, blobSetExpiry,
  REC_READABLE, REC_ZOMBIE, REC_SHADOW, FLAG_MOVING, BLOB_ALLOCATED, MAX_LEASES, records, blobs,
} from './object';
import { listPush, listRemove, listTail, LIST_PENDING } from './lists';
import {
  segAllocator, segRank, mediumCount, mediumSlot, mediumTotal, mediumUsed, alignShift, anyDraining, MEDIUM_HBM, MEDIUM_DRAM,
} from './segment';
import { ra_offset, ra_grow_need } from './allocator';
import { countEvict, tpBegin, tpEnd, TP_EVICT } from './stats';
import { setOut, clockMs, nowMs, msOf, expired, allocTimeoutMs, thresholdHigh, thresholdLow, nextGeneration } from './scratch';
import { dropDrainingBlobs } from './drain';
import { unitsOf, lruOf, placeBlobs, freeAllBlobs, freeRecord, reapBlobs, reapZombie, removeRecord, markReadable } from './lifecycle';

// How far eviction walks from the LRU tail past leased objects before giving up.
// @ts-ignore: decorator
@inline const EVICT_SCAN: u32 = 64;

/** True while the medium's usage is above its low watermark. */
export function over_low(m: u32): bool {
  return mediumUsed(m) * 100 > <u64>thresholdLow * mediumTotal(m);
}

/** Bytes of metadata the shadow of a demotion of `replicas` blobs may take. */
function demoteNeed(replicas: u32): u64 {
  let need = poolNeed(records, 1) + poolNeed(blobs, replicas);
  for (let i: u32 = 0; i < mediumCount(MEDIUM_DRAM); i++) need += ra_grow_need(segAllocator(mediumSlot(MEDIUM_DRAM, i)));
  return need;
}

/** True when the demotion can lease every source blob once more. */
function leasable(id: u32): bool {
  let b = recFirstBlob(rec(id));
  while (b) {
    const bp = blob(b);
    if (blobLeases(bp) >= MAX_LEASES) return false;
    b = blobNext(bp);
  }
  return true;
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
 * True when object `id` of medium m can go to DRAM: it is in HBM, its copies keep DRAM at or
 * under its high watermark, the demotion can lease every source, and the shadow's metadata fits.
 */
function demotable(id: u32, m: u32, units: u64): bool {
  const r = rec(id);
  return m == MEDIUM_HBM && mediumCount(MEDIUM_DRAM) > 0 &&
    (mediumUsed(MEDIUM_DRAM) + ((<u64>recNumBlobs(r) * units) << alignShift)) * 100 <= <u64>thresholdHigh * mediumTotal(MEDIUM_DRAM) &&
    leasable(id) && metaRoom(demoteNeed(recNumBlobs(r)));
}

/**
 * Evicts the least recently used unleased object of medium `m`. 0: none to evict. EVICTED: it
 * was removed. DEMOTE: an HBM object gets DRAM blobs; OUT: [0] victim id, [1] gen, [2] shadow id,
 * [3] copy pairs, [4] size, [5] start time, then per pair [8 + 4i] source slot, source offset,
 * target slot, target offset. The caller copies, then calls demote_end.
 */
export function evict_next(m: u32): i32 {
  const t0 = clockMs();
  const now = msOf(t0);
  let id = listTail(lruOf(m));
  for (let k: u32 = 0; id && k < EVICT_SCAN; k++) {
    if (!leased(id, now)) break;
    id = recPrev(rec(id));
  }
  if (id == 0 || leased(id, now)) return 0;
  tpBegin(TP_EVICT);
  // demote when DRAM has room (else the victim is removed, which frees metadata too)
  if (demotable(id, m, unitsOf(recSize(rec(id)))) && demoteBegin(id, m, t0)) return DEMOTE;
  removeRecord(id, now);
  countEvict();
  tpEnd(TP_EVICT, MMC_OK, t0, clockMs());
  return EVICTED;
}

/**
 * Starts the demotion of `id` from medium m: a SHADOW record holds its DRAM blobs, the sources
 * are leased, OUT says what to copy (see evict_next). False when DRAM had no room after all.
 */
function demoteBegin(id: u32, m: u32, t0: f64): bool {
  const now = msOf(t0);
  const r = rec(id);
  const shadow = poolAlloc(records);
  const sr = rec(shadow);
  const firstRank = segRank(blobSeg(blob(recFirstBlob(r))));
  recSetState(sr, REC_SHADOW); // placeBlobs may free it on failure
  const got = placeBlobs(shadow, MEDIUM_DRAM, unitsOf(recSize(r)), recNumBlobs(r), 1, firstRank, BLOB_ALLOCATED, now + allocTimeoutMs);
  if (got == 0) {
    freeRecord(shadow); // placeBlobs left it empty, still a SHADOW
    return false;
  }
  recInit(sr, 0, 0, recSize(r), MEDIUM_DRAM, REC_SHADOW, nextGeneration()); // keeps the chain
  listPush(LIST_PENDING, shadow);
  listRemove(lruOf(m), id);
  recSetFlags(r, recFlags(r) | FLAG_MOVING);
  // the sources are leased for as long as a writer may take
  let b = recFirstBlob(r);
  while (b) {
    const bp = blob(b);
    blobSetLeases(bp, blobLeases(bp) + 1);
    blobSetExpiry(bp, now + allocTimeoutMs);
    b = blobNext(bp);
  }
  setOut(0, <f64>id);
  setOut(1, <f64>recGen(r));
  setOut(2, <f64>shadow);
  setOut(3, <f64>got);
  setOut(4, <f64>recSize(r));
  setOut(5, t0);
  outCopyPairs(r, sr);
  return true;
}

/** OUT from [8]: pair i copies source blob (i mod sources) of `r` to target blob i of `sr`. */
function outCopyPairs(r: usize, sr: usize): void {
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
}

/** Ends a demotion: on success the object's blobs become the DRAM ones; else it is removed. */
export function demote_end(id: u32, gen: u32, shadow: u32, ok: bool, t0: f64): void {
  const now = nowMs();
  const r = rec(id);
  const sr = rec(shadow);
  // The swap below is the one move of blobs between records: none of a draining segment may
  // cross it, or a drain's cursor could miss it (drain.ts). The object's own stay in its chain.
  if (anyDraining()) dropDrainingBlobs(shadow);
  // release the demotion's leases on the sources
  let b = recFirstBlob(r);
  while (b) {
    const bp = blob(b);
    const leases = blobLeases(bp);
    if (DEBUG) assert(leases > 0, 'demote_end: a source blob lost the lease of its demotion');
    if (leases > 0) blobSetLeases(bp, leases - 1);
    b = blobNext(bp);
  }
  if (DEBUG) assert((recFlags(r) & FLAG_MOVING) != 0 && recState(sr) == REC_SHADOW, 'demote_end: no demotion in flight');
  recSetFlags(r, recFlags(r) & ~FLAG_MOVING);
  listRemove(LIST_PENDING, shadow);
  const alive = recGen(r) == gen && recState(r) == REC_READABLE;
  // A reader that took a lease during the copy releases it by this record (obj_get_end): its
  // blob must stay in this record's chain, so the object stays where it is.
  const read = alive && leased(id, now);
  if (ok && alive && recNumBlobs(sr) > 0 && !read) {
    // swap chains: the object takes the DRAM blobs, the shadow keeps the HBM ones to free
    const oldFirst = recFirstBlob(r);
    const oldCount = recNumBlobs(r);
    recSetFirstBlob(r, recFirstBlob(sr));
    recSetNumBlobs(r, recNumBlobs(sr));
    recSetMedium(r, MEDIUM_DRAM);
    markReadable(id);
    recSetFirstBlob(sr, oldFirst);
    recSetNumBlobs(sr, oldCount);
    if (anyDraining()) dropDrainingBlobs(shadow);
    if (reapBlobs(shadow, now) == 0) freeRecord(shadow);
    else { recSetState(sr, REC_ZOMBIE); listPush(LIST_PENDING, shadow); }
    countEvict();
    tpEnd(TP_EVICT, MMC_OK, t0, clockMs());
    return;
  }
  freeAllBlobs(shadow);
  freeRecord(shadow);
  if (read && ok) {
    listPush(lruOf(recMedium(r)), id);
    tpEnd(TP_EVICT, MMC_UNMATCHED_STATE, t0, clockMs());
  } else if (alive) {
    // the copy failed: evict by removal
    listPush(lruOf(recMedium(r)), id);
    removeRecord(id, now);
    countEvict();
    tpEnd(TP_EVICT, MMC_OK, t0, clockMs());
  } else {
    if (recState(r) == REC_ZOMBIE) reapZombie(id, now);
    tpEnd(TP_EVICT, MMC_OBJECT_NOT_EXISTS, t0, clockMs());
  }
}
