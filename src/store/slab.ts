/**
 * Buffers for the values a get returns. A value of up to SMALL_VALUE bytes is a view into a
 * shared slab, as Node's own Buffer pool does for its small buffers: creating an ArrayBuffer per
 * 4 KiB get cost a quarter of a put+get cycle. A view keeps its slab alive, so at most
 * SLAB_BYTES / SMALL_VALUE times its own size; larger values get an ArrayBuffer of their own.
 */
import { Buffer } from 'node:buffer';

const SLAB_BYTES = 128 * 1024;
const SMALL_VALUE = 8 * 1024;

let slab: Buffer = Buffer.allocUnsafeSlow(SLAB_BYTES);
let used = 0;

/** An uninitialised Buffer of `size` bytes for a value the caller will own. */
export function valueBuffer(size: number): Buffer {
  if (size > SMALL_VALUE) return Buffer.allocUnsafe(size);
  if (used + size > SLAB_BYTES) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    used = 0;
  }
  const v = slab.subarray(used, used + size);
  used = (used + size + 7) & ~7; // the next view starts 8-byte aligned, for Float64Array views on it
  return v;
}
