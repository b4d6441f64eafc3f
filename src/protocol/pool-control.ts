/**
 * The pool's hot control messages in binary (pool-frames.ts lists the ops): ALLOC, COMMIT, LOOKUP
 * and RELEASE between a client and the meta service. Keys go as framing.ts's key list; sizes as
 * u64 (low u32, high u32, at most 2^53 - 1); all integers little-endian.
 *
 *   ALLOC request    u8 batch | u8 0 | u16 queryLen | query (ASCII, as PUT's) | u32 N | u64 size × N | key list
 *   COMMIT request   u8 batch | u8 0 | u16 0 | u32 N | u8 ok × N (1 write_ok, 0 write_fail)
 *                    | batch: u32 id (its ALLOC answer's, N its item count) ; single: key list (1 key)
 *   LOOKUP request   u8 batch | u8 unleased | u16 0 | key list
 *                    (unleased 1: the lookup keeps no lease, it ends as it is answered; see LookupRequest)
 *   RELEASE request  u32 lease
 *   COMMIT answer    code list (framing.ts)
 *   ALLOC / LOOKUP answer, a Placement:
 *     u32 lease (LOOKUP: the read lease; batch ALLOC: the id COMMIT names, 0 when nothing was
 *     placed; single ALLOC: 0) | u32 N | u32 G
 *     N × item:   i32 code | u64 size | u16 reasonLen       (code 0, -3102 absent, or an error)
 *     G × group:  u16 rank | u8 slot | u8 0 | u16 addrLen | u32 grantLen | u32 count | u16 0
 *                 | addr (HOST:PORT) | grant | u32 item index × count
 *     the reasons of the items with one, in item order (`MMC_X: text`)
 *
 * A group is the grant for the items whose `slot`-th replica lies on one agent, in its order: a
 * batch's grant block (grant-block.ts), or for a single key (batch 0) its 48-byte grant (grant.ts).
 * Decoders check every length and refuse anything else with MMC_INVALID_PARAM naming the message.
 *
 * A batch is committed by its ALLOC's id, not by its keys: the meta service keeps the batch's
 * placements (handles) under that id until COMMIT, so the keys cross and are decoded once.
 */
import { invalid } from '../errors.js';
import { FrameError, decodeKeyListChunks, encodeKeyListAfter } from './framing.js';

export interface AllocRequest { keys: string[]; sizes: number[]; query: string; batch: boolean }
/** A batch's COMMIT names its ALLOC's id (ok: one per item of the ALLOC); a single key's, the key. */
export type CommitRequest = { batch: true; id: number; ok: boolean[] } | { batch: false; keys: string[]; ok: boolean[] };
/**
 * `unleased`: the read needs no lease kept for it, the lookup is counted and ends as it is answered
 * (no RELEASE follows). Safe because the agent alone keeps a read right: it serves a grant only
 * while its blob map holds the key at the granted range and generation, and it acknowledges a FREE
 * (after which meta may hand the range out again) only once the reads in flight there have ended.
 * A blob moved or removed meanwhile reads absent at the agent; the client then looks up again.
 */
export interface LookupRequest { keys: string[]; batch: boolean; unleased?: boolean }
export interface PlacedItem { code: number; size: number; reason?: string }
export interface GrantGroup { rank: number; slot: number; addr: string; grant: Uint8Array; items: number[] }
export interface Placement { lease: number; items: PlacedItem[]; groups: GrantGroup[] }

