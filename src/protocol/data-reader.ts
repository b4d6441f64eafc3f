/**
 * The data path's frames read incrementally from socket reads, on both sides: synchronous and
 * allocation-light, so the server and the client run the same decoder and the fuzz tests drive
 * it alone. Values come out as views of the socket reads, a read at a time (never gathered).
 */
import { DataFrameError, HEADER_BYTES, decodeHead, type Head } from './data-frames.js';

export type FrameEvent =
  /** A frame's header with its key (empty in answers) and aux; `head.len` value bytes follow. */
  | { kind: 'head'; head: Head; key: Uint8Array; aux: Uint8Array }
  /** Some of the value (or payload), in order. */
  | { kind: 'value'; chunk: Uint8Array }
  /** The frame is complete. */
  | { kind: 'end'; head: Head };

const EMPTY = new Uint8Array(0);

export class FrameReader {
  private readonly chunks: Uint8Array[] = [];
  /** Bytes of chunks[0] already read. */
  private off = 0;
  private queued = 0;
  private head: Head | undefined;
  /** True once the head event of `head` went out: its value is being read. */
  private inValue = false;
  private left = 0;
  private failed: DataFrameError | undefined;

  /** `answer`: read answers (the client) rather than requests (the server). */
  constructor(private readonly answer: boolean) {}

  push(chunk: Uint8Array): void {
    if (chunk.byteLength === 0) return;
    this.chunks.push(chunk);
    this.queued += chunk.byteLength;
  }

  /** Bytes received and not yet read out. */
  get buffered(): number {
    return this.queued;
  }

  /** Value bytes of the frame being read still to come, when none is buffered (else 0). */
  get valueLeft(): number {
    return this.inValue && this.queued === 0 ? this.left : 0;
  }

  /** Value bytes of the frame being read not yet received (none buffered beyond them). */
  get valueAhead(): number {
    return this.inValue && this.queued < this.left ? this.left - this.queued : 0;
  }

  /** `n` value bytes (at most valueLeft) that went straight to their destination, not through push. */
  skip(n: number): void {
    if (n > this.valueLeft) throw new Error('skip past the value');
    this.left -= n;
  }

  /** True while a frame is begun and not complete (a stall here is a stalled request). */
  get midFrame(): boolean {
    return this.head !== undefined || this.queued > 0;
  }

  /**
   * The next event, or undefined until more bytes arrive. A frame that cannot be trusted throws
   * DataFrameError, and so does every later call: the stream is lost.
   */
  next(): FrameEvent | undefined {
    if (this.failed) throw this.failed;
    let h = this.head;
    if (h === undefined) {
      if (this.queued < HEADER_BYTES) return undefined;
      try {
        h = decodeHead(this.take(HEADER_BYTES), this.answer);
      } catch (e) {
        this.failed = e as DataFrameError;
        throw e;
      }
      this.head = h;
    }
    if (!this.inValue) {
      const keyLen = this.answer ? 0 : h.a;
      if (this.queued < keyLen + h.aux) return undefined;
      const key = this.take(keyLen);
      const aux = this.take(h.aux);
      this.inValue = true;
      this.left = h.len;
      return { kind: 'head', head: h, key, aux };
    }
    if (this.left === 0) {
      this.head = undefined;
      this.inValue = false;
      return { kind: 'end', head: h };
    }
    if (this.queued === 0) return undefined;
    return { kind: 'value', chunk: this.front(this.left) };
  }

  /** Up to `max` bytes of the first chunk, as a view. */
  private front(max: number): Uint8Array {
    const c = this.chunks[0];
    const n = Math.min(max, c.byteLength - this.off);
    const v = n === c.byteLength ? c : c.subarray(this.off, this.off + n);
    this.consume(n);
    this.left -= n;
    return v;
  }

  private consume(n: number): void {
    this.off += n;
    this.queued -= n;
    if (this.off === this.chunks[0].byteLength) { this.chunks.shift(); this.off = 0; }
  }

  /** Exactly `len` buffered bytes: a view within one chunk, a copy across chunks. */
  private take(len: number): Uint8Array {
    if (len === 0) return EMPTY;
    const c = this.chunks[0];
    if (this.off + len <= c.byteLength) {
      const v = c.subarray(this.off, this.off + len);
      this.consume(len);
      return v;
    }
    const out = new Uint8Array(len);
    let pos = 0;
    while (pos < len) {
      const d = this.chunks[0];
      const n = Math.min(len - pos, d.byteLength - this.off);
      out.set(d.subarray(this.off, this.off + n), pos);
      pos += n;
      this.consume(n);
    }
    return out;
  }
}
