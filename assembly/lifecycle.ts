// The lifecycle of records and blobs: placing blobs in segments, leaving the index, freeing
// what no reader or writer holds any more, and the zombies that wait until then.
//
// A writer holds its blobs only while a write is in flight (the record's pins): every write
// first checks in the core that its handle is still ALLOCATED and before its deadline
// (obj_write_begin), so blobs that no write holds can be freed the moment their object is
// removed, expires or fails, and a late writer never writes another object's space.
import { metaAlloc, metaFree, blockNeed } from './meta';
import { poolAlloc, poolFree } from './pool';
import {
  records, blobs, rec, blob, blobInit, recClearKey, recPrev, recNext,
  recKeyPtr, recKeyLen, recSetNumBlobs, recState, recSetState, recMedium, recFlags, recPins,
  recFirstBlob, recSetFirstBlob, recGen,
  blobNode, blobSeg, blobState, blobSetState, blobLeases, blobNext, blobSetNext, blobExpiry, blobSetExpiry,
  REC_FREE, REC_ALLOCATED, REC_READABLE, REC_ZOMBIE, FLAG_MOVING,
  BLOB_FREE, BLOB_ALLOCATED, BLOB_READABLE, BLOB_REMOVING,
} from './object';
import { indexRemove, keyHash } from './keyindex';
import { listPush, listRemove, LIST_PENDING } from './lists';
import { segAllocator, segRank, segMedium, segDraining, mediumCount, mediumSlot, addUsed, alignShift } from './segment';
import { ra_alloc, ra_free, ra_offset, ra_size, RA_NONE } from './allocator';
import { scratch, setOut, expired } from './scratch';
import { holdRange } from './held';

let readable: u32 = 0;      // READABLE objects: the stored_keys gauge

export function readableCount(): u32 { return readable; }

// @ts-ignore: decorator
@inline export function unitsOf(size: u64): u64 { return (size + (<u64>1 << alignShift) - 1) >> alignShift; }
/** The LRU list of a medium (LIST_LRU_HBM == MEDIUM_HBM, LIST_LRU_DRAM == MEDIUM_DRAM). */
// @ts-ignore: decorator
@inline export function lruOf(m: u32): u32 { return m; }

/** Bytes of metadata storeKey takes. */
// @ts-ignore: decorator
@inline export function keyNeed(keyLen: u32): u64 { return blockNeed(<u64>keyLen); }

/** A heap copy of the key in the scratch area. */
export function storeKey(keyLen: u32): usize {
  const kp = metaAlloc(<usize>keyLen);
  memory.copy(kp, scratch, <usize>keyLen);
  return kp;
}

/** An ALLOCATED (or demoted) object's blobs become readable and it joins its medium's LRU. */
export function markReadable(id: u32): void {
  const r = rec(id);
  let b = recFirstBlob(r);
  while (b) {
    const bp = blob(b);
    blobSetState(bp, BLOB_READABLE);
    blobSetExpiry(bp, 0);
    b = blobNext(bp);
  }
  if (recState(r) != REC_READABLE) {
    recSetState(r, REC_READABLE);
    readable++;
  }
  listPush(lruOf(recMedium(r)), id);
}

