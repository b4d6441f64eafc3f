/**
 * Contract formatting shared by the REST endpoints: the error body, the /metrics/summary line and
 * the ptracer table (the /metrics registry is metrics.ts).
 */
import type { Stats, Tracepoint } from '../store/types.js';

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

/** A numeric field of stats(), 0 when absent or not a finite number. */
export function num(stats: Stats, field: string): number {
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
