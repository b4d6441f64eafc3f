/**
 * The meta service's control operations over its MemCache, whose segments are the agents'
 * (remote-backend.ts): alloc places a put and grants each replica's range to the client, commit
 * makes it READABLE (the meta service commits bytes it never saw: the agents acknowledged them to
 * the client), lookup leases a READABLE blob and grants reads of every replica, release ends the
 * lease. Grants are signed with the secret of the agent's registration: a batch's items on one
 * agent under one mac (protocol/grant-block.ts), a single key's replica alone (protocol/grant.ts).
 */
import { MMC, MmcError, codeName } from '../errors.js';
import type { DeviceSegment, Medium } from '../device/types.js';
import { GRANT_READ, GRANT_WRITE } from '../protocol/grant.js';
import type { AllocRequest, CommitRequest, LookupRequest, PlacedItem, Placement } from '../protocol/pool-control.js';
import { decodePutOptions } from '../protocol/put-options.js';
import { Query } from '../server/query.js';
import type { MemCache } from '../store/memcache.js';
import type { PutWriter } from '../store/writer.js';
import type { RemoteBackend } from './remote-backend.js';
import type { Registry } from './registry.js';
import { Grants, type Blob } from './meta-grants.js';
import { PendingBatches } from './meta-batch.js';
import { DEFAULT_ALLOC_TIMEOUT_MS } from '../store/options.js';
import { Placements, type Placed } from './meta-placed.js';
import type { ReservedBatch } from '../store/batch-reserve.js';
import type { PutOptions } from '../store/types.js';

/** A lease the client did not release ends after this long. */
const LEASE_MS = 5000;
/** What a lookup's store read is given to read into: the meta service reads no byte. */
const NO_BYTES = new Uint8Array(0);

const same = (a: Blob, b: Blob) => a.offset === b.offset && a.rank === b.rank && a.medium === b.medium;

/** A lookup's item: the error, or the replicas to read (the one the core chose first) and its generation. */
interface Found { code: number; reason?: string; size?: number; gen?: number; blobs?: Blob[] }

function itemError(e: unknown): { code: number; reason: string; size: number } {
  if (e instanceof MmcError) return { code: e.code, reason: e.message, size: 0 };
  return { code: MMC.MMC_ERROR, reason: `MMC_ERROR: ${(e as Error)?.message ?? String(e)}`, size: 0 };
}

export class MetaPool {
  private readonly placed: Placements;
  private readonly leases = new Map<number, { holds: (() => void)[]; until: number }>();
  private nextLease = 1;
  private readonly timer: NodeJS.Timeout;
  private readonly batches: PendingBatches;

  /** `allocTimeoutMs`: the core's (an allocation not committed by then is reclaimed). */
  constructor(private readonly mc: MemCache, private readonly backend: RemoteBackend, private readonly registry: Registry, allocTimeoutMs = DEFAULT_ALLOC_TIMEOUT_MS) {
    this.placed = new Placements(mc.alignment);
    this.batches = new PendingBatches(allocTimeoutMs + 1000);
    this.timer = setInterval(() => this.expire(Date.now()), 1000);
    this.timer.unref();
  }

  async alloc(r: AllocRequest): Promise<Placement> {
    const opts = decodePutOptions(new Query(r.query));
    if (r.batch) return this.allocBatch(r.keys, r.sizes, opts);
    const w = await this.mc.alloc(r.keys[0], r.sizes[0], opts).catch((e: unknown) => e as Error);
    const grants = new Grants(this.registry, GRANT_WRITE, false);
    if (w instanceof Error) return { lease: 0, items: [itemError(w)], groups: [] };
    const blobs = w.blobs.map((b): Blob => ({ rank: b.rank, medium: b.medium === 'HBM' ? 'hbm' : 'dram', offset: b.offset }));
    const gone = blobs.find((b) => this.registry.agent(b.rank) === undefined);
    if (gone) {
      void w.abort();
      return { lease: 0, items: [itemError(new MmcError(MMC.MMC_ERROR, `rank ${gone.rank} has no agent`))], groups: [] };
    }
    const gen = w.handle.gen;
    const p: Placed | undefined = blobs.length === 1 ? undefined : { key: w.key, gen, size: w.size, blobs };
    blobs.forEach((b, r) => this.placed.set(b.rank, b.medium, b.offset, gen, w.handle.targets[r].device.bytes, p));
    blobs.forEach((b, slot) => grants.add(0, slot, w.key, b, gen, w.size));
    return { lease: 0, items: [{ code: 0, size: w.size }], groups: grants.groups() };
  }

