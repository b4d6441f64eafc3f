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

// List header, one per list:
// @ts-ignore: decorator
@inline const L_HEAD: usize = 0;    // u32: first record id, 0 when empty
// @ts-ignore: decorator
@inline const L_TAIL: usize = 4;    // u32: last record id
// @ts-ignore: decorator
@inline const L_LENGTH: usize = 8;  // u32: records in the list
// @ts-ignore: decorator
@inline const LIST_HEADER_SIZE: usize = 12;

let heads: usize = 0;

export function listsInit(): void {
  heads = metaAlloc(<usize>LISTS * LIST_HEADER_SIZE);
  memory.fill(heads, 0, <usize>LISTS * LIST_HEADER_SIZE);
}

// @ts-ignore: decorator
@inline function header(l: u32): usize {
  if (DEBUG) assert(l < LISTS, 'no such list');
  return heads + <usize>l * LIST_HEADER_SIZE;
}
// @ts-ignore: decorator
@inline export function listHead(l: u32): u32 { return load<u32>(header(l), L_HEAD); }
// @ts-ignore: decorator
@inline export function listTail(l: u32): u32 { return load<u32>(header(l), L_TAIL); }
// @ts-ignore: decorator
@inline export function listLength(l: u32): u32 { return load<u32>(header(l), L_LENGTH); }

/** Puts record `id` (in no list) at the head of list `l`. */
export function listPush(l: u32, id: u32): void {
  const h = header(l);
  const head = load<u32>(h, L_HEAD);
  const r = rec(id);
  if (DEBUG) assert(head != id && recPrev(r) == 0 && recNext(r) == 0, 'listPush: the record is in a list');
  recSetPrev(r, 0);
  recSetNext(r, head);
  if (head) recSetPrev(rec(head), id);
  else store<u32>(h, id, L_TAIL);
  store<u32>(h, id, L_HEAD);
  store<u32>(h, load<u32>(h, L_LENGTH) + 1, L_LENGTH);
}

/** Takes record `id` out of list `l`. */
export function listRemove(l: u32, id: u32): void {
  const h = header(l);
  const r = rec(id);
  const prev = recPrev(r);
  const next = recNext(r);
  if (DEBUG) {
    assert(load<u32>(h, L_LENGTH) > 0, 'listRemove: the list is empty');
    assert(prev ? recNext(rec(prev)) == id : load<u32>(h, L_HEAD) == id, 'listRemove: the record is not in this list');
    assert(next ? recPrev(rec(next)) == id : load<u32>(h, L_TAIL) == id, 'listRemove: the record is not in this list');
  }
  if (prev) recSetNext(rec(prev), next);
  else store<u32>(h, next, L_HEAD);
  if (next) recSetPrev(rec(next), prev);
  else store<u32>(h, prev, L_TAIL);
  recSetPrev(r, 0);
  recSetNext(r, 0);
  store<u32>(h, load<u32>(h, L_LENGTH) - 1, L_LENGTH);
}

/** Moves record `id` (in list `l`) to the head. */
export function listTouch(l: u32, id: u32): void {
  if (listHead(l) == id) return;
  listRemove(l, id);
  listPush(l, id);
}
