// Object records and blob records: the metadata of every stored key, in two pools.
//
// Record (40 bytes)                       Blob (16 bytes): one replica of an object
//   0 u32 keyPtr   (heap block of key)      0 u32 node    (allocator node in its segment)
//   4 u16 keyLen                            4 u16 seg     (segment slot)
//   6 u8  numBlobs                          6 u16 state (bits 0..1, BLOB_*) | leases << 2
//   7 u8  state    (REC_*; 0 = free)              (readers holding it, at most MAX_LEASES)
//   8 u64 size     (exact value length)     8 u32 next    (next blob of the same record)
//  16 u32 prot                             12 u32 expiry  (ms clock: lease end or commit deadline)
//  20 u32 prev     (LRU or pending list)
//  24 u32 next
//  28 u32 firstBlob
//  32 u32 gen      (bumped when the id is reused: handles name a record by id + gen)
//  36 u8  medium, 37 u8 flags
//  38 u16 pins     (writes in flight: their blobs are not freed until the last one ends)
import { poolCreate, poolAddr } from './pool';

export const REC_FREE: u8 = 0;
export const REC_ALLOCATED: u8 = 1; // in the index, being written, invisible to get
export const REC_READABLE: u8 = 2;  // in the index and in its medium's LRU list
export const REC_ZOMBIE: u8 = 3;    // out of the index; blobs wait for readers or the writer
export const REC_SHADOW: u8 = 4;    // no key: holds the target blobs of a demotion in flight

export const FLAG_MOVING: u8 = 1;   // a demotion of this object is in flight

export const BLOB_FREE: u8 = 0;
export const BLOB_ALLOCATED: u8 = 1;
export const BLOB_READABLE: u8 = 2;
export const BLOB_REMOVING: u8 = 3;

/** Readers one blob can hold at once (14 bits); a get beyond is refused, never wrapped. */
// @ts-ignore: decorator
@inline export const MAX_LEASES: u32 = 0x3FFF;
/** Writes in flight on one record (16 bits). */
// @ts-ignore: decorator
@inline export const MAX_PINS: u32 = 0xFFFF;
// @ts-ignore: decorator
@inline const BLOB_STATE_MASK: u16 = 3;

// @ts-ignore: decorator
@inline export const RECORD_SIZE: u32 = 40;
// @ts-ignore: decorator
@inline export const BLOB_SIZE: u32 = 16;

export let records: usize = 0;
export let blobs: usize = 0;

export function objectPoolsInit(): void {
  records = poolCreate(RECORD_SIZE, 14);
  blobs = poolCreate(BLOB_SIZE, 14);
}

// @ts-ignore: decorator
@inline export function rec(id: u32): usize { return poolAddr(records, id); }
// @ts-ignore: decorator
@inline export function blob(id: u32): usize { return poolAddr(blobs, id); }

