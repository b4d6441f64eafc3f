/**
 * The meta service's control operations over its MemCache, whose segments are the agents'
 * (remote-backend.ts): alloc places a put and grants each replica's range to the client, commit
 * makes it READABLE (the meta service commits bytes it never saw: the agents acknowledged them to
 * the client), lookup leases a READABLE blob and grants reads of every replica, release ends the
 * lease. A grant is signed with the secret of the agent's registration (protocol/grant.ts).
 */
import { MMC, MmcError, codeName } from '../errors.js';
import type { DeviceSegment, Medium } from '../device/types.js';
import { GRANT_READ, GRANT_WRITE, signGrant } from '../protocol/grant.js';
import type { AllocRequest, AllocItem, CommitRequest, LookupAnswer, LookupItem, LookupRequest, Replica } from '../protocol/pool-frames.js';
import { decodePutOptions } from '../protocol/put-options.js';
import { Query } from '../server/query.js';
import type { MemCache } from '../store/memcache.js';
import type { PutWriter } from '../store/writer.js';
import type { RemoteBackend } from './remote-backend.js';
import type { Registry } from './registry.js';

/** A lease the client did not release ends after this long. */
const LEASE_MS = 5000;

interface Blob { rank: number; medium: Medium; offset: number }
/** Where an object's replicas were placed, and its generation. */
interface Placed { key: string; gen: number; size: number; blobs: Blob[] }

const at = (b: Blob) => `${b.rank}:${b.medium}:${b.offset}`;

function itemError(e: unknown): { code: number; reason: string } {
  if (e instanceof MmcError) return { code: e.code, reason: e.message };
  return { code: MMC.MMC_ERROR, reason: `MMC_ERROR: ${(e as Error)?.message ?? String(e)}` };
}

export class MetaPool {
  /**
   * Placements by the location of each of their blobs: an alloc at a location replaces what was
   * placed there before, so the map never holds more entries than the segments have allocation
   * units, whatever was removed or evicted meanwhile (the core forgets keys without telling).
   */
  private readonly placed = new Map<string, Placed>();
  private readonly leases = new Map<number, { holds: (() => void)[]; until: number }>();
  private nextLease = 1;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly mc: MemCache, private readonly backend: RemoteBackend, private readonly registry: Registry) {
    this.timer = setInterval(() => this.expire(Date.now()), 1000);
    this.timer.unref();
  }

  private grant(op: typeof GRANT_WRITE | typeof GRANT_READ, key: string, b: Blob, gen: number, size: number): Replica {
    const a = this.registry.agent(b.rank);
    if (a === undefined) throw new MmcError(MMC.MMC_ERROR, `rank ${b.rank} has no agent`);
    const g = signGrant(a.secret, { op, medium: b.medium, rank: b.rank, incarnation: a.incarnation, view: 0, gen, offset: b.offset, size }, key);
    return { rank: b.rank, addr: a.addr, grant: Buffer.from(g).toString('base64') };
  }

  async alloc(r: AllocRequest): Promise<AllocItem[]> {
    const opts = decodePutOptions(new Query(r.query));
    const entries = r.keys.map((k, i) => [k, r.sizes[i]] as const);
    const ws = r.batch
      ? await this.mc.batchAlloc(entries, opts)
      : [await this.mc.alloc(entries[0][0], entries[0][1], opts).catch((e: unknown) => e as Error)];
    return ws.map((w) => (w instanceof Error ? itemError(w) : this.writeGrants(w)));
  }

  private writeGrants(w: PutWriter): AllocItem {
    const blobs = w.blobs.map((b) => ({ rank: b.rank, medium: b.medium.toLowerCase() as Medium, offset: b.offset }));
    try {
      const replicas = blobs.map((b) => this.grant(GRANT_WRITE, w.key, b, w.handle.gen, w.size));
      const p: Placed = { key: w.key, gen: w.handle.gen, size: w.size, blobs };
      for (const b of blobs) this.placed.set(at(b), p);
      return { code: 0, replicas };
    } catch (e) {
      void w.abort();
      return itemError(e);
    }
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

  async lookup(r: LookupRequest): Promise<LookupAnswer> {
    const holds: (() => void)[] = [];
    const items: LookupItem[] = r.batch ? this.lookupBatch(r.keys, holds) : [await this.lookupOne(r.keys[0], holds)];
    const lease = this.nextLease;
    this.nextLease = lease >= 0xffffffff ? 1 : lease + 1;
    if (holds.length) this.leases.set(lease, { holds, until: Date.now() + LEASE_MS });
    return { lease, items };
  }

  /** MemCache.get with the backend's capture: the core's checks, LRU, counters and lease, no byte read. */
  private async lookupOne(key: string, holds: (() => void)[]): Promise<LookupItem> {
    let got: { seg: DeviceSegment; offset: number; size: number } | undefined;
    this.backend.capture = (seg, offset, size) => {
      got = { seg, offset, size };
      return new Promise<void>((resolve) => holds.push(resolve));
    };
    let p: Promise<Uint8Array | undefined>;
    try {
      p = this.mc.get(key);
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
  private lookupBatch(keys: readonly string[], holds: (() => void)[]): LookupItem[] {
    const { codes, leased } = this.mc.batchLease(keys);
    for (const l of leased) holds.push(() => l.end());
    let j = 0;
    return codes.map((code, i) => {
      if (code === 0) return this.readGrants(keys[i], leased[j++]);
      return { code, reason: code === MMC.MMC_UNMATCHED_KEY ? undefined : `${codeName(code)}: get of '${keys[i]}' failed` };
    });
  }

  /** Read grants: the blob the core chose first, then the other replicas placed with it. */
  private readGrants(key: string, got: { seg: DeviceSegment; offset: number; size: number }): LookupItem {
    const chosen: Blob = { rank: got.seg.rank, medium: got.seg.medium, offset: got.offset };
    const found = this.placed.get(at(chosen));
    const p = found?.key === key && found.size === got.size ? found : undefined;
    const others = p ? p.blobs.filter((b) => at(b) !== at(chosen)) : [];
    const gen = p?.gen ?? 0;
    const replicas: Replica[] = [];
    for (const b of [chosen, ...others]) {
      try { replicas.push(this.grant(GRANT_READ, key, b, gen, got.size)); } catch { /* its agent is gone */ }
    }
    if (replicas.length === 0) return { code: MMC.MMC_UNMATCHED_KEY };
    return { code: 0, size: got.size, replicas };
  }

  release(lease: number): void {
    const l = this.leases.get(lease);
    if (!l) return;
    this.leases.delete(lease);
    for (const h of l.holds) h();
  }

  /** A demotion copied a blob within its rank: the placement follows it. */
  moved(from: Blob, to: Blob): void {
    const p = this.placed.get(at(from));
    if (p === undefined) return;
    const q: Placed = { ...p, blobs: p.blobs.map((b) => (at(b) === at(from) ? to : b)) };
    for (const b of q.blobs) this.placed.set(at(b), q);
  }

  private expire(now: number): void {
    for (const [id, l] of this.leases) if (l.until <= now) this.release(id);
  }

  close(): void {
    clearInterval(this.timer);
    for (const id of [...this.leases.keys()]) this.release(id);
  }
}
