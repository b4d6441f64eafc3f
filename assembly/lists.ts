// Doubly-linked lists of records through their prev/next fields: one LRU list per medium
// (READABLE objects, most recent at the head) and one pending list (objects being written,
// zombies waiting for readers or writers, demotion shadows).
import { metaAlloc } from './meta';
import { rec, recPrev, recNext, recSetPrev, recSetNext } from './object';

export const LIST_LRU_HBM: u32 = 0;
export const LIST_LRU_DRAM: u32 = 1;
export const LIST_PENDING: u32 = 2;
// @ts-ignore: decorator
@inline const LISTS: u32 = 3;

let heads: usize = 0; // per list: u32 head, u32 tail, u32 length

export function listsInit(): void {
  heads = metaAlloc(<usize>LISTS * 12);
  memory.fill(heads, 0, <usize>LISTS * 12);
}

// @ts-ignore: decorator
@inline export function listHead(l: u32): u32 { return load<u32>(heads + <usize>l * 12); }
// @ts-ignore: decorator
@inline export function listTail(l: u32): u32 { return load<u32>(heads + <usize>l * 12, 4); }
// @ts-ignore: decorator
@inline export function listLength(l: u32): u32 { return load<u32>(heads + <usize>l * 12, 8); }

/** Puts record `id` (in no list) at the head of list `l`. */
export function listPush(l: u32, id: u32): void {
  const h = heads + <usize>l * 12;
  const head = load<u32>(h);
  const r = rec(id);
  recSetPrev(r, 0);
  recSetNext(r, head);
  if (head) recSetPrev(rec(head), id);
  else store<u32>(h, id, 4);
  store<u32>(h, id);
  store<u32>(h, load<u32>(h, 8) + 1, 8);
}

/** Takes record `id` out of list `l`. */
export function listRemove(l: u32, id: u32): void {
  const h = heads + <usize>l * 12;
  const r = rec(id);
  const prev = recPrev(r);
  const next = recNext(r);
  if (prev) recSetNext(rec(prev), next);
  else store<u32>(h, next);
  if (next) recSetPrev(rec(next), prev);
  else store<u32>(h, prev, 4);
  recSetPrev(r, 0);
  recSetNext(r, 0);
  store<u32>(h, load<u32>(h, 8) - 1, 8);
}

/** Moves record `id` (in list `l`) to the head. */
export function listTouch(l: u32, id: u32): void {
  if (listHead(l) == id) return;
  listRemove(l, id);
  listPush(l, id);
}
