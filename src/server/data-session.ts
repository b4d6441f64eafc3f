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
import { FrameReader, type FrameEvent } from '../protocol/data-reader.js';
import { REASON, readReason, type Reason } from '../protocol/reasons.js';
import { INTERNAL_ERROR, answerOf } from './answer.js';
import type { Reply } from './batch.js';
import { BodyAborted, BodyStalled } from './body.js';
import type { Answers, Pending, SessionOps } from './data-ops.js';
import { AnswerOut } from './data-out.js';
import type { ReadSlab, SlabOwner } from '../protocol/read-slab.js';

/** Bytes read ahead of the requests being run before the socket is paused. */
const READ_HIGH = 4 << 20;
/** Answer bytes queued on a slow reader before requests stop being run. */
const WRITE_HIGH = 8 << 20;
/** Value bytes still to come from which a put's next read goes into the session's value buffer. */
const STRAIGHT_MIN = 64 * 1024;
/** The value buffer: the most one read of a put's value takes. */
const STRAIGHT_BYTES = 256 * 1024;

export interface SessionOptions {
  /** The token check when a token is set: the first frame must be a HELLO that passes it. */
  token?: (got: Uint8Array) => boolean;
  timeoutMs: number;
  /** Unexpected failures (answered with the generic reason). */
  onError?: (e: unknown) => void;
}

class Closed extends Error {}

export class DataSession implements Answers, SlabOwner {
  private readonly reader = new FrameReader(false);
  private authed: boolean;
  private ended = false;
  private closing = false;
  private wake: (() => void) | undefined;
  private readonly out: AnswerOut;
  /** The request whose value is being read, while it is one that uses up each chunk (Pending.consumes). */
  private consuming: Pending | undefined;
  /**
   * Where a put's value is read: two buffers, each lent to one read at a time and free again once
   * the chunk read into it has been written to the store (the run loop frees it).
   */
  private readonly valueBufs: (Buffer | undefined)[] = [undefined, undefined];
  private readonly lent = [false, false];
  /** True while the run loop waits between frames: a read's quick requests are answered in it. */
  private idle = false;
  /** The event quick() read and left to the run loop; a store read quick() left in flight. */
  private stash: FrameEvent | undefined;
  /** True once the frame quick() gave to SessionOps.quick was read to its end (quickValue). */
  private frameDone = false;
  private blocker: Promise<void> | undefined;

  /** `slab`: the socket reads through it (withSlab), else its 'data' is read. */
  constructor(private readonly socket: Socket, private readonly ops: SessionOps, private readonly opts: SessionOptions, slab?: ReadSlab) {
    this.authed = opts.token === undefined;
    this.out = new AnswerOut(socket);
    socket.setNoDelay(true);
    if (slab) slab.owner = this; else socket.on('data', this.onData);
    socket.resume(); // accepted paused (pauseOnConnect); a slab's socket must flow for its 'end'
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

  readonly push = (c: Buffer): void => {
    if (!this.closing) this.onData(c);
  };

  /**
   * Where the next read goes, asked right after the last read was pushed (before the run loop has
   * seen it): a free value buffer while a put's value is being read and at least STRAIGHT_MIN of
   * it is still to come, sized to what is to come so that no other frame's bytes land there.
   */
  readonly direct = (): Uint8Array | undefined => {
    const ahead = this.reader.valueAhead;
    if (this.consuming === undefined || ahead < STRAIGHT_MIN || this.closing) return undefined;
    const i = !this.lent[0] ? 0 : !this.lent[1] ? 1 : -1;
    if (i < 0) return undefined;
    this.lent[i] = true;
    const b = (this.valueBufs[i] ??= Buffer.allocUnsafeSlow(STRAIGHT_BYTES));
    return b.subarray(0, Math.min(ahead, STRAIGHT_BYTES));
  };

  readonly onDirect = (n: number, into: Uint8Array): void => {
    this.push(into.subarray(0, n) as Buffer);
  };

  /** A chunk the run loop has written: if it was read into a value buffer, that buffer is free. */
  private used(chunk: Uint8Array): void {
    const b = this.valueBufs;
    if (b[0] !== undefined && chunk.buffer === b[0].buffer) this.lent[0] = false;
    else if (b[1] !== undefined && chunk.buffer === b[1].buffer) this.lent[1] = false;
  }

  private readonly onData = (c: Buffer) => {
    this.reader.push(c);
    if (this.idle) this.quick();
    if (this.reader.buffered >= READ_HIGH) this.socket.pause();
    if (!this.idle) this.notify(); // else all was answered: the run loop waits on
  };

  /**
   * Requests answered in the read they came in (SessionOps.quick: GETs at mmc serve, READs at a
   * rank agent, LOOKUPs at the meta service; no Pending, no await, no wake of the run loop), while
   * the run loop waits between frames; the first frame quick does not take, a frame not complete,
   * or answers piling up on a slow reader are left to the run loop, in order.
   */
  private quick(): void {
    const q = this.ops.quick;
    if (q === undefined || !this.authed || this.closing) { this.idle = false; return; }
    this.out.hold();
    try {
      this.quickRun(q);
    } finally {
      this.out.release();
    }
  }

  private quickRun(q: NonNullable<SessionOps['quick']>): void {
    while (this.reader.buffered > 0) {
      let ev: FrameEvent | undefined;
      try {
        ev = this.socket.writableLength > WRITE_HIGH ? undefined : this.reader.next();
      } catch {
        ev = undefined; // a frame that cannot be trusted: the run loop meets it again
      }
      this.frameDone = false;
      // only a frame whose value (if it has one) is all here: quickValue takes it without waiting
      const r = ev?.kind === 'head' && ev.head.len <= this.reader.buffered ? q.call(this.ops, ev.head, ev.key, ev.aux, this, this.quickValue) : false;
      if (r === false) { this.stash = ev; this.idle = false; return; }
      if (!this.frameDone) this.quickValue(); // the frame's end (and a value its answer did not need)
      if (r !== true) { this.blocker = r; this.idle = false; return; }
    }
  }

  /** The value of the frame given to SessionOps.quick, all buffered: read to the frame's end. */
  private readonly quickValue = (): Uint8Array[] => {
    const chunks: Uint8Array[] = [];
    let ev = this.reader.next();
    for (; ev?.kind === 'value'; ev = this.reader.next()) chunks.push(ev.chunk);
    this.frameDone = true;
    return chunks;
  };
  private readonly onEnd = () => { this.ended = true; this.notify(); };
  private notify(): void {
    this.idle = false;
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
        if (this.blocker) { const b = this.blocker; this.blocker = undefined; await b; continue; }
        const ev = this.stash ?? this.reader.next();
        this.stash = undefined;
        if (ev === undefined) {
          if (this.ended) { if (this.reader.midFrame) throw new BodyAborted(); return; }
          this.idle = !this.reader.midFrame;
          await this.more();
          continue;
        }
        if (ev.kind === 'head') {
          head = ev.head;
          pending = this.begin(ev.head, ev.key, ev.aux);
          this.consuming = pending.consumes ? pending : undefined;
        } else if (ev.kind === 'value') {
          await pending!.write(ev.chunk);
          this.used(ev.chunk);
        } else {
          const p = pending!;
          pending = undefined;
          head = undefined;
          this.consuming = undefined;
          await p.end();
          if (this.socket.writableLength > WRITE_HIGH) await this.drained();
        }
      }
    } catch (e) {
      this.consuming = undefined;
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
