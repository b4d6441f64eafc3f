/**
 * The caller's buffers of the layer calls (putFrom*, getInto*, their batches): any
 * ArrayBufferView (Uint8Array, Buffer, DataView, Float32Array, ...) taken as the bytes it spans
 * (byteOffset, byteLength), never copied. Shared by the embedded store and the remote client, so
 * both refuse the same input with the same MMC_INVALID_PARAM and message.
 */
import type { PutOptions } from './types.js';
import { invalid, checkKeys, checkRank, checkReplicas, parseMedium } from './validate.js';

/** A list of views as bytes, with their total length. */
export interface ByteList {
  bytes: Uint8Array[];
  total: number;
}

/** The bytes `v` spans, without a copy; MMC_INVALID_PARAM when it is not an ArrayBufferView. */
export function viewBytes(v: unknown, name = 'view'): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (!ArrayBuffer.isView(v)) throw invalid(`${name} must be an ArrayBufferView (Uint8Array, Buffer, DataView, a typed array)`);
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}

/** The bytes of each view of `views` (an array of ArrayBufferViews), and their sum. */
export function viewList(views: unknown, name = 'views'): ByteList {
  if (!Array.isArray(views)) throw invalid(`${name} must be an array of ArrayBufferViews`);
  const bytes = new Array<Uint8Array>(views.length);
  let total = 0;
  for (let i = 0; i < views.length; i++) {
    bytes[i] = viewBytes(views[i], `${name}[${i}]`);
    total += bytes[i].byteLength;
  }
  return { bytes, total };
}

/**
 * The per-key lists of a batch layer call, checked as a whole: `keys` an array, `lists` an array
 * of as many items. An item that is not a list of views is that item's own refusal (undefined
 * here, its MmcError in `refused`), so the other items go ahead.
 */
export function batchLists(keys: unknown, lists: unknown, single: boolean): { lists: (ByteList | undefined)[]; refused: (Error | undefined)[] } {
  checkKeys(keys);
  const name = single ? 'views' : 'viewLists';
  if (!Array.isArray(lists)) throw invalid(`${name} must be an array, one item per key`);
  const n = (keys as unknown[]).length;
  if (lists.length !== n) throw invalid(`${name} has ${lists.length} items for ${n} keys`);
  const out = new Array<ByteList | undefined>(n);
  const refused = new Array<Error | undefined>(n);
  for (let i = 0; i < n; i++) {
    try {
      out[i] = single ? viewList([lists[i]], `views[${i}]`) : viewList(lists[i], `viewLists[${i}]`);
    } catch (err) {
      refused[i] = err as Error;
    }
  }
  return { lists: out, refused };
}

/**
 * Whether a value of `size` bytes fits the views: layers must add up to it exactly; a single view
 * (getInto, batchGetInto) may be longer, as getInto's buffer.
 */
export function fits(list: ByteList, size: number, exact: boolean): boolean {
  return exact ? list.total === size : list.total >= size;
}

/** The refusal of views that do not fit a value (nothing is written into them). */
export function misfit(list: ByteList, size: number, key: string, exact: boolean): Error {
  return exact
    ? invalid(`the views hold ${list.total} bytes in total, the value of '${key}' has ${size}: they must add up to it`)
    : invalid(`dst holds ${list.total} bytes, the value of '${key}' has ${size}`);
}

/** The put options of a layer call, checked before any item as put checks them (MMC_INVALID_PARAM). */
export function checkPutOptions(opts: PutOptions | undefined): void {
  if (opts === undefined) return;
  parseMedium(opts.medium);
  checkReplicas(opts.replicas);
  checkRank(opts.preferredRank);
}
