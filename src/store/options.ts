/**
 * The store's settings from MemCacheOptions and an `ock.mmc.*` conf file: every default in one
 * place. MemCache.open resolves its options here and `mmc serve` (planServe) builds its segments
 * and watermarks here, so the embedded store and the server cannot disagree.
 */
import { loadConf, parseSize, type ConfConfig, type ConfResult } from '../config.js';
import type { MemCacheOptions, SegmentSpec } from './types.js';
import { invalid, positiveInt, checkThresholds, normalizeSegment, type NormalizedSegment } from './validate.js';

export const DEFAULT_EVICT_THRESHOLD_HIGH = 90;
export const DEFAULT_EVICT_THRESHOLD_LOW = 80;
export const DEFAULT_ALIGNMENT = 4096;
export const DEFAULT_LEASE_MS = 2000;
export const DEFAULT_ALLOC_TIMEOUT_MS = 30000;
/** The size of each default segment (HBM and DRAM, per rank) when the conf file sets none. */
export const DEFAULT_SEGMENT_BYTES = 1 << 30;
/** coreMemoryLimit: at least this much, at most the 4 GiB of wasm32 (the core keeps a margin). */
const MIN_CORE_MEMORY = 1 << 20;
const MAX_CORE_MEMORY = 2 ** 32;

/** What MemCache.open runs with. */
export interface StoreSettings {
  high: number;
  low: number;
  alignment: number;
  leaseMs: number;
  allocTimeoutMs: number;
  /** The core's metadata cap in bytes; 0 for the core's default. */
  metaLimit: number;
  /** The core's memory touched whole at open and at each growth (MemCacheOptions.corePopulate). */
  corePopulate: boolean;
  /** The segments to mount at open, checked (each once). */
  segments: NormalizedSegment[];
  /** Warnings from the conf file (unknown keys). */
  warnings: string[];
}

/** The conf file of `options.config`, or none. */
export function optionsConf(options: MemCacheOptions): ConfResult {
  return options.config !== undefined ? loadConf(options.config) : { config: {}, warnings: [] };
}

/** The eviction watermarks: the options', else the conf file's, else 90 / 80 (not yet checked). */
export function thresholds(options: MemCacheOptions, c: ConfConfig): { high: number; low: number } {
  return {
    high: options.evictThresholdHigh ?? c.evictThresholdHigh ?? DEFAULT_EVICT_THRESHOLD_HIGH,
    low: options.evictThresholdLow ?? c.evictThresholdLow ?? DEFAULT_EVICT_THRESHOLD_LOW,
  };
}

/**
 * The default segments: worldSize ranks (1) of hbmSize and dramSize bytes (1 GiB each; 0 for
 * none), HBM first, then DRAM, each by rank: the order segments() lists them in.
 */
export function confSegments(c: Pick<ConfConfig, 'worldSize' | 'hbmSize' | 'dramSize'>): SegmentSpec[] {
  const ranks = c.worldSize ?? 1;
  const specs: SegmentSpec[] = [];
  for (const [medium, bytes] of [['hbm', c.hbmSize ?? DEFAULT_SEGMENT_BYTES], ['dram', c.dramSize ?? DEFAULT_SEGMENT_BYTES]] as const) {
    if (bytes > 0) for (let rank = 0; rank < ranks; rank++) specs.push({ rank, medium, bytes });
  }
  return specs;
}

function checkAlignment(alignment: unknown): number {
  if (!Number.isInteger(alignment) || (alignment as number) < 64 || (alignment as number) > 2 ** 30 || ((alignment as number) & ((alignment as number) - 1)) !== 0) {
    throw invalid(`alignment must be a power of two from 64 to 2^30, got ${String(alignment)}`);
  }
  return alignment as number;
}

function coreMemoryLimit(v: MemCacheOptions['coreMemoryLimit']): number {
  if (v === undefined) return 0; // the core's default
  let limit: number;
  try {
    limit = parseSize(v);
  } catch {
    limit = NaN;
  }
  if (!(limit >= MIN_CORE_MEMORY && limit <= MAX_CORE_MEMORY)) throw invalid(`coreMemoryLimit must be 1MB..4GB, got ${String(v)}`);
  return limit;
}

function segmentsOf(options: MemCacheOptions, c: ConfConfig, alignment: number): NormalizedSegment[] {
  let specs: SegmentSpec[];
  if (options.segments !== undefined) {
    if (!Array.isArray(options.segments)) throw invalid('segments must be an array');
    specs = options.segments;
  } else {
    specs = confSegments(c);
  }
  const normalized = specs.map((s) => normalizeSegment(s, alignment));
  const seen = new Set<string>();
  for (const s of normalized) {
    if (seen.has(s.id)) throw invalid(`segment ${s.id} is given twice`);
    seen.add(s.id);
  }
  return normalized;
}

/** MemCacheOptions (and their conf file) → checked settings; MmcError naming the bad option. */
export function resolveOptions(options: MemCacheOptions = {}): StoreSettings {
  if (options === null || typeof options !== 'object') throw invalid('options must be an object');
  const conf = optionsConf(options);
  const c = conf.config;
  const { high, low } = thresholds(options, c);
  checkThresholds(high, low);
  const alignment = checkAlignment(options.alignment ?? DEFAULT_ALIGNMENT);
  const leaseMs = positiveInt(options.leaseMs ?? DEFAULT_LEASE_MS, 'leaseMs');
  const allocTimeoutMs = positiveInt(options.allocTimeoutMs ?? DEFAULT_ALLOC_TIMEOUT_MS, 'allocTimeoutMs');
  const metaLimit = coreMemoryLimit(options.coreMemoryLimit);
  const corePopulate = options.corePopulate ?? false;
  if (typeof corePopulate !== 'boolean') throw invalid(`corePopulate must be true or false, got ${String(options.corePopulate)}`);
  return { high, low, alignment, leaseMs, allocTimeoutMs, metaLimit, corePopulate, segments: segmentsOf(options, c, alignment), warnings: conf.warnings };
}