  /** A batch's alloc: kept as numbers (store/batch-reserve.ts) under the id its COMMIT names. */
  private async allocBatch(keys: string[], sizes: number[], opts: PutOptions): Promise<Placement> {
    const b = await this.mc.batchReserve(keys, sizes, opts);
    const grants = new Grants(this.registry, GRANT_WRITE, true);
    const items = new Array<PlacedItem>(b.n);
    let placed = 0;
    for (let i = 0; i < b.n; i++) {
      if (b.replicas[i] > 0) this.placeItem(b, i, keys[i], sizes[i], grants);
      if (b.replicas[i] === 0) items[i] = itemError(b.errors.get(i));
      else { items[i] = { code: 0, size: sizes[i] }; placed++; }
    }
    const lease = placed > 0 ? this.batches.add(b, Date.now()) : 0;
    return { lease, items, groups: grants.groups() };
  }

  /** Item i of a reserved batch placed and granted; given up if an agent of its is gone. */
  private placeItem(b: ReservedBatch, i: number, key: string, size: number, grants: Grants): void {
    const n = b.replicas[i];
    const at = i * b.stride;
    for (let r = 0; r < n; r++) {
      const seg = b.segs[at + r]!;
      if (this.registry.agent(seg.rank) === undefined) {
        this.mc.batchDrop(b, i, new MmcError(MMC.MMC_ERROR, `rank ${seg.rank} has no agent`));
        return;
      }
    }
    const gen = b.gens[i];
    let p: Placed | undefined;
    if (n > 1) {
      const blobs: Blob[] = [];
      for (let r = 0; r < n; r++) blobs.push({ rank: b.segs[at + r]!.rank, medium: b.segs[at + r]!.medium, offset: b.offsets[at + r] });
      p = { key, gen, size, blobs };
    }
    for (let r = 0; r < n; r++) {
      const seg = b.segs[at + r]!;
      const offset = b.offsets[at + r];
      this.placed.set(seg.rank, seg.medium, offset, gen, seg.bytes, p);
      grants.addAt(i, r, key, seg.rank, seg.medium, offset, gen, size);
    }
  }

  async commit(r: CommitRequest): Promise<number[]> {
    if (r.batch) return this.commitBatch(r.id, r.ok);
    try {
      await this.mc.updateState(r.keys[0], r.ok[0] ? 'write_ok' : 'write_fail');
      return [0];
    } catch (e) {
      return [itemError(e).code];
    }
  }

  /**
   * A batch's commit by its ALLOC's id, each item by its handle. An id not kept (committed, or
   * forgotten after the alloc timeout) reads as every item expired; `ok` not one per item of the
   * batch is refused and leaves the batch as it was.
   */
  private commitBatch(id: number, ok: boolean[]): number[] {
    const b = this.batches.get(id);
    if (b === undefined) return ok.map(() => MMC.MMC_UNMATCHED_KEY);
    if (ok.length !== b.n) throw new MmcError(MMC.MMC_INVALID_PARAM, `commit of ${ok.length} items for a batch of ${b.n}`);
    this.batches.delete(id);
    return this.mc.batchCommit(b, Uint8Array.from(ok, (x) => (x ? 1 : 0)));
  }

  /** Synchronous: the core answers a lookup at once (the capture reads no byte, see lookupOne). */
  lookup(r: LookupRequest): Placement {
    const holds: (() => void)[] = [];
    const found: Found[] = r.batch ? this.lookupBatch(r.keys, holds, r.unleased === true) : [this.lookupOne(r.keys[0], holds)];
    const lease = r.unleased ? 0 : this.nextLease;
    if (r.unleased) for (const h of holds) h(); // counted and ended now (see LookupRequest)
    else {
      this.nextLease = lease >= 0xffffffff ? 1 : lease + 1;
      if (holds.length) this.leases.set(lease, { holds, until: Date.now() + LEASE_MS });
    }
    const grants = new Grants(this.registry, GRANT_READ, r.batch);
    const items = found.map((f, i): PlacedItem => {
      if (f.code !== 0) return { code: f.code, size: 0, reason: f.reason };
      // replicas whose agent is gone are left out; none left: absent
      const blobs = f.blobs!.every((b) => this.registry.agent(b.rank) !== undefined) ? f.blobs! : f.blobs!.filter((b) => this.registry.agent(b.rank) !== undefined);
      if (blobs.length === 0) return { code: MMC.MMC_UNMATCHED_KEY, size: 0 };
      blobs.forEach((b, slot) => grants.add(i, slot, r.keys[i], b, f.gen!, f.size!));
      return { code: 0, size: f.size! };
    });
    return { lease, items, groups: grants.groups() };
  }

