// Hot-path statistics: op x result counters and tracepoint latency accumulators, as f64 in one
// block of linear memory that the TS side reads (never writes) through a Float64Array.
//
// Block layout (f64 slots):
//   [op * 4 + result]           16 ops x (requests, successes, failures, not_found)
//   [EVICTS]                    objects evicted (a demotion counts one)
//   [TP_BASE + tp * 6 + field]  7 tracepoints x (begin, good_end, bad_end, min_us, max_us, total_us)
import { MMC_OK, MMC_UNMATCHED_KEY } from './codes';
import { metaAlloc } from './meta';

export const OP_ALLOC: u32 = 0;
export const OP_BATCH_ALLOC: u32 = 1;
export const OP_GET: u32 = 2;
export const OP_BATCH_GET: u32 = 3;
export const OP_REMOVE: u32 = 4;
export const OP_BATCH_REMOVE: u32 = 5;
export const OP_REMOVE_ALL: u32 = 6;
export const OP_UPDATE_STATE: u32 = 7;
export const OP_BATCH_UPDATE_STATE: u32 = 8;
export const OP_QUERY: u32 = 9;
export const OP_BATCH_QUERY: u32 = 10;
export const OP_GET_ALL_KEYS: u32 = 11;
export const OP_EXIST_KEY: u32 = 12;
export const OP_BATCH_EXIST_KEY: u32 = 13;
export const OP_MOUNT: u32 = 14;
export const OP_UNMOUNT: u32 = 15;
// @ts-ignore: decorator
@inline export const OPS: u32 = 16;

// An op's counters, OP_STRIDE slots from op * OP_STRIDE:
// @ts-ignore: decorator
@inline export const OP_STRIDE: u32 = 4;
// @ts-ignore: decorator
@inline const R_REQ: u32 = 0;
// @ts-ignore: decorator
@inline const R_SUCCESS: u32 = 1;
// @ts-ignore: decorator
@inline const R_FAIL: u32 = 2;
// @ts-ignore: decorator
@inline const R_NOT_FOUND: u32 = 3;

// @ts-ignore: decorator
@inline export const EVICTS: u32 = OPS * OP_STRIDE;
// @ts-ignore: decorator
@inline export const TP_BASE: u32 = EVICTS + 1;

export const TP_PUT: u32 = 0;
export const TP_GET: u32 = 1;
export const TP_ALLOC: u32 = 2;
export const TP_REMOVE: u32 = 3;
export const TP_UPDATE_STATE: u32 = 4;
export const TP_QUERY: u32 = 5;
export const TP_EVICT: u32 = 6;
// @ts-ignore: decorator
@inline export const TPS: u32 = 7;
// A tracepoint's fields, TP_FIELDS slots from TP_BASE + tp * TP_FIELDS:
// @ts-ignore: decorator
@inline const TP_BEGIN: u32 = 0;     // calls begun
// @ts-ignore: decorator
@inline const TP_GOOD_END: u32 = 1;  // ended with MMC_OK (timed)
// @ts-ignore: decorator
@inline const TP_BAD_END: u32 = 2;   // ended with another code
// @ts-ignore: decorator
@inline const TP_MIN_US: u32 = 3;
// @ts-ignore: decorator
@inline const TP_MAX_US: u32 = 4;
// @ts-ignore: decorator
@inline const TP_TOTAL_US: u32 = 5;
// @ts-ignore: decorator
@inline export const TP_FIELDS: u32 = 6;
// @ts-ignore: decorator
@inline export const STATS_SLOTS: u32 = TP_BASE + TPS * TP_FIELDS;

let block: usize = 0;

export function statsInit(): void {
  block = metaAlloc(<usize>STATS_SLOTS << 3);
  memory.fill(block, 0, <usize>STATS_SLOTS << 3);
}

// @ts-ignore: decorator
@inline function slotAddr(slot: u32): usize {
  if (DEBUG) assert(slot < STATS_SLOTS, 'stats slot out of range');
  return block + (<usize>slot << 3);
}
// @ts-ignore: decorator
@inline function bump(slot: u32): void {
  const a = slotAddr(slot);
  store<f64>(a, load<f64>(a) + 1);
}
// @ts-ignore: decorator
@inline function opSlot(op: u32, result: u32): u32 {
  if (DEBUG) assert(op < OPS, 'no such operation');
  return op * OP_STRIDE + result;
}
// @ts-ignore: decorator
@inline function tpSlot(tp: u32, field: u32): u32 {
  if (DEBUG) assert(tp < TPS, 'no such tracepoint');
  return TP_BASE + tp * TP_FIELDS + field;
}

/** Counts one single operation by its result code. */
export function countOp(op: u32, code: i32): void {
  bump(opSlot(op, R_REQ));
  if (code == MMC_OK) bump(opSlot(op, R_SUCCESS));
  else if (code == MMC_UNMATCHED_KEY) bump(opSlot(op, R_NOT_FOUND));
  else bump(opSlot(op, R_FAIL));
}

/** Counts one batch call: failure if any item had a real error, else success (+ not_found). */
export function countBatch(op: u32, anyFailure: bool, anyNotFound: bool): void {
  bump(opSlot(op, R_REQ));
  if (anyFailure) {
    bump(opSlot(op, R_FAIL));
  } else {
    bump(opSlot(op, R_SUCCESS));
    if (anyNotFound) bump(opSlot(op, R_NOT_FOUND));
  }
}

export function countEvict(): void {
  bump(EVICTS);
}

export function tpBegin(tp: u32): void {
  bump(tpSlot(tp, TP_BEGIN));
}

/** Ends a tracepoint: MMC_OK is a good end and is timed; anything else is a bad end. */
export function tpEnd(tp: u32, code: i32, t0: f64, t1: f64): void {
  if (code != MMC_OK) {
    bump(tpSlot(tp, TP_BAD_END));
    return;
  }
  const good = slotAddr(tpSlot(tp, TP_GOOD_END));
  const n = load<f64>(good) + 1;
  store<f64>(good, n);
  let us = (t1 - t0) * 1000;
  if (us < 0) us = 0;
  const min = slotAddr(tpSlot(tp, TP_MIN_US));
  if (n == 1 || us < load<f64>(min)) store<f64>(min, us);
  const max = slotAddr(tpSlot(tp, TP_MAX_US));
  if (us > load<f64>(max)) store<f64>(max, us);
  const total = slotAddr(tpSlot(tp, TP_TOTAL_US));
  store<f64>(total, load<f64>(total) + us);
}

export function statsPtr(): usize { return block; }
