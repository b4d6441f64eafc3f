/** Checks of the store's inputs: each refusal is an MmcError with MMC_INVALID_PARAM and a reason. */
import { MMC, MmcError, codeName, invalid } from '../errors.js';
import type { Medium } from '../device/types.js';
import { parseSize } from '../config.js';
import { segmentId } from '../protocol/segment.js';
import type { SegmentSpec } from './types.js';

export const MEDIA: readonly Medium[] = ['hbm', 'dram'];
export const MEDIUM_NAMES = ['HBM', 'DRAM'] as const;

export { invalid };

/** The MMC code of anything thrown. */
export function errorCode(err: unknown): number {
  return err instanceof MmcError ? err.code : MMC.MMC_ERROR;
}

export function checkReplicas(r: unknown): number {
  if (r === undefined) return 1;
  if (!Number.isInteger(r) || (r as number) < 1 || (r as number) > 8) throw invalid(`replicas must be 1..8, got ${String(r)}`);
  return r as number;
}

export function checkRank(r: unknown): number {
  if (r === undefined) return 0;
  if (!Number.isInteger(r) || (r as number) < 0) throw invalid(`preferredRank must be a rank number, got ${String(r)}`);
  return r as number;
}

export function positiveInt(v: unknown, name: string): number {
  if (!Number.isInteger(v) || (v as number) <= 0 || (v as number) > 0xffffffff / 2) throw invalid(`${name} must be a positive integer of ms`);
  return v as number;
}

export function checkThresholds(high: unknown, low: unknown): void {
  const ok = (t: unknown) => Number.isInteger(t) && (t as number) >= 1 && (t as number) <= 99;
  if (!ok(high)) throw invalid(`evictThresholdHigh must be an integer 1..99, got ${String(high)}`);
  if (!ok(low)) throw invalid(`evictThresholdLow must be an integer 1..99, got ${String(low)}`);
  if ((low as number) >= (high as number)) throw invalid(`evictThresholdLow (${String(low)}) must be below evictThresholdHigh (${String(high)})`);
}

/** -1 for any medium, else 0 (HBM) or 1 (DRAM). */
export function parseMedium(m: unknown): number {
  if (m === undefined) return -1;
  if (typeof m === 'string') {
    const i = MEDIA.indexOf(m.toLowerCase() as Medium);
    if (i >= 0) return i;
  }
  throw invalid(`unknown medium '${String(m)}' (hbm or dram)`);
}

/** A checked segment spec: its id ('rank-1-dram'), rank, medium index and size in bytes. */
export interface NormalizedSegment {
  id: string;
  rank: number;
  medium: number;
  bytes: number;
}

export function normalizeSegment(s: SegmentSpec, alignment: number): NormalizedSegment {
  if (s === null || typeof s !== 'object') throw invalid('a segment must be { rank, medium, bytes }');
  if (!Number.isInteger(s.rank) || s.rank < 0 || s.rank > 65535) throw invalid(`segment rank must be an integer 0..65535, got ${String(s.rank)}`);
  const medium = parseMedium(s.medium);
  if (medium < 0) throw invalid('a segment needs a medium (hbm or dram)');
  const bytes = parseSize(s.bytes);
  if (bytes < alignment) throw invalid(`segment of ${bytes} bytes is smaller than the alignment (${alignment})`);
  if (bytes > 2 ** 40) throw invalid(`segment of ${bytes} bytes is over 1 TiB`);
  return { id: segmentId(s.rank, MEDIA[medium]), rank: s.rank, medium, bytes };
}

export function checkKeys(keys: unknown): void {
  if (!Array.isArray(keys)) throw invalid('keys must be an array of strings');
}

export function allocMessage(code: number, key: string, size: number, metadata: boolean): string {
  switch (code) {
    case MMC.MMC_DUPLICATED_OBJECT: return 'key already exists';
    case MMC.MMC_NOT_ENOUGH_MEMORY:
      return metadata
        ? `no metadata memory left in the core for '${key}' (coreMemoryLimit): remove objects to make room`
        : `no room for ${size} bytes of '${key}'`;
    case MMC.MMC_INVALID_PARAM: return 'replicas above the ranks available, or no segment for the medium';
    default: return `alloc failed (${codeName(code)})`;
  }
}

/** The message of a get refused by the core. */
export function getMessage(code: number, key: string): string {
  switch (code) {
    case MMC.MMC_OBJECT_NOT_EXISTS: return `'${key}' is being written and not readable yet`;
    case MMC.MMC_EXCEED_CAPACITY: return `'${key}' has as many readers as a lease count holds (16383 a replica); retry when some are done`;
    case MMC.MMC_TIMEOUT: return `the read of '${key}' lost its lease (it outlived leaseMs, or its segment was unmounted): its bytes may be another object's`;
    default: return `get of '${key}' failed`;
  }
}
