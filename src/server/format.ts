/**
 * Contract formatting shared by the REST endpoints: the error body, the /metrics/summary line,
 * the ptracer table and the /metrics registry (the REST contract).
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { Stats, Tracepoint, SegmentInfo } from '../store/types.js';

/** The 16 operations in contract order, with their HELP display names. */
export const OPERATIONS: ReadonlyArray<{ op: string; label: string; notFound: boolean }> = [
  { op: 'alloc', label: 'Alloc', notFound: false },
  { op: 'batch_alloc', label: 'BatchAlloc', notFound: false },
  { op: 'get', label: 'Get', notFound: true },
  { op: 'batch_get', label: 'BatchGet', notFound: true },
  { op: 'remove', label: 'Remove', notFound: true },
  { op: 'batch_remove', label: 'BatchRemove', notFound: true },
  { op: 'remove_all', label: 'RemoveAll', notFound: false },
  { op: 'update_state', label: 'UpdateState', notFound: true },
  { op: 'batch_update_state', label: 'BatchUpdateState', notFound: true },
  { op: 'query', label: 'Query', notFound: true },
  { op: 'batch_query', label: 'BatchQuery', notFound: true },
  { op: 'get_all_keys', label: 'GetAllKeys', notFound: false },
  { op: 'exist_key', label: 'ExistKey', notFound: true },
  { op: 'batch_exist_key', label: 'BatchExistKey', notFound: true },
  { op: 'mount', label: 'Mount', notFound: false },
  { op: 'unmount', label: 'Unmount', notFound: false },
];

/** The 62 field names of /metrics/summary, in order. */
export const SUMMARY_FIELDS: readonly string[] = (() => {
  const f = ['keys', 'evict', 'hbm_used', 'dram_used'];
  for (const { op, notFound } of OPERATIONS) {
    f.push(`${op}_req`, `${op}_success`, `${op}_fail`);
    if (notFound) f.push(`${op}_not_found`);
  }
  return f;
})();

export const CT_JSON = 'application/json; charset=utf-8';
export const CT_TEXT = 'text/plain; charset=utf-8';
export const CT_METRICS = 'text/plain; version=0.0.4';
export const CT_BINARY = 'application/octet-stream';

/** Unix seconds. */
export function unixSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** The one error body of the contract, as its exact JSON text. */
export function errorBody(reason: string): string {
  return JSON.stringify({ success: false, error_message: reason, timestamp: unixSeconds() });
}

function num(stats: Stats, field: string): number {
  const v = stats[field];
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}

/** The /metrics/summary body: one line, 62 fields, no trailing newline. */
export function summaryLine(stats: Stats): string {
  const parts: string[] = [];
  for (const f of SUMMARY_FIELDS) {
    if (f === 'hbm_used' || f === 'dram_used') {
      const m = f.slice(0, f.indexOf('_'));
      parts.push(`${f}=${num(stats, `${m}_used`)}/${num(stats, `${m}_total`)}`);
    } else {
      parts.push(`${f}=${num(stats, f)}`);
    }
  }
  return parts.join(' ');
}

/** Ratios as in the contract's example: at most 10 decimals. */
export function ratio(part: number, whole: number): number {
  if (!(whole > 0)) return 0;
  return Number((part / whole).toFixed(10));
}

const W_TIME = 23;
const W_NAME = 40;
const W_COL = 15;

/** Left-aligned like C++ `std::left << std::setw(w)`: padded, never truncated. */
function cell(s: string, w: number): string {
  return s.length >= w ? s : s + ' '.repeat(w - s.length);
}

export const PTRACER_HEADER =
  cell('TIME', W_TIME) + cell('NAME', W_NAME) +
  ['BEGIN', 'GOOD_END', 'BAD_END', 'ON_FLY', 'MIN(us)', 'MAX(us)', 'AVG(us)', 'TOTAL(us)']
    .map((h) => cell(h, W_COL)).join('');

