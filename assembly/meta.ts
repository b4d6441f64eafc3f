// Metadata memory: every heap block of the core is allocated and freed here and counted against
// a cap (the store's coreMemoryLimit). heap.alloc traps when linear memory cannot grow (the TLSF
// runtime calls unreachable), so an operation that may grow metadata asks metaRoom(need) with
// an upper bound of what it will allocate, before it changes anything, and answers
// MMC_NOT_ENOUGH_MEMORY when the answer is no.
//
// The count is exact: TLSF keeps each block's size in the word before it (mmInfo: size | tags).

// @ts-ignore: decorator
@inline const BLOCK_HEADER: usize = 4;   // TLSF's mmInfo word
// @ts-ignore: decorator
@inline const BLOCK_TAGS: usize = 3;     // FREE | LEFTFREE bits of mmInfo
// @ts-ignore: decorator
@inline const BLOCK_ALIGN: usize = 15;   // payloads in 16-byte steps
// @ts-ignore: decorator
@inline const BLOCK_MIN: u64 = 16;
// @ts-ignore: decorator
@inline const PAGE_BITS: u64 = 16;
// @ts-ignore: decorator
@inline const MAX_PAGES: u64 = 65536;    // asconfig maximumMemory: 4 GiB, all wasm32 allows
// Each allocation that finds no free block grows memory by its size rounded to pages (TLSF may
// round a large request up by 1/16 first): GROW_SLACK covers the rounding of the few
// allocations one operation makes.
// @ts-ignore: decorator
@inline const GROW_SLACK: u64 = 2 << 20;
/** Free space assumed lost to fragmentation once memory cannot grow any more. */
// @ts-ignore: decorator
@inline const FRAGMENTATION_MARGIN: u64 = 256 << 20;
/** The default cap: all of wasm32's 4 GiB less the fragmentation margin. */
// @ts-ignore: decorator
@inline export const META_DEFAULT_LIMIT: u64 = (MAX_PAGES << PAGE_BITS) - FRAGMENTATION_MARGIN;

let used: u64 = 0;
let limit: u64 = META_DEFAULT_LIMIT;

/** Sets the cap, bytes (0: the default). */
export function metaSetLimit(bytes: u64): void {
  limit = bytes == 0 || bytes > META_DEFAULT_LIMIT ? META_DEFAULT_LIMIT : bytes;
}

/** Bytes of heap blocks the core holds, headers included. */
// @ts-ignore: decorator
@inline export function metaUsed(): u64 { return used; }
// @ts-ignore: decorator
@inline export function metaLimit(): u64 { return limit; }

// @ts-ignore: decorator
@inline function blockBytes(p: usize): u64 {
  return <u64>((load<usize>(p - BLOCK_HEADER) & ~BLOCK_TAGS) + BLOCK_HEADER);
}

/** What a heap block for `size` bytes takes, at most. */
// @ts-ignore: decorator
@inline export function blockNeed(size: u64): u64 {
  return max<u64>(BLOCK_MIN, (size + <u64>BLOCK_HEADER + <u64>BLOCK_ALIGN) & ~<u64>BLOCK_ALIGN);
}

/**
 * True when `need` more bytes of metadata fit under the cap, and either linear memory can still
 * grow by as much should the runtime find no free block that fits, or (memory near its maximum:
 * the runtime grows it by doubling) the runtime has that much free inside it beyond the
 * fragmentation margin.
 */
export function metaRoom(need: u64): bool {
  if (used + need > limit) return false;
  const memBytes = <u64>memory.size() << PAGE_BITS;
  if (memBytes + need + (need >> 3) + GROW_SLACK <= MAX_PAGES << PAGE_BITS) return true;
  return used + need + FRAGMENTATION_MARGIN <= memBytes;
}

export function metaAlloc(size: usize): usize {
  const p = heap.alloc(size);
  used += blockBytes(p);
  return p;
}

export function metaRealloc(p: usize, size: usize): usize {
  used -= blockBytes(p);
  const q = heap.realloc(p, size);
  used += blockBytes(q);
  return q;
}

export function metaFree(p: usize): void {
  used -= blockBytes(p);
  heap.free(p);
}
