// What every call by key shares: the key comes from the scratch area, and a call made for an
// item of a batch is counted on the batch operation only.
import { indexFind, keyHash } from './keyindex';
import { countOp } from './stats';
import { scratch } from './scratch';
import { survivesDrain } from './drain';

/**
 * A flag of every call that counts an operation: the call is an item of a batch, counted on
 * the batch operation only (count_batch), never again on the single one.
 */
export const IN_BATCH: u32 = 4;

/**
 * The record of the key in the scratch area, 0 when absent: an object whose only blobs lie on
 * draining segments is dropped here and reads as absent (drain.ts).
 */
// @ts-ignore: decorator
@inline export function findKey(keyLen: u32): u32 {
  const id = indexFind(scratch, keyLen, keyHash(scratch, keyLen));
  return id && survivesDrain(id) ? id : 0;
}

/** Counts `op` unless the call is an item of a batch (IN_BATCH). */
// @ts-ignore: decorator
@inline export function counted(op: u32, code: i32, flags: u32): void {
  if ((flags & IN_BATCH) == 0) countOp(op, code);
}
