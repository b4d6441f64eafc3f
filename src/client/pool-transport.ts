/**
 * The client of a pool (`mmc meta` and its rank agents, DESIGN.md "The pool"): control at the meta
 * service, value bytes straight to and from the agents. put = ALLOC at meta, WRITE of every replica
 * to its agent in parallel, COMMIT (write_fail when a write failed: nothing is left behind); get =
 * LOOKUP (a grant per replica, no lease kept: LookupRequest.unleased), READ from the first agent
 * that answers (an agent that errs: the next replica; none: absent; one that no longer holds the
 * blob, moved or removed since: looked up once more).
 * A batch is one meta round trip each way and one request per agent, in parallel (pool-batch.ts).
 * The rest (exists, remove, query) is answered by the meta service over its data path, as by
 * `mmc serve`.
 */
import { MMC, MmcError } from '../errors.js';
import { parseAddress } from '../address.js';
import { OP, type Op } from '../protocol/data-frames.js';
import { decodeCodes } from '../protocol/framing.js';
import {
  decodePlacement, encodeAlloc, encodeCommit, encodeLookup,
  type AllocRequest, type CommitRequest, type GrantGroup, type Placement, type PlacedItem,
} from '../protocol/pool-control.js';
import { readReason } from '../protocol/reasons.js';
import type { QueryResult } from '../store/types.js';
import { ChunkSink, type Answer, type ConnTarget, type Sink } from './data-conn.js';
import { DataTransport, OwnSink, ViewsSink } from './data-transport.js';
import type { LayerTransport } from './layers.js';
import { PoolLayers } from './pool-layers.js';
import { readGroups, writeGroups, type Agents, type Take } from './pool-batch.js';

/** What MemCacheClient asks of its binary transport: a server's data path or a pool. */
export type DataPlane = Pick<DataTransport,
  'call' | 'put' | 'putChunks' | 'get' | 'getInto' | 'getIntoViews' | 'sizeOf' | 'remove' | 'query'
  | 'batchPut' | 'batchGet' | 'batchCodes' | 'batchQuery' | 'close'> & {
  /** The layer calls' transport where it is not BinaryLayers over `call` (a pool's). */
  layerTransport?(batchKeyLimit: number): LayerTransport;
};

/** What the pool client asks of an agent: a request, as DataTransport.call. */
export type AgentCall = Pick<DataTransport, 'call' | 'close'>;

/**
 * Agents living in this process (embedded ranks, src/pool/agent-local.ts), by advertised address:
 * their requests run in-process, no socket, so a rank's own blobs never leave the process.
 */
export const inProcessAgents = new Map<string, AgentCall>();

/** An agent silent this long with requests waiting is taken for dead: its reads fail over. */
const AGENT_TIMEOUT_MS = 2000;
const EMPTY = new Uint8Array(0);
/** readReplicas: an agent answered absent for what meta had found (the blob moved or went). */
const MOVED = Symbol('moved');

function withTimeout<T>(p: Promise<T>, ms: number, why: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new MmcError(MMC.MMC_TIMEOUT, why)), ms);
    p.then((v) => { clearTimeout(timer); resolve(v); }, (e: unknown) => { clearTimeout(timer); reject(e); });
  });
}

function itemError(i: PlacedItem): MmcError {
  return new MmcError(i.code, readReason(i.reason ?? '').message || 'pool operation failed');
}

export class PoolTransport implements DataPlane {
  private readonly agents = new Map<string, Promise<AgentCall>>();

  private constructor(private readonly meta: DataTransport, private readonly timeoutMs: number) {}

  static async open(target: ConnTarget, token: string | undefined, connections: number, timeoutMs: number): Promise<PoolTransport> {
    return new PoolTransport(await DataTransport.open(target, token, connections, timeoutMs), timeoutMs);
  }

