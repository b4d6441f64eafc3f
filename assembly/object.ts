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
import { poolCreate, poolAddr, poolHigh } from './pool';

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

// Record field offsets
// @ts-ignore: decorator
@inline const R_KEY_PTR: usize = 0;     // u32
// @ts-ignore: decorator
@inline const R_KEY_LEN: usize = 4;     // u16
// @ts-ignore: decorator
@inline const R_NUM_BLOBS: usize = 6;   // u8
// @ts-ignore: decorator
@inline const R_STATE: usize = 7;       // u8
// @ts-ignore: decorator
@inline const R_SIZE: usize = 8;        // u64
// @ts-ignore: decorator
@inline const R_PROT: usize = 16;       // u32
// @ts-ignore: decorator
@inline const R_PREV: usize = 20;       // u32
// @ts-ignore: decorator
@inline const R_NEXT: usize = 24;       // u32
// @ts-ignore: decorator
@inline const R_FIRST_BLOB: usize = 28; // u32
// @ts-ignore: decorator
@inline const R_GEN: usize = 32;        // u32
// @ts-ignore: decorator
@inline const R_MEDIUM: usize = 36;     // u8
// @ts-ignore: decorator
@inline const R_FLAGS: usize = 37;      // u8
// @ts-ignore: decorator
@inline const R_PINS: usize = 38;       // u16
// @ts-ignore: decorator
@inline export const RECORD_SIZE: u32 = 40;

// Blob field offsets
// @ts-ignore: decorator
@inline const B_NODE: usize = 0;        // u32
// @ts-ignore: decorator
@inline const B_SEG: usize = 4;         // u16
// @ts-ignore: decorator
@inline const B_STATE_LEASES: usize = 6; // u16: state (bits 0..1) | leases << LEASE_SHIFT
// @ts-ignore: decorator
@inline const B_NEXT: usize = 8;        // u32
// @ts-ignore: decorator
@inline const B_EXPIRY: usize = 12;     // u32
// @ts-ignore: decorator
@inline export const BLOB_SIZE: u32 = 16;
// @ts-ignore: decorator
@inline const LEASE_SHIFT: u16 = 2;

export let records: usize = 0;
export let blobs: usize = 0;

export function objectPoolsInit(): void {
  records = poolCreate(RECORD_SIZE, 14);
  blobs = poolCreate(BLOB_SIZE, 14);
}

// @ts-ignore: decorator
@inline export function rec(id: u32): usize {
  if (DEBUG) assert(id != 0 && id < poolHigh(records), 'record id out of range');
  return poolAddr(records, id);
}
// @ts-ignore: decorator
@inline export function blob(id: u32): usize {
  if (DEBUG) assert(id != 0 && id < poolHigh(blobs), 'blob id out of range');
  return poolAddr(blobs, id);
}

// Record fields
// @ts-ignore: decorator
@inline export function recKeyPtr(r: usize): usize { return <usize>load<u32>(r, R_KEY_PTR); }
// @ts-ignore: decorator
@inline export function recKeyLen(r: usize): u32 { return <u32>load<u16>(r, R_KEY_LEN); }
// @ts-ignore: decorator
@inline export function recNumBlobs(r: usize): u32 { return <u32>load<u8>(r, R_NUM_BLOBS); }
// @ts-ignore: decorator
@inline export function recSetNumBlobs(r: usize, n: u32): void {
  if (DEBUG) assert(n <= 0xFF, 'record blob count overflow');
  store<u8>(r, <u8>n, R_NUM_BLOBS);
}
// @ts-ignore: decorator
@inline export function recState(r: usize): u8 { return load<u8>(r, R_STATE); }
// @ts-ignore: decorator
@inline export function recSetState(r: usize, s: u8): void { store<u8>(r, s, R_STATE); }
// @ts-ignore: decorator
@inline export function recSize(r: usize): u64 { return load<u64>(r, R_SIZE); }
// @ts-ignore: decorator
@inline export function recProt(r: usize): u32 { return load<u32>(r, R_PROT); }
// @ts-ignore: decorator
@inline export function recPrev(r: usize): u32 { return load<u32>(r, R_PREV); }
// @ts-ignore: decorator
@inline export function recSetPrev(r: usize, v: u32): void { store<u32>(r, v, R_PREV); }
// @ts-ignore: decorator
@inline export function recNext(r: usize): u32 { return load<u32>(r, R_NEXT); }
// @ts-ignore: decorator
@inline export function recSetNext(r: usize, v: u32): void { store<u32>(r, v, R_NEXT); }
// @ts-ignore: decorator
@inline export function recFirstBlob(r: usize): u32 { return load<u32>(r, R_FIRST_BLOB); }
// @ts-ignore: decorator
@inline export function recSetFirstBlob(r: usize, v: u32): void { store<u32>(r, v, R_FIRST_BLOB); }
// @ts-ignore: decorator
@inline export function recGen(r: usize): u32 { return load<u32>(r, R_GEN); }
// @ts-ignore: decorator
@inline export function recMedium(r: usize): u32 { return <u32>load<u8>(r, R_MEDIUM); }
// @ts-ignore: decorator
@inline export function recSetMedium(r: usize, m: u32): void { store<u8>(r, <u8>m, R_MEDIUM); }
// @ts-ignore: decorator
@inline export function recFlags(r: usize): u8 { return load<u8>(r, R_FLAGS); }
// @ts-ignore: decorator
@inline export function recSetFlags(r: usize, f: u8): void { store<u8>(r, f, R_FLAGS); }
// @ts-ignore: decorator
@inline export function recPins(r: usize): u32 { return <u32>load<u16>(r, R_PINS); }
// @ts-ignore: decorator
@inline export function recSetPins(r: usize, n: u32): void {
  if (DEBUG) assert(n <= MAX_PINS, 'record pin count overflow');
  store<u16>(r, <u16>n, R_PINS);
}

