// The scratch area shared with the TS side, the core's settings, and time.
//
// Scratch layout: key bytes [0, 2048), then OUT (f64 results of the last call), then the key
// listing area up to 64 KiB. The TS side writes a key once into the scratch area and reads OUT;
// no JS string crosses the boundary.
//
// Time comes from the imported `clock` (ms, f64): lease ends and commit deadlines are kept as
// u32 ms and compared wrap-aware.

import { metaAlloc } from './meta';

@external("env", "clock")
declare function clock(): f64;

// @ts-ignore: decorator
@inline export const SCRATCH_SIZE: usize = 65536;
/** The longest key, bytes; the key area before OUT holds twice that. */
// @ts-ignore: decorator
@inline export const MAX_KEY_BYTES: u32 = 1024;
// @ts-ignore: decorator
@inline export const OUT_OFFSET: usize = 2048;
// @ts-ignore: decorator
@inline export const LIST_OFFSET: usize = 4096;
/** f64 results of one call: OUT runs up to the list area. */
// @ts-ignore: decorator
@inline export const OUT_SLOTS: u32 = <u32>((LIST_OFFSET - OUT_OFFSET) >> 3);

/** The scratch area: the current key's bytes start here. */
export let scratch: usize = 0;
let out: usize = 0;
export let leaseMs: u32 = 2000;
export let allocTimeoutMs: u32 = 30000;
export let thresholdHigh: u32 = 90;
export let thresholdLow: u32 = 80;
let generation: u32 = 0;

export function scratchInit(lease: u32, allocTimeout: u32, high: u32, low: u32): usize {
  scratch = metaAlloc(SCRATCH_SIZE);
  out = scratch + OUT_OFFSET;
  leaseMs = lease;
  allocTimeoutMs = allocTimeout;
  thresholdHigh = high;
  thresholdLow = low;
  return scratch;
}

export function outPtr(): usize { return out; }

// @ts-ignore: decorator
@inline export function setOut(i: u32, v: f64): void {
  if (DEBUG) assert(i < OUT_SLOTS, 'OUT slot out of range');
  store<f64>(out + (<usize>i << 3), v);
}

/** Generations tell a record id's successive tenants apart: handles carry id + generation. */
export function nextGeneration(): u32 { return ++generation; }

/** The clock, ms. */
// @ts-ignore: decorator
@inline export function clockMs(): f64 { return clock(); }
// @ts-ignore: decorator
@inline export function msOf(t: f64): u32 { return <u32><u64>t; }
// @ts-ignore: decorator
@inline export function nowMs(): u32 { return msOf(clock()); }
// @ts-ignore: decorator
@inline export function expired(deadline: u32, at: u32): bool { return <i32>(at - deadline) >= 0; }
