/**
 * One connection of the binary data path: frames read as they arrive (FrameReader), requests run
 * one after another in the order sent (a get after a put of the same key sees it), answers written
 * as each finishes and coalesced into few socket writes while requests keep coming.
 *
 * A frame that cannot be trusted, a stall mid-frame (no byte for bodyTimeoutMs) or a peer gone
 * mid-value: the request in progress is aborted (its reservation freed, nothing half written),
 * an error answer goes out where the socket still takes one, and the connection closes. Other
 * connections never notice.
 */
import type { Socket } from 'node:net';
import { DataFrameError, OP, type Head } from '../protocol/data-frames.js';
import { FrameReader } from '../protocol/data-reader.js';
import { REASON, readReason, type Reason } from '../protocol/reasons.js';
import { INTERNAL_ERROR, answerOf } from './answer.js';
import type { Reply } from './batch.js';
import { BodyAborted, BodyStalled } from './body.js';
import type { Answers, DataOps, Pending } from './data-ops.js';
import { AnswerOut } from './data-out.js';

/** Bytes read ahead of the requests being run before the socket is paused. */
const READ_HIGH = 4 << 20;
/** Answer bytes queued on a slow reader before requests stop being run. */
const WRITE_HIGH = 8 << 20;

export interface SessionOptions {
  /** The token check when a token is set: the first frame must be a HELLO that passes it. */
  token?: (got: Uint8Array) => boolean;
  timeoutMs: number;
  /** Unexpected failures (answered with the generic reason). */
  onError?: (e: unknown) => void;
}

class Closed extends Error {}

export class DataSession implements Answers {
  private readonly reader = new FrameReader(false);
  private authed: boolean;
  private ended = false;
  private closing = false;
  private wake: (() => void) | undefined;
  private readonly out: AnswerOut;

  constructor(private readonly socket: Socket, private readonly ops: Pick<DataOps, 'begin'>, private readonly opts: SessionOptions) {
    this.authed = opts.token === undefined;
    this.out = new AnswerOut(socket);
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
    socket.on('error', () => {}); // a reset peer: 'close' follows
    if (!this.authed) {
      // a peer that never shows the token holds no connection for longer than a stalled body
      const t = setTimeout(() => { if (!this.authed) this.shut(); }, opts.timeoutMs);
      t.unref();
      socket.once('close', () => clearTimeout(t));
    }
    void this.run();
  }

  private readonly onData = (c: Buffer) => {
    this.reader.push(c);
    if (this.reader.buffered >= READ_HIGH) this.socket.pause();
    this.notify();
  };
  private readonly onEnd = () => { this.ended = true; this.notify(); };
  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** Waits for bytes; mid-frame, a stall of timeoutMs is BodyStalled. */
  private more(): Promise<void> {
    if (this.socket.isPaused() && !this.closing) this.socket.resume();
    const stallable = this.reader.midFrame;
    return new Promise<void>((resolve, reject) => {
      const timer = stallable ? setTimeout(() => { this.wake = undefined; reject(new BodyStalled(this.opts.timeoutMs)); }, this.opts.timeoutMs) : undefined;
      this.wake = () => { if (timer) clearTimeout(timer); resolve(); };
    });
  }

  private async run(): Promise<void> {
    let pending: Pending | undefined;
    let head: Head | undefined;
    try {
      for (;;) {
        if (this.closing) return;
        const ev = this.reader.next();
        if (ev === undefined) {
          if (this.ended) { if (this.reader.midFrame) throw new BodyAborted(); return; }
          await this.more();
          continue;
        }
        if (ev.kind === 'head') {
          head = ev.head;
          pending = this.begin(ev.head, ev.key, ev.aux);
        } else if (ev.kind === 'value') {
          await pending!.write(ev.chunk);
        } else {
          const p = pending!;
          pending = undefined;
          head = undefined;
          await p.end();
          if (this.socket.writableLength > WRITE_HIGH) await this.drained();
        }
      }
    } catch (e) {
      await pending?.abort().catch(() => {});
      if (e instanceof Closed) return;
      const id = e instanceof DataFrameError ? e.id : head?.id ?? 0;
      this.close({ op: head?.op ?? 0, id, a: 0, aux: 0, len: 0 }, e);
    }
  }

  private drained(): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = () => { this.socket.off('drain', done); this.socket.off('close', gone); resolve(); };
      const gone = () => { this.socket.off('drain', done); reject(new Closed()); };
      this.socket.on('drain', done);
      this.socket.once('close', gone);
    });
  }

  /** A request's Pending; before the token is shown, only a HELLO that passes it is taken. */
  private begin(head: Head, key: Uint8Array, aux: Uint8Array): Pending {
    if (head.op === OP.HELLO) {
      const check = this.opts.token;
      if (check !== undefined && !check(key)) return this.refuse(head, REASON.WRONG_TOKEN);
      this.authed = true;
      this.ok(head);
      return { write() {}, end: async () => {}, abort: async () => {} };
    }
    if (!this.authed) return this.refuse(head, REASON.NO_TOKEN);
    return this.ops.begin(head, key, aux, this);
  }

  /** Refused access: answered, then the connection closes. */
  private refuse(head: Head, reason: Reason): Pending {
    this.send(head, readReason(reason).code, Buffer.from(reason));
    this.shut();
    return { write() {}, end: async () => {}, abort: async () => {} };
  }

  ok(head: Head, aux?: Uint8Array, payload?: Reply): void {
    this.send(head, 0, aux, payload);
  }

  absent(head: Head): void {
    this.send(head, -3102, undefined);
  }

  fail(head: Head, e: unknown): void {
    let a = answerOf(e, true);
    if (!a) { this.opts.onError?.(e); a = INTERNAL_ERROR; }
    this.send(head, readReason(a.reason).code, Buffer.from(a.reason));
  }

  room(size: number): Uint8Array {
    return this.out.room(size);
  }

  sendRoom(head: Head, v: Uint8Array): void {
    if (this.closing || !this.socket.writable) { this.out.dropRoom(); return; }
    this.out.sendRoom(head.op, head.id, v);
  }

  dropRoom(): void {
    this.out.dropRoom();
  }

  private send(head: Head, code: number, aux: Uint8Array | undefined, payload?: Reply): void {
    if (this.closing || !this.socket.writable) return;
    this.out.answer(head.op, head.id, code, aux, payload);
  }

  /** The stream cannot be trusted (or is gone): answer where possible, then close. */
  private close(head: Head, e: unknown): void {
    if (e instanceof DataFrameError) this.send({ ...head, op: 0 }, -3000, Buffer.from(`MMC_INVALID_PARAM: ${e.message}`));
    else if (!(e instanceof BodyAborted)) this.fail(head, e);
    this.shut();
  }

  private shut(): void {
    if (this.closing) return;
    this.closing = true;
    const s = this.socket;
    s.off('data', this.onData);
    s.resume(); // what the peer still sends is dropped
    this.out.flush();
    s.end();
    setTimeout(() => s.destroy(), 2000).unref();
    this.notify();
  }
}