  /**
   * The agent at `addr` (HOST:PORT), connected on first use; a failed connect is tried again next
   * time. A connect that gets no answer to its HELLO within AGENT_TIMEOUT_MS fails: a hung agent's
   * kernel still accepts connections.
   */
  private agent(addr: string): Promise<AgentCall> {
    const local = inProcessAgents.get(addr);
    if (local) return Promise.resolve(local);
    let t = this.agents.get(addr);
    if (t === undefined) {
      const ms = Math.min(this.timeoutMs, AGENT_TIMEOUT_MS);
      const opening = DataTransport.open(parseAddress(addr, { emptyHost: '127.0.0.1' }), undefined, 2, ms);
      t = withTimeout(opening, ms, `rank agent ${addr}: no answer for ${ms} ms`);
      opening.then((late) => { if (this.agents.get(addr) !== t) late.close(); }, () => {});
      this.agents.set(addr, t);
      const mine = t;
      t.catch(() => { if (this.agents.get(addr) === mine) this.agents.delete(addr); });
    }
    return t;
  }

  /**
   * Forgets the connections to an agent that failed a request: the next request connects again,
   * with agent()'s timeout (a hung agent's kernel still accepts connections, and DataTransport
   * would reconnect without one).
   */
  private drop(addr: string, t: AgentCall): void {
    if (inProcessAgents.get(addr) === t) return;
    void this.agents.get(addr)?.then((cur) => {
      if (cur !== t) return;
      this.agents.delete(addr);
      t.close();
    }, () => {});
  }

  private async control(op: Op, body: Buffer): Promise<Uint8Array[]> {
    const sink = new ChunkSink();
    await this.meta.call(op, '', '', [body], body.length, sink);
    return sink.chunks;
  }

  /** ALLOC at the meta service: where to write each item, with the grants. */
  async alloc(r: AllocRequest): Promise<Placement> {
    return decodePlacement(await this.control(OP.ALLOC, encodeAlloc(r)));
  }

