/**
 * Batch grants: what the meta service hands a client for a batch's items on one agent (WRITES,
 * READS: pool-frames.ts). One block covers a group of items and carries ONE mac over all of them,
 * so a batch of 1,024 keys costs one HMAC per agent at each end rather than one per key (a
 * `node:crypto` HMAC call costs microseconds whatever its length). The agent checks the block
 * alone, with the secret of its registration, exactly as it checks a single grant (grant.ts).
 *
 * A block is little-endian (u64: low u32, then high u32; at most 2^53 - 1):
 *
 *    0 u8  op            GRANT_WRITE (1) or GRANT_READ (2), for every item
 *    1 u8  0
 *    2 u16 rank
 *    4 u32 incarnation   of the agent's registration it was granted against
 *    8 u32 view
 *   12 u32 N             items, 1..MAX_BATCH_ITEMS
 *   16 N × 24 bytes      per item: u8 medium (1 hbm, 2 dram), u8 0, u16 0, u32 gen, u64 offset, u64 size
 *      N × u16           key lengths (1..MAX_KEY_BYTES)
 *      key bytes         UTF-8, concatenated
 *      16 bytes mac      the first 16 bytes of HMAC-SHA256(secret, every byte before it)
 *
 * The mac binds every item to its key, range and generation, and the block to its rank and
 * incarnation: a block cannot be altered, merged with another or moved to another agent.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Medium } from '../device/types.js';
import { invalid } from '../errors.js';
import { GRANT_READ, GRANT_WRITE } from './grant.js';
import { MAX_BATCH_ITEMS } from './framing.js';
import { MAX_KEY_BYTES } from './key.js';
import { decodeStrict } from './utf8.js';

const HEAD = 16;
const ITEM = 24;
const MAC_BYTES = 16;
const MEDIUM_CODE: Record<Medium, number> = { hbm: 1, dram: 2 };
const MEDIUM_OF = [undefined, 'hbm', 'dram'] as const;
const NON_ASCII = /[^\x00-\x7f]/;

/** One item of a block: its key and the range granted for it. */
export interface BlockItem { key: string; medium: Medium; gen: number; offset: number; size: number }
export interface GrantBlock {
  op: typeof GRANT_WRITE | typeof GRANT_READ;
  rank: number;
  incarnation: number;
  view: number;
  items: BlockItem[];
}

function mac(secret: Uint8Array, signed: Uint8Array): Buffer {
  return createHmac('sha256', secret).update(signed).digest().subarray(0, MAC_BYTES);
}

function setU64(dv: DataView, at: number, n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw invalid(`grant ${what} must be a byte count`);
  dv.setUint32(at, n % 0x100000000, true);
  dv.setUint32(at + 4, Math.floor(n / 0x100000000), true);
}

function u32(n: number, what: string): number {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw invalid(`grant ${what} must be a u32`);
  return n;
}

/**
 * A block's items as columns (what the meta service builds for a batch: no object per item):
 * item j is keys[j], media[j], gens[j], offsets[j], sizes[j].
 */
export interface BlockColumns {
  keys: readonly string[];
  media: readonly Medium[];
  gens: ArrayLike<number>;
  offsets: ArrayLike<number>;
  sizes: ArrayLike<number>;
}

/** The signed block of `g` (its fields checked as signGrant checks them). */
export function signGrantBlock(secret: Uint8Array, g: GrantBlock): Buffer {
  const it = g.items;
  return signGrantColumns(secret, g, {
    keys: it.map((x) => x.key), media: it.map((x) => x.medium), gens: it.map((x) => x.gen),
    offsets: it.map((x) => x.offset), sizes: it.map((x) => x.size),
  });
}