/** A record that lost all its blobs: out of every structure. A moving one stays for demote_end. */
export function dropEmpty(id: u32): void {
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

export function unlinkKey(id: u32): void {
  const r = rec(id);
  const kp = recKeyPtr(r);
  indexRemove(keyHash(kp, recKeyLen(r)), id);
  metaFree(kp);
  recClearKey(r);
}

export function freeRecord(id: u32): void {
  const r = rec(id);
  if (DEBUG) assert(recState(r) != REC_FREE, 'record freed twice');
  if (DEBUG) assert(recFirstBlob(r) == 0, 'freeing a record that still has blobs');
  if (DEBUG) assert(recPrev(r) == 0 && recNext(r) == 0, 'freeing a record still in a list');
  recSetState(r, REC_FREE);
  poolFree(records, id);
}

/** Frees a blob of record generation `gen`: its range goes back to the allocator, or is held (held.ts). */
function freeBlob(b: u32, gen: u32): void {
  const bp = blob(b);
  const slot = blobSeg(bp);
  const ra = segAllocator(slot);
  const node = blobNode(bp);
  if (DEBUG) assert(blobState(bp) != BLOB_FREE, 'blob freed twice');
  // a draining segment's bytes left its medium's usage when its drain began
  if (!segDraining(slot)) addUsed(segMedium(slot), -<i64>(ra_size(ra, node) << alignShift));
  if (!holdRange(slot, node, gen)) ra_free(ra, node);
  blobSetState(bp, BLOB_FREE);
  poolFree(blobs, b);
}

/** Frees every blob of a record (all known free to go), then the record. */
export function freeAllBlobs(id: u32): void {
  const r = rec(id);
  const gen = recGen(r);
  let b = recFirstBlob(r);
  while (b) {
    const next = blobNext(blob(b));
    freeBlob(b, gen);
    b = next;
  }
  recSetFirstBlob(r, 0);
  recSetNumBlobs(r, 0);
}

/**
 * Frees the blobs of a record that nobody holds any more: no unexpired read lease, no write in
 * flight. Returns the blobs kept.
 */
export function reapBlobs(id: u32, now: u32): u32 {
  const r = rec(id);
  const pinned = recPins(r) > 0;
  let prev: u32 = 0;
  let kept: u32 = 0;
  let b = recFirstBlob(r);
  while (b) {
    const bp = blob(b);
    const next = blobNext(bp);
    const st = blobState(bp);
    let keep = false;
    if (st == BLOB_ALLOCATED) keep = pinned;
    else keep = blobLeases(bp) > 0 && !expired(blobExpiry(bp), now);
    if (keep) {
      if (st != BLOB_ALLOCATED) blobSetState(bp, BLOB_REMOVING);
      prev = b;
      kept++;
    } else {
      if (prev) blobSetNext(blob(prev), next); else recSetFirstBlob(r, next);
      freeBlob(b, recGen(r));
    }
    b = next;
  }
  recSetNumBlobs(r, kept);
  return kept;
}

/** Takes a keyed record out of the index and its list; frees it now or leaves a zombie. */
export function removeRecord(id: u32, now: u32): void {
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
  if (reapBlobs(id, now) == 0 && !moving) {
    freeRecord(id);
  } else {
    recSetState(r, REC_ZOMBIE);
    listPush(LIST_PENDING, id);
  }
}

/**
 * Ends an ALLOCATED record whose writer lost its claim (expired, write_fail, a segment
 * unmounted): the key goes at once; the blobs too, or when the last write in flight ends.
 */
export function dropAllocated(id: u32): void {
  const r = rec(id);
  if (DEBUG) assert(recState(r) == REC_ALLOCATED, 'dropAllocated: not being written');
  unlinkKey(id);
  if (recPins(r) > 0) {
    recSetState(r, REC_ZOMBIE); // stays on the pending list
    return;
  }
  listRemove(LIST_PENDING, id);
  freeAllBlobs(id);
  freeRecord(id);
}

/** A zombie that nobody holds any more is freed; true if it was. */
export function reapZombie(id: u32, now: u32): bool {
  if (reapBlobs(id, now) != 0 || (recFlags(rec(id)) & FLAG_MOVING) != 0) return false;
  listRemove(LIST_PENDING, id);
  freeRecord(id);
  return true;
}

/**
 * Reserves `replicas` blobs of `units` on distinct ranks of medium `m`, starting at
 * `preferredRank`; links them as the chain of record `id` with `state`. Returns how many it got;
 * with fewer than `min` it undoes everything and returns 0.
 */
export function placeBlobs(id: u32, m: u32, units: u64, replicas: u32, min: u32, preferredRank: u32, state: u8, expiry: u32): u32 {
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
export function outBlobs(id: u32, at: u32, stride: u32): void {
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
