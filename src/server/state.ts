/**
 * What every part of the server shares: the store (once it is ready), the limits, the budgets of
 * bytes in flight, the /metadata store, the metrics registry and the advertised address.
 */
import type { Registry } from 'prom-client';
import { Budget } from './budget.js';
import { BufferedBodies } from './body.js';
import { createMetricsRegistry } from './metrics.js';
import { MetadataStore } from './metadata.js';
import { resolveLimits, type Limits, type ServerOptions } from './options.js';
import { Refusal } from './refusal.js';
import type { StoreLike } from './store-api.js';

export class ServerState {
  readonly limits: Limits;
  /** Set once the store has opened. */
  mc: StoreLike | undefined;
  private startError: unknown;
  /** leader_address: the option, else the address listened on. */
  advertised: string;
  readonly bodies: BufferedBodies;
  /** Memory held by request bodies buffered in flight, HTTP and binary data path alike. */
  readonly bodyBudget: Budget;
  readonly metadata: MetadataStore;
  readonly registry: Registry;
  /** Set once the store is ready (its default is half the store's capacity). */
  private putBudget: Budget | undefined;

  constructor(store: StoreLike | Promise<StoreLike>, options: ServerOptions) {
    const limits = (this.limits = resolveLimits(options));
    if (typeof (store as Promise<StoreLike>).then === 'function') {
      (store as Promise<StoreLike>).then((s) => { this.mc = s; }, (e) => { this.startError = e; });
    } else this.mc = store as StoreLike;
    this.advertised = options.advertise ?? 'unknown';
    this.bodyBudget = new Budget(limits.bodyMemoryLimit);
    this.bodies = new BufferedBodies(this.bodyBudget, limits.bodyTimeoutMs);
    this.metadata = new MetadataStore(limits.metadataTotalLimit, limits.metadataKeyLimit);
    this.registry = createMetricsRegistry(() => this.mc);
  }

  ready(): boolean {
    return this.mc !== undefined && this.mc.ready;
  }

  /** The store, or a refusal when it is not ready (status for the data plane). */
  need(status = 200): StoreLike {
    const mc = this.mc;
    if (!mc || !mc.ready) {
      throw new Refusal(this.startError ? 'MMC_NOT_INITIALIZED: store failed to start' : 'MMC_NOT_INITIALIZED: store is starting', status === 200 ? 200 : 503);
    }
    return mc;
  }

  /** The budget of store space held by puts still receiving their bodies. */
  putsInFlight(s: StoreLike): Budget {
    if (!this.putBudget) {
      let capacity = 0;
      for (const seg of s.segments()) capacity += seg.totalBytes;
      this.putBudget = new Budget(this.limits.putInFlightLimit ?? Math.floor(capacity / 2));
    }
    return this.putBudget;
  }

  /** GET /health's body (also answered by the fast path). */
  healthBody(): string {
    const r = this.ready();
    return JSON.stringify({
      status: 'ok', role: 'leader', ha_state: r ? 'serving' : 'starting', service_ready: r,
      leader_address: this.advertised, view_version: 0,
    });
  }
}
