/**
 * The one reader of request bodies: chunk by chunk as they arrive, with a stall timeout. A body
 * that sends no byte for `timeoutMs` (headers only, or a stop half way) is cut off: `next()`
 * rejects with BodyStalled, and the caller frees what it held and answers 408 with
 * `Connection: close`. A socket that dies mid-body rejects with BodyAborted. Bodies buffered
 * whole (batches, /metadata, puts without a length) are read by BufferedBodies on top of it.
 */
import type http from 'node:http';
import type { Budget } from './budget.js';
import { Refusal } from './refusal.js';

export class BodyStalled extends Error {
  constructor(readonly timeoutMs: number) { super(`MMC_TIMEOUT: no body bytes for ${timeoutMs} ms`); }
}
export class BodyAborted extends Error {
  constructor() { super('request body aborted'); }
}

/** Bytes queued ahead of a slow consumer (a device write) before the socket is paused. */
const QUEUE_HIGH = 1 << 20;

export class BodyReader {
  private readonly queue: Buffer[] = [];
  private queued = 0;
  private ended = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private closed = false;

  constructor(private readonly req: http.IncomingMessage, private readonly timeoutMs: number) {
    req.on('data', this.onData);
    req.on('end', this.onEnd);
    req.on('error', this.onError);
    req.on('close', this.onClose);
  }

  private readonly onData = (chunk: Buffer) => {
    this.queue.push(chunk);
    this.queued += chunk.length;
    if (this.queued >= QUEUE_HIGH) this.req.pause();
    this.notify();
  };
  private readonly onEnd = () => { this.ended = true; this.notify(); };
  private readonly onError = (e: Error) => { this.failure ??= e ?? new BodyAborted(); this.notify(); };
  private readonly onClose = () => { if (!this.ended) this.failure ??= new BodyAborted(); this.notify(); };
  private notify(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  /** The next chunk, or null at the end of the body. */
  async next(): Promise<Buffer | null> {
    for (;;) {
      const c = this.queue.shift();
      if (c !== undefined) {
        this.queued -= c.length;
        if (this.queued < QUEUE_HIGH && this.req.isPaused() && !this.closed) this.req.resume();
        return c;
      }
      if (this.failure) throw this.failure;
      if (this.ended) return null;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          this.failure ??= new BodyStalled(this.timeoutMs);
          this.notify();
        }, this.timeoutMs);
        this.wake = () => { clearTimeout(timer); resolve(); };
      });
    }
  }

  /**
   * Stop reading: what is still to come is discarded (the connection stays usable for the next
   * request) unless the body stalled or failed, which leaves the socket for the caller to close.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const req = this.req;
    req.off('data', this.onData);
    req.off('end', this.onEnd);
    req.off('error', this.onError);
    req.off('close', this.onClose);
    this.queue.length = 0;
    this.queued = 0;
    req.on('error', () => {});
    if (!this.failure && !this.ended) req.resume();
  }

  /** True when the body was cut off (stalled) or lost: the connection cannot carry another request. */
  get broken(): boolean {
    return this.failure !== undefined;
  }
}

/** A request body as the chunks it arrived in (the socket reads), never concatenated. */
export interface BodyChunks { chunks: Buffer[]; length: number }

/** What one kind of buffered body may hold; made once per route, not per request. */
export interface BodyRule {
  /** Largest body, bytes. */
  limit: number;
  /** The refusal of a body over `limit`. */
  tooLarge: () => Refusal;
  /** HTTP status of the refusal when the bodies in flight are over their memory budget. */
  overBudgetStatus: number;
}

/**
 * The one reader of buffered request bodies: at most `rule.limit` bytes (else `rule.tooLarge`),
 * held against the memory budget of bodies in flight (the declared length before a byte is read,
 * else as bytes arrive) until the response closes, cut off when it stalls.
 */
export class BufferedBodies {
  constructor(private readonly budget: Budget, private readonly timeoutMs: number) {}

  async read(req: http.IncomingMessage, res: http.ServerResponse, rule: BodyRule): Promise<BodyChunks> {
    const cl = req.headers['content-length'];
    const declared = cl === undefined ? -1 : Number(cl);
    if (declared > rule.limit) throw rule.tooLarge(); // Node discards the unread body after the response
    const hold = this.budget.hold(res);
    if (declared > 0 && !hold.grow(declared)) throw this.overBudget(rule);
    const reader = new BodyReader(req, this.timeoutMs);
    const chunks: Buffer[] = [];
    let length = 0;
    try {
      for (let c = await reader.next(); c !== null; c = await reader.next()) {
        length += c.length;
        if (length > rule.limit) throw rule.tooLarge();
        if (declared < 0 && !hold.grow(c.length)) throw this.overBudget(rule);
        chunks.push(c);
      }
    } catch (e) {
      chunks.length = 0;
      hold.release();
      throw e;
    } finally {
      reader.close();
    }
    if (declared >= 0 && length !== declared) throw new Refusal('MMC_INVALID_PARAM: incomplete body', 400);
    return { chunks, length };
  }

  /** The refusal of a body that does not fit the memory budget of bodies in flight. */
  overBudget(rule: BodyRule): Refusal {
    return new Refusal(
      `MMC_NOT_ENOUGH_MEMORY: request bodies in flight are over the limit (${this.budget.limit} bytes), retry later`, rule.overBudgetStatus);
  }
}
