/**
 * What both backends (sim.ts, acl.ts) check of their callers, worded once: the arguments of
 * open, that a segment is one of this backend's and not released, and that a range lies in it.
 * Every refusal is MMC_INVALID_PARAM naming the backend and the call.
 */
import { invalid } from '../errors.js';
import type { DeviceSegment, Medium } from './types.js';

/** A segment as a backend keeps it: who opened it, whether it was released, its name in messages. */
export interface OwnedSegment extends DeviceSegment {
  readonly owner: unknown;
  readonly released: boolean;
  readonly label: string;
}

export function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

/** The arguments of open: a rank number, 'hbm' or 'dram', a positive byte count. */
export function checkOpen(backend: string, rank: number, medium: Medium, bytes: number): void {
  if (!isNonNegInt(rank)) throw invalid(`${backend}: open: rank must be a non-negative integer, got ${String(rank)}`);
  if (medium !== 'hbm' && medium !== 'dram') throw invalid(`${backend}: open: medium must be 'hbm' or 'dram', got '${String(medium)}'`);
  if (!isNonNegInt(bytes) || bytes === 0) throw invalid(`${backend}: open: segment bytes must be a positive safe integer, got ${String(bytes)}`);
}

/** True when `seg` is a segment `owner` opened (whether or not released since). */
export function ownedBy<S extends OwnedSegment>(seg: DeviceSegment, kind: abstract new (...args: never[]) => S, owner: unknown): seg is S {
  return seg instanceof kind && seg.owner === owner;
}

/** `seg` as a live segment of `owner` (of class `kind`); else a refusal naming `op`. */
export function liveSegment<S extends OwnedSegment>(backend: string, op: string, seg: DeviceSegment, kind: abstract new (...args: never[]) => S, owner: unknown): S {
  if (!ownedBy(seg, kind, owner)) throw invalid(`${backend}: ${op}: not a segment of this ${backend} backend`);
  if (seg.released) throw invalid(`${backend}: ${op}: segment ${seg.label} has been released`);
  return seg;
}

/** [offset, offset + length) must lie within `seg`. */
export function checkRange(backend: string, op: string, seg: OwnedSegment, offset: number, length: number): void {
  if (!isNonNegInt(offset) || !isNonNegInt(length) || offset + length > seg.bytes) {
    throw invalid(`${backend}: ${op}: range [${String(offset)}, +${String(length)}) outside segment ${seg.label} of ${seg.bytes} bytes`);
  }
}