/** signGrantBlock of the items in `c`. */
export function signGrantColumns(secret: Uint8Array, g: Omit<GrantBlock, 'items'>, c: BlockColumns): Buffer {
  const n = c.keys.length;
  if (n < 1 || n > MAX_BATCH_ITEMS) throw invalid(`a grant block holds 1..${MAX_BATCH_ITEMS} items, not ${n}`);
  if (g.op !== GRANT_WRITE && g.op !== GRANT_READ) throw invalid('grant op must be write or read');
  if (!Number.isInteger(g.rank) || g.rank < 0 || g.rank > 0xffff) throw invalid('grant rank must be 0..65535');
  // ASCII keys (the usual) are written in one go, as latin1
  const joined = c.keys.join('');
  const latin1 = !NON_ASCII.test(joined);
  const lens = new Array<number>(n);
  let keyBytes = 0;
  for (let i = 0; i < n; i++) {
    lens[i] = latin1 ? c.keys[i].length : Buffer.byteLength(c.keys[i], 'utf8');
    if (lens[i] < 1 || lens[i] > MAX_KEY_BYTES) throw invalid(`grant key of ${lens[i]} bytes`);
    keyBytes += lens[i];
  }
  const keysAt = HEAD + ITEM * n + 2 * n;
  const b = Buffer.allocUnsafe(keysAt + keyBytes + MAC_BYTES);
  b.fill(0, 0, keysAt);
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  b[0] = g.op;
  dv.setUint16(2, g.rank, true);
  dv.setUint32(4, u32(g.incarnation, 'incarnation'), true);
  dv.setUint32(8, u32(g.view, 'view'), true);
  dv.setUint32(12, n, true);
  let k = keysAt;
  for (let i = 0; i < n; i++) {
    const at = HEAD + ITEM * i;
    const medium = MEDIUM_CODE[c.media[i]];
    if (medium === undefined) throw invalid('grant medium must be hbm or dram');
    b[at] = medium;
    dv.setUint32(at + 4, u32(c.gens[i], 'gen'), true);
    setU64(dv, at + 8, c.offsets[i], 'offset');
    setU64(dv, at + 16, c.sizes[i], 'size');
    dv.setUint16(HEAD + ITEM * n + 2 * i, lens[i], true);
    if (!latin1) k += b.write(c.keys[i], k, lens[i], 'utf8');
  }
  if (latin1) k += b.write(joined, k, keyBytes, 'latin1');
  mac(secret, b.subarray(0, k)).copy(b, k);
  return b;
}

function getU64(dv: DataView, at: number): number | undefined {
  const hi = dv.getUint32(at + 4, true);
  return hi > 0x1fffff ? undefined : hi * 0x100000000 + dv.getUint32(at, true);
}

/** True when every byte of b[from, to) is ASCII (its keys then read as latin1, which is cheaper). */
function ascii(b: Uint8Array, from: number, to: number): boolean {
  for (let p = from; p < to; p++) if (b[p] > 0x7f) return false;
  return true;
}

/**
 * The block in `bytes` if it is well formed and its mac is right under `secret`, else undefined
 * (forged, altered, truncated, or from another registration: the agent refuses them all alike).
 */
export function verifyGrantBlock(secret: Uint8Array, bytes: Uint8Array): GrantBlock | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < HEAD + MAC_BYTES) return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  const n = dv.getUint32(12, true);
  if (n < 1 || n > MAX_BATCH_ITEMS) return undefined;
  const lensAt = HEAD + ITEM * n;
  const keysAt = lensAt + 2 * n;
  if (keysAt + MAC_BYTES > b.length) return undefined;
  let keyBytes = 0;
  for (let i = 0; i < n; i++) keyBytes += dv.getUint16(lensAt + 2 * i, true);
  const end = keysAt + keyBytes;
  if (end + MAC_BYTES !== b.length) return undefined;
  if (!timingSafeEqual(mac(secret, b.subarray(0, end)), b.subarray(end))) return undefined;
  const op = b[0];
  if (op !== GRANT_WRITE && op !== GRANT_READ) return undefined;
  const latin1 = ascii(b, keysAt, end);
  const items = new Array<BlockItem>(n);
  let k = keysAt;
  for (let i = 0; i < n; i++) {
    const at = HEAD + ITEM * i;
    const medium = MEDIUM_OF[b[at]];
    const offset = getU64(dv, at + 8);
    const size = getU64(dv, at + 16);
    const len = dv.getUint16(lensAt + 2 * i, true);
    const key = len === 0 ? undefined : latin1 ? b.toString('latin1', k, k + len) : decodeStrict(b.subarray(k, k + len));
    k += len;
    // fields signGrantBlock could not have written mean a secret used elsewhere: refuse
    if (medium === undefined || offset === undefined || size === undefined || key === undefined) return undefined;
    items[i] = { key, medium, gen: dv.getUint32(at + 4, true), offset, size };
  }
  return { op, rank: dv.getUint16(2, true), incarnation: dv.getUint32(4, true), view: dv.getUint32(8, true), items };
}
