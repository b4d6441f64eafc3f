/**
 * A pool control request on the data path (pool-frames.ts): its value gathered (bounded by
 * MAX_CONTROL_BYTES), then run; the answer's payload is the handler's bytes, or nothing.
 * Shared by the meta service's and the agents' sessions.
 */
import { MMC, MmcError } from '../errors.js';
import type { Head } from '../protocol/data-frames.js';
import { MAX_CONTROL_BYTES, decodeJson, encodeJson } from '../protocol/pool-frames.js';
import type { Answers, Pending } from '../server/data-ops.js';

/** What a handler answers: a payload, ABSENT (code -3102, nothing else) or nothing. */
export const ABSENT = Symbol('absent');
type Result<T> = T | typeof ABSENT | undefined;
export type ControlHandler = (chunks: Uint8Array[]) => Promise<Result<Uint8Array>> | Result<Uint8Array>;
/** A handler of a JSON message (REGISTER, HEARTBEAT, COPY): a JSON answer. */
export type JsonHandler = (body: unknown) => Promise<unknown> | unknown;

/** A request answered at once with an error; its value is read and dropped. */
export function refused(head: Head, out: Answers, e: unknown): Pending {
  out.fail(head, e);
  return { write() {}, end: async () => {}, abort: async () => {} };
}

export function binaryBody(head: Head, out: Answers, what: string, run: ControlHandler): Pending {
  if (head.len > MAX_CONTROL_BYTES) return refused(head, out, new MmcError(MMC.MMC_INVALID_PARAM, `${what} message of ${head.len} bytes (at most ${MAX_CONTROL_BYTES})`));
  if (head.len === 0) return refused(head, out, new MmcError(MMC.MMC_INVALID_PARAM, `empty ${what} message`));
  const chunks: Uint8Array[] = [];
  return {
    // the chunks are views of socket reads, kept until the end of the frame
    write(chunk: Uint8Array) { chunks.push(chunk); },
    async end() {
      try {
        answer(head, out, await run(chunks));
      } catch (e) {
        out.fail(head, e);
      }
    },
    async abort() { chunks.length = 0; },
  };
}

function answer(head: Head, out: Answers, r: Result<Uint8Array>): void {
  if (r === ABSENT) out.absent(head);
  else if (r === undefined) out.ok(head);
  else out.ok(head, undefined, { chunks: [r], length: r.byteLength });
}

/**
 * binaryBody answered at once (SessionOps.quick), for a handler that answers synchronously: false
 * (the run loop's binaryBody takes it) where binaryBody would refuse the message's length.
 */
export function quickBinary(head: Head, out: Answers, value: () => Uint8Array[], run: (chunks: Uint8Array[]) => Result<Uint8Array>): boolean {
  if (head.len > MAX_CONTROL_BYTES || head.len === 0) return false;
  try {
    answer(head, out, run(value()));
  } catch (e) {
    out.fail(head, e);
  }
  return true;
}

/** A JSON message (REGISTER, HEARTBEAT, COPY, ...): binaryBody of its JSON. */
export function controlBody(head: Head, out: Answers, what: string, run: JsonHandler): Pending {
  return binaryBody(head, out, what, async (chunks) => {
    const r = await run(decodeJson(chunks, what));
    return r === ABSENT || r === undefined ? r : encodeJson(r);
  });
}
