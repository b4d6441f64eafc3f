/**
 * A batch through the pool: one request per agent (WRITES, READS: protocol/pool-frames.ts), the
 * agents' requests in parallel. Each item's "value" in the batch_put frame is its grant, then its
 * value bytes (WRITES); READS answers a batch_get response, poured into each item's sink.
 */
import { MMC, MmcError } from '../errors.js';
import { OP } from '../protocol/data-frames.js';
import { GRANT_BYTES } from '../protocol/grant.js';
import { decodeBatchGetChunks, decodeCodes, encodeBatchPut } from '../protocol/framing.js';
import { ChunkSink, type Answer, type Sink } from './data-conn.js';
import type { AgentCall } from './pool-transport.js';

export interface BatchWrite { i: number; key: string; grant: Uint8Array; chunks: readonly Uint8Array[]; length: number }
export interface BatchRead { i: number; key: string; grant: Uint8Array }
/** The agent at an address, and what to do when a request to it failed. */
export interface Agents { get(addr: string): Promise<AgentCall>; failed(addr: string, t: AgentCall): void }

function concat(chunks: Uint8Array[]): Buffer {
  return chunks.length === 1 ? Buffer.from(chunks[0].buffer, chunks[0].byteOffset, chunks[0].byteLength) : Buffer.concat(chunks);
}

function asError(e: unknown, addr: string): MmcError {
  const code = e instanceof MmcError ? e.code : MMC.MMC_ERROR;
  return new MmcError(code, `rank agent ${addr}: ${(e as Error)?.message ?? String(e)}`);
}

/** A group's frame: the batch_put header (each item grant + value long), then grant, value... */
function writesFrame(items: readonly BatchWrite[]): { chunks: Uint8Array[]; length: number } {
  const sized = items.map((w) => [w.key, { byteLength: GRANT_BYTES + w.length }] as unknown as [string, Uint8Array]);
  const head = encodeBatchPut(sized).chunks[0];
  const chunks: Uint8Array[] = [head];
  let length = head.byteLength;
  for (const w of items) {
    chunks.push(w.grant, ...w.chunks);
    length += GRANT_BYTES + w.length;
  }
  return { chunks, length };
}

async function call(agents: Agents, addr: string, op: typeof OP.WRITES | typeof OP.READS, frame: { chunks: Uint8Array[]; length: number }): Promise<ChunkSink> {
  const t = await agents.get(addr);
  const sink = new ChunkSink();
  try {
    await t.call(op, '', '', frame.chunks, frame.length, sink);
  } catch (e) {
    agents.failed(addr, t);
    throw e;
  }
  return sink;
}

/** Every group written, one WRITES per agent: the MmcError of each item that failed, by item index. */
export async function writeGroups(agents: Agents, groups: Map<string, BatchWrite[]>): Promise<Map<number, MmcError>> {
  const failed = new Map<number, MmcError>();
  await Promise.all([...groups].map(async ([addr, items]) => {
    try {
      const codes = decodeCodes(concat((await call(agents, addr, OP.WRITES, writesFrame(items))).chunks));
      items.forEach((w, j) => {
        if (codes[j] !== 0 && !failed.has(w.i)) failed.set(w.i, new MmcError(codes[j], `put of '${w.key}': write to rank agent ${addr} refused`));
      });
    } catch (e) {
      for (const w of items) if (!failed.has(w.i)) failed.set(w.i, asError(e, addr));
    }
  }));
  return failed;
}

/**
 * Every group read, one READS per agent; each found value poured into `make(i)`'s sink. The
 * Answer of each item read, by item index; the others (absent there, refused, agent failed) are
 * left out, for the caller to try their other replicas.
 */
export async function readGroups(agents: Agents, groups: Map<string, BatchRead[]>, make: (i: number) => Sink): Promise<Map<number, Answer | MmcError>> {
  const got = new Map<number, Answer | MmcError>();
  await Promise.all([...groups].map(async ([addr, items]) => {
    const frame = encodeBatchPut(items.map((r) => [r.key, r.grant]));
    let answer;
    try {
      answer = decodeBatchGetChunks((await call(agents, addr, OP.READS, frame)).chunks);
    } catch {
      return; // the agent failed: its items try their other replicas
    }
    items.forEach((r, j) => {
      const v = answer.values[j];
      if (answer.codes[j] !== 0 || v === undefined) return;
      const sink = make(r.i);
      const refused = sink.begin(v.byteLength);
      if (refused) { got.set(r.i, refused); return; }
      sink.write(v);
      sink.end?.();
      got.set(r.i, { code: 0, aux: new Uint8Array(0), length: v.byteLength });
    });
  }));
  return got;
}