  /** COMMIT at the meta service: each item's code. */
  async commit(r: CommitRequest): Promise<number[]> {
    const chunks = await this.control(OP.COMMIT, encodeCommit(r));
    return decodeCodes(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
  }

  /** Every replica written, in parallel: undefined, or the MmcError of the first that failed. */
  private async writeAll(key: string, groups: GrantGroup[], chunks: readonly Uint8Array[], length: number): Promise<MmcError | undefined> {
    const rs = await Promise.allSettled(groups.map(async (g) => {
      const t = await this.agent(g.addr);
      try {
        await t.call(OP.WRITE, key, g.grant, chunks, length);
      } catch (e) {
        this.drop(g.addr, t);
        throw e;
      }
    }));
    for (let i = 0; i < rs.length; i++) {
      const r = rs[i];
      if (r.status === 'fulfilled') continue;
      const e = r.reason as Error;
      const code = e instanceof MmcError ? e.code : MMC.MMC_ERROR;
      return new MmcError(code, `put of '${key}': write to rank ${groups[i].rank} (${groups[i].addr}) failed: ${readReason(e.message).message}`);
    }
    return undefined;
  }

  put(key: string, bytes: Uint8Array, query: string): Promise<void> {
    return this.putChunks(key, [bytes], bytes.byteLength, query);
  }

  async putChunks(key: string, chunks: readonly Uint8Array[], length: number, query: string): Promise<void> {
    const p = await this.alloc({ keys: [key], sizes: [length], query, batch: false });
    if (p.items[0].code !== 0) throw itemError(p.items[0]);
    const failed = await this.writeAll(key, p.groups, chunks, length);
    const [c] = await this.commit({ keys: [key], ok: [failed === undefined], batch: false });
    if (failed) throw failed;
    if (c !== 0) throw new MmcError(c, `'${key}' was removed or expired while being written`);
  }

  batchPut(entries: ReadonlyArray<readonly [string, Uint8Array]>, query: string): Promise<number[]> {
    return this.batchPutLists(entries.map((e) => e[0]), entries.map((e) => [e[1]]), entries.map((e) => e[1].byteLength), query);
  }

  /** batchPut of values each gathered from a list of chunks (`lengths[i]` bytes in all): one WRITES per agent. */
  async batchPutLists(keys: readonly string[], values: readonly (readonly Uint8Array[])[], lengths: readonly number[], query: string): Promise<number[]> {
    const p = await this.alloc({ keys: keys as string[], sizes: lengths as number[], query, batch: true });
    const codes = p.items.map((it) => it.code);
    const placed = codes.flatMap((c, i) => (c === 0 ? [i] : []));
    if (placed.length === 0) return codes;
    const failed = await writeGroups(this.agentsSeam, p.groups, { chunks: (i) => values[i], length: (i) => lengths[i] });
    // committed by the ALLOC's id, one flag per item of the batch (the refused ones' are ignored)
    const c = await this.commit({ batch: true, id: p.lease, ok: codes.map((code, i) => code === 0 && !failed.has(i)) });
    for (const i of placed) codes[i] = failed.get(i)?.code ?? c[i];
    return codes;
  }

  /** What pool-batch.ts uses of this transport's agents. */
  private readonly agentsSeam: Agents = { get: (addr) => this.agent(addr), failed: (addr, t) => this.drop(addr, t) };

  /**
   * get of one key into the sink `make` gives (one per attempt); `precheck`: ask it about the size
   * first. The lookup keeps no lease (LookupRequest.unleased): the meta service counts the get as it
   * answers, so a get is two round trips (lookup, read) and the counters are right when it returns.
   * The agent alone keeps the read right (its blob map, FREE after the reads in flight); a blob
   * moved meanwhile (a demotion) reads absent there, so an absent answer looks up once more.
   */
  async readOne(key: string, make: () => Sink, precheck = true): Promise<Answer | undefined> {
    for (let attempt = 0; ; attempt++) {
      const r = await this.readReplicas(key, make, precheck);
      if (r !== MOVED) return r;
      if (attempt > 0) return undefined;
    }
  }

  /** One lookup and a read of its replicas in turn: the Answer, undefined (absent or every agent failed), or MOVED. */
  private async readReplicas(key: string, make: () => Sink, precheck: boolean): Promise<Answer | undefined | typeof MOVED> {
    const p = decodePlacement(await this.control(OP.LOOKUP, encodeLookup({ keys: [key], batch: false, unleased: true })));
    const item = p.items[0];
    if (item.code === MMC.MMC_UNMATCHED_KEY) return undefined;
    if (item.code !== 0) throw itemError(item);
    // a sink that refuses the size (a buffer too small) refuses it before any agent is asked
    const refused = precheck ? make().begin(item.size) : undefined;
    if (refused) throw refused;
    let absent = false;
    for (const g of [...p.groups].sort((x, y) => x.slot - y.slot)) {
      let t: AgentCall | undefined;
      try {
        t = await this.agent(g.addr);
        const a = await t.call(OP.READ, key, g.grant, [], 0, make(), true);
        if (a.code === 0) return a;
        absent ||= a.code === MMC.MMC_UNMATCHED_KEY;
      } catch {
        // this agent is gone, hung or refused: the next replica
        if (t) this.drop(g.addr, t);
      }
    }
    // an agent no longer holding what meta granted: moved or removed since; agents that failed: absent
    return absent ? MOVED : undefined;
  }

  async get(key: string): Promise<Uint8Array | undefined> {
    let sink = new OwnSink();
    const a = await this.readOne(key, () => (sink = new OwnSink()));
    return a ? sink.buf ?? Buffer.alloc(0) : undefined;
  }

  getInto(key: string, dst: Uint8Array): Promise<number | undefined> {
    return this.getIntoViews(key, [dst], false);
  }

  async getIntoViews(key: string, views: readonly Uint8Array[], exact: boolean): Promise<number | undefined> {
    return (await this.readOne(key, () => new ViewsSink(views, exact, key)))?.length;
  }

  async batchGet(keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    // each value is a view of the piece of the agent's answer it arrived in (no sink, no copy)
    const values = new Array<Uint8Array | undefined>(keys.length);
    const got = await this.batchTake(keys, (i, v) => { values[i] = v; return undefined; });
    // as over the data path: undefined where absent or failed
    return got.map((n, i) => (typeof n === 'number' ? values[i] : undefined));
  }

  /** get of each key into the sink `make(i)` gives: its Answer, undefined when absent, or its error (batchTake). */
  async batchRead(keys: readonly string[], make: (i: number) => Sink): Promise<(Answer | undefined | MmcError)[]> {
    const got = await this.batchTake(keys, (i, v) => {
      const sink = make(i);
      const refused = sink.begin(v.byteLength);
      if (refused) return refused;
      sink.write(v);
      sink.end?.();
      return undefined;
    });
    return got.map((n) => (typeof n === 'number' ? { code: 0, aux: EMPTY, length: n } : n));
  }

  /**
   * get of each key: one lookup, one READS per agent holding a first replica, in parallel; the
   * items not read there try their other replicas, again one READS per agent (pool-batch.ts). The
   * length of each value handed to `take`, its refusal, undefined when absent, or its error. The
   * lookup keeps no lease, as a single get's (readOne): the items an agent answered absent for
   * (moved or removed since) are looked up once more, together.
   */
  private async batchTake(keys: readonly string[], take: Take): Promise<(number | undefined | MmcError)[]> {
    const out = new Array<number | undefined | MmcError>(keys.length);
    const again = await this.takeRound(keys, (j) => j, take, out, true);
    if (again.length) await this.takeRound(again.map((i) => keys[i]), (j) => again[j], take, out, false);
    return out;
  }

  /**
   * One lookup of `ks` and the reads of what it found, into `out` at `item(j)` for key j. The
   * items an agent answered absent for are returned to be looked up again when `retry`, else absent.
   */
  private async takeRound(ks: readonly string[], item: (j: number) => number, take: Take, out: (number | undefined | MmcError)[], retry: boolean): Promise<number[]> {
    const p = decodePlacement(await this.control(OP.LOOKUP, encodeLookup({ keys: ks as string[], batch: true, unleased: true })));
    const r = await readGroups(this.agentsSeam, p, (j, v) => take(item(j), v));
    const again: number[] = [];
    p.items.forEach((it, j) => {
      const i = item(j);
      const got = r.got[j];
      if (got !== undefined) out[i] = got;
      else if (retry && it.code === 0 && r.absent.has(j)) again.push(i);
      else out[i] = it.code === 0 || it.code === MMC.MMC_UNMATCHED_KEY ? undefined : itemError(it);
    });
    return again;
  }

  /** The layer calls' transport (pool-layers.ts). */
  layerTransport(batchKeyLimit: number): LayerTransport {
    return new PoolLayers(this, batchKeyLimit);
  }

  /** A data path request by op: only GET is one in a pool (the rest is pool-layers.ts's). */
  async call(op: Op, key: string, _aux: Uint8Array | string, _value: readonly Uint8Array[], _len: number, sink?: Sink): Promise<Answer> {
    if (op !== OP.GET || sink === undefined) throw new MmcError(MMC.MMC_ERROR, `op ${op} is not carried through the pool as such`);
    const a = await this.readOne(key, () => sink, false);
    return a ?? { code: MMC.MMC_UNMATCHED_KEY, aux: EMPTY, length: 0 };
  }

  sizeOf(key: string): Promise<number | undefined> { return this.meta.sizeOf(key); }
  remove(key: string): Promise<boolean> { return this.meta.remove(key); }
  query(key: string): Promise<QueryResult | undefined> { return this.meta.query(key); }
  batchCodes(op: typeof OP.BATCH_EXISTS | typeof OP.BATCH_REMOVE, keys: readonly string[]): Promise<number[]> { return this.meta.batchCodes(op, keys); }
  batchQuery(keys: readonly string[]): Promise<QueryResult[]> { return this.meta.batchQuery(keys); }

  close(): void {
    this.meta.close();
    for (const t of this.agents.values()) t.then((a) => a.close(), () => {});
    this.agents.clear();
  }
}