  /**
   * MemCache.get with the backend's capture: the core's checks, LRU, counters and lease, no byte
   * read. getWithNow answers at once: absent or refused before any read, or the capture's promise
   * (which settles at release) once the core chose a blob.
   */
  private lookupOne(key: string, holds: (() => void)[]): Found {
    let got: { seg: DeviceSegment; offset: number; size: number } | undefined;
    let size = 0;
    this.backend.capture = (seg, offset) => {
      got = { seg, offset, size };
      return new Promise<void>((resolve) => holds.push(resolve));
    };
    let v: Uint8Array | undefined | Promise<Uint8Array | undefined>;
    try {
      // no byte is read here: the read goes into an empty view (the store takes subarray(0, size)
      // of it) rather than a buffer of the value's size, which cost a 1 MiB allocation (and the
      // GC of it) per get of 1 MiB; the size is the one the store asks the buffer for
      v = this.mc.getWithNow(key, (n) => { size = n; return NO_BYTES; });
    } catch (e) {
      return itemError(e);
    } finally {
      this.backend.capture = undefined;
    }
    if (got === undefined) return { code: MMC.MMC_UNMATCHED_KEY };
    if (v instanceof Promise) v.catch(() => {}); // settles at release
    return this.readGrants(key, got);
  }

  /**
   * A batch's lookup (MemCache.batchLease: counted once, as batch_get): every found key's blob is
   * leased as a single lookup's is, until the client releases the batch (or the lease runs out),
   * so a remove meanwhile cannot free a range under a batch read; `unleased`: each lease ends at
   * once (LookupRequest.unleased).
   */
  private lookupBatch(keys: readonly string[], holds: (() => void)[], unleased: boolean): Found[] {
    const { codes, leased } = this.mc.batchLease(keys, unleased);
    if (!unleased) for (const l of leased) holds.push(() => l.end());
    let j = 0;
    return codes.map((code, i) => {
      if (code === 0) return this.readGrants(keys[i], leased[j++]);
      return { code, reason: code === MMC.MMC_UNMATCHED_KEY ? undefined : `${codeName(code)}: get of '${keys[i]}' failed` };
    });
  }

  /**
   * What to read: the blob the core chose first, then the other replicas placed with it, and the
   * generation (the core's where the lookup gave it, else the placement's).
   */
  private readGrants(key: string, got: { seg: DeviceSegment; offset: number; size: number; gen?: number }): Found {
    const chosen: Blob = { rank: got.seg.rank, medium: got.seg.medium, offset: got.offset };
    const at = this.placed.placed(chosen);
    const p = at !== undefined && at.key === key && at.size === got.size && (got.gen === undefined || at.gen === got.gen) ? at : undefined;
    // one replica (the usual): its generation was all there was to keep
    if (p === undefined) return { code: 0, size: got.size, gen: got.gen ?? this.placed.gen(chosen), blobs: [chosen] };
    const others = p.blobs.filter((b) => !same(b, chosen));
    return { code: 0, size: got.size, gen: p.gen, blobs: [chosen, ...others] };
  }

  release(lease: number): void {
    const l = this.leases.get(lease);
    if (!l) return;
    this.leases.delete(lease);
    for (const h of l.holds) h();
  }

  /** A demotion copied a blob within its rank: the placement follows it. */
  moved(from: Blob, to: Blob): void {
    this.placed.moved(from, to, same);
  }

  private expire(now: number): void {
    for (const [id, l] of this.leases) if (l.until <= now) this.release(id);
    this.batches.expire(now);
  }

  close(): void {
    clearInterval(this.timer);
    this.batches.clear();
    for (const id of [...this.leases.keys()]) this.release(id);
  }
}
