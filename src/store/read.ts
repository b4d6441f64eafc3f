/**
 * The reads of the store: get and getInto lease a READABLE blob in the core, read it through
 * the backend, then release the lease; exists, sizeOf, query and remove ask the core only.
 * The common case (a synchronous backend) runs without an await.
 */
import { MMC, MmcError } from '../errors.js';
import type { QueryResult } from './types.js';
import { valueBuffer } from './slab.js';
import { MEDIUM_NAMES, invalid, errorCode, getMessage } from './validate.js';
import type { StoreState } from './state.js';

const NOTHING: Promise<undefined> = Promise.resolve(undefined);
const TRUE: Promise<boolean> = Promise.resolve(true);
const FALSE: Promise<boolean> = Promise.resolve(false);

/**
 * Where a get's bytes go once its size is known: the caller's buffer of at least `size` bytes
 * (the binary data path reads into a buffer it reuses instead of a fresh one per value).
 */
export type ValueDst = (size: number) => Uint8Array;

/**
 * get (into a new buffer), getInto (into `into`): the bytes, or the length read into `into`; with
 * `into` a ValueDst, the bytes as a view of the buffer it gave.
 */
export function readValue(s: StoreState, key: string, into: Uint8Array | ValueDst | undefined): Promise<Uint8Array | number | undefined> {
  try {
    const r = readValueNow(s, key, into);
    return r instanceof Promise ? r : r === undefined ? NOTHING : Promise.resolve(r);
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * readValue's result at once where the backend reads synchronously (a Promise only where it does
 * not); a failure is thrown. The binary data path answers a get in the socket read it came in.
 */
export function readValueNow(s: StoreState, key: string, into: Uint8Array | ValueDst | undefined): Uint8Array | number | undefined | Promise<Uint8Array | number | undefined> {
  let blob = 0;
  let id = 0, gen = 0, t0 = 0;
  const x = s.core.x;
  try {
    s.check();
    const code = x.obj_get(s.core.setKey(key), 0);
    if (code !== MMC.MMC_OK) {
      if (code === MMC.MMC_UNMATCHED_KEY) return undefined;
      throw new MmcError(code, getMessage(code, key));
    }
    const out = s.core.out;
    blob = out[0];
    t0 = out[1];
    id = out[5];
    gen = out[6];
    const size = out[2];
    const given = typeof into === 'function' ? undefined : into;
    if (given && given.length < size) throw invalid(`dst holds ${given.length} bytes, the value of '${key}' has ${size}`);
    const dst = given ? given.subarray(0, size) : into ? (into as ValueDst)(size).subarray(0, size) : valueBuffer(size);
    const result = given ? size : dst;
    const r = s.backend.read(s.bySlot[out[3]]!.device, out[4], dst);
    if (r) {
      const b = blob;
      blob = 0;
      return r.then(() => {
        const c = x.obj_get_end(id, gen, b, MMC.MMC_OK, t0, 0);
        if (c !== MMC.MMC_OK) throw new MmcError(c, getMessage(c, key));
        return result;
      }, (err: unknown) => {
        if (!s.core.failed) x.obj_get_end(id, gen, b, MMC.MMC_ERROR, t0, 0);
        throw err;
      });
    }
    x.obj_get_end(id, gen, blob, MMC.MMC_OK, t0, 0);
    return result;
  } catch (err) {
    if (blob && !s.core.failed) x.obj_get_end(id, gen, blob, errorCode(err), t0, 0);
    throw err;
  }
}

/** exist_key: true for a READABLE object. */
export function exists(s: StoreState, key: string): Promise<boolean> {
  return keyCall(s, key, s.core.x.obj_exists);
}

/** True if the key was there. */
export function remove(s: StoreState, key: string): Promise<boolean> {
  return keyCall(s, key, s.core.x.obj_remove);
}

/** Whether a core call on the key answers MMC_OK, as a settled promise (no await on the way). */
function keyCall(s: StoreState, key: string, call: (keyLen: number, flags: number) => number): Promise<boolean> {
  try {
    s.check();
    return call(s.core.setKey(key), 0) === MMC.MMC_OK ? TRUE : FALSE;
  } catch (err) {
    return Promise.reject(err);
  }
}

/** exist_key that also tells the size: the object's length in bytes, or undefined when absent. */
export function sizeOf(s: StoreState, key: string): number | undefined {
  s.check();
  return s.core.x.obj_exists(s.core.setKey(key), 0) === MMC.MMC_OK ? s.core.out[0] : undefined;
}

export function query(s: StoreState, key: string): QueryResult | undefined {
  s.check();
  if (s.core.x.obj_query(s.core.setKey(key), 0) !== MMC.MMC_OK) return undefined;
  return readQuery(s, key);
}

/** The QueryResult of OUT after an obj_query. */
export function readQuery(s: StoreState, key: string): QueryResult {
  const out = s.core.out;
  const numBlobs = out[2];
  const medium = MEDIUM_NAMES[out[4]];
  const blobs = [];
  for (let i = 0; i < numBlobs; i++) blobs.push({ rank: out[8 + i], medium });
  return { key, size: out[0], prot: out[1], numBlobs, valid: out[3] === 1, blobs };
}
