/**
 * The batches the meta service allocated and not yet committed, by the id their ALLOC answer
 * carried (protocol/pool-control.ts): COMMIT names the id, not the keys, so a batch's keys cross
 * and are decoded once, and each item is committed by its handle (store/batch-reserve.ts). A
 * batch no COMMIT came for is forgotten once its allocations have run out (the core's alloc
 * timeout has reclaimed them by then), so a client that died leaves nothing here.
 */
import type { ReservedBatch } from '../store/batch-reserve.js';

export class PendingBatches {
  private readonly by = new Map<number, { b: ReservedBatch; until: number }>();
  private next = 1;

  constructor(private readonly keepMs: number) {}

  /** Keeps `b` until its COMMIT: its id (never 0, never one still kept). */
  add(b: ReservedBatch, now: number): number {
    let id = this.next;
    while (id === 0 || this.by.has(id)) id = (id + 1) >>> 0;
    this.next = (id + 1) >>> 0;
    this.by.set(id, { b, until: now + this.keepMs });
    return id;
  }

  /** The batch of `id`, still kept (undefined: unknown, committed or forgotten). */
  get(id: number): ReservedBatch | undefined {
    return this.by.get(id)?.b;
  }

  /** Forgets `id` (its COMMIT came). */
  delete(id: number): void {
    this.by.delete(id);
  }

  expire(now: number): void {
    for (const [id, p] of this.by) if (p.until <= now) this.by.delete(id);
  }

  clear(): void {
    this.by.clear();
  }
}
