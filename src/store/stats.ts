/** The core's stats block decoded into the /metrics/summary fields, medium usage and tracepoints. */
import { MEDIUM_HBM, MEDIUM_DRAM, OPS, OPS_WITH_NOT_FOUND, TRACEPOINTS, type Core } from './core.js';
import type { Stats, Tracepoint } from './types.js';

/** Counters of each op in the block: req, success, fail, not_found. */
const OP_STRIDE = 4;
/** Accumulators of each tracepoint: begin, goodEnd, badEnd, minUs, maxUs, totalUs. */
const TRACEPOINT_STRIDE = 6;

/** The counters, named as the /metrics/summary fields, plus medium usage and the tracepoints. */
export function readStats(core: Core): Stats {
  const x = core.x;
  const block = core.statsBlock();
  const s: Record<string, number | Tracepoint[]> = {
    keys: x.stored_keys(),
    evict: block[OPS.length * OP_STRIDE],
    hbm_used: x.medium_used(MEDIUM_HBM),
    hbm_total: x.medium_total(MEDIUM_HBM),
    dram_used: x.medium_used(MEDIUM_DRAM),
    dram_total: x.medium_total(MEDIUM_DRAM),
    metadata_used: x.metadata_bytes(),
    metadata_limit: x.metadata_limit(),
  };
  OPS.forEach((op, i) => {
    const b = i * OP_STRIDE;
    s[`${op}_req`] = block[b];
    s[`${op}_success`] = block[b + 1];
    s[`${op}_fail`] = block[b + 2];
    if (OPS_WITH_NOT_FOUND.has(op)) s[`${op}_not_found`] = block[b + 3];
  });
  s.tracepoints = readTracepoints(block, OPS.length * OP_STRIDE + 1);
  return s as Stats;
}

function readTracepoints(block: Float64Array, base: number): Tracepoint[] {
  return TRACEPOINTS.map((name, i) => {
    const b = base + i * TRACEPOINT_STRIDE;
    return { name, begin: block[b], goodEnd: block[b + 1], badEnd: block[b + 2], minUs: block[b + 3], maxUs: block[b + 4], totalUs: block[b + 5] };
  });
}
