// The core's setup and upkeep calls: init, the gauges, segments (mount, unmount, usage),
// remove, the key listing, and the sweep of expired writers and leases. The put flow is in
// put.ts, the reads in get.ts, eviction and demotion in evict.ts. Every call takes its key
// from the scratch area (written there by the TS side) and leaves its results in OUT.
import { MMC_OK, MMC_INVALID_PARAM, MMC_NOT_ENOUGH_MEMORY, MMC_UNMATCHED_KEY } from './codes';
import { poolHigh, poolLive } from './pool';
import { metaSetLimit, metaUsed, metaLimit } from './meta';
import {
  records, blobs, objectPoolsInit, rec, blob, recKeyPtr, recKeyLen, recState, recFirstBlob, recNext, blobExpiry,
  REC_ALLOCATED, REC_READABLE, REC_ZOMBIE,
} from './object';
import { indexInit } from './keyindex';
import { listsInit, listHead, listLength, LIST_PENDING } from './lists';
import {
  segmentsInit, segmentMount, segAllocator, segBytes, segMounted, mediumTotal, mediumUsed, alignShift, segmentUsed, MEDIA,
} from './segment';
import { ra_largest_free } from './allocator';
import {
  statsInit, countOp, countBatch, tpBegin, tpEnd, statsPtr,
  OP_REMOVE, OP_REMOVE_ALL, OP_GET_ALL_KEYS, OP_MOUNT, TP_REMOVE,
} from './stats';
import { scratch, scratchInit, outPtr, setOut, clockMs, msOf, nowMs, expired, SCRATCH_SIZE, LIST_OFFSET } from './scratch';
import { readableCount, dropAllocated, reapZombie, removeRecord } from './lifecycle';
import { counted, findKey } from './call';
import { survivesDrain } from './drain';

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

// Unmounting (seg_unmount and its slices) is in drain.ts.

// Byte quantities cross to JS as f64 (exact below 2^53) so that no BigInt is made per call.
// A draining segment counts nowhere (drain.ts): its figures read as an empty slot's.
export function seg_used(slot: u32): f64 { return segMounted(slot) ? <f64>segmentUsed(slot) : 0; }
export function seg_total(slot: u32): f64 { return segMounted(slot) ? <f64>segBytes(slot) : 0; }
export function seg_largest_free(slot: u32): f64 {
  return segMounted(slot) ? <f64>(ra_largest_free(segAllocator(slot)) << alignShift) : 0;
}
export function medium_used(m: u32): f64 { return m < MEDIA ? <f64>mediumUsed(m) : 0; }
export function medium_total(m: u32): f64 { return m < MEDIA ? <f64>mediumTotal(m) : 0; }

// ---- remove, listing ----

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
    if (recState(r) != REC_READABLE || !survivesDrain(id)) continue;
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
