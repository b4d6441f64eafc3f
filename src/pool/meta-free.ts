/**
 * FREE notices (src/protocol/pool-free.ts): the meta service never hands a freed range out again
 * before the agent holding it knows it was freed. Its core holds every range it frees on an
 * agent's segment (store/held.ts); here they are queued per rank, sent in one FREE per rank on
 * the next turn of the event loop (one in flight per rank; what is freed meanwhile goes in the
 * next), and given back to the core when the agent acknowledged them. An agent that does not
 * answer within FREE_TIMEOUT_MS is sent them again on a new connection every RETRY_MS; one that
 * is dropped (or registers again) had its segments unmounted, and its held ranges went with them.
 */
import { MMC, MmcError } from '../errors.js';
import { answerError } from '../client/data-conn.js';
import { OP } from '../protocol/data-frames.js';
import { MAX_FREE_RANGES, signFree } from '../protocol/pool-free.js';
import type { HeldFrees, HeldRange } from '../store/held.js';
import type { MemCache } from '../store/memcache.js';
import type { AgentConns } from './agent-conns.js';
import type { Registry } from './registry.js';

/** A FREE not answered this long: its connection is closed and the ranges sent again. */
const FREE_TIMEOUT_MS = 2000;
const RETRY_MS = 100;

export class FreeNotices {
  private readonly queues = new Map<number, HeldRange[]>();
  private readonly busy = new Set<number>();
  private readonly held: HeldFrees;
  private scheduled = false;
  private closed = false;
  private failing = new Set<number>();

  constructor(mc: MemCache, private readonly registry: Registry, private readonly conns: AgentConns, private readonly log: (l: string) => void) {
    this.held = mc.holdFrees((r) => this.hold(r));
  }

  /** Ranges held (freed, not yet acknowledged by their agent) and their bytes. */
  pending(): { ranges: number; bytes: number } {
    return this.held.pending();
  }

  /** Called from inside the core: queues only (no core call). */
  private hold(r: HeldRange): void {
    let q = this.queues.get(r.seg.rank);
    if (q === undefined) this.queues.set(r.seg.rank, (q = []));
    q.push(r);
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    const run = () => { this.scheduled = false; this.flush(); };
    if (ms === 0) setImmediate(run); else setTimeout(run, ms).unref();
  }

  private flush(): void {
    for (const [rank, q] of this.queues) {
      if (this.busy.has(rank)) continue;
      if (q.length === 0) this.queues.delete(rank);
      else void this.send(rank, q);
    }
  }

  /** One FREE of the rank's queued ranges; acknowledged ones go back to the core, the others wait. */
  private async send(rank: number, q: HeldRange[]): Promise<void> {
    this.busy.add(rank);
    const batch = q.splice(0, MAX_FREE_RANGES);
    const live: HeldRange[] = [];
    // the mount is gone (its agent dropped or registered again): nothing to tell, nothing to hold
    for (const r of batch) if (this.held.live(r)) live.push(r); else this.held.release(r);
    let ok = true;
    try {
      if (live.length > 0) await this.notify(rank, live);
      for (const r of live) this.held.release(r);
      this.failing.delete(rank);
    } catch (e) {
      ok = false;
      // the rank's queue stays in the map while its FREE is in flight (flush skips busy ranks)
      q.unshift(...live);
      if (!this.failing.has(rank)) this.log(`mmc meta: rank ${rank}: FREE of ${live.length} ranges not acknowledged (${(e as Error).message}); they stay held, sent again every ${RETRY_MS} ms`);
      this.failing.add(rank);
    } finally {
      this.busy.delete(rank);
    }
    this.schedule(ok ? 0 : RETRY_MS);
  }

  private async notify(rank: number, ranges: HeldRange[]): Promise<void> {
    const a = this.registry.agent(rank);
    if (a === undefined) throw new MmcError(MMC.MMC_ERROR, `rank ${rank} has no agent (its segments are being dropped)`);
    const body = signFree(a.secret, a.incarnation, ranges.map((r) => ({ medium: r.seg.medium, offset: r.offset, size: r.size, gen: r.gen })));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.conns.drop(a.addr);
        reject(new MmcError(MMC.MMC_TIMEOUT, `no answer from ${a.addr} within ${FREE_TIMEOUT_MS} ms`));
      }, FREE_TIMEOUT_MS);
    });
    try {
      const c = await Promise.race([this.conns.get(a.addr), late]);
      const ans = await Promise.race([c.request(OP.FREE, '', '', [body], body.length), late]);
      if (ans.code !== 0) throw answerError(ans);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.closed = true;
  }
}
