/** Segment ids ('rank-1-dram'): how a segment is named in the store, on the wire and in metrics. */
import type { Medium } from '../device/types.js';

export function segmentId(rank: number, medium: Medium): string {
  return `rank-${rank}-${medium}`;
}

const SEGMENT_ID = /^rank-(0|[1-9][0-9]{0,4})-(hbm|dram)$/;

/** The rank (0..65535) and medium a segment id names, or undefined for what is not one. */
export function parseSegmentId(id: string): { rank: number; medium: Medium } | undefined {
  const m = SEGMENT_ID.exec(id);
  if (m === null || Number(m[1]) > 65535) return undefined;
  return { rank: Number(m[1]), medium: m[2] as Medium };
}
