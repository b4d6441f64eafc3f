// Freed ranges held back, for the pool's meta service (src/pool/meta-free.ts): the meta service
// never hands a range out again before the rank agent that holds it knows it was freed. While
// holding is on, a blob freed on a mounted (not draining) segment leaves its medium's usage as
// always, but its allocator node stays allocated: the host is told (the `held` import) and gives
// the range back with seg_release once the agent acknowledged the FREE notice. A draining segment
// frees as always: its agent is gone and its allocator goes as a whole at the drain's end.
import { MMC_OK, MMC_INVALID_PARAM } from './codes';
import { ra_free, ra_offset, ra_size } from './allocator';
import { segActive, segAllocator, segDraining, segAddHeld, alignShift } from './segment';

/** The host's note of a held range: slot, allocator node, offset and size in bytes, the record's generation. */
// @ts-ignore: decorator
@external("env", "held")
declare function heldRange(slot: u32, node: u32, offset: f64, size: f64, gen: u32): void;

let holding: bool = false;

/** Turns holding of freed ranges on (the meta service) or off (the default: mmc serve, embedded stores). */
export function core_hold_frees(on: bool): void { holding = on; }

/** Holds the freed node of `slot` when holding is on; true if it did (the caller then keeps it allocated). */
export function holdRange(slot: u32, node: u32, gen: u32): bool {
  if (!holding || segDraining(slot)) return false;
  const ra = segAllocator(slot);
  const units = ra_size(ra, node);
  segAddHeld(slot, <i64>units);
  heldRange(slot, node, <f64>(ra_offset(ra, node) << alignShift), <f64>(units << alignShift), gen);
  return true;
}

/**
 * Gives a held node back to the allocator of `slot`. The host calls it once per held range, only
 * while the slot is the mount it was held in (src/store/held.ts checks that).
 */
export function seg_release(slot: u32, node: u32): i32 {
  if (!segActive(slot)) return MMC_INVALID_PARAM;
  const ra = segAllocator(slot);
  segAddHeld(slot, -<i64>ra_size(ra, node));
  ra_free(ra, node);
  return MMC_OK;
}
