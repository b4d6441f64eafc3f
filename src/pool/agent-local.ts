/**
 * An agent called from its own process (an embedded rank, MemCache.open({ pool })): the requests
 * a PoolTransport would send it run through the same ops (agent-ops.ts: grant checks, blob map,
 * device calls) without a socket, so reads and writes of the rank's own blobs never leave the
 * process. Registered by address in the client's in-process table (pool-transport.ts).
 */
import { MMC, MmcError } from '../errors.js';
import type { Answer, Sink } from '../client/data-conn.js';
import type { AgentCall } from '../client/pool-transport.js';
import type { Head, Op } from '../protocol/data-frames.js';
import { readReason } from '../protocol/reasons.js';
import { answerOf } from '../server/answer.js';
import type { Reply } from '../server/batch.js';
import type { Answers, Pending } from '../server/data-ops.js';

const EMPTY = new Uint8Array(0);

type Ops = { begin(head: Head, key: Uint8Array, aux: Uint8Array, out: Answers): Pending };

/** One request's answer, delivered to its sink as a socket would (begin, write, end). */
class Collect implements Answers {
  answer: Answer | undefined;
  error: MmcError | undefined;
  constructor(private readonly sink: Sink | undefined) {}
  ok(_head: Head, aux?: Uint8Array, payload?: Reply): void {
    const len = payload?.length ?? 0;
    if (len > 0 && this.sink) {
      const refused = this.sink.begin(len);
      if (refused) { this.error = refused; return; }
      for (const c of payload!.chunks) this.sink.write(c);
    }
    this.sink?.end?.();
    this.answer = { code: 0, aux: aux ?? EMPTY, length: len };
  }
  absent(): void {
    this.answer = { code: MMC.MMC_UNMATCHED_KEY, aux: EMPTY, length: 0 };
  }
  fail(_head: Head, e: unknown): void {
    const a = answerOf(e, true);
    const reason = a ? a.reason : `MMC_ERROR: ${(e as Error)?.message ?? String(e)}`;
    this.answer = { code: readReason(reason).code, aux: Buffer.from(reason), length: 0 };
  }
}

export function localAgent(ops: Ops): AgentCall {
  return {
    async call(op: Op, key: string, aux: Uint8Array | string, value: readonly Uint8Array[], len: number, sink?: Sink, absentOk = false): Promise<Answer> {
      const head: Head = { op, id: 1, a: Buffer.byteLength(key), aux: aux.length, len };
      const out = new Collect(sink);
      const auxBytes = typeof aux === 'string' ? Buffer.from(aux, 'latin1') : aux;
      const p = ops.begin(head, Buffer.from(key, 'utf8'), auxBytes, out);
      for (const v of value) await p.write(v);
      await p.end();
      if (out.error) throw out.error;
      const a = out.answer ?? { code: MMC.MMC_ERROR, aux: Buffer.from('MMC_ERROR: no answer'), length: 0 };
      if (a.code !== 0 && !(absentOk && a.code === MMC.MMC_UNMATCHED_KEY)) {
        throw new MmcError(a.code, readReason(Buffer.from(a.aux).toString('utf8')).message);
      }
      return a;
    },
    close() {},
  };
}
