/**
 * The requests of one data-path connection, client side, assembled in a buffer that is reused
 * from socket write to socket write (as the server assembles its answers, server/data-out.ts):
 * no buffer per request and one plain write for the requests made together, rather than a
 * writev of one chunk each. Small values are copied behind their header; larger ones are
 * written as they are, right behind what is assembled (one writev, no copy).
 *
 * The requests of one tick go out at its end, GROUP at a time: with many requests made at once
 * (the answers of one socket read each starting the next get), the server starts on the first
 * group while the client still makes the next, rather than waiting for all of them.
 *
 * A buffer is reused only once the kernel has taken its bytes (a plain TCP write that completed
 * synchronously, nothing left queued in the socket); TLS writes are not seen through: never reused.
 */
import type { Socket } from 'node:net';
import { putRequest, requestRoom, type Op } from '../protocol/data-frames.js';

/** Values up to this size are copied behind their header; larger ones are written as they are. */
const SMALL_VALUE = 16 * 1024;
const FIRST_BYTES = 32 * 1024;
/** Requests gathered before they are written without waiting for the tick's end. */
export const GROUP = 8;

export class RequestOut {
  private buf: Buffer | undefined;
  private used = 0;
  private count = 0;
  private scheduled = false;
  private readonly reuse: boolean;

  constructor(private readonly socket: Socket) {
    this.reuse = !(socket as { encrypted?: boolean }).encrypted;
  }

  /** One request; `value` (valueLen bytes in all) follows its header, in order. */
  add(op: Op, id: number, key: string | Uint8Array, aux: Uint8Array | string, value: readonly Uint8Array[], valueLen: number): void {
    const small = valueLen <= SMALL_VALUE;
    const b = this.reserve(requestRoom(key, aux) + (small ? valueLen : 0));
    let at = putRequest(b, this.used, op, id, key, aux, valueLen);
    if (!small) {
      this.used = at;
      const s = this.socket;
      s.cork();
      this.flush();
      for (const v of value) if (v.byteLength) s.write(v);
      s.uncork();
      return;
    }
    for (const v of value) { b.set(v, at); at += v.byteLength; }
    this.used = at;
    if (++this.count >= GROUP) this.flush();
    else if (!this.scheduled) { this.scheduled = true; process.nextTick(this.tick); }
  }

  /** Writes what is assembled; the buffer is kept only if the kernel took it all at once. */
  flush(): void {
    const n = this.used;
    this.count = 0;
    if (n === 0) return;
    this.used = 0;
    const s = this.socket;
    s.write(this.buf!.subarray(0, n));
    if (!this.reuse || s.writableLength !== 0) this.buf = undefined;
  }

  private readonly tick = (): void => {
    this.scheduled = false;
    this.flush();
  };

  /** The buffer, with `n` more bytes free at `used` (what was assembled written first if need be). */
  private reserve(n: number): Buffer {
    let b = this.buf;
    if (b !== undefined && this.used + n <= b.length) return b;
    this.flush();
    b = this.buf;
    if (b === undefined || n > b.length) this.buf = b = Buffer.allocUnsafeSlow(Math.max(FIRST_BYTES, n));
    return b;
  }
}
