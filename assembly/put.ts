// The put flow of the core: obj_alloc reserves space (ALLOCATED, invisible to get), the TS side
// writes through the backend between obj_write_begin (or obj_pin) and obj_write_end, and
// obj_commit makes the object READABLE or drops it. update_state by key finds the handle with
// obj_find_allocated.
import {
  MMC_OK, MMC_INVALID_PARAM, MMC_DUPLICATED_OBJECT, MMC_OBJECT_NOT_EXISTS,
  MMC_NOT_ENOUGH_MEMORY, MMC_UNMATCHED_STATE, MMC_UNMATCHED_KEY, MMC_EXCEED_CAPACITY, NEED_EVICT,
} from './codes';
import { poolAlloc, poolHigh, poolNeed } from './pool';
import { metaRoom } from './meta';
import {
  records, blobs, rec, blob, recInit, recNumBlobs, recState, recSetState, recFirstBlob, recGen, recPins, recSetPins,
  blobExpiry, REC_FREE, REC_ALLOCATED, REC_ZOMBIE, BLOB_ALLOCATED, MAX_PINS,
} from './object';
import { indexFind, indexInsert, indexNeed, keyHash } from './keyindex';
import { listPush, listRemove, listLength, LIST_PENDING } from './lists';
import {
  segAllocator, mediumCount, mediumSlot, mediumTotal, mediumUsed, alignShift, mediumLargestUnits, anyDraining,
  MEDIUM_HBM, MEDIUM_DRAM, MEDIA,
} from './segment';
import { ra_grow_need } from './allocator';
import { tpBegin, tpEnd, OP_ALLOC, OP_UPDATE_STATE, TP_PUT, TP_ALLOC, TP_UPDATE_STATE } from './stats';
import {
  scratch, setOut, nextGeneration, clockMs, msOf, nowMs, expired, allocTimeoutMs, thresholdHigh, MAX_KEY_BYTES,
} from './scratch';
import {
  keyNeed, storeKey, markReadable, unitsOf, lruOf, dropAllocated, freeRecord, reapZombie, placeBlobs, outBlobs,
} from './lifecycle';
import { counted, findKey } from './call';
import { survivesDrain, dropDrainingBlobs } from './drain';

// @ts-ignore: decorator
@inline const MAX_REPLICAS: u32 = 8;

/** obj_alloc flags */
export const ALLOC_SKIP_WATERMARK: u32 = 1; // the caller has evicted to the low watermark already
export const ALLOC_FINAL: u32 = 2;          // never answer NEED_EVICT: nothing more can be evicted

// obj_alloc's OUT slots (src/store reads them by the same numbers)
// @ts-ignore: decorator
@inline const OUT_ALLOC_ID: u32 = 0;
// @ts-ignore: decorator
@inline const OUT_ALLOC_GEN: u32 = 1;
// @ts-ignore: decorator
@inline const OUT_ALLOC_BLOBS: u32 = 2;
// @ts-ignore: decorator
@inline const OUT_ALLOC_T0: u32 = 3;
// @ts-ignore: decorator
@inline const OUT_ALLOC_MEDIUM: u32 = 4;
/** Per blob i: [OUT_ALLOC_PAIRS + 2i] segment slot, [OUT_ALLOC_PAIRS + 2i + 1] byte offset. */
// @ts-ignore: decorator
@inline const OUT_ALLOC_PAIRS: u32 = 8;
/** With NEED_EVICT: the medium to evict on. */
// @ts-ignore: decorator
@inline const OUT_ALLOC_MEDIUM_TO_EVICT: u32 = 0;
/** With MMC_NOT_ENOUGH_MEMORY: 1 when it is the metadata (coreMemoryLimit) that has no room. */
// @ts-ignore: decorator
@inline const OUT_ALLOC_META: u32 = 0;

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

/** Why medium `mi` (-1: none fits) cannot take `replicas` blobs of `units`; MMC_OK when it can. */
function mediumRefusal(mi: i32, units: u64, replicas: u32): i32 {
  if (mi < 0) return mediumCount(MEDIUM_HBM) + mediumCount(MEDIUM_DRAM) ? MMC_INVALID_PARAM : MMC_NOT_ENOUGH_MEMORY;
  const m = <u32>mi;
  if (mediumCount(m) == 0) return MMC_NOT_ENOUGH_MEMORY;
  if (replicas > mediumCount(m)) return MMC_INVALID_PARAM;
  if (units > mediumLargestUnits(m)) return MMC_NOT_ENOUGH_MEMORY;
  return MMC_OK;
}

