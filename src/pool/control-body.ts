/**
 * A pool control request on the data path (pool-frames.ts): its JSON value gathered (bounded by
 * MAX_CONTROL_BYTES), then run; the answer's payload is the handler's JSON, or nothing.
 * Shared by the meta service's and the agents' sessions.
 */
import { MMC, MmcError } from '../errors.js';
import type { Head } from '../protocol/data-frames.js';
import { MAX_CONTROL_BYTES, decodeJson, encodeJson } from '../protocol/pool-frames.js';
import type { Answers, Pending } from '../server/data-ops.js';

/** What a handler answers: a JSON value, ABSENT (code -3102, nothing else) or nothing. */
export const ABSENT = Symbol('absent');
export type ControlHandler = (body: unknown) => Promise<unknown> | unknown;

/** A request answered at once with an error; its value is read and dropped. */
export function refused(head: Head, out: Answers, e: unknown): Pending {
  out.fail(head, e);
  return { write() {}, end: async () => {}, abort: async () => {} };
}

export function controlBody(head: Head, out: Answers, what: string, run: ControlHandler): Pending {
  if (head.len > MAX_CONTROL_BYTES) return refused(head, out, new MmcError(MMC.MMC_INVALID_PARAM, `${what} message of ${head.len} bytes (at most ${MAX_CONTROL_BYTES})`));
  if (head.len === 0) return refused(head, out, new MmcError(MMC.MMC_INVALID_PARAM, `empty ${what} message`));
  const chunks: Uint8Array[] = [];
  return {
    // the chunks are views of socket reads, kept until the end of the frame
    write(chunk: Uint8Array) { chunks.push(chunk); },
    async end() {
      try {
        const r = await run(decodeJson(chunks, what));
        if (r === ABSENT) { out.absent(head); return; }
        if (r === undefined) { out.ok(head); return; }
        const b = encodeJson(r);
        out.ok(head, undefined, { chunks: [b], length: b.length });
      } catch (e) {
        out.fail(head, e);
      }
    },
    async abort() { chunks.length = 0; },
  };
}
