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
@inline const OPS: u32 = 16;

// @ts-ignore: decorator
@inline const R_REQ: u32 = 0;
// @ts-ignore: decorator
@inline const R_SUCCESS: u32 = 1;
// @ts-ignore: decorator
@inline const R_FAIL: u32 = 2;
// @ts-ignore: decorator
@inline const R_NOT_FOUND: u32 = 3;

// @ts-ignore: decorator
@inline const EVICTS: u32 = OPS * 4;
// @ts-ignore: decorator
@inline const TP_BASE: u32 = EVICTS + 1;

export const TP_PUT: u32 = 0;
export const TP_GET: u32 = 1;
export const TP_ALLOC: u32 = 2;
export const TP_REMOVE: u32 = 3;
export const TP_UPDATE_STATE: u32 = 4;
export const TP_QUERY: u32 = 5;
export const TP_EVICT: u32 = 6;
// @ts-ignore: decorator
@inline const TPS: u32 = 7;
// @ts-ignore: decorator
@inline const TP_FIELDS: u32 = 6;
// @ts-ignore: decorator
@inline const STATS_SLOTS: u32 = TP_BASE + TPS * TP_FIELDS;

let block: usize = 0;

export function statsInit(): void {
  block = metaAlloc(<usize>STATS_SLOTS << 3);
  statsReset();
}

export function statsReset(): void {
  memory.fill(block, 0, <usize>STATS_SLOTS << 3);
}

// @ts-ignore: decorator
@inline function bump(slot: u32): void {
  const a = block + (<usize>slot << 3);
  store<f64>(a, load<f64>(a) + 1);
}

/** Counts one single operation by its result code. */
export function countOp(op: u32, code: i32): void {
  bump(op * 4 + R_REQ);
  if (code == MMC_OK) bump(op * 4 + R_SUCCESS);
  else if (code == MMC_UNMATCHED_KEY) bump(op * 4 + R_NOT_FOUND);
  else bump(op * 4 + R_FAIL);
}

/** Counts one batch call: failure if any item had a real error, else success (+ not_found). */
export function countBatch(op: u32, anyFailure: bool, anyNotFound: bool): void {
  bump(op * 4 + R_REQ);
  if (anyFailure) {
    bump(op * 4 + R_FAIL);
  } else {
    bump(op * 4 + R_SUCCESS);
    if (anyNotFound) bump(op * 4 + R_NOT_FOUND);
  }
}

export function countEvict(): void {
  bump(EVICTS);
}

export function tpBegin(tp: u32): void {
  bump(TP_BASE + tp * TP_FIELDS);
}

/** Ends a tracepoint: MMC_OK is a good end and is timed; anything else is a bad end. */
export function tpEnd(tp: u32, code: i32, t0: f64, t1: f64): void {
  const base = block + (<usize>(TP_BASE + tp * TP_FIELDS) << 3);
  if (code != MMC_OK) {
    store<f64>(base, load<f64>(base, 16) + 1, 16);
    return;
  }
  const good = load<f64>(base, 8) + 1;
  store<f64>(base, good, 8);
  let us = (t1 - t0) * 1000;
  if (us < 0) us = 0;
  if (good == 1 || us < load<f64>(base, 24)) store<f64>(base, us, 24);
  if (us > load<f64>(base, 32)) store<f64>(base, us, 32);
  store<f64>(base, load<f64>(base, 40) + us, 40);
}

export function statsPtr(): usize { return block; }
