/**
 * The pool's messages (DESIGN.md "The pool"), carried by the data path's frames (data-frames.ts,
 * ops 12..22) on the same kind of connection:
 *
 *   op          to      key    aux                 value (request)        payload (answer)
 *   12 WRITE    agent   key    the grant (48 B)    the value              -
 *   13 READ     agent   key    the grant           -                      the value
 *   14 ALLOC    meta    -      -                   alloc request          Placement
 *   15 COMMIT   meta    -      -                   commit request         code list
 *   16 LOOKUP   meta    -      -                   lookup request         Placement
 *   17 RELEASE  meta    -      -                   u32 lease              -
 *   18 REGISTER meta    -      -                   RegisterRequest        RegisterAnswer
 *   19 HEARTBEAT meta   -      -                   { rank, incarnation }  - (code -3102: register again)
 *   20 COPY     agent   -      -                   CopyRequest            -
 *   21 WRITES   agent   -      -                   batch write            code list
 *   22 READS    agent   -      -                   batch read             batch_get response
 *
 *   batch write  u32 blockLen | grant block | the values of its items, in block order
 *   batch read   u32 blockLen | grant block | u32 M | u32 block index × M
 *
 * ALLOC, COMMIT, LOOKUP and RELEASE are binary (pool-control.ts): they are a batch's control, sent
 * for every put and get. A grant block (grant-block.ts) grants a batch's items on one agent under
 * one mac; WRITES writes all of them, READS reads the M items it names (block indices, each once),
 * in that order. REGISTER, HEARTBEAT and COPY are rare and stay JSON. Value bytes travel only in
 * WRITE(S) and READ(S), raw, between client and agent. Every decoder checks the shape and refuses
 * anything else with MMC_INVALID_PARAM.
 */
import { invalid } from '../errors.js';
import type { Medium } from '../device/types.js';

export interface SegmentOffer { medium: Medium; bytes: number }
export interface RegisterRequest { rank: number; incarnation: number; advertise: string; segments: SegmentOffer[] }
/** The secret the agent checks grants with (base64), fresh for each registration. */
export interface RegisterAnswer { secret: string; segments: string[] }
export interface HeartbeatRequest { rank: number; incarnation: number }
/** A demotion within one rank: copy `size` bytes; the grant (base64) is signed for copyKey(...). */
export interface CopyRequest { srcMedium: Medium; srcOffset: number; dstMedium: Medium; dstOffset: number; size: number; grant: string }

/** Largest control message accepted (a batch of 16384 keys of 256 bytes, with room). */
export const MAX_CONTROL_BYTES = 32 << 20;

/** The key a COPY's grant is signed for: it names the source range, so a grant copies one range. */
export function copyKey(srcMedium: Medium, srcOffset: number): string {
  return `\u0000copy:${srcMedium}:${srcOffset}`;
}

export function encodeJson(v: unknown): Buffer {
  return Buffer.from(JSON.stringify(v), 'utf8');
}

/** The JSON in `chunks`, or MMC_INVALID_PARAM naming the message. */
export function decodeJson(chunks: readonly Uint8Array[], what: string): unknown {
  const b = chunks.length === 1 ? Buffer.from(chunks[0].buffer, chunks[0].byteOffset, chunks[0].byteLength) : Buffer.concat(chunks);
  try {
    return JSON.parse(b.toString('utf8'));
  } catch {
    throw invalid(`bad ${what} message: not JSON`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
const isU32 = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= 0xffffffff;
const isMedium = (m: unknown): m is Medium => m === 'hbm' || m === 'dram';

function need(ok: boolean, what: string): void {
  if (!ok) throw invalid(`bad ${what} message`);
}

export function checkRegister(v: unknown): RegisterRequest {
  need(isObject(v) && Number.isInteger(v.rank) && (v.rank as number) >= 0 && (v.rank as number) <= 65535 && isU32(v.incarnation)
    && typeof v.advertise === 'string' && Array.isArray(v.segments)
    && v.segments.every((s) => isObject(s) && isMedium(s.medium) && isCount(s.bytes) && (s.bytes as number) > 0), 'register');
  return v as unknown as RegisterRequest;
}

export function checkHeartbeat(v: unknown): HeartbeatRequest {
  need(isObject(v) && Number.isInteger(v.rank) && isU32(v.incarnation), 'heartbeat');
  return v as unknown as HeartbeatRequest;
}

export function checkCopy(v: unknown): CopyRequest {
  need(isObject(v) && isMedium(v.srcMedium) && isMedium(v.dstMedium) && isCount(v.srcOffset) && isCount(v.dstOffset)
    && isCount(v.size) && typeof v.grant === 'string', 'copy');
  return v as unknown as CopyRequest;
}
