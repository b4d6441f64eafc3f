/**
 * A batch get's answer (src/protocol/framing.ts, "batch_get response") read into pieces of
 * PIECE_BYTES or less, each holding whole values, rather than one buffer of the answer's size.
 *
 * Why: the caller owns the values it gets, so their memory is fresh for every batch. A buffer of
 * 4 MiB is above malloc's mmap threshold: each one is new pages from the kernel, faulted in (and
 * zeroed by it) as the socket read copies into them, and handed back when the GC frees it. That
 * cost as much as the copy itself. Pieces below the threshold come from the allocator's free
 * lists, memory already mapped that the last batches gave back. Reads still go straight into the
 * pieces (target/advance), one piece at a time, so there is no copy besides the kernel's.
 */
import { MAX_BATCH_ITEMS } from '../protocol/framing.js';
import type { Sink } from './data-conn.js';

/**
 * The most bytes of one piece; a value larger than this gets a piece of its own size. Each socket
 * read goes into one piece, so this is also the most one read takes: 256 KiB reads cost the client
 * a quarter less CPU per key than 64 KiB ones at 4 KiB values (paired runs of bench/vs-redis.js
 * --cpu, 2.2-2.9 against 3.2-4.4 µs a key), and glibc serves them from its heap once its mmap
 * threshold has risen past them (it does so at the first such buffer freed). A value kept from a
 * batch keeps its piece alive: up to 256 KiB.
 */
const PIECE_BYTES = 256 * 1024;

export class BatchGetSink implements Sink {
  private len = 0;
  /** Bytes of the answer taken so far (front and values). */
  private at = 0;
  /** The count and the table (4 + 8n bytes), gathered before any value. */
  private front = Buffer.allocUnsafe(4);
  private n = -1;
  /** Per item: its code, and its length (0 where absent). */
  codes: number[] = [];
  private lens: number[] = [];
  /** The pieces' sizes; pieces[i] is allocated once its first byte arrives. */
  private sizes: number[] = [];
  private pieces: Buffer[] = [];
  private piece = 0;
  private pieceAt = 0;
  /** The answer does not parse: its bytes are dropped, and values() says so. */
  private bad = false;

  begin(len: number): undefined { this.len = len; return undefined; }

  write(chunk: Uint8Array): void {
    let pos = 0;
    while (pos < chunk.byteLength && !this.bad) {
      if (this.n < 0 || this.at < this.front.length) {
        const k = Math.min(this.front.length - this.at, chunk.byteLength - pos);
        this.front.set(chunk.subarray(pos, pos + k), this.at);
        pos += k;
        this.at += k;
        if (this.at === this.front.length) this.frontDone();
        continue;
      }
      const t = this.target(chunk.byteLength - pos);
      if (t === undefined) { this.bad = true; return; }
      t.set(chunk.subarray(pos, pos + t.byteLength));
      pos += t.byteLength;
      this.advance(t.byteLength);
    }
  }

  /** Only once the table is read (the connection reads into target only past the front's bytes). */
  target(max: number): Uint8Array | undefined {
    if (this.n < 0 || this.at < this.front.length || this.bad) return undefined;
    while (this.piece < this.sizes.length && this.pieceAt === this.sizes[this.piece]) { this.piece++; this.pieceAt = 0; }
    if (this.piece >= this.sizes.length) return undefined;
    const p = (this.pieces[this.piece] ??= Buffer.allocUnsafeSlow(this.sizes[this.piece]));
    return p.subarray(this.pieceAt, this.pieceAt + Math.min(max, p.length - this.pieceAt));
  }

  advance(n: number): void {
    this.pieceAt += n;
    this.at += n;
  }

  /** The front is complete: after the count, the table; after the table, the pieces planned. */
  private frontDone(): void {
    const dv = new DataView(this.front.buffer, this.front.byteOffset, this.front.byteLength);
    if (this.n < 0) {
      const n = dv.getUint32(0, true);
      if (n > MAX_BATCH_ITEMS || 4 + 8 * n > this.len) { this.bad = true; return; }
      this.n = n;
      const f = Buffer.allocUnsafe(4 + 8 * n);
      f.set(this.front);
      this.front = f;
      if (n > 0) return;
    }
    const n = this.n;
    let total = 0;
    let size = 0;
    for (let i = 0; i < n; i++) {
      const code = dv.getInt32(4 + 4 * i, true);
      const l = code === 0 ? dv.getUint32(4 + 4 * (n + i), true) : 0;
      this.codes.push(code);
      this.lens.push(l);
      total += l;
      if (l === 0) continue;
      if (size > 0 && size + l > PIECE_BYTES) { this.sizes.push(size); size = 0; }
      size += l;
    }
    if (size > 0) this.sizes.push(size);
    if (this.front.length + total !== this.len) this.bad = true;
  }

  /** Views of the values in the pieces, undefined where absent; undefined if the answer is malformed. */
  values(): (Uint8Array | undefined)[] | undefined {
    if (this.bad || this.n < 0 || this.at !== this.len) return undefined;
    const out = new Array<Uint8Array | undefined>(this.n);
    let p = 0;
    let off = 0;
    for (let i = 0; i < this.n; i++) {
      const l = this.lens[i];
      if (this.codes[i] !== 0) { out[i] = undefined; continue; }
      if (l === 0) { out[i] = Buffer.alloc(0); continue; }
      if (off === this.sizes[p]) { p++; off = 0; }
      const b = this.pieces[p];
      out[i] = Buffer.from(b.buffer, b.byteOffset + off, l);
      off += l;
    }
    return out;
  }
}
