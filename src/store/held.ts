/**
 * Freed ranges held back (assembly/held.ts), for the pool's meta service (src/pool/meta-free.ts):
 * with holding on, a blob the core frees on a mounted segment leaves the usage figures at once
 * but its range stays allocated until `release`, which the meta service calls once the rank's
 * agent acknowledged that the range was freed. A held range belongs to the mount it was held in:
 * once that segment is unmounted (its agent died or registered again) the range went with the
 * segment's allocator, and `release` does nothing.
 */
import type { DeviceSegment } from '../device/types.js';
import type { StoreState } from './state.js';
import type { MountedSegment } from './writer.js';

export interface HeldRange {
  readonly seg: DeviceSegment;
  /** Bytes, whole allocation units. */
  readonly offset: number;
  readonly size: number;
  /** The generation of the object whose blob it was (grants name it). */
  readonly gen: number;
}

export interface HeldFrees {
  /** True while the range's mount is still there (not unmounted, not draining). */
  live(r: HeldRange): boolean;
  /** Gives the range back to its segment's allocator; false if its mount is gone (nothing to give back). */
  release(r: HeldRange): boolean;
  /** Ranges held and not released, and their bytes. */
  pending(): { ranges: number; bytes: number };
}

interface Held extends HeldRange { readonly mount: MountedSegment; readonly node: number; released: boolean }

/** Turns holding on in the store's core: `onHold` is told of each range as the core frees it (no core call from it). */
export function holdFrees(s: StoreState, onHold: (r: HeldRange) => void): HeldFrees {
  let ranges = 0, bytes = 0;
  s.core.onHeld = (slot, node, offset, size, gen) => {
    const mount = s.bySlot[slot]!;
    const h: Held = { mount, seg: mount.device, node, offset, size, gen, released: false };
    ranges++;
    bytes += size;
    onHold(h);
  };
  s.core.x.core_hold_frees(1);
  const live = (r: HeldRange) => {
    const h = r as Held;
    return !h.released && s.bySlot[h.mount.slot] === h.mount && s.byId.get(h.mount.id) === h.mount;
  };
  return {
    live,
    release(r) {
      const h = r as Held;
      if (h.released) return false;
      h.released = true;
      ranges--;
      bytes -= h.size;
      // draining (byId no longer has it) still has its allocator: the node goes back into it
      if (s.closed || s.core.failed || s.bySlot[h.mount.slot] !== h.mount) return false;
      s.core.x.seg_release(h.mount.slot, h.node);
      return true;
    },
    pending: () => ({ ranges, bytes }),
  };
}
