/**
 * The binary framing of the data-plane batch routes (POST /api/v1/objects/batch_*), shared by the
 * server and the remote client. No base64, no JSON for values: lengths, then bytes.
 *
 * All integers are little-endian; u32 unsigned 32-bit, i32 signed 32-bit. Keys are UTF-8, 1..1024
 * bytes each (a key that is not valid UTF-8 is that item's -3000). A frame's lengths must account
 * for its body exactly, else the call is refused with HTTP 400 `MMC_INVALID_PARAM: malformed batch
 * frame` and nothing reaches the store.
 *
 *   key list (request of batch_get, batch_exists, batch_remove, batch_query;
 *             response of GET /api/v1/objects/keys):
 *     u32 N | u32 keyLen × N | key bytes, concatenated
 *
 *   batch_put request (query string as single PUT: medium=hbm|dram, replicas=N):
 *     u32 N | u32 keyLen × N | u32 valueLen × N | key bytes, concatenated | value bytes, concatenated
 *
 *   code list (response of batch_put, batch_exists, batch_remove):
 *     u32 N | i32 code × N
 *     code per item, in request order: 0 = stored / exists / removed, -3102 (MMC_UNMATCHED_KEY) =
 *     absent, any other MMC code = that item's error.
 *
 *   batch_get response:
 *     u32 N | i32 code × N | u32 valueLen × N | value bytes of the found items, concatenated
 *     code 0 = found (valueLen bytes follow in order), -3102 = absent (valueLen 0).
 *
 *   batch_query: request a key list; response JSON {"success":true,"data":[...]} as /batch_query_keys.
 *
 * Every batch response is HTTP 200 `application/octet-stream` (batch_query: JSON); a refused call
 * gets a real status (400, 413, 503, ...) and the JSON error body.
 */

import { decodeStrict } from './utf8.js';

export const MAX_BATCH_ITEMS = 1 << 20;

export class FrameError extends Error {}

