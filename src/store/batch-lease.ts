/**
 * batch_get's leases without its reads, for the pool's meta service (src/pool/meta-pool.ts): the
 * clients read the values at the rank agents, and each lease holds the blob (a remove meanwhile
 * leaves it a zombie: its range is not freed, so not handed out again) until the caller ends it
 * when the client released the batch. Counted once, as batch_get, by the codes of the leases.
 */
import { MMC } from '../errors.js';
import type { DeviceSegment } from '../device/types.js';
import { IN_BATCH } from './core.js';
import { checkKeys } from './validate.js';
import { countBatch, leaseAll, type BatchStore } from './batch.js';

export interface LeasedItem {
  /** The key's index in the batch. */
  i: number;
  seg: DeviceSegment;
  offset: number;
  size: number;
  /** The object's generation (what its grants carry). */
  gen: number;
  /** Ends the lease (once; later calls do nothing). */
  end(): void;
}

const ENDED = (): void => {};

/**
 * Each key's code (0 leased, MMC_UNMATCHED_KEY absent, else its error) and the leased blobs, in
 * key order. `endNow`: each lease ends as it is taken (an unleased lookup: the caller only wants
 * where the blobs lie, the get counted), without a closure per item.
 */
export function batchLease(s: BatchStore, keys: readonly string[], endNow = false): { codes: number[]; leased: LeasedItem[] } {
  s.check();
  checkKeys(keys);
  const codes = new Array<number>(keys.length);
  const { found } = leaseAll(s, keys, codes);
  countBatch(s, 'batch_get', codes);
  const x = s.core.x;
  const leased = found.map((f): LeasedItem => {
    if (endNow) {
      if (!s.core.failed) x.obj_get_end(f.id, f.gen, f.blob, MMC.MMC_OK, f.t0, IN_BATCH);
      return { i: f.i, seg: f.seg.device, offset: f.offset, size: f.size, gen: f.gen, end: ENDED };
    }
    let ended = false;
    return {
      i: f.i, seg: f.seg.device, offset: f.offset, size: f.size, gen: f.gen,
      end() {
        if (ended || s.core.failed) return;
        ended = true;
        x.obj_get_end(f.id, f.gen, f.blob, MMC.MMC_OK, f.t0, IN_BATCH);
      },
    };
  });
  return { codes, leased };
}
