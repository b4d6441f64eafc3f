/**
 * The grants of one ALLOC or LOOKUP answer (protocol/pool-control.ts's groups): the items whose
 * `slot`-th replica lies on one agent, granted together. A batch's group is one grant block (one
 * mac for all its items: protocol/grant-block.ts); a single key's replica has its own 48-byte
 * grant (protocol/grant.ts). A group keeps its items as columns, not an object per item.
 */
import type { Medium } from '../device/types.js';
import { GRANT_READ, GRANT_WRITE, signGrant } from '../protocol/grant.js';
import { signGrantColumns, type BlockColumns } from '../protocol/grant-block.js';
import type { GrantGroup } from '../protocol/pool-control.js';
import type { Registry } from './registry.js';

/** Where one replica of an object lies. */
export interface Blob { rank: number; medium: Medium; offset: number }

interface Pending extends BlockColumns {
  rank: number;
  slot: number;
  items: number[];
  keys: string[];
  media: Medium[];
  gens: number[];
  offsets: number[];
  sizes: number[];
}

export class Grants {
  private readonly by = new Map<number, Pending>();

  constructor(private readonly registry: Registry, private readonly op: typeof GRANT_WRITE | typeof GRANT_READ, private readonly batch: boolean) {}

  /** Item `i`'s replica number `slot` (its agent registered: the caller checked). */
  add(i: number, slot: number, key: string, b: Blob, gen: number, size: number): void {
    this.addAt(i, slot, key, b.rank, b.medium, b.offset, gen, size);
  }

  /** add, the replica given by its fields. */
  addAt(i: number, slot: number, key: string, rank: number, medium: Medium, offset: number, gen: number, size: number): void {
    const id = rank * 256 + slot;
    let g = this.by.get(id);
    if (g === undefined) this.by.set(id, g = { rank, slot, items: [], keys: [], media: [], gens: [], offsets: [], sizes: [] });
    g.items.push(i);
    g.keys.push(key);
    g.media.push(medium);
    g.gens.push(gen);
    g.offsets.push(offset);
    g.sizes.push(size);
  }

  /** The groups, signed with the secret of each agent's current registration. */
  groups(): GrantGroup[] {
    const out: GrantGroup[] = [];
    for (const g of this.by.values()) {
      const a = this.registry.agent(g.rank)!;
      const head = { op: this.op, rank: g.rank, incarnation: a.incarnation, view: 0 };
      // a single grant spelled out, not spread from `head`: the spread cost about 10 us per ALLOC
      // or LOOKUP of one key (measured), more than signing it
      const grant = this.batch
        ? signGrantColumns(a.secret, head, g)
        : signGrant(a.secret, { op: this.op, rank: g.rank, incarnation: a.incarnation, view: 0, medium: g.media[0], gen: g.gens[0], offset: g.offsets[0], size: g.sizes[0] }, g.keys[0]);
      out.push({ rank: g.rank, slot: g.slot, addr: a.addr, grant, items: g.items });
    }
    return out;
  }
}
