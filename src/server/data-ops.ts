/**
 * The binary data path's operations: each request, once its header is read, becomes a Pending
 * that takes its value as it arrives and answers at its end. The store is called exactly as the
 * HTTP data plane calls it (the same helpers), so counts, limits and refusals are the same.
 */
import { MMC, invalid } from '../errors.js';
import { OP, encodeU64, decodeU64, type Head } from '../protocol/data-frames.js';
import { encodeBatchGet } from '../protocol/framing.js';
import { decodePutOptions } from '../protocol/put-options.js';
import { missingParameter } from '../protocol/reasons.js';
import { decodeStrict } from '../protocol/utf8.js';
import type { PutOptions } from '../store/types.js';
import type { Batches, Reply } from './batch.js';
import type { BodyChunks } from './body.js';
import type { Hold } from './budget.js';
import { getValue, tooLargeValue, valueSize } from './data-routes.js';
import { PutSink } from './data-put.js';
import { Query } from './query.js';
import { Refusal } from './refusal.js';
import { queryJson } from './reply.js';
import type { ServerState } from './state.js';
import type { StoreLike } from './store-api.js';

/** Where a request's answer goes (the session's socket). */
export interface Answers {
  ok(head: Head, aux?: Uint8Array, payload?: Reply): void;
  /** code -3102, nothing else: an absent key. */
  absent(head: Head): void;
  fail(head: Head, e: unknown): void;
  /**
   * `size` bytes to read a payload into (AnswerOut.room), then sendRoom with it, or dropRoom;
   * where absent (an Answers that collects rather than writes), values come in buffers of their own.
   */
  room?(size: number): Uint8Array;
  sendRoom?(head: Head, v: Uint8Array): void;
  dropRoom?(): void;
}

/** A request whose header is read: its value arrives through write(), then end() answers it. */
export interface Pending {
  /**
   * True when each chunk is used up once write() settles (copied to the store, never kept): the
   * session may then read the value's next bytes into the same memory (DataSession.direct).
   */
  readonly consumes?: boolean;
  write(chunk: Uint8Array): void | Promise<void>;
  end(): Promise<void>;
  /** The stream broke mid-value: free what the request holds (its answer is the session's). */
  abort(): Promise<void>;
}

/** What a DataSession runs its requests with. */
export interface SessionOps {
  begin(head: Head, key: Uint8Array, aux: Uint8Array, out: Answers): Pending;
  /**
   * Where the ops have one: a request answered at once, within the socket read it came in (no
   * Pending, no await), where it completes synchronously: true once answered; a Promise where a
   * read is in flight (the session runs nothing else until it settles); false where it goes the
   * usual way (begin), which it may say only before it calls `value`. It answers exactly as begin
   * and the Pending's end would. It is given only frames whose value is all buffered: `value()`
   * reads it out (views of the socket reads, valid until it returns).
   */
  quick?(head: Head, key: Uint8Array, aux: Uint8Array, out: Answers, value: () => Uint8Array[]): boolean | Promise<void>;
}

/** A refused request: its answer is sent at once, its value is read and dropped. */
class Dropped implements Pending {
  write(): void {}
  async end(): Promise<void> {}
  async abort(): Promise<void> {}
}
const DROPPED = new Dropped();

/** A request without a value: runs at its end; a failure is its error answer. */
class Immediate implements Pending {
  constructor(private readonly head: Head, private readonly out: Answers, private readonly run: () => Promise<void>) {}
  write(): void {}
  async end(): Promise<void> {
    try {
      await this.run();
    } catch (e) {
      this.out.fail(this.head, e);
    }
  }
  async abort(): Promise<void> {}
}

/** A batch: its frame buffered (held against the memory of bodies in flight), run at its end. */
class BatchBody implements Pending {
  private readonly chunks: Uint8Array[] = [];
  constructor(private readonly hold: Hold, private readonly length: number, private readonly run: (body: { chunks: Buffer[]; length: number }) => Promise<void>) {}
  write(chunk: Uint8Array): void { this.chunks.push(chunk); }
  async end(): Promise<void> {
    try {
      await this.run({ chunks: this.chunks as Buffer[], length: this.length });
    } finally {
      this.chunks.length = 0;
      this.hold.release();
    }
  }
  async abort(): Promise<void> { this.chunks.length = 0; this.hold.release(); }
}

