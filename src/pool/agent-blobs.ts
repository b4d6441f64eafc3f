/**
 * An agent's blob map of one segment: which key lies at which range, with its generation. An entry
 * is recorded before a write is acknowledged (so the index can be rebuilt from the agents: the HA
 * issue), checked by every read (a grant for a range that no longer holds its key reads absent),
 * and dropped when a newer write's range overlaps it (the meta service granted that range again,
 * so it was freed) or when the agent is told the range was freed.
 */

export interface BlobEntry { key: string; offset: number; size: number; gen: number }

export class SegmentBlobs {
  private readonly byKey = new Map<string, BlobEntry>();
  private readonly at = new Map<number, BlobEntry>();
  /** Start offsets, ascending (binary searched for overlaps). */
  private readonly starts: number[] = [];

  get count(): number {
    return this.byKey.size;
  }

  find(key: string): BlobEntry | undefined {
    return this.byKey.get(key);
  }

  /** The entry starting exactly at `offset`. */
  startingAt(offset: number): BlobEntry | undefined {
    return this.at.get(offset);
  }

  /** Index of the first start >= offset. */
  private lowerBound(offset: number): number {
    let lo = 0, hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.starts[mid] < offset) lo = mid + 1; else hi = mid;
    }
    return lo;
  }

  /** Drops every entry overlapping [offset, offset + size). */
  free(offset: number, size: number): void {
    let i = this.lowerBound(offset);
    if (i > 0) {
      const prev = this.at.get(this.starts[i - 1])!;
      if (prev.offset + prev.size > offset) i--;
    }
    let j = i;
    while (j < this.starts.length && this.starts[j] < offset + size) {
      const e = this.at.get(this.starts[j])!;
      this.at.delete(e.offset);
      if (this.byKey.get(e.key) === e) this.byKey.delete(e.key);
      j++;
    }
    if (j > i) this.starts.splice(i, j - i);
  }

  /** Records `key` at its range, replacing what overlapped it and the key's entry elsewhere. */
  record(e: BlobEntry): void {
    const old = this.byKey.get(e.key);
    if (old) this.free(old.offset, old.size);
    this.free(e.offset, e.size);
    this.starts.splice(this.lowerBound(e.offset), 0, e.offset);
    this.at.set(e.offset, e);
    this.byKey.set(e.key, e);
  }

  clear(): void {
    this.byKey.clear();
    this.at.clear();
    this.starts.length = 0;
  }
}