// Record fields
// @ts-ignore: decorator
@inline export function recKeyPtr(r: usize): usize { return <usize>load<u32>(r, 0); }
// @ts-ignore: decorator
@inline export function recKeyLen(r: usize): u32 { return <u32>load<u16>(r, 4); }
// @ts-ignore: decorator
@inline export function recNumBlobs(r: usize): u32 { return <u32>load<u8>(r, 6); }
// @ts-ignore: decorator
@inline export function recSetNumBlobs(r: usize, n: u32): void { store<u8>(r, <u8>n, 6); }
// @ts-ignore: decorator
@inline export function recState(r: usize): u8 { return load<u8>(r, 7); }
// @ts-ignore: decorator
@inline export function recSetState(r: usize, s: u8): void { store<u8>(r, s, 7); }
// @ts-ignore: decorator
@inline export function recSize(r: usize): u64 { return load<u64>(r, 8); }
// @ts-ignore: decorator
@inline export function recProt(r: usize): u32 { return load<u32>(r, 16); }
// @ts-ignore: decorator
@inline export function recPrev(r: usize): u32 { return load<u32>(r, 20); }
// @ts-ignore: decorator
@inline export function recSetPrev(r: usize, v: u32): void { store<u32>(r, v, 20); }
// @ts-ignore: decorator
@inline export function recNext(r: usize): u32 { return load<u32>(r, 24); }
// @ts-ignore: decorator
@inline export function recSetNext(r: usize, v: u32): void { store<u32>(r, v, 24); }
// @ts-ignore: decorator
@inline export function recFirstBlob(r: usize): u32 { return load<u32>(r, 28); }
// @ts-ignore: decorator
@inline export function recSetFirstBlob(r: usize, v: u32): void { store<u32>(r, v, 28); }
// @ts-ignore: decorator
@inline export function recGen(r: usize): u32 { return load<u32>(r, 32); }
// @ts-ignore: decorator
@inline export function recMedium(r: usize): u32 { return <u32>load<u8>(r, 36); }
// @ts-ignore: decorator
@inline export function recSetMedium(r: usize, m: u32): void { store<u8>(r, <u8>m, 36); }
// @ts-ignore: decorator
@inline export function recFlags(r: usize): u8 { return load<u8>(r, 37); }
// @ts-ignore: decorator
@inline export function recSetFlags(r: usize, f: u8): void { store<u8>(r, f, 37); }
// @ts-ignore: decorator
@inline export function recPins(r: usize): u32 { return <u32>load<u16>(r, 38); }
// @ts-ignore: decorator
@inline export function recSetPins(r: usize, n: u32): void { store<u16>(r, <u16>n, 38); }

/** Fills a fresh (zeroed) record; the generation survives reuse, bumped by one. */
export function recInit(r: usize, keyPtr: usize, keyLen: u32, size: u64, medium: u32, state: u8, gen: u32): void {
  store<u32>(r, <u32>keyPtr, 0);
  store<u16>(r, <u16>keyLen, 4);
  store<u8>(r, state, 7);
  store<u64>(r, size, 8);
  store<u32>(r, gen, 32);
  store<u8>(r, <u8>medium, 36);
}

// Blob fields
// @ts-ignore: decorator
@inline export function blobNode(b: usize): u32 { return load<u32>(b, 0); }
// @ts-ignore: decorator
@inline export function blobSeg(b: usize): u32 { return <u32>load<u16>(b, 4); }
// @ts-ignore: decorator
@inline export function blobState(b: usize): u8 { return <u8>(load<u16>(b, 6) & BLOB_STATE_MASK); }
// @ts-ignore: decorator
@inline export function blobSetState(b: usize, s: u8): void {
  store<u16>(b, (load<u16>(b, 6) & ~BLOB_STATE_MASK) | <u16>s, 6);
}
// @ts-ignore: decorator
@inline export function blobLeases(b: usize): u32 { return <u32>(load<u16>(b, 6) >> 2); }
// @ts-ignore: decorator
@inline export function blobSetLeases(b: usize, n: u32): void {
  if (DEBUG) assert(n <= MAX_LEASES, 'blob lease count overflow');
  store<u16>(b, <u16>(n << 2) | (load<u16>(b, 6) & BLOB_STATE_MASK), 6);
}
// @ts-ignore: decorator
@inline export function blobNext(b: usize): u32 { return load<u32>(b, 8); }
// @ts-ignore: decorator
@inline export function blobSetNext(b: usize, v: u32): void { store<u32>(b, v, 8); }
// @ts-ignore: decorator
@inline export function blobExpiry(b: usize): u32 { return load<u32>(b, 12); }
// @ts-ignore: decorator
@inline export function blobSetExpiry(b: usize, v: u32): void { store<u32>(b, v, 12); }

export function blobInit(b: usize, node: u32, seg: u32, state: u8, next: u32, expiry: u32): void {
  store<u32>(b, node, 0);
  store<u16>(b, <u16>seg, 4);
  store<u16>(b, <u16>state, 6); // no leases
  store<u32>(b, next, 8);
  store<u32>(b, expiry, 12);
}
