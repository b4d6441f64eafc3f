/**
 * Non-overlapping ranges ordered by start offset, for an agent's blob map (agent-blobs.ts): insert,
 * remove and "what overlaps this range" in O(log n + chunk) rather than the O(n) of one sorted
 * array grown with `splice` (a segment of 4 KiB blobs holds 65,536 of them; allocations of a
 * batch land anywhere once the segment has been filled and freed). The ranges are kept in sorted
 * chunks of at most 2 x CHUNK entries, found by binary search over the chunks' first offsets.
 */

export interface Range { offset: number; size: number }

/** Entries a chunk is split at twice of: a splice within a chunk moves at most this many. */
const CHUNK = 256;

export class SpanIndex<T extends Range> {
  private chunks: T[][] = [];

  /** The chunk that holds `offset` or would: the last one whose first offset is <= it (else 0). */
  private chunkOf(offset: number): number {
    let lo = 0, hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.chunks[mid][0].offset <= offset) lo = mid + 1; else hi = mid;
    }
    return lo > 0 ? lo - 1 : 0;
  }

  /** Index within chunk `c` of the first entry whose offset is >= `offset`. */
  private static lowerBound<T extends Range>(chunk: T[], offset: number): number {
    let lo = 0, hi = chunk.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (chunk[mid].offset < offset) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  /** Adds `e` (the caller removed what overlapped it). */
  insert(e: T): void {
    if (this.chunks.length === 0) {
      this.chunks.push([e]);
      return;
    }
    const c = this.chunkOf(e.offset);
    const chunk = this.chunks[c];
    chunk.splice(SpanIndex.lowerBound(chunk, e.offset), 0, e);
    if (chunk.length > 2 * CHUNK) this.chunks.splice(c + 1, 0, chunk.splice(CHUNK));
  }

  /** The entry starting exactly at `offset`, if any. */
  startingAt(offset: number): T | undefined {
    if (this.chunks.length === 0) return undefined;
    const chunk = this.chunks[this.chunkOf(offset)];
    const e = chunk[SpanIndex.lowerBound(chunk, offset)];
    return e?.offset === offset ? e : undefined;
  }

  /** Removes the entry starting at `offset`, if any. */
  remove(offset: number): void {
    if (this.chunks.length === 0) return;
    const c = this.chunkOf(offset);
    const chunk = this.chunks[c];
    const i = SpanIndex.lowerBound(chunk, offset);
    if (chunk[i]?.offset !== offset) return;
    chunk.splice(i, 1);
    if (chunk.length === 0) this.chunks.splice(c, 1);
  }

  /** The entries overlapping [offset, offset + size), ascending (usually none or one). */
  overlapping(offset: number, size: number): T[] {
    const out: T[] = [];
    if (this.chunks.length === 0) return out;
    const end = offset + size;
    let c = this.chunkOf(offset);
    let i = SpanIndex.lowerBound(this.chunks[c], offset);
    // the entry before may reach into the range
    const prev = i > 0 ? this.chunks[c][i - 1] : c > 0 ? this.chunks[c - 1][this.chunks[c - 1].length - 1] : undefined;
    if (prev !== undefined && prev.offset + prev.size > offset) out.push(prev);
    for (; c < this.chunks.length; c++, i = 0) {
      const chunk = this.chunks[c];
      for (; i < chunk.length; i++) {
        if (chunk[i].offset >= end) return out;
        out.push(chunk[i]);
      }
    }
    return out;
  }

  clear(): void {
    this.chunks = [];
  }
}
