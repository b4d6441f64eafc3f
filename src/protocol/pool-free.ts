/**
 * FREE (op 23, meta service -> rank agent, on the data path's frames): ranges of the agent's
 * segments that the meta service freed (a remove, an eviction, an expired or failed put, an
 * overwrite, a demotion's source). The meta service gives a range out again only once the agent
 * acknowledged its FREE (code 0); the agent drops what its map held there and from then on refuses
 * writes granted for the range's generation or an older one (src/pool/agent-blobs.ts).
 *
 *   u32 incarnation | u32 N | N x range | MAC (32 bytes)
 *   range: u8 medium (1 hbm, 2 dram) | u8 0 | u16 0 | u32 gen | u64 offset | u64 size  (24 bytes)
 *
 * All little-endian, u64 as in pool-control.ts. The MAC is HMAC-SHA256 under the secret of the
 * agent's registration over every byte before it, so only the meta service that granted the
 * ranges can free them. Binary, as the other hot control messages: a batch remove or an eviction
 * frees a range per key.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Medium } from '../device/types.js';
import { invalid } from '../errors.js';
import { Reader, u64 } from './pool-control.js';

export interface FreedRange { medium: Medium; offset: number; size: number; gen: number }

const MEDIUM_CODE: Record<Medium, number> = { hbm: 1, dram: 2 };
const MEDIUM_OF = [undefined, 'hbm', 'dram'] as const;
const HEAD_BYTES = 8;
const RANGE_BYTES = 24;
const MAC_BYTES = 32;
/** Ranges in one FREE (1.5 MiB, well under MAX_CONTROL_BYTES). */
export const MAX_FREE_RANGES = 65536;

const macOf = (secret: Uint8Array, signed: Uint8Array): Buffer => createHmac('sha256', secret).update(signed).digest();

export function signFree(secret: Uint8Array, incarnation: number, ranges: readonly FreedRange[]): Buffer {
  const n = ranges.length;
  const end = HEAD_BYTES + RANGE_BYTES * n;
  const b = Buffer.alloc(end + MAC_BYTES);
  b.writeUInt32LE(incarnation >>> 0, 0);
  b.writeUInt32LE(n, 4);
  for (let i = 0; i < n; i++) {
    const r = ranges[i];
    const at = HEAD_BYTES + RANGE_BYTES * i;
    b[at] = MEDIUM_CODE[r.medium];
    b.writeUInt32LE(r.gen >>> 0, at + 4);
    u64(b, at + 8, r.offset);
    u64(b, at + 16, r.size);
  }
  macOf(secret, b.subarray(0, end)).copy(b, end);
  return b;
}

/** The ranges of a FREE that is well formed and signed under `secret`; else MMC_INVALID_PARAM naming why. */
export function verifyFree(secret: Uint8Array, chunks: readonly Uint8Array[]): { incarnation: number; ranges: FreedRange[] } {
  const r: Reader = new Reader(chunks, 'free');
  const incarnation = r.u32();
  const n = r.u32();
  if (n > MAX_FREE_RANGES) r.bad(`${n} ranges (at most ${MAX_FREE_RANGES})`);
  const end = HEAD_BYTES + RANGE_BYTES * n;
  if (r.b.length !== end + MAC_BYTES) r.bad(`${r.b.length} bytes for ${n} ranges`);
  // signed first: nothing of an unsigned message is looked at further
  const got = r.b.subarray(end);
  if (!timingSafeEqual(macOf(secret, r.b.subarray(0, end)), got)) {
    throw invalid('refused by rank agent: the free message is not signed by the meta service of this registration');
  }
  const ranges = new Array<FreedRange>(n);
  for (let i = 0; i < n; i++) {
    const medium = MEDIUM_OF[r.u8()];
    if (medium === undefined) r.bad('a medium is not 1 (hbm) or 2 (dram)');
    if (r.u8() !== 0 || r.u16() !== 0) r.bad('padding is not zero');
    const gen = r.u32();
    const offset = r.u64();
    const size = r.u64();
    if (size === 0) r.bad('an empty range');
    ranges[i] = { medium, offset, size, gen };
  }
  r.bytes(MAC_BYTES);
  r.done();
  return { incarnation, ranges };
}
