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

/** A lease the client did not release ends after this long. */
const LEASE_MS = 5000;
/** What a lookup's store read is given to read into: the meta service reads no byte. */
const NO_BYTES = new Uint8Array(0);

/** Where an object's replicas were placed, and its generation. */
interface Placed { key: string; gen: number; size: number; blobs: Blob[] }

const same = (a: Blob, b: Blob) => a.offset === b.offset && a.rank === b.rank && a.medium === b.medium;
/** A segment's number in `placed`: numbers, not strings, since every key of a batch is placed. */
const segId = (b: Blob) => b.rank * 2 + (b.medium === 'hbm' ? 0 : 1);

/** A lookup's item: the error, or the replicas to read (the one the core chose first) and its generation. */
interface Found { code: number; reason?: string; size?: number; gen?: number; blobs?: Blob[] }

function itemError(e: unknown): { code: number; reason: string; size: number } {
  if (e instanceof MmcError) return { code: e.code, reason: e.message, size: 0 };
  return { code: MMC.MMC_ERROR, reason: `MMC_ERROR: ${(e as Error)?.message ?? String(e)}`, size: 0 };
}

export class MetaPool {
  /**
   * Placements by the location of each of their blobs: an alloc at a location replaces what was
   * placed there before, so the map never holds more entries than the segments have allocation
   * units, whatever was removed or evicted meanwhile (the core forgets keys without telling).
   */
  private readonly placed = new Map<number, Map<number, Placed>>();
  private readonly leases = new Map<number, { holds: (() => void)[]; until: number }>();
  private nextLease = 1;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly mc: MemCache, private readonly backend: RemoteBackend, private readonly registry: Registry) {
    this.timer = setInterval(() => this.expire(Date.now()), 1000);
    this.timer.unref();
  }

  async alloc(r: AllocRequest): Promise<Placement> {
    const opts = decodePutOptions(new Query(r.query));
    const entries = r.keys.map((k, i) => [k, r.sizes[i]] as const);
    const ws = r.batch
      ? await this.mc.batchAlloc(entries, opts)
      : [await this.mc.alloc(entries[0][0], entries[0][1], opts).catch((e: unknown) => e as Error)];
    const grants = new Grants(this.registry, GRANT_WRITE, r.batch);
    const items = ws.map((w, i): PlacedItem => {
      if (w instanceof Error) return itemError(w);
      const blobs = w.blobs.map((b): Blob => ({ rank: b.rank, medium: b.medium === 'HBM' ? 'hbm' : 'dram', offset: b.offset }));
      const gone = blobs.find((b) => this.registry.agent(b.rank) === undefined);
      if (gone) {
        void w.abort();
        return itemError(new MmcError(MMC.MMC_ERROR, `rank ${gone.rank} has no agent`));
      }
      const p: Placed = { key: w.key, gen: w.handle.gen, size: w.size, blobs };
      for (const b of blobs) this.place(b, p);
      blobs.forEach((b, slot) => grants.add(i, slot, w.key, b, p.gen, w.size));
      return { code: 0, size: w.size };
    });
    return { lease: 0, items, groups: grants.groups() };
  }

  async commit(r: CommitRequest): Promise<number[]> {
    if (r.batch) return this.mc.batchUpdateState(r.keys, r.ok.map((ok) => (ok ? 'write_ok' : 'write_fail')));
    try {
      await this.mc.updateState(r.keys[0], r.ok[0] ? 'write_ok' : 'write_fail');
      return [0];
    } catch (e) {
      return [itemError(e).code];
    }
  }

  async lookup(r: LookupRequest): Promise<Placement> {
    const holds: (() => void)[] = [];
    const found: Found[] = r.batch ? this.lookupBatch(r.keys, holds) : [await this.lookupOne(r.keys[0], holds)];
    const lease = this.nextLease;
    this.nextLease = lease >= 0xffffffff ? 1 : lease + 1;
    if (holds.length) this.leases.set(lease, { holds, until: Date.now() + LEASE_MS });
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

  /** MemCache.get with the backend's capture: the core's checks, LRU, counters and lease, no byte read. */
  private async lookupOne(key: string, holds: (() => void)[]): Promise<Found> {
    let got: { seg: DeviceSegment; offset: number; size: number } | undefined;
    let size = 0;
    this.backend.capture = (seg, offset) => {
      got = { seg, offset, size };
      return new Promise<void>((resolve) => holds.push(resolve));
    };
    let p: Promise<Uint8Array | undefined>;
    try {
      // no byte is read here: the read goes into an empty view (the store takes subarray(0, size)
      // of it) rather than a buffer of the value's size, which cost a 1 MiB allocation (and the
      // GC of it) per get of 1 MiB; the size is the one the store asks the buffer for
      p = this.mc.getWith(key, (n) => { size = n; return NO_BYTES; });
    } finally {
      this.backend.capture = undefined;
    }
    if (got === undefined) {
      try {
        await p;
        return { code: MMC.MMC_UNMATCHED_KEY };
      } catch (e) {
        return itemError(e);
      }
    }
    p.catch(() => {}); // settles at release
    return this.readGrants(key, got);
  }

  /**
   * A batch's lookup (MemCache.batchLease: counted once, as batch_get): every found key's blob is
   * leased as a single lookup's is, until the client releases the batch (or the lease runs out),
   * so a remove meanwhile cannot free a range under a batch read.
   */
  private lookupBatch(keys: readonly string[], holds: (() => void)[]): Found[] {
    const { codes, leased } = this.mc.batchLease(keys);
    for (const l of leased) holds.push(() => l.end());
    let j = 0;
    return codes.map((code, i) => {
      if (code === 0) return this.readGrants(keys[i], leased[j++]);
      return { code, reason: code === MMC.MMC_UNMATCHED_KEY ? undefined : `${codeName(code)}: get of '${keys[i]}' failed` };
    });
  }

  /** What to read: the blob the core chose first, then the other replicas placed with it. */
  private readGrants(key: string, got: { seg: DeviceSegment; offset: number; size: number }): Found {
    const chosen: Blob = { rank: got.seg.rank, medium: got.seg.medium, offset: got.offset };
    const found = this.placed.get(segId(chosen))?.get(chosen.offset);
    const p = found?.key === key && found.size === got.size ? found : undefined;
    // one replica (the usual): its placement's own list, no copy
    if (p?.blobs.length === 1 && same(p.blobs[0], chosen)) return { code: 0, size: got.size, gen: p.gen, blobs: p.blobs };
    const others = p ? p.blobs.filter((b) => !same(b, chosen)) : [];
    return { code: 0, size: got.size, gen: p?.gen ?? 0, blobs: [chosen, ...others] };
  }

  private place(b: Blob, p: Placed): void {
    const id = segId(b);
    let m = this.placed.get(id);
    if (m === undefined) this.placed.set(id, m = new Map());
    m.set(b.offset, p);
  }

  release(lease: number): void {
    const l = this.leases.get(lease);
    if (!l) return;
    this.leases.delete(lease);
    for (const h of l.holds) h();
  }

  /** A demotion copied a blob within its rank: the placement follows it. */
  moved(from: Blob, to: Blob): void {
    const p = this.placed.get(segId(from))?.get(from.offset);
    if (p === undefined) return;
    const q: Placed = { ...p, blobs: p.blobs.map((b) => (same(b, from) ? to : b)) };
    for (const b of q.blobs) this.place(b, q);
  }

  private expire(now: number): void {
    for (const [id, l] of this.leases) if (l.until <= now) this.release(id);
  }

  close(): void {
    clearInterval(this.timer);
    for (const id of [...this.leases.keys()]) this.release(id);
  }
}
