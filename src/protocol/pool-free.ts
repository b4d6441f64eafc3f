/**
 * FREE (op 23, meta service -> rank agent, on the data path's frames): ranges of the agent's
 * segments that the meta service freed (a remove, an eviction, an expired or failed put, an
 * overwrite, a demotion's source). The meta service gives a range out again only once the agent
 * acknowledged its FREE (code 0); the agent drops what its map held there and from then on refuses
 * writes granted for the range's generation or an older one (src/pool/agent-blobs.ts).
 *
 * The value is JSON: { incarnation, ranges: [[medium, offset, size, gen], ...], mac }, medium 1
 * hbm, 2 dram; mac (base64) is HMAC-SHA256 under the secret of the agent's registration over the
 * incarnation and the ranges, so only the meta service that granted the ranges can free them.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Medium } from '../device/types.js';
import { invalid } from '../errors.js';

export interface FreedRange { medium: Medium; offset: number; size: number; gen: number }
export interface FreeRequest { incarnation: number; ranges: [number, number, number, number][]; mac: string }

const MEDIUM_CODE: Record<Medium, number> = { hbm: 1, dram: 2 };
const MEDIUM_OF = [undefined, 'hbm', 'dram'] as const;
/** Ranges in one FREE (a JSON message well under MAX_CONTROL_BYTES). */
export const MAX_FREE_RANGES = 65536;

function macOf(secret: Uint8Array, incarnation: number, ranges: FreeRequest['ranges']): Buffer {
  return createHmac('sha256', secret).update(JSON.stringify([incarnation, ranges])).digest();
}

export function signFree(secret: Uint8Array, incarnation: number, ranges: readonly FreedRange[]): FreeRequest {
  const rs = ranges.map((r): [number, number, number, number] => [MEDIUM_CODE[r.medium], r.offset, r.size, r.gen]);
  return { incarnation, ranges: rs, mac: macOf(secret, incarnation, rs).toString('base64') };
}

const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;
const isU32 = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= 0xffffffff;

/** The ranges of a FREE that is well formed and signed under `secret`; else MMC_INVALID_PARAM naming why. */
export function verifyFree(secret: Uint8Array, v: unknown): { incarnation: number; ranges: FreedRange[] } {
  const o = v as Partial<FreeRequest> | null;
  const ok = typeof o === 'object' && o !== null && isU32(o.incarnation) && typeof o.mac === 'string'
    && Array.isArray(o.ranges) && o.ranges.length <= MAX_FREE_RANGES
    && o.ranges.every((r) => Array.isArray(r) && r.length === 4 && MEDIUM_OF[r[0]] !== undefined && r[0] !== 0
      && isCount(r[1]) && isCount(r[2]) && r[2] > 0 && isU32(r[3]));
  if (!ok) throw invalid('bad free message');
  const want = macOf(secret, o.incarnation!, o.ranges!);
  const got = Buffer.from(o.mac!, 'base64');
  if (got.length !== want.length || !timingSafeEqual(want, got)) throw invalid('refused by rank agent: the free message is not signed by the meta service of this registration');
  return { incarnation: o.incarnation!, ranges: o.ranges!.map(([m, offset, size, gen]) => ({ medium: MEDIUM_OF[m]!, offset, size, gen })) };
}
