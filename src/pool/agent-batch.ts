/**
 * A batch's requests to one rank agent (WRITES, READS: pool-frames.ts): one request per agent per
 * batch, its items granted by one grant block (protocol/grant-block.ts) that the agent checks
 * once: the mac, the op, its rank and incarnation. Then each item's range is checked as a single
 * WRITE's or READ's is (agent-ops.ts); refused items are answered by their code while the others
 * go ahead. A block that does not verify or a frame that does not add up refuses the whole request
 * and changes nothing.
 */
import { MMC, MmcError } from '../errors.js';
import { GRANT_READ, GRANT_WRITE } from '../protocol/grant.js';
import { verifyGrantBlock, type BlockItem, type GrantBlock } from '../protocol/grant-block.js';
import { Chunks, encodeBatchGet, encodeCodes } from '../protocol/framing.js';
import type { Head } from '../protocol/data-frames.js';
import type { Answers, Pending } from '../server/data-ops.js';
import { checkHolder, overwriting, refuse, secretOf, segmentFor, staleGrant, type AgentState } from './agent-ops.js';
import { refused } from './control-body.js';

/** A batch held in memory while it arrives: at most this many bytes. */
export const MAX_AGENT_BATCH = 1 << 30;

const codeOf = (e: unknown) => (e instanceof MmcError ? e.code : MMC.MMC_ERROR);
const u32 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true);

/**
 * The frame gathered; then its grant block, verified and checked for `op`, and `run` with the
 * rest of the frame (`left` bytes of it).
 */
function gathered(s: AgentState, op: number, head: Head, out: Answers, run: (g: GrantBlock, r: Chunks, left: number) => Promise<void>): Pending {
  if (head.len > MAX_AGENT_BATCH) return refused(head, out, new MmcError(MMC.MMC_INVALID_PARAM, `batch of ${head.len} bytes (at most ${MAX_AGENT_BATCH})`));
  const chunks: Uint8Array[] = [];
  return {
    write(c: Uint8Array) { chunks.push(c); },
    async end() {
      try {
        const r = new Chunks(chunks);
        if (head.len < 4) throw refuse('a batch frame too short for its grant block');
        const blockLen = u32(r.take(4));
        if (blockLen > head.len - 4) throw refuse(`a grant block of ${blockLen} bytes in a frame of ${head.len}`);
        const g = verifyGrantBlock(secretOf(s), r.take(blockLen));
        if (g === undefined) throw refuse('the grant block does not verify (forged, altered, truncated, or from another registration)');
        checkHolder(s, op, g);
        await run(g, r, head.len - 4 - blockLen);
      } catch (e) {
        out.fail(head, e);
      }
    },
    async abort() { chunks.length = 0; },
  };
}

/** One item of a WRITES: its range checked, what it held dropped, the value written and recorded. */
async function writeItem(s: AgentState, it: BlockItem, value: Uint8Array, secret: Buffer | undefined): Promise<void> {
  const seg = segmentFor(s, it.medium, it.offset, it.size);
  overwriting(s, seg, it);
  const r = s.backend.write(seg.device, it.offset, value);
  if (r) await r;
  // a registration meanwhile (the meta service restarted) forgot this grant: keep nothing of it
  if (s.secret !== secret) throw new MmcError(MMC.MMC_ERROR, `rank ${s.rank} registered again during the write`);
  if (seg.blobs.fenced(it.offset, it.size, it.gen)) throw staleGrant(it);
  seg.blobs.record({ key: it.key, offset: it.offset, size: it.size, gen: it.gen });
}

