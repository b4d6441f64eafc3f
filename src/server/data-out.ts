/**
 * The answers of one data-path connection, assembled in a buffer that is reused from socket write
 * to socket write: the answers finished before the pending callbacks run (the requests of one
 * socket read) go out together, in writes of about WRITE_AT bytes, and a get's value is read by
 * the store straight into that buffer behind its header (room/sendRoom), so an answer costs no
 * allocation and no second copy.
 *
 * A buffer is reused only once the kernel has taken its bytes: a plain TCP write that completed
 * synchronously (nothing left queued in the socket), or, once queued, when its write's callback
 * says the kernel has them all. Until then the next answers get another buffer, so bytes queued
 * for a slow reader are never overwritten. TLS writes this does not see through: never reused.
 */
import type { Socket } from 'node:net';
import { HEADER_BYTES, putHead } from '../protocol/data-frames.js';
import type { Reply } from './batch.js';

/** Payloads up to this size are copied behind their header; larger ones are written as they are. */
const SMALL_PAYLOAD = 16 * 1024;
const FIRST_BYTES = 64 * 1024;
/** Answers over this size get a buffer of their own rather than growing the reused one. */
const MAX_REUSED = 8 << 20;
/**
 * Answers assembled up to this many bytes are written at once, not at the end of the socket read:
 * the client takes in the first answers of a burst while the rest are made (the two cores then
 * overlap, as Redis answering each request as it goes). Measured at 16 gets in flight: 1.00-1.37x
 * Redis against 0.61-0.85x writing once per socket read; 8 KiB measured no better.
 */
const WRITE_AT = 16 * 1024;

export class AnswerOut {
  private buf: Buffer | undefined;
  /** A buffer whose write has completed since it was given up: the next one to use. */
  private spare: Buffer | undefined;
  private used = 0;
  private scheduled = false;
  /** Answers wait for release() rather than a tick (the requests of one socket read, answered in it). */
  private held = false;
  /** Where the room lent to a read in progress begins in `buf` (-1: none). */
  private lentAt = -1;
  private readonly reuse: boolean;
  /** Writes issued from reused buffers, and the number of each buffer's last one. */
  private writes = 0;
  private readonly lastWrite = new WeakMap<Buffer, number>();

  constructor(private readonly socket: Socket) {
    this.reuse = !(socket as { encrypted?: boolean }).encrypted;
  }

  /** One answer: header, aux, payload (copied behind the header when small). */
  answer(op: number, id: number, code: number, aux: Uint8Array | undefined, payload?: Reply): void {
    this.lentAt = -1;
    const len = payload ? payload.length : 0;
    const aLen = aux ? aux.byteLength : 0;
    const small = len <= SMALL_PAYLOAD;
    let at = this.reserve(HEADER_BYTES + aLen + (small ? len : 0));
    const b = this.buf!;
    putHead(b, at, op, id, code | 0, aLen, len);
    at += HEADER_BYTES;
    if (aux) { b.set(aux, at); at += aLen; }
    if (small) {
      for (const c of payload?.chunks ?? []) { b.set(c, at); at += c.byteLength; }
      this.used = at;
      this.queued();
      return;
    }
    this.used = at;
    this.flush();
    for (const c of payload!.chunks) if (c.byteLength) this.socket.write(c);
  }

  /**
   * `size` bytes for a payload to be read into, with room for its header in front: in the reused
   * buffer, else (a large one) in a buffer of its own. Answered by sendRoom, or given up by the
   * next answer.
   */
  room(size: number): Buffer {
    const n = HEADER_BYTES + size;
    if (n > MAX_REUSED) return Buffer.allocUnsafeSlow(n).subarray(HEADER_BYTES);
    const at = this.reserve(n);
    this.lentAt = at;
    return this.buf!.subarray(at + HEADER_BYTES, at + n);
  }

  /** The answer whose payload is `v`, a view at the start of a room. */
  sendRoom(op: number, id: number, v: Uint8Array): void {
    const b = this.buf;
    const at = this.lentAt;
    this.lentAt = -1;
    if (at >= 0 && b !== undefined && v.buffer === b.buffer && v.byteOffset === b.byteOffset + at + HEADER_BYTES) {
      putHead(b, at, op, id, 0, 0, v.byteLength);
      this.used = at + HEADER_BYTES + v.byteLength;
      this.queued();
      return;
    }
    // a buffer of its own (or one given up by a flush while it was read): no one else writes it
    const whole = Buffer.from(v.buffer, v.byteOffset - HEADER_BYTES, HEADER_BYTES + v.byteLength);
    putHead(whole, 0, op, id, 0, 0, v.byteLength);
    this.flush();
    this.socket.write(whole);
  }

  /** The room of the read in progress is not used (the key was absent, or the read failed). */
  dropRoom(): void {
    this.lentAt = -1;
  }

  /** Writes what is assembled; the buffer is reused only if the kernel took it all at once. */
  flush(): void {
    const n = this.used;
    if (n === 0) return;
    this.used = 0;
    const s = this.socket;
    if (!s.writable) return;
    const b = this.buf!;
    if (!this.reuse || this.lentAt >= 0) {
      s.write(b.subarray(0, n));
      this.lastWrite.delete(b); // never reused: the callbacks of its earlier writes must not free it
      this.buf = undefined;
      return;
    }
    // The write's callback: the kernel has all its bytes. Only the callback of a buffer's LAST
    // write frees it: the callbacks of its earlier writes, which completed at once, run a tick
    // later, by when the buffer may hold another answer the kernel has only part of.
    const seq = ++this.writes;
    this.lastWrite.set(b, seq);
    s.write(b.subarray(0, n), () => this.written(b, seq));
    if (s.writableLength !== 0) this.buf = undefined;
  }

  /** A write from `b` has completed: `b` may serve again if it was its last and `b` was given up. */
  private written(b: Buffer, seq: number): void {
    if (this.lastWrite.get(b) !== seq || b === this.buf) return;
    if (this.spare === undefined || this.spare.length < b.length) this.spare = b;
  }

  private readonly tick = () => { this.scheduled = false; this.flush(); };

  /**
   * Until release(), answers are gathered without scheduling a tick: the caller writes them at
   * the end of what it is running (saves the tick queue's run after each socket read).
   */
  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
    if (!this.scheduled) this.flush();
  }

  /** An answer is assembled: written now if enough are, else at the tick's end or release(). */
  private queued(): void {
    if (this.used >= WRITE_AT) this.flush();
    else this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.held) return;
    this.scheduled = true;
    process.nextTick(this.tick);
  }

  /** The offset in `buf` where `n` more bytes fit (flushing or growing it first). */
  private reserve(n: number): number {
    let b = this.buf;
    if (b !== undefined && this.used + n <= b.length) return this.used;
    this.flush();
    b = this.buf;
    if (b === undefined && this.spare !== undefined && n <= this.spare.length) {
      this.buf = b = this.spare;
      this.spare = undefined;
    }
    if (b === undefined || n > b.length) {
      const want = Math.max(FIRST_BYTES, b?.length ?? 0, n);
      this.buf = Buffer.allocUnsafeSlow(want);
    }
    return this.used;
  }
}
