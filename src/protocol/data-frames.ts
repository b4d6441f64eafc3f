/**
 * The binary data path: frames over one persistent TCP (or TLS) connection, many requests in
 * flight, each answer matched to its request by id. Values are never framed inside JSON or
 * base64: a request's value and an answer's payload follow their header as raw bytes, so the
 * server streams a put's value from the socket into the device write and a get's value from the
 * device read into the socket, and the client streams it into the caller's buffers.
 *
 * All integers little-endian. Every frame starts with the same 24-byte header:
 *
 *   offset size
 *    0     2    magic 'M' 'D' (4d 44)
 *    2     1    version (1)
 *    3     1    op (below; an answer repeats its request's op, or is 0 when it answers a frame
 *               that could not be read)
 *    4     4    u32 id: the client's number for the request, echoed by its answer (0 is never a
 *               request's: an answer with id 0 is about the connection, which then closes)
 *    8     4    request: u32 key length      answer: i32 MMC code (0 = success)
 *   12     4    u32 aux length
 *   16     8    u64 value (request) / payload (answer) length, as u32 low + u32 high (high below
 *               2^21, so the length is an exact JavaScript number)
 *
 * then the key bytes (requests only), the aux bytes, the value / payload bytes.
 *
 *   op                key           aux (request)                 value (request)
 *   1 HELLO           token (ASCII) -                              -
 *   2 PUT             key (UTF-8)   put options, as the query      the value (1 byte or more)
 *                                   string of PUT /api/v1/objects
 *   3 GET             key           - , or u64 max size (getInto)  -
 *   4 SIZE            key           -                              -
 *   5 REMOVE          key           -                              -
 *   6 QUERY           key           -                              -
 *   7 BATCH_PUT       -             put options                    batch_put frame (framing.ts)
 *   8 BATCH_GET       -             -                              key list (framing.ts)
 *   9 BATCH_EXISTS    -             -                              key list
 *  10 BATCH_REMOVE    -             -                              key list
 *  11 BATCH_QUERY     -             -                              key list
 *
 * Answers: code 0 and the op's result; code -3102 (MMC_UNMATCHED_KEY) with nothing for an absent
 * key of GET, SIZE, REMOVE, QUERY; any other code with aux = the reason, exactly the
 * `error_message` the HTTP data plane answers (`MMC_X: text`, or a fixed reason), so the client
 * raises the same MmcError over both transports.
 *
 *   op           aux (answer)               payload (answer)
 *   HELLO        -                          -
 *   PUT          -                          -
 *   GET          -                          the value
 *   SIZE         u64 the value's size       -
 *   REMOVE       -                          -
 *   QUERY        -                          JSON, as GET /query_key
 *   BATCH_PUT    -                          code list (framing.ts)
 *   BATCH_GET    -                          batch_get response (framing.ts)
 *   BATCH_EXISTS -                          code list
 *   BATCH_REMOVE -                          code list
 *   BATCH_QUERY  -                          JSON array, as batch_query's `data`
 *
 * A frame whose header cannot be trusted (bad magic or version, unknown op, a key or aux length
 * over its bound, a value on an op that takes none, a length over 2^53) is a FrameError: the
 * server answers it (with the id where the header gave one, else id 0) and closes the connection,
 * since the bytes that follow cannot be told apart. A request that is well framed but refused (a
 * key that is not UTF-8, a value over the limit) gets its error answer, its value is read and
 * dropped, and the connection carries on. Requests take effect in the order they were sent.
 */
import { FrameError } from './framing.js';
import { MAX_KEY_BYTES } from './key.js';

export const HEADER_BYTES = 24;
export const DATA_VERSION = 1;
const MAGIC0 = 0x4d;
const MAGIC1 = 0x44;
/** Aux bytes a request may carry (put options, a max size). */
export const MAX_REQUEST_AUX = 4096;
/** Aux bytes an answer may carry (an error reason names at most a key and a few words). */
export const MAX_ANSWER_AUX = 64 * 1024;
/** A token of HELLO fits one header line of HTTP: a generous bound. */
export const MAX_TOKEN_BYTES = 8192;
const MAX_HIGH = 1 << 21;

export const OP = {
  HELLO: 1, PUT: 2, GET: 3, SIZE: 4, REMOVE: 5, QUERY: 6,
  BATCH_PUT: 7, BATCH_GET: 8, BATCH_EXISTS: 9, BATCH_REMOVE: 10, BATCH_QUERY: 11,
  // the pool's ops (src/protocol/pool-frames.ts): rank agents and the meta service
  WRITE: 12, READ: 13, ALLOC: 14, COMMIT: 15, LOOKUP: 16, RELEASE: 17, REGISTER: 18, HEARTBEAT: 19, COPY: 20,
  WRITES: 21, READS: 22,
  FREE: 23,
} as const;
export type Op = (typeof OP)[keyof typeof OP];
const LAST_OP = 23;

/** True for the ops whose request carries a key (HELLO's key is the token). */
export function hasKey(op: number): boolean {
  return (op >= OP.HELLO && op <= OP.QUERY) || op === OP.WRITE || op === OP.READ;
}
/** True for the ops whose request carries a value. */
export function hasValue(op: number): boolean {
  return op === OP.PUT || (op >= OP.BATCH_PUT && op !== OP.READ);
}

/** A decoded header. `a` is the key length of a request, the code of an answer. */
export interface Head { op: number; id: number; a: number; aux: number; len: number }