/** Reads a message front to back; anything short or left over is `bad <what> message`. */
export class Reader {
  at = 0;
  readonly b: Buffer;
  constructor(chunks: readonly Uint8Array[], readonly what: string) {
    this.b = chunks.length === 1 ? Buffer.from(chunks[0].buffer, chunks[0].byteOffset, chunks[0].byteLength) : Buffer.concat(chunks);
  }
  bad(why: string): never { throw invalid(`bad ${this.what} message: ${why}`); }
  need(n: number): number {
    if (n < 0 || this.at + n > this.b.length) this.bad('truncated');
    const at = this.at;
    this.at += n;
    return at;
  }
  u8(): number { return this.b[this.need(1)]; }
  u16(): number { return this.b.readUInt16LE(this.need(2)); }
  u32(): number { return this.b.readUInt32LE(this.need(4)); }
  i32(): number { return this.b.readInt32LE(this.need(4)); }
  u64(): number {
    const at = this.need(8);
    const hi = this.b.readUInt32LE(at + 4);
    if (hi > 0x1fffff) this.bad('a size over 2^53');
    return hi * 0x100000000 + this.b.readUInt32LE(at);
  }
  bytes(n: number): Buffer { const at = this.need(n); return this.b.subarray(at, at + n); }
  flag(): boolean { const f = this.u8(); if (f > 1) this.bad('a flag is not 0 or 1'); return f === 1; }
  /** The key list that ends the message: N keys, every one UTF-8. */
  keys(n?: number): string[] {
    let keys: string[];
    let bad: number[];
    try {
      ({ keys, bad } = decodeKeyListChunks([this.b.subarray(this.at)]));
    } catch (e) {
      if (e instanceof FrameError) this.bad('malformed key list');
      throw e;
    }
    if (bad.length) this.bad('a key is not UTF-8');
    if (n !== undefined && keys.length !== n) this.bad(`${keys.length} keys for ${n} items`);
    this.at = this.b.length;
    return keys;
  }
  done(): void { if (this.at !== this.b.length) this.bad('bytes left over'); }
}

/** Writes `n` (a whole number up to 2^53 - 1) as u64: low u32, high u32. */
export function u64(b: Buffer, at: number, n: number): void {
  b.writeUInt32LE(n % 0x100000000, at);
  b.writeUInt32LE(Math.floor(n / 0x100000000), at + 4);
}

export function encodeAlloc(r: AllocRequest): Buffer {
  const qLen = r.query.length; // latin1: a byte a character
  const n = r.keys.length;
  const b = encodeKeyListAfter(8 + qLen + 8 * n, r.keys);
  b[0] = r.batch ? 1 : 0;
  b[1] = 0;
  b.writeUInt16LE(qLen, 2);
  b.write(r.query, 4, qLen, 'latin1');
  b.writeUInt32LE(n, 4 + qLen);
  for (let i = 0; i < n; i++) u64(b, 8 + qLen + 8 * i, r.sizes[i]);
  return b;
}

export function decodeAlloc(chunks: readonly Uint8Array[]): AllocRequest {
  const r = new Reader(chunks, 'alloc');
  const batch = r.flag();
  r.u8();
  const query = r.bytes(r.u16()).toString('latin1');
  const n = r.u32();
  if (n * 8 > r.b.length) r.bad('truncated');
  const sizes = new Array<number>(n);
  for (let i = 0; i < n; i++) sizes[i] = r.u64();
  const keys = r.keys(n);
  if (!batch && n !== 1) r.bad(`${n} keys`);
  return { keys, sizes, query, batch };
}

export function encodeCommit(r: CommitRequest): Buffer {
  const n = r.ok.length;
  const b = r.batch ? Buffer.allocUnsafe(8 + n + 4) : encodeKeyListAfter(8 + n, r.keys);
  b.writeUInt32LE(r.batch ? 1 : 0, 0); // u8 batch | u8 0 | u16 0
  b.writeUInt32LE(n, 4);
  for (let i = 0; i < n; i++) b[8 + i] = r.ok[i] ? 1 : 0;
  if (r.batch) b.writeUInt32LE(r.id >>> 0, 8 + n);
  return b;
}

export function decodeCommit(chunks: readonly Uint8Array[]): CommitRequest {
  const r = new Reader(chunks, 'commit');
  const batch = r.flag();
  r.need(3);
  const n = r.u32();
  const ok = new Array<boolean>(n);
  if (n > r.b.length) r.bad('truncated');
  for (let i = 0; i < n; i++) ok[i] = r.flag();
  if (batch) {
    const id = r.u32();
    r.done();
    if (id === 0) r.bad('batch id 0');
    return { batch, id, ok };
  }
  const keys = r.keys(n);
  if (n !== 1) r.bad(`${n} keys`);
  return { batch, keys, ok };
}

export function encodeLookup(r: LookupRequest): Buffer {
  const b = encodeKeyListAfter(4, r.keys);
  b[0] = r.batch ? 1 : 0;
  b[1] = r.unleased ? 1 : 0;
  b.writeUInt16LE(0, 2);
  return b;
}