/** Local time as `YYYY-MM-DD HH:MM:SS`. */
export function localTime(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function us(v: number): string {
  return (Number.isFinite(v) ? v : 0).toFixed(3);
}

/** One ptracer row. Timings cover good ends only; with no good end they are all 0.000. */
export function ptracerRow(tp: Tracepoint, time: string): string {
  const good = tp.goodEnd;
  const onFly = Math.max(0, tp.begin - tp.goodEnd - tp.badEnd);
  const min = good > 0 ? tp.minUs : 0;
  const max = good > 0 ? tp.maxUs : 0;
  const total = good > 0 ? tp.totalUs : 0;
  const avg = good > 0 ? total / good : 0;
  return cell(time, W_TIME) + cell(tp.name, W_NAME) +
    [String(tp.begin), String(tp.goodEnd), String(tp.badEnd), String(onFly), us(min), us(max), us(avg), us(total)]
      .map((c) => cell(c, W_COL)).join('');
}

/** /metrics/ptracer: the header and one row per tracepoint that has begun at least once. */
export function ptracerTable(tps: readonly Tracepoint[], now = new Date()): string {
  const time = localTime(now);
  let out = PTRACER_HEADER + '\n';
  for (const tp of tps) if (tp.begin > 0) out += ptracerRow(tp, time) + '\n';
  return out;
}

const EMPTY_TP = (name: string): Tracepoint => ({ name, begin: 0, goodEnd: 0, badEnd: 0, minUs: 0, maxUs: 0, totalUs: 0 });

/**
 * /api/v1/analysis/alloc_free_latency: the header plus the rows of TP_MMC_META_ALLOC and
 * TP_MMC_META_REMOVE (always, zeros if they never began) and TP_MMC_META_FREE if the store has it.
 */
export function allocFreeTable(tps: readonly Tracepoint[], now = new Date()): string {
  const time = localTime(now);
  const by = new Map(tps.map((t) => [t.name, t]));
  let out = PTRACER_HEADER + '\n';
  for (const name of ['TP_MMC_META_ALLOC', 'TP_MMC_META_REMOVE']) out += ptracerRow(by.get(name) ?? EMPTY_TP(name), time) + '\n';
  const free = by.get('TP_MMC_META_FREE');
  if (free) out += ptracerRow(free, time) + '\n';
  return out;
}

export interface MetricsSource {
  stats(): Stats;
  segments(): SegmentInfo[];
}

/**
 * A prom-client registry whose metrics read the store at scrape time (collect callbacks).
 * Families in the contract's order; prom-client's default Node metrics are not registered.
 * One stats() snapshot serves a whole scrape: the first family's collect takes it (prom-client
 * calls the collects synchronously in registration order), the others reuse it.
 */
export function createMetricsRegistry(source: () => MetricsSource | undefined): Registry {
  const registry = new Registry();
  let snap: Stats | undefined;
  let segs: SegmentInfo[] = [];
  const refresh = () => {
    const s = source();
    snap = s ? s.stats() : undefined;
    segs = s ? s.segments() : [];
  };
  const value = (field: string) => (snap ? num(snap, field) : 0);
  let first = true;
  const counter = (name: string, help: string, field: string) => {
    const isFirst = first;
    first = false;
    new Counter({
      name, help, registers: [registry],
      collect() {
        if (isFirst) refresh();
        this.reset();
        this.inc(value(field));
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
  new Gauge({
    name: 'memcache_stored_keys', help: 'Total number of stored keys', registers: [registry],
    collect() { this.set(value('keys')); },
  });
  new Gauge({
    name: 'memcache_segment_capacity_bytes', help: 'Segment total capacity in bytes', labelNames: ['segment'], registers: [registry],
    collect() { this.reset(); for (const s of segs) this.set({ segment: s.id }, s.totalBytes); },
  });
  new Gauge({
    name: 'memcache_segment_allocated_bytes', help: 'Segment allocated bytes', labelNames: ['segment'], registers: [registry],
    collect() { this.reset(); for (const s of segs) this.set({ segment: s.id }, s.usedBytes); },
  });
  new Gauge({
    name: 'memcache_total_capacity_bytes', help: 'Total capacity by medium in bytes', labelNames: ['medium'], registers: [registry],
    collect() { this.set({ medium: 'hbm' }, value('hbm_total')); this.set({ medium: 'dram' }, value('dram_total')); },
  });
  new Gauge({
    name: 'memcache_allocated_bytes', help: 'Allocated bytes by medium', labelNames: ['medium'], registers: [registry],
    collect() { this.set({ medium: 'hbm' }, value('hbm_used')); this.set({ medium: 'dram' }, value('dram_used')); },
  });
  // beyond the contract: the core's metadata memory and its cap (coreMemoryLimit)
  new Gauge({
    name: 'memcache_core_metadata_bytes', help: 'Core metadata bytes used', registers: [registry],
    collect() { this.set(value('metadata_used')); },
  });
  new Gauge({
    name: 'memcache_core_metadata_limit_bytes', help: 'Core metadata bytes available in all (coreMemoryLimit)', registers: [registry],
    collect() { this.set(value('metadata_limit')); },
  });
  return registry;
}

/** The registry's text without the blank lines prom-client puts between families (as the contract's example). */
export async function metricsText(registry: Registry): Promise<string> {
  const text = await registry.metrics();
  return text.replace(/\n\n/g, '\n');
}