/** A header into `b` at `at` (the binary data path's server assembles answers in a reused buffer). */
export function putHead(b: Buffer, at: number, op: number, id: number, a: number, aux: number, len: number): void {
  b[at] = MAGIC0; b[at + 1] = MAGIC1; b[at + 2] = DATA_VERSION; b[at + 3] = op;
  b.writeUInt32LE(id >>> 0, at + 4);
  if (a < 0) b.writeInt32LE(a, at + 8); else b.writeUInt32LE(a, at + 8);
  b.writeUInt32LE(aux, at + 12);
  b.writeUInt32LE(len % 0x1_0000_0000, at + 16);
  b.writeUInt32LE(Math.floor(len / 0x1_0000_0000), at + 20);
}

/** A request's header, key and aux in one buffer; `valueLen` bytes of value are to follow it. */
export function encodeRequest(op: Op, id: number, key: string | Uint8Array, aux: Uint8Array | string, valueLen: number): Buffer {
  const kLen = typeof key === 'string' ? Buffer.byteLength(key, 'utf8') : key.byteLength;
  const b = Buffer.allocUnsafe(HEADER_BYTES + kLen + aux.length);
  putRequest(b, 0, op, id, key, aux, valueLen);
  return b;
}

/** The most bytes putRequest writes for `key` and `aux` (a string key at 3 UTF-8 bytes a UTF-16 unit). */
export function requestRoom(key: string | Uint8Array, aux: Uint8Array | string): number {
  return HEADER_BYTES + (typeof key === 'string' ? key.length * 3 : key.byteLength) + aux.length; // aux strings are ASCII
}

/**
 * A request's header, key and aux into `b` at `at`, which has requestRoom(key, aux) bytes (the
 * client assembles requests in a reused buffer); the offset just past them.
 */
export function putRequest(b: Buffer, at: number, op: Op, id: number, key: string | Uint8Array, aux: Uint8Array | string, valueLen: number): number {
  let p = at + HEADER_BYTES;
  let kLen: number;
  if (typeof key === 'string') kLen = b.write(key, p, 'utf8'); else { b.set(key, p); kLen = key.byteLength; }
  p += kLen;
  const aLen = aux.length;
  if (typeof aux === 'string') b.write(aux, p, aLen, 'latin1'); else b.set(aux, p);
  putHead(b, at, op, id, kLen, aLen, valueLen);
  return p + aLen;
}

/**
 * An answer's header and aux in one buffer; `payloadLen` bytes of payload are to follow it.
 * `room`: bytes left at the end of the buffer for the caller to copy (a small payload) into.
 */
export function encodeAnswer(op: number, id: number, code: number, aux: Uint8Array | undefined, payloadLen: number, room = 0): Buffer {
  const aLen = aux ? aux.byteLength : 0;
  const b = Buffer.allocUnsafe(HEADER_BYTES + aLen + room);
  putHead(b, 0, op, id, code | 0, aLen, payloadLen);
  if (aux) b.set(aux, HEADER_BYTES);
  return b;
}

/** A u64 (a size) as 8 aux bytes. */
export function encodeU64(n: number): Buffer {
  const b = Buffer.allocUnsafe(8);
  b.writeUInt32LE(n % 0x1_0000_0000, 0);
  b.writeUInt32LE(Math.floor(n / 0x1_0000_0000), 4);
  return b;
}

/** 8 aux bytes as a u64; anything else (or a number over 2^53) is a FrameError. */
export function decodeU64(b: Uint8Array): number {
  if (b.byteLength !== 8) throw new FrameError('bad frame: expected 8 bytes of size');
  const dv = new DataView(b.buffer, b.byteOffset, 8);
  const hi = dv.getUint32(4, true);
  if (hi >= MAX_HIGH) throw new FrameError('bad frame: size over 2^53');
  return hi * 0x1_0000_0000 + dv.getUint32(0, true);
}

/**
 * The header in `b` (24 bytes), checked as far as the frame alone allows; a FrameError whose
 * `id` is the header's id when its magic and version were right (else 0).
 */
export function decodeHead(b: Uint8Array, answer: boolean): Head {
  const dv = new DataView(b.buffer, b.byteOffset, HEADER_BYTES);
  if (b[0] !== MAGIC0 || b[1] !== MAGIC1) throw new DataFrameError('bad frame: bad magic', 0);
  if (b[2] !== DATA_VERSION) throw new DataFrameError(`bad frame: version ${b[2]} (this server speaks ${DATA_VERSION})`, 0);
  const op = b[3];
  const id = dv.getUint32(4, true);
  const a = answer ? dv.getInt32(8, true) : dv.getUint32(8, true);
  const aux = dv.getUint32(12, true);
  const hi = dv.getUint32(20, true);
  const fail = (why: string) => new DataFrameError(`bad frame: ${why}`, id);
  // op 0 only in an answer about the connection (a frame that could not be read)
  if (op > LAST_OP || (op === 0 && !answer)) throw fail(`unknown op ${op}`);
  if (hi >= MAX_HIGH) throw fail('length over 2^53');
  const len = hi * 0x1_0000_0000 + dv.getUint32(16, true);
  if (answer) {
    if (aux > MAX_ANSWER_AUX) throw fail(`aux of ${aux} bytes`);
    return { op, id, a, aux, len };
  }
  if (aux > MAX_REQUEST_AUX) throw fail(`aux of ${aux} bytes`);
  const keyMax = op === OP.HELLO ? MAX_TOKEN_BYTES : hasKey(op) ? MAX_KEY_BYTES : 0;
  if (a > keyMax) throw fail(`key of ${a} bytes (at most ${keyMax} for op ${op})`);
  if (!hasValue(op) && len !== 0) throw fail(`op ${op} carries no value`);
  return { op, id, a, aux, len };
}

/** A FrameError that knows the id of the request it is about (0: none could be read). */
export class DataFrameError extends FrameError {
  constructor(message: string, readonly id: number) { super(message); }
}