export function decodeLookup(chunks: readonly Uint8Array[]): LookupRequest {
  const r = new Reader(chunks, 'lookup');
  const batch = r.flag();
  const unleased = r.flag();
  r.need(2);
  const keys = r.keys();
  if (!batch && keys.length !== 1) r.bad(`${keys.length} keys`);
  return { keys, batch, unleased };
}

export function encodeRelease(lease: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(lease >>> 0, 0);
  return b;
}

export function decodeRelease(chunks: readonly Uint8Array[]): number {
  const r = new Reader(chunks, 'release');
  const lease = r.u32();
  r.done();
  return lease;
}

/** The placement's bytes, written into one buffer sized first (no part buffers, no concat). */
export function encodePlacement(p: Placement): Buffer {
  const n = p.items.length;
  // reasons are rare: only the items with one get a buffer
  let reasons: (Buffer | undefined)[] | undefined;
  let size = 12 + 14 * n;
  for (let i = 0; i < n; i++) {
    const reason = p.items[i].reason;
    if (!reason) continue;
    reasons ??= new Array<Buffer | undefined>(n);
    reasons[i] = Buffer.from(reason, 'utf8').subarray(0, 0xffff);
    size += reasons[i]!.length;
  }
  const addrLens = new Array<number>(p.groups.length);
  for (let g = 0; g < p.groups.length; g++) {
    const gr = p.groups[g];
    addrLens[g] = Buffer.byteLength(gr.addr, 'utf8');
    size += 16 + addrLens[g] + gr.grant.byteLength + 4 * gr.items.length;
  }
  const b = Buffer.allocUnsafe(size);
  b.writeUInt32LE(p.lease >>> 0, 0);
  b.writeUInt32LE(n, 4);
  b.writeUInt32LE(p.groups.length, 8);
  for (let i = 0; i < n; i++) {
    const at = 12 + 14 * i;
    b.writeInt32LE(p.items[i].code | 0, at);
    u64(b, at + 4, p.items[i].size);
    b.writeUInt16LE(reasons?.[i]?.length ?? 0, at + 12);
  }
  let at = 12 + 14 * n;
  for (let g = 0; g < p.groups.length; g++) {
    const gr = p.groups[g];
    b.writeUInt16LE(gr.rank, at);
    b[at + 2] = gr.slot;
    b[at + 3] = 0;
    b.writeUInt16LE(addrLens[g], at + 4);
    b.writeUInt32LE(gr.grant.byteLength, at + 6);
    b.writeUInt32LE(gr.items.length, at + 10);
    b.writeUInt16LE(0, at + 14);
    at += 16;
    at += b.write(gr.addr, at, addrLens[g], 'utf8');
    b.set(gr.grant, at);
    at += gr.grant.byteLength;
    for (let j = 0; j < gr.items.length; j++, at += 4) b.writeUInt32LE(gr.items[j], at);
  }
  if (reasons) for (const r of reasons) if (r) { b.set(r, at); at += r.length; }
  return b;
}

export function decodePlacement(chunks: readonly Uint8Array[]): Placement {
  const r = new Reader(chunks, 'pool answer');
  const lease = r.u32();
  const n = r.u32();
  const gs = r.u32();
  if (n * 14 > r.b.length || gs * 16 > r.b.length) r.bad('truncated');
  const items = new Array<PlacedItem>(n);
  const reasonLens = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    items[i] = { code: r.i32(), size: r.u64() };
    reasonLens[i] = r.u16();
  }
  const groups = new Array<GrantGroup>(gs);
  for (let g = 0; g < gs; g++) {
    const rank = r.u16();
    const slot = r.u8();
    r.u8();
    const addrLen = r.u16();
    const grantLen = r.u32();
    const count = r.u32();
    r.need(2);
    const addr = r.bytes(addrLen).toString('utf8');
    const grant = r.bytes(grantLen);
    if (count * 4 > r.b.length) r.bad('truncated');
    const its = new Array<number>(count);
    for (let j = 0; j < count; j++) {
      its[j] = r.u32();
      if (its[j] >= n) r.bad(`item ${its[j]} of ${n}`);
    }
    groups[g] = { rank, slot, addr, grant, items: its };
  }
  for (let i = 0; i < n; i++) if (reasonLens[i]) items[i].reason = r.bytes(reasonLens[i]).toString('utf8');
  r.done();
  return { lease, items, groups };
}
