// Unmounting a segment in slices, so that dropping a dead rank's million objects never holds
// the event loop for long: seg_unmount_begin marks the slot DRAINING, seg_unmount_step scans the
// next records from a cursor kept in the slot, seg_unmount_end frees the allocator and the slot.
//
// From begin on, a draining segment is gone for everything but its own drain:
// - placement never picks it: it has left its medium's rank list (segment.ts), which every
//   alloc, demotion target and fallback walks;
// - its bytes count nowhere: its medium's capacity and usage dropped by what it held at begin,
//   and a blob of it freed meanwhile gives nothing back to the medium (lifecycle.ts freeBlob);
// - no call by key (get, exists, query, remove, alloc, update_state, the batches alike) nor the
//   key listing sees a blob of it: each first drops the record's draining blobs (survivesDrain),
//   exactly as the step would, so an object whose only blobs were there reads as absent and one
//   with a replica elsewhere is read from that replica; a writer's next write_begin or commit
//   does the same, so an ALLOCATED object with a blob there fails its put.
//
// Why the cursor scan over [1, high at begin) is complete: a blob joins a record's chain only by
// placement (never on a draining slot) or by the chain swap of demote_end, which first drops the
// draining blobs of both chains it swaps (evict.ts). So records made or reused after begin never
// hold a blob of the slot, and a record the cursor has passed never gains one again.
import { MMC_OK, MMC_INVALID_PARAM, MMC_UNMATCHED_STATE } from './codes';
import { poolFree, poolHigh } from './pool';
import {
  records, blobs, rec, blob, recNumBlobs, recSetNumBlobs, recState, recFirstBlob, recSetFirstBlob,
  blobSeg, blobState, blobSetState, blobNext, blobSetNext,
  REC_FREE, REC_ALLOCATED, REC_READABLE, REC_SHADOW, BLOB_FREE,
} from './object';
import { segActive, segMounted, segDraining, anyDraining, segmentDrain, segmentUnmount, drainCursor, drainSetCursor, drainEnd } from './segment';
import { countOp, OP_UNMOUNT } from './stats';
import { dropEmpty, dropAllocated } from './lifecycle';

/** Records one slice of seg_unmount scans: the one-call seg_unmount's step. */
// @ts-ignore: decorator
@inline const UNMOUNT_ALL: u32 = 0xFFFFFFFF;

/**
 * Drops record `id`'s blobs on draining segments, as an unmount does: an object left without
 * blobs goes (a SHADOW stays for its demote_end), an ALLOCATED one that lost a blob ends (its
 * writer fails at its next write). Leases and writes in flight on the dropped blobs are not
 * waited for: the allocator goes as a whole at seg_unmount_end. Records that lost nothing are
 * left as they were.
 */
export function dropDrainingBlobs(id: u32): void {
  const r = rec(id);
  const st = recState(r);
  if (st == REC_FREE) return;
  const had = recNumBlobs(r);
  let n = had;
  let prev: u32 = 0;
  let b = recFirstBlob(r);
  while (b) {
    const bp = blob(b);
    const next = blobNext(bp);
    if (segDraining(blobSeg(bp))) {
      if (prev) blobSetNext(blob(prev), next); else recSetFirstBlob(r, next);
      blobSetState(bp, BLOB_FREE);
      poolFree(blobs, b);
      n--;
    } else {
      prev = b;
    }
    b = next;
  }
  if (n == had) return;
  recSetNumBlobs(r, n);
  if (n == 0 && st != REC_SHADOW) dropEmpty(id);
  else if (st == REC_ALLOCATED) dropAllocated(id);
}

/**
 * True when the keyed record `id` keeps its key once its draining blobs are dropped (always,
 * while nothing drains): what every call by key asks before it uses a record.
 */
// @ts-ignore: decorator
@inline export function survivesDrain(id: u32): bool {
  if (!anyDraining()) return true;
  dropDrainingBlobs(id);
  const st = recState(rec(id));
  return st == REC_READABLE || st == REC_ALLOCATED;
}

/**
 * Starts unmounting a slot: DRAINING (see above), its records to scan from id 1 up to the
 * records' high mark now. MMC_INVALID_PARAM for a slot not mounted or already draining.
 * Counts the unmount.
 */
export function seg_unmount_begin(slot: u32): i32 {
  if (!segMounted(slot)) {
    countOp(OP_UNMOUNT, MMC_INVALID_PARAM);
    return MMC_INVALID_PARAM;
  }
  segmentDrain(slot, poolHigh(records));
  countOp(OP_UNMOUNT, MMC_OK);
  return MMC_OK;
}

/**
 * Scans the next `maxRecords` record ids of a draining slot, dropping its blobs
 * (dropDrainingBlobs). 1 while records remain to scan, 0 when done, MMC_INVALID_PARAM for a
 * slot not draining.
 */
export function seg_unmount_step(slot: u32, maxRecords: u32): i32 {
  if (!segActive(slot) || !segDraining(slot)) return MMC_INVALID_PARAM;
  const end = drainEnd(slot);
  let id = drainCursor(slot);
  const stop = maxRecords >= end - id ? end : id + maxRecords;
  for (; id < stop; id++) dropDrainingBlobs(id);
  drainSetCursor(slot, id);
  return id < end ? 1 : 0;
}

/**
 * Ends the unmount of a drained slot: its allocator and the slot are freed (the slot may be
 * mounted again). MMC_UNMATCHED_STATE while records remain to scan, MMC_INVALID_PARAM for a
 * slot not draining.
 */
export function seg_unmount_end(slot: u32): i32 {
  if (!segActive(slot) || !segDraining(slot)) return MMC_INVALID_PARAM;
  if (drainCursor(slot) < drainEnd(slot)) return MMC_UNMATCHED_STATE;
  if (DEBUG) assertNoBlobOn(slot);
  segmentUnmount(slot);
  return MMC_OK;
}

/** Debug builds: the drain left no live blob on the slot (the scan was complete). */
function assertNoBlobOn(slot: u32): void {
  const high = poolHigh(blobs);
  for (let b: u32 = 1; b < high; b++) {
    const bp = blob(b);
    assert(blobState(bp) == BLOB_FREE || blobSeg(bp) != slot, 'seg_unmount_end: a blob of the slot outlived its drain');
  }
}

/** Unmounts a slot in one call (begin, every step, end): its blobs are dropped, and objects left without any. */
export function seg_unmount(slot: u32): i32 {
  const code = seg_unmount_begin(slot);
  if (code != MMC_OK) return code;
  while (seg_unmount_step(slot, UNMOUNT_ALL)) { /* one step scans every record */ }
  return seg_unmount_end(slot);
}
