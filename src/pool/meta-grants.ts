/**
 * The grants of one ALLOC or LOOKUP answer (protocol/pool-control.ts's groups): the items whose
 * `slot`-th replica lies on one agent, granted together. A batch's group is one grant block (one
 * mac for all its items: protocol/grant-block.ts); a single key's replica has its own 48-byte
 * grant (protocol/grant.ts).
 */
import type { Medium } from '../device/types.js';
import { GRANT_READ, GRANT_WRITE, signGrant } from '../protocol/grant.js';
import { signGrantBlock, type BlockItem } from '../protocol/grant-block.js';
import type { GrantGroup } from '../protocol/pool-control.js';
import type { Registry } from './registry.js';

/** Where one replica of an object lies. */
export interface Blob { rank: number; medium: Medium; offset: number }

interface Pending { rank: number; slot: number; items: number[]; grants: BlockItem[] }

export class Grants {
  private readonly by = new Map<number, Pending>();

  constructor(private readonly registry: Registry, private readonly op: typeof GRANT_WRITE | typeof GRANT_READ, private readonly batch: boolean) {}

  /** Item `i`'s replica number `slot` (its agent registered: the caller checked). */
  add(i: number, slot: number, key: string, b: Blob, gen: number, size: number): void {
    const id = b.rank * 256 + slot;
    let g = this.by.get(id);
    if (g === undefined) this.by.set(id, g = { rank: b.rank, slot, items: [], grants: [] });
    g.items.push(i);
    g.grants.push({ key, medium: b.medium, gen, offset: b.offset, size });
  }

  /** The groups, signed with the secret of each agent's current registration. */
  groups(): GrantGroup[] {
    const out: GrantGroup[] = [];
    for (const g of this.by.values()) {
      const a = this.registry.agent(g.rank)!;
      const head = { op: this.op, rank: g.rank, incarnation: a.incarnation, view: 0 };
      const one = g.grants[0];
      // a single grant spelled out, not spread from `head` and the item: the spread cost about 10 us
      // per ALLOC or LOOKUP of one key (measured), more than signing it
      const grant = this.batch
        ? signGrantBlock(a.secret, { ...head, items: g.grants })
        : signGrant(a.secret, { op: this.op, rank: g.rank, incarnation: a.incarnation, view: 0, medium: one.medium, gen: one.gen, offset: one.offset, size: one.size }, one.key);
      out.push({ rank: g.rank, slot: g.slot, addr: a.addr, grant, items: g.items });
    }
    return out;
  }
}
