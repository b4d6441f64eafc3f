// Fixed-size record pools in linear memory, grown a chunk at a time so that growth never copies
// records (a put must not stall) and ids stay stable. Ids are u32 and start at 1: 0 means "none".
// A free record is threaded on the pool's free list through its first 4 bytes.
import { metaAlloc, metaFree, blockNeed } from './meta';

// Pool header, at the pool's pointer:
// @ts-ignore: decorator
@inline const P_RECORD_SIZE: usize = 0;  // u32: bytes per record
// @ts-ignore: decorator
@inline const P_CHUNK_SHIFT: usize = 4;  // u32: log2(records per chunk)
// @ts-ignore: decorator
@inline const P_HIGH: usize = 8;         // u32: ids below this have been handed out at least once
// @ts-ignore: decorator
@inline const P_FREE: usize = 12;        // u32: head of the free list, 0 when empty
// @ts-ignore: decorator
@inline const P_LIVE: usize = 16;        // u32: records in use
// @ts-ignore: decorator
@inline const P_CHUNKS: usize = 20;      // usize: table of chunk pointers
// @ts-ignore: decorator
@inline const P_CHUNKS_CAP: usize = 24;  // u32: entries in that table
// @ts-ignore: decorator
@inline const POOL_HEADER: usize = 32;

export function poolCreate(recordSize: u32, chunkShift: u32): usize {
  const p = metaAlloc(POOL_HEADER);
  store<u32>(p, recordSize, P_RECORD_SIZE);
  store<u32>(p, chunkShift, P_CHUNK_SHIFT);
  store<u32>(p, 1, P_HIGH); // id 0 is never handed out
  store<u32>(p, 0, P_FREE);
  store<u32>(p, 0, P_LIVE);
  const cap: u32 = 16;
  const table = metaAlloc(<usize>cap << 2);
  memory.fill(table, 0, <usize>cap << 2);
  store<usize>(p, table, P_CHUNKS);
  store<u32>(p, cap, P_CHUNKS_CAP);
  return p;
}

/** The address of record `id`. */
// @ts-ignore: decorator
@inline export function poolAddr(p: usize, id: u32): usize {
  const shift = load<u32>(p, P_CHUNK_SHIFT);
  const chunk = load<usize>(load<usize>(p, P_CHUNKS) + (<usize>(id >>> shift) << 2));
  return chunk + <usize>(id & ((1 << shift) - 1)) * <usize>load<u32>(p, P_RECORD_SIZE);
}

/** A zeroed record; its id. */
export function poolAlloc(p: usize): u32 {
  let id = load<u32>(p, P_FREE);
  let a: usize;
  if (id) {
    a = poolAddr(p, id);
    store<u32>(p, load<u32>(a), P_FREE);
  } else {
    id = load<u32>(p, P_HIGH);
    const shift = load<u32>(p, P_CHUNK_SHIFT);
    const chunkIndex = id >>> shift;
    if ((id & ((1 << shift) - 1)) == 0 || id == 1) ensureChunk(p, chunkIndex);
    store<u32>(p, id + 1, P_HIGH);
    a = poolAddr(p, id);
  }
  // Zeroed one record at a time, fresh chunks included: filling a whole fresh chunk at once
  // faulted in all its pages inside one put (2.6 ms every 16,384 puts on this VM).
  memory.fill(a, 0, <usize>load<u32>(p, P_RECORD_SIZE));
  store<u32>(p, load<u32>(p, P_LIVE) + 1, P_LIVE);
  return id;
}

function ensureChunk(p: usize, chunkIndex: u32): void {
  let cap = load<u32>(p, P_CHUNKS_CAP);
  let table = load<usize>(p, P_CHUNKS);
  if (chunkIndex >= cap) {
    const newCap = cap << 1;
    const t = metaAlloc(<usize>newCap << 2);
    memory.copy(t, table, <usize>cap << 2);
    memory.fill(t + (<usize>cap << 2), 0, <usize>(newCap - cap) << 2);
    metaFree(table);
    table = t;
    cap = newCap;
    store<usize>(p, table, P_CHUNKS);
    store<u32>(p, cap, P_CHUNKS_CAP);
  }
  const slot = table + (<usize>chunkIndex << 2);
  if (load<usize>(slot) == 0) {
    const bytes = <usize>load<u32>(p, P_RECORD_SIZE) << load<u32>(p, P_CHUNK_SHIFT);
    store<usize>(slot, metaAlloc(bytes)); // not zeroed here: poolAlloc zeroes each record it hands out
  }
}

/** Returns a record to the pool. The caller marks it free in its own state byte first. */
export function poolFree(p: usize, id: u32): void {
  if (DEBUG) assert(id != 0 && id < load<u32>(p, P_HIGH) && load<u32>(p, P_LIVE) > 0, 'poolFree: not a live id');
  store<u32>(poolAddr(p, id), load<u32>(p, P_FREE));
  store<u32>(p, id, P_FREE);
  store<u32>(p, load<u32>(p, P_LIVE) - 1, P_LIVE);
}

/** One past the highest id ever handed out: scans run over [1, poolHigh). */
// @ts-ignore: decorator
@inline export function poolHigh(p: usize): u32 {
  return load<u32>(p, P_HIGH);
}

// @ts-ignore: decorator
@inline export function poolLive(p: usize): u32 {
  return load<u32>(p, P_LIVE);
}

/** Bytes of metadata that `n` more poolAlloc calls may allocate: fresh chunks and a larger table. */
export function poolNeed(p: usize, n: u32): u64 {
  const high = load<u32>(p, P_HIGH);
  const reusable = high - 1 - load<u32>(p, P_LIVE); // on the free list
  if (n <= reusable) return 0;
  const shift = load<u32>(p, P_CHUNK_SHIFT);
  const cap = load<u32>(p, P_CHUNKS_CAP);
  const table = load<usize>(p, P_CHUNKS);
  const last = (high + n - reusable - 1) >>> shift;
  let need: u64 = 0;
  for (let c = high >>> shift; c <= last; c++) {
    if (c >= cap || load<usize>(table + (<usize>c << 2)) == 0) need += blockNeed(<u64>load<u32>(p, P_RECORD_SIZE) << shift);
  }
  if (last >= cap) need += blockNeed(<u64>cap << 3);
  return need;
}
