/**
 * Where the meta service placed each object, by the location of each of its blobs: what a
 * lookup needs beyond the blob the core chose (the generation its grants carry, the other
 * replicas). An alloc at a location replaces what was placed there before, so nothing grows
 * past the segments' allocation units, whatever was removed or evicted meanwhile (the core
 * forgets keys without telling). The generations are a typed array per segment, one u32 per
 * allocation unit (no Map entry or object per key: a batch places 1,024 of them); objects of
 * several replicas also keep their Placed, valid while its generation is the location's.
 */
import type { Medium } from '../device/types.js';
import type { Blob } from './meta-grants.js';

/** Where an object's replicas were placed, and its generation. */
export interface Placed { key: string; gen: number; size: number; blobs: Blob[] }

/** A segment's number: numbers, not strings, since every key of a batch is placed. */
const segId = (rank: number, medium: Medium) => rank * 2 + (medium === 'hbm' ? 0 : 1);

export class Placements {
  private readonly gens = new Map<number, Uint32Array>();
  private readonly multi = new Map<number, Map<number, Placed>>();

  /** `alignment`: the core's allocation unit (every offset is a multiple of it). */
  constructor(private readonly alignment: number) {}

  /** `gen` placed at (rank, medium, offset) of a segment of `bytes`; `p` when it has several replicas. */
  set(rank: number, medium: Medium, offset: number, gen: number, bytes = 0, p?: Placed): void {
    const id = segId(rank, medium);
    const unit = Math.floor(offset / this.alignment);
    let g = this.gens.get(id);
    if (g === undefined || unit >= g.length) {
      // sized by the segment when known, else doubled (a segment registered again may be larger)
      const grown = new Uint32Array(Math.max(unit + 1, Math.ceil(bytes / this.alignment), 2 * (g?.length ?? 0)));
      if (g) grown.set(g);
      this.gens.set(id, g = grown);
    }
    g[unit] = gen;
    if (p === undefined) return;
    let m = this.multi.get(id);
    if (m === undefined) this.multi.set(id, m = new Map());
    m.set(offset, p);
  }

  /** The generation placed at a location (0: none known). */
  gen(b: Blob): number {
    return this.gens.get(segId(b.rank, b.medium))?.[Math.floor(b.offset / this.alignment)] ?? 0;
  }

  /** The Placed of the object of several replicas at a location, if it is still the one placed there. */
  placed(b: Blob): Placed | undefined {
    const p = this.multi.get(segId(b.rank, b.medium))?.get(b.offset);
    return p !== undefined && p.gen === this.gen(b) ? p : undefined;
  }

  /** A demotion copied a blob within its rank: what was placed follows it. */
  moved(from: Blob, to: Blob, same: (a: Blob, b: Blob) => boolean): void {
    const gen = this.gen(from);
    if (gen === 0) return;
    const p = this.placed(from);
    if (p === undefined) { this.set(to.rank, to.medium, to.offset, gen); return; }
    const q: Placed = { ...p, blobs: p.blobs.map((b) => (same(b, from) ? to : b)) };
    for (const b of q.blobs) this.set(b.rank, b.medium, b.offset, gen, 0, q);
  }
}
