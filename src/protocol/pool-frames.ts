/**
 * The pool's messages (DESIGN.md "The pool"), carried by the data path's frames (data-frames.ts,
 * ops 12..22) on the same kind of connection:
 *
 *   op          to      key    aux                 value (request)    payload (answer)
 *   12 WRITE    agent   key    the grant (48 B)    the value          -
 *   13 READ     agent   key    the grant           -                  the value
 *   14 ALLOC    meta    -      -                   AllocRequest       AllocItem[] (JSON)
 *   15 COMMIT   meta    -      -                   CommitRequest      number[] (codes)
 *   16 LOOKUP   meta    -      -                   LookupRequest      LookupAnswer
 *   17 RELEASE  meta    -      -                   { lease }          -
 *   18 REGISTER meta    -      -                   RegisterRequest    RegisterAnswer
 *   19 HEARTBEAT meta   -      -                   { rank, incarnation }  - (code -3102: register again)
 *   20 COPY     agent   -      -                   CopyRequest        -
 *   21 WRITES   agent   -      -                   batch_put frame    code list
 *   22 READS    agent   -      -                   batch_put frame    batch_get response
 *
 * WRITES and READS are a batch's requests to one agent, in framing.ts's frames: each item's
 * "value" in the batch_put frame is its 48-byte grant, followed (WRITES) by its value bytes.
 *
 * Control messages are JSON: they carry keys, sizes and grants (base64), never a value byte, and
 * are few per batch. Value bytes travel only in WRITE and READ, raw, between client and agent.
 * Every decoder checks the shape and refuses anything else with MMC_INVALID_PARAM.
 */
import { invalid } from '../errors.js';
import type { Medium } from '../device/types.js';

/** Where one replica lies: the rank, its agent's data path address, the grant for it (base64). */
export interface Replica { rank: number; addr: string; grant: string }

/** alloc of one key (`batch` false) or of a batch: sizes[i] bytes for keys[i]. */
export interface AllocRequest { keys: string[]; sizes: number[]; query: string; batch: boolean }
/** code 0 with the replicas to write, or the alloc's error (code, reason `MMC_X: text`). */
export interface AllocItem { code: number; reason?: string; replicas?: Replica[] }
export interface CommitRequest { keys: string[]; ok: boolean[]; batch: boolean }
export interface LookupRequest { keys: string[]; batch: boolean }
/** code 0 (size, replicas to read in order), -3102 absent, or an error with its reason. */
export interface LookupItem { code: number; reason?: string; size?: number; replicas?: Replica[] }
export interface LookupAnswer { lease: number; items: LookupItem[] }
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
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((k) => typeof k === 'string');

function need(ok: boolean, what: string): void {
  if (!ok) throw invalid(`bad ${what} message`);
}

export function checkAlloc(v: unknown): AllocRequest {
  need(isObject(v) && isStrings(v.keys) && Array.isArray(v.sizes) && v.sizes.length === v.keys.length
    && v.sizes.every(isCount) && typeof v.query === 'string' && typeof v.batch === 'boolean', 'alloc');
  return v as unknown as AllocRequest;
}

export function checkCommit(v: unknown): CommitRequest {
  need(isObject(v) && isStrings(v.keys) && Array.isArray(v.ok) && v.ok.length === v.keys.length
    && v.ok.every((b) => typeof b === 'boolean') && typeof v.batch === 'boolean', 'commit');
  return v as unknown as CommitRequest;
}

export function checkLookup(v: unknown): LookupRequest {
  need(isObject(v) && isStrings(v.keys) && typeof v.batch === 'boolean', 'lookup');
  return v as unknown as LookupRequest;
}

export function checkRelease(v: unknown): { lease: number } {
  need(isObject(v) && isU32(v.lease), 'release');
  return v as { lease: number };
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
