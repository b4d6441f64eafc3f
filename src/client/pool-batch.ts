/**
 * A batch through the pool: one request per agent (WRITES, READS: protocol/pool-frames.ts), the
 * agents' requests in parallel. Each request carries its group's grant block as the meta service
 * signed it; WRITES then the group's values in block order, READS the items it wants of the block.
 * READS answers a batch_get response, poured into each item's sink.
 */
import { MMC, MmcError } from '../errors.js';
import { OP } from '../protocol/data-frames.js';
import { decodeCodes } from '../protocol/framing.js';
import type { GrantGroup, Placement } from '../protocol/pool-control.js';
import { BatchGetSink } from './batch-get-sink.js';
import { ChunkSink, type Sink } from './data-conn.js';
import type { AgentCall } from './pool-transport.js';

/** The agent at an address, and what to do when a request to it failed. */
export interface Agents { get(addr: string): Promise<AgentCall>; failed(addr: string, t: AgentCall): void }
/** Item i's values: the chunks it is gathered from and its length. */
export interface Values { chunks(i: number): readonly Uint8Array[]; length(i: number): number }


function concat(chunks: Uint8Array[]): Buffer {
  return chunks.length === 1 ? Buffer.from(chunks[0].buffer, chunks[0].byteOffset, chunks[0].byteLength) : Buffer.concat(chunks);
}

function asError(e: unknown, addr: string): MmcError {
  const code = e instanceof MmcError ? e.code : MMC.MMC_ERROR;
  return new MmcError(code, `rank agent ${addr}: ${(e as Error)?.message ?? String(e)}`);
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(n, 0);
  return b;
}

async function call<S extends Sink>(agents: Agents, addr: string, op: typeof OP.WRITES | typeof OP.READS, chunks: Uint8Array[], length: number, sink: S): Promise<S> {
  const t = await agents.get(addr);
  try {
    await t.call(op, '', '', chunks, length, sink);
  } catch (e) {
    agents.failed(addr, t);
    throw e;
  }
  return sink;
}

/** Every group written, one WRITES per agent: the MmcError of each item that failed, by item index. */
export async function writeGroups(agents: Agents, groups: readonly GrantGroup[], values: Values): Promise<Map<number, MmcError>> {
  const failed = new Map<number, MmcError>();
  await Promise.all(groups.map(async (g) => {
    const chunks: Uint8Array[] = [u32(g.grant.byteLength), g.grant];
    let length = 4 + g.grant.byteLength;
    for (const i of g.items) {
      chunks.push(...values.chunks(i));
      length += values.length(i);
    }
    try {
      const codes = decodeCodes(concat((await call(agents, g.addr, OP.WRITES, chunks, length, new ChunkSink())).chunks));
      g.items.forEach((i, j) => {
        if (codes[j] !== 0 && !failed.has(i)) failed.set(i, new MmcError(codes[j], `write to rank ${g.rank} (${g.addr}) refused`));
      });
    } catch (e) {
      for (const i of g.items) if (!failed.has(i)) failed.set(i, asError(e, g.addr));
    }
  }));
  return failed;
}

/** Takes item i's value (a view of the answer's memory): undefined, or why it is refused. */
export type Take = (i: number, value: Uint8Array) => MmcError | undefined;
/** What a batch's reads found: each item's length taken (or its refusal), and the items an agent answered absent. */
export interface ReadOutcome { got: (number | MmcError | undefined)[]; absent: Set<number> }

/**
 * The READS of `group`'s items at positions `pos`, its answer read straight into pieces of whole
 * values (batch-get-sink.ts, as a batch get from `mmc serve`); each found value handed to `take`
 * as a view of its piece (no copy).
 */
async function readGroup(agents: Agents, g: GrantGroup, pos: number[], take: Take, out: ReadOutcome): Promise<void> {
  const list = Buffer.allocUnsafe(4 + 4 * pos.length);
  list.writeUInt32LE(pos.length, 0);
  pos.forEach((p, j) => list.writeUInt32LE(p, 4 + 4 * j));
  let values;
  let codes;
  try {
    const sink = await call(agents, g.addr, OP.READS, [u32(g.grant.byteLength), g.grant, list], 8 + g.grant.byteLength + 4 * pos.length, new BatchGetSink());
    values = sink.values();
    codes = sink.codes;
  } catch {
    return; // the agent failed: its items try their other replicas
  }
  if (values === undefined || values.length !== pos.length) return; // a malformed answer: as a failed agent
  pos.forEach((p, j) => {
    const v = values[j];
    const i = g.items[p];
    if (codes[j] === MMC.MMC_UNMATCHED_KEY) out.absent.add(i);
    if (codes[j] !== 0 || v === undefined) return;
    out.got[i] = take(i, v) ?? v.byteLength;
  });
}

/**
 * Every found item of `p` read: its first replicas, one READS per agent in parallel, then the
 * items not read yet (absent there, refused, agent failed) at their next replicas, and so on. The
 * length (or the refusal of `take`) of each item read, by item index (undefined for the others),
 * and the items some agent answered absent (moved or removed since the lookup).
 */
export async function readGroups(agents: Agents, p: Placement, take: Take): Promise<ReadOutcome> {
  const out: ReadOutcome = { got: new Array<number | MmcError | undefined>(p.items.length), absent: new Set() };
  for (let slot = 0; ; slot++) {
    const groups = p.groups.filter((g) => g.slot === slot);
    if (groups.length === 0) return out;
    await Promise.all(groups.map((g) => {
      const pos: number[] = [];
      g.items.forEach((i, j) => { if (out.got[i] === undefined) pos.push(j); });
      return pos.length ? readGroup(agents, g, pos, take, out) : undefined;
    }));
  }
}
