/**
 * A rank agent's data path (mmc local, DESIGN.md "The pool"): WRITE and READ of its segments, each
 * carrying a grant of the meta service (protocol/grant.ts) that the agent checks alone: the mac
 * (the key and the secret of its registration), the op, its rank and incarnation, the range inside
 * the segment, the value's length. Anything else is refused with a clear MMC error and changes
 * nothing. A write is recorded in the blob map before it is acknowledged; a read is served only
 * while the map still holds the granted key at the granted range (else it reads absent).
 */
import { MMC, MmcError, invalid } from '../errors.js';
import type { DeviceSegment, Medium } from '../device/types.js';
import type { InflightBackend } from '../device/inflight.js';
import { OP, type Head } from '../protocol/data-frames.js';
import { GRANT_READ, GRANT_WRITE, verifyGrant, type Grant } from '../protocol/grant.js';
import { checkCopy, copyKey } from '../protocol/pool-frames.js';
import { decodeStrict } from '../protocol/utf8.js';
import type { Answers, Pending, SessionOps } from '../server/data-ops.js';
import { SegmentBlobs } from './agent-blobs.js';
import { binaryBody, controlBody, refused } from './control-body.js';
import { readBatch, writeBatch } from './agent-batch.js';
import { freeRanges } from './agent-free.js';

export interface AgentSegment { device: DeviceSegment; blobs: SegmentBlobs }

/** What the agent's ops share with its link to the meta service. */
export interface AgentState {
  readonly rank: number;
  readonly incarnation: number;
  /** Its device operations followed per segment until they end (a FREE waits for them). */
  readonly backend: InflightBackend;
  readonly segments: Map<Medium, AgentSegment>;
  /** The secret of the current registration (undefined until registered). */
  secret: Buffer | undefined;
}

export const refuse = (why: string) => invalid(`refused by rank agent: ${why}`);

/** A grant's holder checked against this agent: registered, the op, its rank and incarnation. */
export function checkHolder(s: AgentState, op: number, g: { op: number; rank: number; incarnation: number }): void {
  if (g.op !== op) throw refuse(`the grant is for a ${g.op === GRANT_WRITE ? 'write' : 'read'}`);
  if (g.rank !== s.rank || g.incarnation !== s.incarnation) {
    throw refuse(`the grant is for rank ${g.rank} incarnation ${g.incarnation}, this is rank ${s.rank} incarnation ${s.incarnation}`);
  }
}

/** The segment a granted range lies in, wholly. */
export function segmentFor(s: AgentState, medium: Medium, offset: number, size: number): AgentSegment {
  const seg = s.segments.get(medium);
  if (seg === undefined) throw refuse(`rank ${s.rank} has no ${medium} segment`);
  if (offset + size > seg.device.bytes) throw refuse(`range ${offset}+${size} outside segment of ${seg.device.bytes} bytes`);
  return seg;
}

/** The secret of the current registration, or the error of an agent not registered yet. */
export function secretOf(s: AgentState): Buffer {
  if (s.secret === undefined) throw new MmcError(MMC.MMC_ERROR, `rank ${s.rank} is not registered at the meta service yet`);
  return s.secret;
}

/** The grant in `aux` for `key`, checked against this agent; the segment it names. */
export function checkGrant(s: AgentState, op: number, aux: Uint8Array, key: string): { g: Grant; seg: AgentSegment } {
  const g = verifyGrant(secretOf(s), aux, key);
  if (g === undefined) throw refuse('the grant does not verify (forged, altered, for another key, or from another registration)');
  checkHolder(s, op, g);
  return { g, seg: segmentFor(s, g.medium, g.offset, g.size) };
}

/** What a single grant and a grant block's item both name of a range. */
type GrantedRange = { offset: number; size: number; gen: number };

/** A write granted for an allocation whose range was freed since (FREE, agent-blobs.ts). */
export function staleGrant(g: GrantedRange): MmcError {
  return refuse(`the grant's range ${g.offset}+${g.size} was freed since it was granted (generation ${g.gen})`);
}

/**
 * Before a write's bytes go to the device: refused if its grant is stale; else what the range held
 * is gone, and writes granted before this one (older generations) are refused there from now on.
 */
export function overwriting(s: AgentState, seg: AgentSegment, g: GrantedRange): void {
  if (seg.blobs.fenced(g.offset, g.size, g.gen)) throw staleGrant(g);
  seg.blobs.freed(g.offset, g.size, Math.max(0, g.gen - 1));
}

function keyOf(bytes: Uint8Array): string {
  const k = bytes.byteLength === 0 ? undefined : decodeStrict(bytes);
  if (k === undefined) throw refuse('the key is empty or not UTF-8');
  return k;
}