function view(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

function readCount(dv: DataView, len: number, perItem: number): number {
  if (len < 4) throw new FrameError('malformed batch frame');
  const n = dv.getUint32(0, true);
  if (n > MAX_BATCH_ITEMS || 4 + n * perItem > len) throw new FrameError('malformed batch frame');
  return n;
}

/**
 * A frame as the list of chunks it arrived in (socket reads), read front to back. `take` returns a
 * view when the bytes lie within one chunk and copies only when they straddle a chunk boundary, so
 * decoding a request body or a response never concatenates it.
 */
export class Chunks {
  private i = 0;
  private off = 0;
  constructor(private readonly chunks: readonly Uint8Array[]) {}
  take(len: number): Uint8Array {
    const chunks = this.chunks;
    while (this.i < chunks.length && this.off === chunks[this.i].byteLength) { this.i++; this.off = 0; }
    if (len === 0) return new Uint8Array(0);
    const c = chunks[this.i];
    if (this.off + len <= c.byteLength) {
      const v = new Uint8Array(c.buffer, c.byteOffset + this.off, len);
      this.off += len;
      return v;
    }
    const out = new Uint8Array(len);
    let pos = 0;
    while (pos < len) {
      const d = chunks[this.i];
      const n = Math.min(len - pos, d.byteLength - this.off);
      out.set(n === d.byteLength ? d : new Uint8Array(d.buffer, d.byteOffset + this.off, n), pos);
      pos += n;
      this.off += n;
      if (this.off === d.byteLength) { this.i++; this.off = 0; }
    }
    return out;
  }
}

function totalLength(chunks: readonly Uint8Array[]): number {
  let t = 0;
  for (const c of chunks) t += c.byteLength;
  return t;
}

/**
 * The 4-byte count and the `perItem`-byte-per-item length table that follows it; a well-formed
 * count over `maxItems` is refused before any item is read.
 */
function readTable(r: Chunks, len: number, perItem: number, maxItems = MAX_BATCH_ITEMS): { n: number; dv: DataView } {
  if (len < 4) throw new FrameError('malformed batch frame');
  const n = view(r.take(4)).getUint32(0, true);
  if (n > MAX_BATCH_ITEMS || 4 + n * perItem > len) throw new FrameError('malformed batch frame');
  if (n > maxItems) throw new FrameError(`${n} keys in one batch (limit ${maxItems})`);
  return { n, dv: view(r.take(n * perItem)) };
}

/**
 * Key list → key strings (and their byte lengths, for the limit check). A key that is not valid
 * UTF-8 is listed in `bad` (its index; its string is empty): that item is refused, the others go
 * ahead.
 */
export function decodeKeyList(buf: Uint8Array): { keys: string[]; lengths: number[]; bad: number[] } {
  return decodeKeyListChunks([buf]);
}

/** decodeKeyList of a frame given as the chunks it arrived in. */
export function decodeKeyListChunks(chunks: readonly Uint8Array[], length = totalLength(chunks), maxItems = MAX_BATCH_ITEMS): { keys: string[]; lengths: number[]; bad: number[] } {
  const r = new Chunks(chunks);
  const { n, dv } = readTable(r, length, 4, maxItems);
  const lengths = new Array<number>(n);
  let total = 0;
  for (let i = 0; i < n; i++) { lengths[i] = dv.getUint32(i * 4, true); total += lengths[i]; }
  if (4 + n * 4 + total !== length) throw new FrameError('malformed batch frame');
  const kb = r.take(total);
  const keys = new Array<string>(n);
  const bad: number[] = [];
  let off = 0;
  for (let i = 0; i < n; i++) {
    const k = decodeStrict(kb.subarray(off, off + lengths[i]));
    if (k === undefined) bad.push(i);
    keys[i] = k ?? '';
    off += lengths[i];
  }
  return { keys, lengths, bad };
}

export function encodeKeyList(keys: readonly string[]): Buffer {
  return keyTable(keys, 0);
}

/**
 * `front` bytes, left for the caller to fill (a message's fields before its key list), then the
 * key list: the whole message in one buffer.
 */
export function encodeKeyListAfter(front: number, keys: readonly string[]): Buffer {
  return keyTable(keys, 0, front);
}

/**
 * (`front` bytes left for the caller) | u32 N | u32 keyLen × N | (u32 × N × `extra`, left for the
 * caller) | key bytes, in one buffer. Keys are written straight into it (no Buffer per key).
 */
function keyTable(keys: readonly string[], extra: number, front = 0): Buffer {
  const n = keys.length;
  const lens = new Array<number>(n);
  let total = 0;
  for (let i = 0; i < n; i++) { lens[i] = Buffer.byteLength(keys[i], 'utf8'); total += lens[i]; }
  let off = front + 4 + 4 * (n + extra * n);
  const buf = Buffer.allocUnsafe(off + total);
  buf.writeUInt32LE(n, front);
  for (let i = 0; i < n; i++) {
    buf.writeUInt32LE(lens[i], front + 4 + 4 * i);
    off += buf.write(keys[i], off, lens[i], 'utf8');
  }
  return buf;
}

/** batch_put request → entries whose values are views into `buf` (no copy); `bad` as decodeKeyList. */
export function decodeBatchPut(buf: Uint8Array): { entries: [string, Uint8Array][]; keyLengths: number[]; bad: number[] } {
  return decodeBatchPutChunks([buf]);
}

/**
 * decodeBatchPut of a frame given as the chunks it arrived in: values are views into the chunks,
 * except a value straddling two chunks, which is copied.
 */
export function decodeBatchPutChunks(chunks: readonly Uint8Array[], length = totalLength(chunks), maxItems = MAX_BATCH_ITEMS): { entries: [string, Uint8Array][]; keyLengths: number[]; bad: number[] } {
  const r = new Chunks(chunks);
  const { n, dv } = readTable(r, length, 8, maxItems);
  const keyLengths = new Array<number>(n);
  const valLengths = new Array<number>(n);
  let keyTotal = 0;
  let valTotal = 0;
  for (let i = 0; i < n; i++) {
    keyLengths[i] = dv.getUint32(i * 4, true); keyTotal += keyLengths[i];
    valLengths[i] = dv.getUint32((n + i) * 4, true); valTotal += valLengths[i];
  }
  if (4 + n * 8 + keyTotal + valTotal !== length) throw new FrameError('malformed batch frame');
  const kb = r.take(keyTotal);
  const entries = new Array<[string, Uint8Array]>(n);
  const bad: number[] = [];
  let koff = 0;
  for (let i = 0; i < n; i++) {
    const k = decodeStrict(kb.subarray(koff, koff + keyLengths[i]));
    if (k === undefined) bad.push(i);
    entries[i] = [k ?? '', r.take(valLengths[i])];
    koff += keyLengths[i];
  }
  return { entries, keyLengths, bad };
}

/**
 * batch_put request as a list of chunks (header and keys in one buffer, then the values as given)
 * and its total length.
 */
export function encodeBatchPut(entries: ReadonlyArray<readonly [string, Uint8Array]>): { chunks: Uint8Array[]; length: number } {
  const n = entries.length;
  const keys = new Array<string>(n);
  for (let i = 0; i < n; i++) keys[i] = entries[i][0];
  const head = keyTable(keys, 1);
  const chunks: Uint8Array[] = new Array(n + 1);
  chunks[0] = head;
  let length = head.length;
  for (let i = 0; i < n; i++) {
    const v = entries[i][1];
    head.writeUInt32LE(v.byteLength, 4 + 4 * (n + i));
    chunks[i + 1] = v;
    length += v.byteLength;
  }
  return { chunks, length };
}

export function encodeCodes(codes: readonly number[]): Buffer {
  const out = Buffer.allocUnsafe(4 + 4 * codes.length);
  out.writeUInt32LE(codes.length, 0);
  for (let i = 0; i < codes.length; i++) out.writeInt32LE(codes[i] | 0, 4 + 4 * i);
  return out;
}

export function decodeCodes(buf: Uint8Array): number[] {
  const dv = view(buf);
  const n = readCount(dv, buf.byteLength, 4);
  if (4 + 4 * n !== buf.byteLength) throw new FrameError('malformed batch frame');
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = dv.getInt32(4 + 4 * i, true);
  return out;
}

/**
 * batch_get response: header and the found values, as chunks to write in order. Values that follow
 * each other in one buffer (the store reads a batch into one buffer) become one chunk: no copy.
 */
export function encodeBatchGet(values: ReadonlyArray<Uint8Array | undefined>, codes: ReadonlyArray<number>): { chunks: Uint8Array[]; length: number } {
  const n = values.length;
  const head = Buffer.allocUnsafe(4 + 8 * n);
  const dv = view(head);
  dv.setUint32(0, n, true);
  const chunks: Uint8Array[] = [head];
  let length = head.length;
  // the run of adjacent values being gathered: [runStart, runEnd) of runBuf
  let runBuf: ArrayBufferLike | undefined;
  let runStart = 0;
  let runEnd = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    dv.setInt32(4 + 4 * i, v ? 0 : codes[i], true);
    dv.setUint32(4 + 4 * (n + i), v ? v.byteLength : 0, true);
    if (!v || v.byteLength === 0) continue;
    length += v.byteLength;
    if (v.buffer === runBuf && v.byteOffset === runEnd) { runEnd += v.byteLength; continue; }
    if (runBuf) chunks.push(new Uint8Array(runBuf, runStart, runEnd - runStart));
    runBuf = v.buffer; runStart = v.byteOffset; runEnd = v.byteOffset + v.byteLength;
  }
  if (runBuf) chunks.push(new Uint8Array(runBuf, runStart, runEnd - runStart));
  return { chunks, length };
}