export class DataOps implements SessionOps {
  constructor(private readonly state: ServerState, private readonly batches: Batches) {}

  /** The Pending of a request (HELLO is the session's); a refusal is answered here. */
  begin(head: Head, key: Uint8Array, aux: Uint8Array, out: Answers): Pending {
    try {
      // the pool's ops go to a meta service or a rank agent (src/pool/), never to a store's server
      if (head.op > OP.BATCH_QUERY) throw new Refusal(`MMC_INVALID_PARAM: op ${head.op} is a pool op (mmc meta, mmc local)`, 400);
      if (head.op === OP.PUT || head.op >= OP.BATCH_PUT) return this.withValue(head, key, aux, out);
      const k = this.key(key);
      const s = this.state.need(503);
      switch (head.op) {
        case OP.GET: {
          const max = aux.byteLength === 0 ? undefined : decodeU64(aux);
          return new Immediate(head, out, () => this.get(s, k, max, head, out));
        }
        case OP.SIZE:
          return new Immediate(head, out, async () => {
            const n = await valueSize(s, k);
            if (n === undefined) out.absent(head); else out.ok(head, encodeU64(n));
          });
        case OP.REMOVE:
          return new Immediate(head, out, async () => { if (await s.remove(k)) out.ok(head); else out.absent(head); });
        default: // QUERY
          return new Immediate(head, out, async () => {
            const q = await s.query(k);
            if (!q) { out.absent(head); return; }
            const b = Buffer.from(JSON.stringify(queryJson(q)));
            out.ok(head, undefined, { chunks: [b], length: b.length });
          });
      }
    } catch (e) {
      out.fail(head, e);
      return DROPPED;
    }
  }

  /** SessionOps.quick: a GET, where the store reads synchronously. */
  quick(head: Head, key: Uint8Array, aux: Uint8Array, out: Answers): boolean | Promise<void> {
    if (head.op !== OP.GET || aux.byteLength !== 0 || out.room === undefined || this.state.mc?.getWithNow === undefined) return false;
    let v: Uint8Array | undefined | Promise<Uint8Array | undefined>;
    try {
      const k = this.key(key);
      v = this.state.need(503).getWithNow!(k, (size) => out.room!(size));
    } catch (e) {
      out.fail(head, e);
      return true;
    }
    if (v instanceof Promise) return v.then((x) => this.answerGet(head, x, out), (e: unknown) => out.fail(head, e));
    this.answerGet(head, v, out);
    return true;
  }

  private answerGet(head: Head, v: Uint8Array | undefined, out: Answers): void {
    if (v) out.sendRoom!(head, v);
    else { out.dropRoom!(); out.absent(head); }
  }

  /**
   * GET: the value read by the store straight into the answer's room (no buffer of its own), where
   * the store can; a getInto's value over its max size is refused as the store's getInto refuses it.
   */
  private async get(s: StoreLike, k: string, max: number | undefined, head: Head, out: Answers): Promise<void> {
    const { valueLimit } = this.state.limits;
    if (s.getWith === undefined || out.room === undefined || (max !== undefined && max >= valueLimit)) {
      const v = await getValue(s, k, max, valueLimit);
      if (v) out.ok(head, undefined, { chunks: [v], length: v.byteLength }); else out.absent(head);
      return;
    }
    const v = await s.getWith(k, (size) => {
      if (max !== undefined && size > max) throw invalid(`dst holds ${max} bytes, the value of '${k}' has ${size}`);
      return out.room!(size);
    });
    this.answerGet(head, v, out);
  }