function write(s: AgentState, head: Head, key: string, aux: Uint8Array, out: Answers): Pending {
  const { g, seg } = checkGrant(s, GRANT_WRITE, aux, key);
  if (head.len !== g.size) throw refuse(`a value of ${head.len} bytes for a grant of ${g.size}`);
  const secret = s.secret;
  overwriting(s, seg, g);
  let at = 0;
  let failed: unknown;
  return {
    // the device has copied a chunk once its write settles: the session may read the next one into it
    consumes: true,
    async write(chunk: Uint8Array) {
      if (failed !== undefined) return;
      try {
        // a FREE of this allocation meanwhile: its range may be another key's by now
        if (seg.blobs.fenced(g.offset, g.size, g.gen)) throw staleGrant(g);
        const r = s.backend.write(seg.device, g.offset + at, chunk);
        if (r) await r;
      } catch (e) {
        failed = e;
      }
      at += chunk.byteLength;
    },
    async end() {
      if (failed !== undefined) { out.fail(head, failed); return; }
      // a registration meanwhile (the meta service restarted) forgot this grant: keep nothing of it
      if (s.secret !== secret) { out.fail(head, new MmcError(MMC.MMC_ERROR, `rank ${s.rank} registered again during the write`)); return; }
      if (seg.blobs.fenced(g.offset, g.size, g.gen)) { out.fail(head, staleGrant(g)); return; }
      seg.blobs.record({ key, offset: g.offset, size: g.size, gen: g.gen });
      out.ok(head);
    },
    async abort() {},
  };
}

/**
 * A READ's answer once its grant checked out: absent unless the blob map still holds the key at
 * the granted range and generation, else the bytes; undefined when answered at once (the device
 * read synchronously), else the promise of the device's read. A device failure throws (rejects).
 */
function serveRead(s: AgentState, head: Head, key: string, g: Grant, seg: AgentSegment, out: Answers): Promise<void> | undefined {
  const e = seg.blobs.find(key);
  if (e === undefined || e.offset !== g.offset || e.size !== g.size || e.gen !== g.gen) { out.absent(head); return undefined; }
  // read straight into the answer's buffer where the session lends one (no buffer of its own)
  if (out.room === undefined) {
    const dst = Buffer.allocUnsafe(g.size);
    const r = s.backend.read(seg.device, g.offset, dst);
    const done = () => out.ok(head, undefined, { chunks: [dst], length: dst.length });
    if (r) return r.then(done);
    done();
    return undefined;
  }
  const dst = out.room(g.size);
  let r: Promise<void> | void;
  try {
    r = s.backend.read(seg.device, g.offset, dst);
  } catch (e) {
    out.dropRoom!();
    throw e;
  }
  if (!r) { out.sendRoom!(head, dst); return undefined; }
  return r.then(() => out.sendRoom!(head, dst), (e: unknown) => { out.dropRoom!(); throw e; });
}

function read(s: AgentState, head: Head, key: string, aux: Uint8Array, out: Answers): Pending {
  const { g, seg } = checkGrant(s, GRANT_READ, aux, key);
  return {
    write() {},
    async end() { try { await serveRead(s, head, key, g, seg, out); } catch (e) { out.fail(head, e); } },
    async abort() {},
  };
}

/**
 * A READ answered within the socket read it came in (DataSession.quick): refused or answered as
 * begin() and end() answer it, with no Pending; true once answered, the promise of a device read
 * still in flight, false for any other op (begin takes it).
 */
function quickRead(s: AgentState, head: Head, key: Uint8Array, aux: Uint8Array, out: Answers): boolean | Promise<void> {
  if (head.op !== OP.READ) return false;
  let r: Promise<void> | undefined;
  try {
    const k = keyOf(key);
    const { g, seg } = checkGrant(s, GRANT_READ, aux, k);
    r = serveRead(s, head, k, g, seg, out);
  } catch (e) {
    out.fail(head, e); // a refusal, as begin's; a device failure, as end's
    return true;
  }
  return r === undefined ? true : r.catch((e: unknown) => out.fail(head, e));
}

/** A demotion ordered by the meta service: copy within this rank and move the blob's entry. */
async function copy(s: AgentState, v: unknown): Promise<undefined> {
  const c = checkCopy(v);
  const { g, seg: dst } = checkGrant(s, GRANT_WRITE, Buffer.from(c.grant, 'base64'), copyKey(c.srcMedium, c.srcOffset));
  if (g.medium !== c.dstMedium || g.offset !== c.dstOffset || g.size !== c.size) throw refuse('the copy does not match its grant');
  const src = s.segments.get(c.srcMedium);
  const e = src?.blobs.startingAt(c.srcOffset);
  if (src === undefined || e === undefined || e.size !== c.size) throw new MmcError(MMC.MMC_ERROR, `nothing recorded at ${c.srcMedium} ${c.srcOffset}`);
  const r = s.backend.copy(src.device, c.srcOffset, dst.device, c.dstOffset, c.size);
  if (r) await r;
  // the entry is the map's own, changed by what follows: what it says is taken first
  const moved = { key: e.key, offset: c.dstOffset, size: e.size, gen: e.gen };
  src.blobs.freed(c.srcOffset, c.size, e.gen);
  dst.blobs.record(moved);
  return undefined;
}

export function agentOps(s: AgentState): SessionOps {
  return {
    quick: (head, key, aux, out) => quickRead(s, head, key, aux, out),
    begin(head, key, aux, out) {
      try {
        if (head.op === OP.WRITE) return write(s, head, keyOf(key), aux, out);
        if (head.op === OP.READ) return read(s, head, keyOf(key), aux, out);
        if (head.op === OP.COPY) return controlBody(head, out, 'copy', (v) => copy(s, v));
        if (head.op === OP.WRITES) return writeBatch(s, head, out);
        if (head.op === OP.READS) return readBatch(s, head, out);
        if (head.op === OP.FREE) return binaryBody(head, out, 'free', (chunks) => freeRanges(s, chunks));
        throw refuse(`op ${head.op} is not a rank agent's (WRITE, READ, COPY, WRITES, READS, FREE)`);
      } catch (e) {
        return refused(head, out, e);
      }
    },
  };
}