/** WRITES: every item of the block written with its value, recorded, then the code list. */
export function writeBatch(s: AgentState, head: Head, out: Answers): Pending {
  return gathered(s, GRANT_WRITE, head, out, async (g, r, left) => {
    let total = 0;
    for (const it of g.items) total += it.size;
    if (total !== left) throw refuse(`values of ${left} bytes for grants of ${total}`);
    const secret = s.secret;
    const codes = new Array<number>(g.items.length).fill(0);
    for (let i = 0; i < g.items.length; i++) {
      const value = r.take(g.items[i].size);
      try {
        await writeItem(s, g.items[i], value, secret);
      } catch (e) {
        codes[i] = codeOf(e);
      }
    }
    const b = encodeCodes(codes);
    out.ok(head, undefined, { chunks: [b], length: b.length });
  });
}

/** The M item indices of a READS frame, each below `n` and named once. */
function selection(r: Chunks, left: number, n: number): number[] {
  if (left < 4) throw refuse('a READS frame without its item list');
  const m = u32(r.take(4));
  if (left !== 4 + 4 * m || m > n) throw refuse(`a READS item list of ${m} items in ${left - 4} bytes, for a block of ${n}`);
  const list = r.take(4 * m);
  const dv = new DataView(list.buffer, list.byteOffset, list.byteLength);
  const seen = new Uint8Array(n);
  const out = new Array<number>(m);
  for (let j = 0; j < m; j++) {
    const i = dv.getUint32(4 * j, true);
    if (i >= n || seen[i]) throw refuse(`READS item ${i} out of the block's ${n} or named twice`);
    seen[i] = 1;
    out[j] = i;
  }
  return out;
}

/** READS: the named items read into one buffer (the answer writes runs of it without a copy). */
export function readBatch(s: AgentState, head: Head, out: Answers): Pending {
  return gathered(s, GRANT_READ, head, out, async (g, r, left) => {
    const sel = selection(r, left, g.items.length);
    const m = sel.length;
    const codes = new Array<number>(m).fill(MMC.MMC_UNMATCHED_KEY);
    const found: { j: number; seg: ReturnType<typeof segmentFor>; offset: number; size: number }[] = [];
    let total = 0;
    for (let j = 0; j < m; j++) {
      const it = g.items[sel[j]];
      try {
        const seg = segmentFor(s, it.medium, it.offset, it.size);
        // served only while the map still holds the granted key at the granted range
        const e = seg.blobs.find(it.key);
        if (e === undefined || e.offset !== it.offset || e.size !== it.size || e.gen !== it.gen) continue;
        found.push({ j, seg, offset: it.offset, size: it.size });
        total += it.size;
      } catch (e) {
        codes[j] = codeOf(e);
      }
    }
    // the values read back to back into the answer's buffer, behind room for the frame's counts
    const front = 4 + 8 * m;
    const room = out.room?.(front + total);
    const buf = room ? room.subarray(front) : Buffer.allocUnsafe(total);
    const values = new Array<Uint8Array | undefined>(m);
    let pos = 0;
    for (const f of found) {
      const dst = buf.subarray(pos, pos + f.size);
      pos += f.size;
      try {
        const rd = s.backend.read(f.seg.device, f.offset, dst);
        if (rd) await rd;
        values[f.j] = dst;
        codes[f.j] = 0;
      } catch (e) {
        codes[f.j] = codeOf(e);
      }
    }
    answer(head, out, room, encodeBatchGet(values, codes));
  });
}

/** A READS answer: sent from the room when the values lie there in one run behind it, else as chunks. */
function answer(head: Head, out: Answers, room: Uint8Array | undefined, a: { chunks: Uint8Array[]; length: number }): void {
  if (room === undefined) { out.ok(head, undefined, a); return; }
  const front = a.chunks[0].byteLength;
  const run = a.chunks[1];
  if (a.chunks.length === 1 || (a.chunks.length === 2 && run.buffer === room.buffer && run.byteOffset === room.byteOffset + front)) {
    room.set(a.chunks[0], 0);
    out.sendRoom!(head, room.subarray(0, a.length));
    return;
  }
  // a read failed mid-batch: the values are not one run; they go as a copy of their own
  out.dropRoom!();
  const whole = Buffer.concat(a.chunks, a.length);
  out.ok(head, undefined, { chunks: [whole], length: a.length });
}