/** Bytes of metadata one more object takes: key, record, blobs, index slot, allocator ranges. */
function allocNeed(keyLen: u32, h: u64, m: u32, replicas: u32, fallback: bool): u64 {
  return keyNeed(keyLen) + poolNeed(records, 1) + poolNeed(blobs, replicas) + indexNeed(h) +
    rangesNeed(m) + (fallback ? rangesNeed(MEDIUM_DRAM) : 0);
}

/** True when `replicas` blobs of `units` would take medium m past its high watermark. */
function overHigh(m: u32, units: u64, replicas: u32): bool {
  const bytes = (<u64>replicas * units) << alignShift;
  return (mediumUsed(m) + bytes) * 100 > <u64>thresholdHigh * mediumTotal(m);
}

/** NEED_EVICT, with the medium to evict on in OUT[0]. */
function needEvict(m: u32): i32 {
  setOut(OUT_ALLOC_MEDIUM_TO_EVICT, <f64>m);
  return NEED_EVICT;
}

/**
 * Places the blobs of the fresh record `id` on medium m, else (`fallback`) on DRAM: the medium
 * they went to, or -1 when there was no room (the record is freed again).
 */
function placeNew(id: u32, m: u32, units: u64, replicas: u32, preferredRank: u32, expiry: u32, fallback: bool): i32 {
  if (placeBlobs(id, m, units, replicas, replicas, preferredRank, BLOB_ALLOCATED, expiry)) return <i32>m;
  // nothing more to evict in HBM (all leased or being written): the next tier, if it has room
  if (fallback && placeBlobs(id, MEDIUM_DRAM, units, replicas, replicas, preferredRank, BLOB_ALLOCATED, expiry)) return <i32>MEDIUM_DRAM;
  recSetState(rec(id), REC_ALLOCATED); // so that freeRecord's bookkeeping holds
  freeRecord(id);
  return -1;
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
  if (keyLen == 0 || keyLen > MAX_KEY_BYTES || !(sizeBytes >= 1) || sizeBytes > 9007199254740991 || replicas == 0 || replicas > MAX_REPLICAS || medium >= <i32>MEDIA) {
    return allocDone(MMC_INVALID_PARAM, t0, flags);
  }
  const h = keyHash(scratch, keyLen);
  const found = indexFind(scratch, keyLen, h);
  if (found && survivesDrain(found)) return allocDone(MMC_DUPLICATED_OBJECT, t0, flags);
  const size = <u64>sizeBytes;
  const units = unitsOf(size);
  const mi = medium >= 0 ? medium : chooseMedium(units, replicas);
  const refused = mediumRefusal(mi, units, replicas);
  if (refused != MMC_OK) return allocDone(refused, t0, flags);
  const m = <u32>mi;
  // metadata first: evicting objects would not make the room this put needs
  const fallback = medium < 0 && m == MEDIUM_HBM && mediumCount(MEDIUM_DRAM) >= replicas;
  if (!metaRoom(allocNeed(keyLen, h, m, replicas, fallback))) {
    const code = allocDone(MMC_NOT_ENOUGH_MEMORY, t0, flags);
    setOut(OUT_ALLOC_META, 1);
    return code;
  }
  const canEvict = (flags & ALLOC_FINAL) == 0 && listLength(lruOf(m)) > 0;
  if (canEvict && (flags & ALLOC_SKIP_WATERMARK) == 0 && overHigh(m, units, replicas)) return needEvict(m);
  const id = poolAlloc(records);
  // with something left to evict here, evicting comes before the fallback tier
  const placedOn = placeNew(id, m, units, replicas, preferredRank, msOf(t0) + allocTimeoutMs, fallback && !canEvict);
  if (placedOn < 0) return canEvict ? needEvict(m) : allocDone(MMC_NOT_ENOUGH_MEMORY, t0, flags);
  const r = rec(id);
  const kp = storeKey(keyLen);
  const gen = nextGeneration();
  recInit(r, kp, keyLen, size, <u32>placedOn, REC_ALLOCATED, gen); // keeps the blob chain placeBlobs made
  indexInsert(h, id);
  listPush(LIST_PENDING, id);
  setOut(OUT_ALLOC_ID, <f64>id);
  setOut(OUT_ALLOC_GEN, <f64>gen);
  setOut(OUT_ALLOC_BLOBS, <f64>recNumBlobs(r));
  setOut(OUT_ALLOC_T0, t0);
  setOut(OUT_ALLOC_MEDIUM, <f64>placedOn);
  outBlobs(id, OUT_ALLOC_PAIRS, 2);
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
  // a blob on a draining segment ends the put (drain.ts)
  if (r && anyDraining()) dropDrainingBlobs(id);
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
  if (r && anyDraining()) dropDrainingBlobs(id); // a blob on a draining segment ends the put
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
