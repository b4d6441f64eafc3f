/**
 * Grants: what the meta service hands a client so that a rank agent lets it write or read one range
 * of one of the agent's segments. The agent checks a grant alone, with the secret it shares with the
 * meta service, so a value costs no round trip to the meta service (MemCache Hybrid's "one copy").
 *
 * A grant is GRANT_BYTES = 48 bytes, little-endian (u64: low u32, then high u32; at most 2^53 - 1):
 *
 *    0 u8  op            GRANT_WRITE (1) or GRANT_READ (2)
 *    1 u8  medium        1 hbm, 2 dram
 *    2 u16 rank
 *    4 u32 incarnation   the agent's registration it was granted against: a restarted agent refuses
 *                        grants made for the one before
 *    8 u32 view          the meta service's view (HA fencing: an agent refuses views older than one seen)
 *   12 u32 gen           the blob's generation: a read proves the range still holds that object
 *   16 u64 offset        in the segment
 *   24 u64 size
 *   32 16 bytes mac      the first 16 bytes of HMAC-SHA256(secret, bytes 0..31 | the key's UTF-8)
 *
 * The mac binds the grant to its key, so a grant for one key cannot write or read another's range.
 */
import { randomBytes } from 'node:crypto';
import type { Medium } from '../device/types.js';
import { invalid } from '../errors.js';
import { grantMacMatches, writeGrantMac } from './grant-mac.js';

export const GRANT_BYTES = 48;
export const GRANT_WRITE = 1;
export const GRANT_READ = 2;
/** Bytes of the secret an agent shares with the meta service. */
export const GRANT_SECRET_BYTES = 32;

const MEDIUM_CODE: Record<Medium, number> = { hbm: 1, dram: 2 };
const MEDIUM_OF = [undefined, 'hbm', 'dram'] as const;

export interface Grant {
  op: typeof GRANT_WRITE | typeof GRANT_READ;
  medium: Medium;
  rank: number;
  incarnation: number;
  view: number;
  gen: number;
  offset: number;
  size: number;
}

/** A fresh secret for an agent's registration. */
export function newGrantSecret(): Buffer {
  return randomBytes(GRANT_SECRET_BYTES);
}

function u32(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw invalid(`grant ${what} must be a u32`);
  return n;
}

function u64(b: Buffer, at: number, n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw invalid(`grant ${what} must be a byte count`);
  b.writeUInt32LE(n % 0x100000000, at);
  b.writeUInt32LE(Math.floor(n / 0x100000000), at + 4);
}

/** The signed bytes of `g` for `key`. */
export function signGrant(secret: Uint8Array, g: Grant, key: string): Uint8Array {
  if (g.op !== GRANT_WRITE && g.op !== GRANT_READ) throw invalid('grant op must be write or read');
  const medium = MEDIUM_CODE[g.medium];
  if (medium === undefined) throw invalid('grant medium must be hbm or dram');
  if (!Number.isInteger(g.rank) || g.rank < 0 || g.rank > 0xffff) throw invalid('grant rank must be 0..65535');
  // every byte is written below (fields, then the mac): a pooled buffer needs no zeroing
  const out = Buffer.allocUnsafe(GRANT_BYTES);
  out[0] = g.op;
  out[1] = medium;
  out.writeUInt16LE(g.rank, 2);
  out.writeUInt32LE(u32(g.incarnation, 'incarnation'), 4);
  out.writeUInt32LE(u32(g.view, 'view'), 8);
  out.writeUInt32LE(u32(g.gen, 'gen'), 12);
  u64(out, 16, g.offset, 'offset');
  u64(out, 24, g.size, 'size');
  writeGrantMac(secret, out, key);
  return out;
}

function readU64(dv: DataView, at: number): number | undefined {
  const hi = dv.getUint32(at + 4, true);
  if (hi > 0x1fffff) return undefined; // beyond 2^53 - 1
  return hi * 0x100000000 + dv.getUint32(at, true);
}

/**
 * The grant in `bytes` if its mac is right for `key` under `secret`, else undefined (a forged,
 * altered or foreign grant, or one for another key: the agent refuses them all alike).
 */
export function verifyGrant(secret: Uint8Array, bytes: Uint8Array, key: string): Grant | undefined {
  if (bytes.byteLength !== GRANT_BYTES) return undefined;
  if (!grantMacMatches(secret, bytes, key)) return undefined;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, GRANT_BYTES);
  const op = dv.getUint8(0);
  const medium = MEDIUM_OF[dv.getUint8(1)];
  const offset = readU64(dv, 16);
  const size = readU64(dv, 24);
  // a mac over fields signGrant could not have written means a secret used elsewhere: refuse
  if ((op !== GRANT_WRITE && op !== GRANT_READ) || medium === undefined || offset === undefined || size === undefined) return undefined;
  return {
    op, medium, rank: dv.getUint16(2, true), incarnation: dv.getUint32(4, true), view: dv.getUint32(8, true),
    gen: dv.getUint32(12, true), offset, size,
  };
}
