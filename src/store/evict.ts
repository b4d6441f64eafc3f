/**
 * Eviction as the store drives it: the core picks each victim (evict_next); an HBM victim that
 * DRAM has room for is copied there through the backend first (a demotion), else removed.
 */
import { DEMOTE } from './core.js';
import type { StoreState } from './state.js';

/**
 * Evicts on medium m: one victim, or (toLow) down to the low watermark. HBM victims are copied
 * to DRAM when it has room. True if anything was evicted.
 */
export async function evict(s: StoreState, m: number, toLow: boolean): Promise<boolean> {
  const x = s.core.x;
  let any = false;
  do {
    const code = x.evict_next(m);
    if (code === 0) break;
    any = true;
    if (code === DEMOTE) await demote(s);
  } while (toLow && x.over_low(m));
  return any;
}

/** Copies the victim of a DEMOTE (its pairs in OUT) and ends the demotion in the core. */
async function demote(s: StoreState): Promise<void> {
  const out = s.core.out;
  const id = out[0], gen = out[1], shadow = out[2], pairs = out[3], size = out[4], t0 = out[5];
  // copied out: OUT serves other calls while the copies are awaited
  const copies: number[] = [];
  for (let i = 0; i < pairs * 4; i++) copies.push(out[8 + i]);
  let ok = 1;
  try {
    for (let i = 0; i < copies.length; i += 4) {
      const r = s.backend.copy(s.bySlot[copies[i]]!.device, copies[i + 1], s.bySlot[copies[i + 2]]!.device, copies[i + 3], size);
      if (r) await r;
    }
  } catch {
    ok = 0; // the object is evicted by removal instead
  }
  s.core.x.demote_end(id, gen, shadow, ok, t0);
}
