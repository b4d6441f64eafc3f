/**
 * The binary framing of the data-plane batch routes (POST /api/v1/objects/batch_*), shared by the
 * server and the remote client. No base64, no JSON for values: lengths, then bytes.
 *
 * All integers are little-endian; u32 unsigned 32-bit, i32 signed 32-bit. Keys are UTF-8, 1..1024
 * bytes each. A frame's lengths must account for its body exactly, else the call is refused with
 * HTTP 400 `MMC_INVALID_PARAM: malformed batch frame` and nothing reaches the store.
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

export const MAX_BATCH_ITEMS = 1 << 20;

export class FrameError extends Error {}

const dec = new TextDecoder('utf-8');

function view(buf: Uint8Array): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

function readCount(dv: DataView, len: number, perItem: number): number {
  if (len < 4) throw new FrameError('malformed batch frame');
  const n = dv.getUint32(0, true);
  if (n > MAX_BATCH_ITEMS || 4 + n * perItem > len) throw new FrameError('malformed batch frame');
  return n;
}

/** Key list → key strings (and their byte lengths, for the limit check). */
export function decodeKeyList(buf: Uint8Array): { keys: string[]; lengths: number[] } {
  const dv = view(buf);
  const n = readCount(dv, buf.byteLength, 4);
  const lengths = new Array<number>(n);
  let off = 4 + n * 4;
  let total = 0;
  for (let i = 0; i < n; i++) { lengths[i] = dv.getUint32(4 + i * 4, true); total += lengths[i]; }
  if (off + total !== buf.byteLength) throw new FrameError('malformed batch frame');
  const keys = new Array<string>(n);
  for (let i = 0; i < n; i++) { keys[i] = dec.decode(buf.subarray(off, off + lengths[i])); off += lengths[i]; }
  return { keys, lengths };
}

export function encodeKeyList(keys: readonly string[]): Buffer {
  const kb = keys.map((k) => Buffer.from(k, 'utf8'));
  const head = Buffer.allocUnsafe(4 + 4 * kb.length);
  head.writeUInt32LE(kb.length, 0);
  for (let i = 0; i < kb.length; i++) head.writeUInt32LE(kb[i].length, 4 + 4 * i);
  return Buffer.concat([head, ...kb]);
}

/** batch_put request → entries whose values are views into `buf` (no copy). */
export function decodeBatchPut(buf: Uint8Array): { entries: [string, Uint8Array][]; keyLengths: number[] } {
  const dv = view(buf);
  const n = readCount(dv, buf.byteLength, 8);
  const keyLengths = new Array<number>(n);
  const valLengths = new Array<number>(n);
  let keyTotal = 0;
  let valTotal = 0;
  for (let i = 0; i < n; i++) {
    keyLengths[i] = dv.getUint32(4 + i * 4, true); keyTotal += keyLengths[i];
    valLengths[i] = dv.getUint32(4 + (n + i) * 4, true); valTotal += valLengths[i];
  }
  let koff = 4 + n * 8;
  let voff = koff + keyTotal;
  if (voff + valTotal !== buf.byteLength) throw new FrameError('malformed batch frame');
  const entries = new Array<[string, Uint8Array]>(n);
  for (let i = 0; i < n; i++) {
    const key = dec.decode(buf.subarray(koff, koff + keyLengths[i]));
    entries[i] = [key, buf.subarray(voff, voff + valLengths[i])];
    koff += keyLengths[i]; voff += valLengths[i];
  }
  return { entries, keyLengths };
}

/** batch_put request as a list of chunks (header, keys, values) and its total length. */
export function encodeBatchPut(entries: ReadonlyArray<readonly [string, Uint8Array]>): { chunks: Uint8Array[]; length: number } {
  const n = entries.length;
  const head = Buffer.allocUnsafe(4 + 8 * n);
  head.writeUInt32LE(n, 0);
  const chunks: Uint8Array[] = [head];
  let length = head.length;
  const values: Uint8Array[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const kb = Buffer.from(entries[i][0], 'utf8');
    const v = entries[i][1];
    head.writeUInt32LE(kb.length, 4 + 4 * i);
    head.writeUInt32LE(v.byteLength, 4 + 4 * (n + i));
    chunks.push(kb); values[i] = v;
    length += kb.length + v.byteLength;
  }
  for (const v of values) chunks.push(v);
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

/** batch_get response: header and the found values, as chunks to write in order. */
export function encodeBatchGet(values: ReadonlyArray<Uint8Array | undefined>, absentCode: number): { chunks: Uint8Array[]; length: number } {
  const n = values.length;
  const head = Buffer.allocUnsafe(4 + 8 * n);
  head.writeUInt32LE(n, 0);
  const chunks: Uint8Array[] = [head];
  let length = head.length;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    head.writeInt32LE(v ? 0 : absentCode, 4 + 4 * i);
    head.writeUInt32LE(v ? v.byteLength : 0, 4 + 4 * (n + i));
    if (v && v.byteLength) { chunks.push(v); length += v.byteLength; }
  }
  return { chunks, length };
}

/** batch_get response → values (views into `buf`), undefined where absent. */
export function decodeBatchGet(buf: Uint8Array): { codes: number[]; values: (Uint8Array | undefined)[] } {
  const dv = view(buf);
  const n = readCount(dv, buf.byteLength, 8);
  const codes = new Array<number>(n);
  const values = new Array<Uint8Array | undefined>(n);
  let off = 4 + 8 * n;
  for (let i = 0; i < n; i++) {
    const code = dv.getInt32(4 + 4 * i, true);
    const len = dv.getUint32(4 + 4 * (n + i), true);
    codes[i] = code;
    if (code === 0) {
      if (off + len > buf.byteLength) throw new FrameError('malformed batch frame');
      values[i] = new Uint8Array(buf.buffer, buf.byteOffset + off, len);
      off += len;
    } else values[i] = undefined;
  }
  if (off !== buf.byteLength) throw new FrameError('malformed batch frame');
  return { codes, values };
}