/** A record out of the index keeps no key. */
// @ts-ignore: decorator
@inline export function recClearKey(r: usize): void {
  store<u32>(r, 0, R_KEY_PTR);
  store<u16>(r, 0, R_KEY_LEN);
}

/** Fills a fresh (zeroed) record; the generation survives reuse, bumped by one. */
export function recInit(r: usize, keyPtr: usize, keyLen: u32, size: u64, medium: u32, state: u8, gen: u32): void {
  store<u32>(r, <u32>keyPtr, R_KEY_PTR);
  store<u16>(r, <u16>keyLen, R_KEY_LEN);
  store<u8>(r, state, R_STATE);
  store<u64>(r, size, R_SIZE);
  store<u32>(r, gen, R_GEN);
  store<u8>(r, <u8>medium, R_MEDIUM);
}

// Blob fields
// @ts-ignore: decorator
@inline export function blobNode(b: usize): u32 { return load<u32>(b, B_NODE); }
// @ts-ignore: decorator
@inline export function blobSeg(b: usize): u32 { return <u32>load<u16>(b, B_SEG); }
// @ts-ignore: decorator
@inline export function blobState(b: usize): u8 { return <u8>(load<u16>(b, B_STATE_LEASES) & BLOB_STATE_MASK); }
// @ts-ignore: decorator
@inline export function blobSetState(b: usize, s: u8): void {
  store<u16>(b, (load<u16>(b, B_STATE_LEASES) & ~BLOB_STATE_MASK) | <u16>s, B_STATE_LEASES);
}
// @ts-ignore: decorator
@inline export function blobLeases(b: usize): u32 { return <u32>(load<u16>(b, B_STATE_LEASES) >> LEASE_SHIFT); }
// @ts-ignore: decorator
@inline export function blobSetLeases(b: usize, n: u32): void {
  if (DEBUG) assert(n <= MAX_LEASES, 'blob lease count overflow');
  store<u16>(b, <u16>(n << LEASE_SHIFT) | (load<u16>(b, B_STATE_LEASES) & BLOB_STATE_MASK), B_STATE_LEASES);
}
// @ts-ignore: decorator
@inline export function blobNext(b: usize): u32 { return load<u32>(b, B_NEXT); }
// @ts-ignore: decorator
@inline export function blobSetNext(b: usize, v: u32): void { store<u32>(b, v, B_NEXT); }
// @ts-ignore: decorator
@inline export function blobExpiry(b: usize): u32 { return load<u32>(b, B_EXPIRY); }
// @ts-ignore: decorator
@inline export function blobSetExpiry(b: usize, v: u32): void { store<u32>(b, v, B_EXPIRY); }

export function blobInit(b: usize, node: u32, seg: u32, state: u8, next: u32, expiry: u32): void {
  store<u32>(b, node, B_NODE);
  store<u16>(b, <u16>seg, B_SEG);
  store<u16>(b, <u16>state, B_STATE_LEASES); // no leases
  store<u32>(b, next, B_NEXT);
  store<u32>(b, expiry, B_EXPIRY);
}
