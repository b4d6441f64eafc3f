/**
 * A batch's requests to one rank agent (WRITES, READS: pool-frames.ts): one request per agent per
 * batch, each item checked against its own grant exactly as a single WRITE or READ is
 * (agent-ops.ts), refused items answered by their code while the others go ahead.
 */
import { MMC, MmcError } from '../errors.js';
import { GRANT_BYTES, GRANT_READ, GRANT_WRITE } from '../protocol/grant.js';
import { decodeBatchPutChunks, encodeBatchGet, encodeCodes } from '../protocol/framing.js';
import type { Head } from '../protocol/data-frames.js';
import type { Answers, Pending } from '../server/data-ops.js';
import { checkGrant, overwriting, staleGrant, type AgentState } from './agent-ops.js';
import { refused } from './control-body.js';

/** A batch held in memory while it arrives: at most this many bytes. */
export const MAX_AGENT_BATCH = 1 << 30;

const codeOf = (e: unknown) => (e instanceof MmcError ? e.code : MMC.MMC_ERROR);

/** The frame gathered, then `run` on its items: [key, bytes] (bytes: the grant, then any value). */
function gathered(head: Head, out: Answers, run: (entries: [string, Uint8Array][], bad: number[]) => Promise<void>): Pending {
  if (head.len > MAX_AGENT_BATCH) return refused(head, out, new MmcError(MMC.MMC_INVALID_PARAM, `batch of ${head.len} bytes (at most ${MAX_AGENT_BATCH})`));
  const chunks: Uint8Array[] = [];
  return {
    write(c: Uint8Array) { chunks.push(c); },
    async end() {
      try {
        const { entries, bad } = decodeBatchPutChunks(chunks, head.len);
        await run(entries, bad);
      } catch (e) {
        out.fail(head, e);
      }
    },
    async abort() { chunks.length = 0; },
  };
}

async function writeItem(s: AgentState, key: string, bytes: Uint8Array): Promise<void> {
  const { g, seg } = checkGrant(s, GRANT_WRITE, bytes.subarray(0, GRANT_BYTES), key);
  const value = bytes.subarray(GRANT_BYTES);
  if (value.byteLength !== g.size) throw new MmcError(MMC.MMC_INVALID_PARAM, `refused by rank agent: a value of ${value.byteLength} bytes for a grant of ${g.size}`);
  const secret = s.secret;
  overwriting(s, seg, g);
  const r = s.backend.write(seg.device, g.offset, value);
  if (r) await r;
  if (s.secret !== secret) throw new MmcError(MMC.MMC_ERROR, `rank ${s.rank} registered again during the write`);
  if (seg.blobs.fenced(g.offset, g.size, g.gen)) throw staleGrant(g);
  seg.blobs.record({ key, offset: g.offset, size: g.size, gen: g.gen });
}

export function writeBatch(s: AgentState, head: Head, out: Answers): Pending {
  return gathered(head, out, async (entries, bad) => {
    const codes = new Array<number>(entries.length).fill(MMC.MMC_INVALID_PARAM);
    const skip = new Set(bad);
    for (let i = 0; i < entries.length; i++) {
      if (skip.has(i)) continue;
      try {
        await writeItem(s, entries[i][0], entries[i][1]);
        codes[i] = 0;
      } catch (e) {
        codes[i] = codeOf(e);
      }
    }
    const b = encodeCodes(codes);
    out.ok(head, undefined, { chunks: [b], length: b.length });
  });
}

export function readBatch(s: AgentState, head: Head, out: Answers): Pending {
  return gathered(head, out, async (entries, bad) => {
    const n = entries.length;
    const codes = new Array<number>(n).fill(MMC.MMC_INVALID_PARAM);
    const found: { i: number; seg: ReturnType<typeof checkGrant>['seg']; offset: number; size: number }[] = [];
    const skip = new Set(bad);
    let total = 0;
    for (let i = 0; i < n; i++) {
      if (skip.has(i)) continue;
      try {
        const [key, grant] = entries[i];
        const { g, seg } = checkGrant(s, GRANT_READ, grant, key);
        const e = seg.blobs.find(key);
        if (e === undefined || e.offset !== g.offset || e.size !== g.size || e.gen !== g.gen) { codes[i] = MMC.MMC_UNMATCHED_KEY; continue; }
        found.push({ i, seg, offset: g.offset, size: g.size });
        total += g.size;
      } catch (e) {
        codes[i] = codeOf(e);
      }
    }
    // the found values read into one buffer: the answer writes runs of it without a copy
    const buf = Buffer.allocUnsafe(total);
    const values = new Array<Uint8Array | undefined>(n);
    let pos = 0;
    for (const f of found) {
      const dst = buf.subarray(pos, pos + f.size);
      pos += f.size;
      try {
        const r = s.backend.read(f.seg.device, f.offset, dst);
        if (r) await r;
        values[f.i] = dst;
        codes[f.i] = 0;
      } catch (e) {
        codes[f.i] = codeOf(e);
      }
    }
    out.ok(head, undefined, encodeBatchGet(values, codes));
  });
}
