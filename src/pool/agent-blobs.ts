/**
 * An agent's blob map of one segment: which key lies at which range, with its generation, and
 * which ranges were freed at which generation. An entry is recorded before a write is acknowledged
 * (so the index can be rebuilt from the agents: the HA issue) and checked by every read (a grant
 * for a range that no longer holds its key reads absent). A range the meta service freed (FREE,
 * src/protocol/pool-free.ts) keeps a freed span with the generation it was freed at: a write
 * granted for that generation or an older one over any part of it is refused (its grant was for
 * an allocation that is gone; the range may belong to another key by now). A newer write's range
 * replaces what it overlaps; what sticks out of it stays, as a freed span.
 */

import { SpanIndex } from './span-index.js';

export interface BlobEntry { key: string; offset: number; size: number; gen: number }
/** An entry, or a freed span (no key). */
interface Span { key: string | undefined; offset: number; size: number; gen: number }

export class SegmentBlobs {
  private readonly byKey = new Map<string, Span>();
  /** The spans by start offset (searched for overlaps); spans never overlap. */
  private readonly spans = new SpanIndex<Span>();

  /** Keys recorded (freed spans are not counted). */
  get count(): number {
    return this.byKey.size;
  }

  /**
   * The entry of `key`. It is the map's own object, not a copy: a later record or freed may change
   * it in place (set()), so read what is needed of it before changing the map.
   */
  find(key: string): BlobEntry | undefined {
    return this.byKey.get(key) as BlobEntry | undefined;
  }

  /** The entry starting exactly at `offset` (not a freed span); the map's own object, as find's. */
  startingAt(offset: number): BlobEntry | undefined {
    const e = this.spans.startingAt(offset);
    return e?.key === undefined ? undefined : e as BlobEntry;
  }

  /**
   * True if a write granted at generation `gen` over the range must be refused: part of it was
   * freed at `gen` or later, or holds an object newer than `gen`.
   */
  fenced(offset: number, size: number, gen: number): boolean {
    for (const e of this.spans.overlapping(offset, size)) {
      if (e.key === undefined ? e.gen >= gen : e.gen > gen) return true;
    }
    return false;
  }

  private insert(e: Span): void {
    this.spans.insert(e);
    if (e.key !== undefined) this.byKey.set(e.key, e);
  }

  /** Drops what overlaps the range; the parts of spans sticking out of it stay, as freed spans. */
  private cut(offset: number, size: number): void {
    const hit = this.spans.overlapping(offset, size);
    if (hit.length === 0) return;
    for (const e of hit) {
      this.spans.remove(e.offset);
      if (e.key !== undefined && this.byKey.get(e.key) === e) this.byKey.delete(e.key);
    }
    const first = hit[0];
    const last = hit[hit.length - 1];
    const end = offset + size;
    if (first.offset < offset) this.insert({ key: undefined, offset: first.offset, size: offset - first.offset, gen: first.gen });
    if (last.offset + last.size > end) this.insert({ key: undefined, offset: end, size: last.offset + last.size - end, gen: last.gen });
  }

  /**
   * Sets what the range holds: `key` (undefined: freed) at `gen`. What overlapped it goes; the
   * parts sticking out stay, as freed spans. A span over exactly the same range (the common case:
   * a freed range given out again at its size, an entry freed) is changed in place: no search for
   * overlaps, no splice, no garbage.
   */
  private set(key: string | undefined, offset: number, size: number, gen: number): void {
    const same = this.spans.startingAt(offset);
    if (same !== undefined && same.size === size) {
      if (same.key !== undefined && this.byKey.get(same.key) === same) this.byKey.delete(same.key);
      same.key = key;
      same.gen = gen;
      if (key !== undefined) this.byKey.set(key, same);
      return;
    }
    this.cut(offset, size);
    this.insert({ key, offset, size, gen });
  }

  /** The range was freed at generation `gen`: what it held goes, a freed span stays. */
  freed(offset: number, size: number, gen: number): void {
    this.set(undefined, offset, size, gen);
  }

  /** Records `key` at its range, replacing what overlapped it; the key's entry elsewhere becomes a freed span. */
  record(e: BlobEntry): void {
    const old = this.byKey.get(e.key);
    if (old) this.freed(old.offset, old.size, old.gen);
    this.set(e.key, e.offset, e.size, e.gen);
  }

  clear(): void {
    this.byKey.clear();
    this.spans.clear();
  }
}