/** batch_get response → values (views into `buf`), undefined where absent. */
export function decodeBatchGet(buf: Uint8Array): { codes: number[]; values: (Uint8Array | undefined)[] } {
  return decodeBatchGetChunks([buf]);
}

/**
 * decodeBatchGet of a response given as the chunks it arrived in: values are views into the
 * chunks, except a value straddling two chunks, which is copied.
 */
export function decodeBatchGetChunks(chunks: readonly Uint8Array[], length = totalLength(chunks)): { codes: number[]; values: (Uint8Array | undefined)[] } {
  const r = new Chunks(chunks);
  const { n, dv } = readTable(r, length, 8);
  const codes = new Array<number>(n);
  const lens = new Array<number>(n);
  let off = 4 + 8 * n;
  for (let i = 0; i < n; i++) {
    const code = dv.getInt32(4 * i, true);
    codes[i] = code;
    lens[i] = code === 0 ? dv.getUint32(4 * (n + i), true) : 0;
    off += lens[i];
    if (off > length) throw new FrameError('malformed batch frame');
  }
  if (off !== length) throw new FrameError('malformed batch frame');
  const values = new Array<Uint8Array | undefined>(n);
  for (let i = 0; i < n; i++) values[i] = codes[i] === 0 ? r.take(lens[i]) : undefined;
  return { codes, values };
}
