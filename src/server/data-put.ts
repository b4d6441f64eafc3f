/**
 * A put of the binary data path, streamed from the socket into the store as its value arrives,
 * under the same rule as the HTTP streamed put: nothing is reserved (nothing evicted) before the
 * first value byte, and then only within the space that puts still receiving their values may
 * hold. A put refused or failed half way answers its error and drops the rest of its value (the
 * connection carries on); one whose stream breaks is aborted: nothing half written stays.
 */
import type { PutOptions } from '../store/types.js';
import type { Budget, Hold } from './budget.js';
import type { Pending } from './data-ops.js';
import { putsInFlightFull } from './data-routes.js';
import type { PutWriter, StoreLike } from './store-api.js';

export interface PutOutcome {
  done(): void;
  refused(e: unknown): void;
}

export class PutSink implements Pending {
  /** The store's writer copies a chunk before its write settles (StoreLike's PutWriter.write). */
  readonly consumes = true;
  private w: PutWriter | undefined;
  private readonly inFlight: Hold;
  /** Set once refused or failed: the rest of the value is dropped. */
  private failed = false;
  private started = false;

  constructor(
    private readonly store: StoreLike, private readonly budget: Budget, private readonly key: string,
    private readonly size: number, private readonly opts: PutOptions, private readonly outcome: PutOutcome,
  ) {
    this.inFlight = budget.hold();
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.failed) return;
    try {
      if (!this.started) {
        this.started = true;
        if (!this.inFlight.grow(this.size * (this.opts.replicas ?? 1), true)) {
          throw putsInFlightFull(this.budget.limit);
        }
        this.w = await this.store.beginPut(this.key, this.size, this.opts);
      }
      await this.w!.write(chunk);
    } catch (e) {
      await this.fail(e);
    }
  }

  async end(): Promise<void> {
    if (this.failed) return;
    const w = this.w;
    this.w = undefined;
    try {
      await w!.commit();
      this.inFlight.release();
      this.outcome.done();
    } catch (e) {
      this.failed = true;
      this.inFlight.release();
      this.outcome.refused(e);
    }
  }

  /** The stream broke mid-value: the reservation is freed now. */
  async abort(): Promise<void> {
    this.failed = true;
    const w = this.w;
    this.w = undefined;
    try {
      if (w) await w.abort();
    } finally {
      this.inFlight.release();
    }
  }

  private async fail(e: unknown): Promise<void> {
    await this.abort().catch(() => {});
    this.outcome.refused(e);
  }
}
