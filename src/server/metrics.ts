/**
 * The /metrics registry (prom-client): the contract's families, read from the store at scrape
 * time.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { SegmentInfo, Stats } from '../store/types.js';
import { OPERATIONS, num } from './format.js';

export interface MetricsSource {
  stats(): Stats;
  segments(): SegmentInfo[];
}

/** One scrape's view of the store: a single stats() and segments() snapshot. */
class Scrape {
  private snap: Stats | undefined;
  segs: SegmentInfo[] = [];
  constructor(private readonly source: () => MetricsSource | undefined) {}
  refresh(): void {
    const s = this.source();
    this.snap = s ? s.stats() : undefined;
    this.segs = s ? s.segments() : [];
  }
  value(field: string): number {
    return this.snap ? num(this.snap, field) : 0;
  }
}

/**
 * A prom-client registry whose metrics read the store at scrape time (collect callbacks).
 * Families in the contract's order; prom-client's default Node metrics are not registered.
 * One stats() snapshot serves a whole scrape: the first family's collect takes it (prom-client
 * calls the collects synchronously in registration order), the others reuse it.
 */
export function createMetricsRegistry(source: () => MetricsSource | undefined): Registry {
  const registry = new Registry();
  const scrape = new Scrape(source);
  addCounters(registry, scrape);
  addGauges(registry, scrape);
  return registry;
}

/** The operation counters (the first one refreshes the snapshot) and the evictions. */
function addCounters(registry: Registry, scrape: Scrape): void {
  let first = true;
  const counter = (name: string, help: string, field: string) => {
    const isFirst = first;
    first = false;
    new Counter({
      name, help, registers: [registry],
      collect() {
        if (isFirst) scrape.refresh();
        this.reset();
        this.inc(scrape.value(field));
      },
    });
  };
  const result = [['requests', 'req', 'requests'], ['successes', 'success', 'successes'], ['failures', 'fail', 'failures']];
  for (const { op, label, notFound } of OPERATIONS) {
    for (const [metric, field, word] of result) {
      counter(`memcache_${op}_${metric}_total`, `Total number of ${label} ${word}`, `${op}_${field}`);
    }
    if (notFound) counter(`memcache_${op}_not_found_total`, `Total number of ${label} not found results`, `${op}_not_found`);
  }
  counter('memcache_evict_operations_total', 'Total number of evict operations', 'evict');
}

function addGauges(registry: Registry, scrape: Scrape): void {
  new Gauge({
    name: 'memcache_stored_keys', help: 'Total number of stored keys', registers: [registry],
    collect() { this.set(scrape.value('keys')); },
  });
  new Gauge({
    name: 'memcache_segment_capacity_bytes', help: 'Segment total capacity in bytes', labelNames: ['segment'], registers: [registry],
    collect() { this.reset(); for (const s of scrape.segs) this.set({ segment: s.id }, s.totalBytes); },
  });
  new Gauge({
    name: 'memcache_segment_allocated_bytes', help: 'Segment allocated bytes', labelNames: ['segment'], registers: [registry],
    collect() { this.reset(); for (const s of scrape.segs) this.set({ segment: s.id }, s.usedBytes); },
  });
  new Gauge({
    name: 'memcache_total_capacity_bytes', help: 'Total capacity by medium in bytes', labelNames: ['medium'], registers: [registry],
    collect() { this.set({ medium: 'hbm' }, scrape.value('hbm_total')); this.set({ medium: 'dram' }, scrape.value('dram_total')); },
  });
  new Gauge({
    name: 'memcache_allocated_bytes', help: 'Allocated bytes by medium', labelNames: ['medium'], registers: [registry],
    collect() { this.set({ medium: 'hbm' }, scrape.value('hbm_used')); this.set({ medium: 'dram' }, scrape.value('dram_used')); },
  });
  // beyond the contract: the core's metadata memory and its cap (coreMemoryLimit)
  new Gauge({
    name: 'memcache_core_metadata_bytes', help: 'Core metadata bytes used', registers: [registry],
    collect() { this.set(scrape.value('metadata_used')); },
  });
  new Gauge({
    name: 'memcache_core_metadata_limit_bytes', help: 'Core metadata bytes available in all (coreMemoryLimit)', registers: [registry],
    collect() { this.set(scrape.value('metadata_limit')); },
  });
}

/** The registry's text without the blank lines prom-client puts between families (as the contract's example). */
export async function metricsText(registry: Registry): Promise<string> {
  const text = await registry.metrics();
  return text.replace(/\n\n/g, '\n');
}