  /**
   * BATCH_GET: the found values read by the store into the answer's room, back to back behind the
   * frame's counts and lengths; where they are not (an item failed between lease and read) the
   * frame is built as the HTTP side builds it, copied out of the room.
   */
  private async batchGet(head: Head, body: BodyChunks, out: Answers): Promise<void> {
    if (out.room === undefined) { out.ok(head, undefined, await this.batches.getOf(body)); return; }
    let room: Uint8Array | undefined;
    let front = 0;
    const { values, codes } = await this.batches.getCodesOf(body, (total, n) => {
      front = 4 + 8 * n;
      room = out.room!(front + total);
      return room.subarray(front);
    });
    const { chunks, length } = encodeBatchGet(values, codes);
    const r = room;
    if (r !== undefined && (chunks.length === 1 || (chunks.length === 2 && chunks[1].buffer === r.buffer && chunks[1].byteOffset === r.byteOffset + front))) {
      r.set(chunks[0], 0);
      out.sendRoom!(head, r.subarray(0, length));
      return;
    }
    out.dropRoom!();
    const whole = Buffer.concat(chunks, length);
    out.ok(head, undefined, { chunks: [whole], length });
  }

  /** A key from the wire: UTF-8 (else refused as the HTTP side refuses it), not empty. */
  private key(bytes: Uint8Array): string {
    if (bytes.byteLength === 0) throw new Refusal(missingParameter('key'), 400);
    const k = decodeStrict(bytes);
    if (k === undefined) throw new Refusal("MMC_INVALID_PARAM: 'key' is not valid UTF-8", 400);
    return k;
  }

  private options(aux: Uint8Array): PutOptions {
    return decodePutOptions(new Query(Buffer.from(aux.buffer, aux.byteOffset, aux.byteLength).toString('latin1')));
  }

  private withValue(head: Head, key: Uint8Array, aux: Uint8Array, out: Answers): Pending {
    const { valueLimit } = this.state.limits;
    if (head.op === OP.PUT) {
      const k = this.key(key);
      const opts = this.options(aux);
      if (head.len === 0) throw new Refusal('MMC_INVALID_PARAM: empty value', 400);
      if (head.len > valueLimit) throw tooLargeValue(valueLimit);
      const s = this.state.need(503);
      return new PutSink(s, this.state.putsInFlight(s), k, head.len, opts, {
        done: () => out.ok(head),
        refused: (e) => out.fail(head, e),
      });
    }
    const rule = this.batches.rule;
    if (head.len > rule.limit) throw rule.tooLarge();
    const opts = head.op === OP.BATCH_PUT ? this.options(aux) : undefined;
    const hold = this.state.bodyBudget.hold();
    if (!hold.grow(head.len)) throw this.state.bodies.overBudget(rule);
    return new BatchBody(hold, head.len, async (body) => {
      try {
        if (head.op === OP.BATCH_GET) await this.batchGet(head, body, out);
        else out.ok(head, undefined, await this.batch(head.op, opts, body));
      } catch (e) {
        out.fail(head, e);
      }
    });
  }

  private async batch(op: number, opts: PutOptions | undefined, body: { chunks: Buffer[]; length: number }): Promise<Reply> {
    const b = this.batches;
    switch (op) {
      case OP.BATCH_PUT: return b.putOf(opts!, body);
      case OP.BATCH_EXISTS:
        return b.codesOf(body, async (keys) => (await this.state.need(503).batchExists(keys)).map((x) => (x ? 0 : MMC.MMC_UNMATCHED_KEY)));
      case OP.BATCH_REMOVE: return b.codesOf(body, (keys) => this.state.need(503).batchRemove(keys));
      default: { // BATCH_QUERY: JSON has no per-item code, so a key that is not UTF-8 refuses the call (as HTTP)
        const { keys, bad } = b.keysOf(body);
        if (bad.length) throw new Refusal('MMC_INVALID_PARAM: key is not valid UTF-8', 400);
        const r = await this.state.need(503).batchQuery(keys);
        const j = Buffer.from(JSON.stringify(r.map(queryJson)));
        return { chunks: [j], length: j.length };
      }
    }
  }
}
