// The reads of the core: get leases a READABLE blob (obj_get) until the TS side has read it
// (obj_get_end); exist_key and query read the record only.
import { MMC_OK, MMC_OBJECT_NOT_EXISTS, MMC_UNMATCHED_KEY, MMC_EXCEED_CAPACITY, MMC_TIMEOUT } from './codes';
import { poolHigh } from './pool';
import {
  records, rec, blob, recNumBlobs, recState, recSize, recProt, recFirstBlob, recGen, recMedium, recFlags,
  blobNode, blobSeg, blobLeases, blobSetLeases, blobNext, blobSetExpiry,
  REC_READABLE, REC_ZOMBIE, FLAG_MOVING, MAX_LEASES,
} from './object';
import { listTouch } from './lists';
import { segAllocator, segRank, alignShift } from './segment';
import { ra_offset } from './allocator';
import { tpBegin, tpEnd, OP_GET, OP_QUERY, OP_EXIST_KEY, TP_GET, TP_QUERY } from './stats';
import { setOut, clockMs, msOf, leaseMs } from './scratch';
import { lruOf } from './lifecycle';
import { counted, findKey } from './call';

// The OUT slots of obj_get (src/store/read.ts and batch.ts read them by the same numbers)
// @ts-ignore: decorator
@inline const OUT_GET_BLOB: u32 = 0;
// @ts-ignore: decorator
@inline const OUT_GET_T0: u32 = 1;
// @ts-ignore: decorator
@inline const OUT_GET_SIZE: u32 = 2;
// @ts-ignore: decorator
@inline const OUT_GET_SLOT: u32 = 3;
// @ts-ignore: decorator
@inline const OUT_GET_OFFSET: u32 = 4;
// @ts-ignore: decorator
@inline const OUT_GET_ID: u32 = 5;
// @ts-ignore: decorator
@inline const OUT_GET_GEN: u32 = 6;
// The OUT slots of obj_query (src/store/read.ts readQuery) and obj_exists
// @ts-ignore: decorator
@inline const OUT_QUERY_SIZE: u32 = 0;
// @ts-ignore: decorator
@inline const OUT_QUERY_PROT: u32 = 1;
// @ts-ignore: decorator
@inline const OUT_QUERY_BLOBS: u32 = 2;
// @ts-ignore: decorator
@inline const OUT_QUERY_VALID: u32 = 3;
// @ts-ignore: decorator
@inline const OUT_QUERY_MEDIUM: u32 = 4;
/** Per blob i: [OUT_QUERY_RANKS + i] its rank. */
// @ts-ignore: decorator
@inline const OUT_QUERY_RANKS: u32 = 8;
// @ts-ignore: decorator
@inline const OUT_EXISTS_SIZE: u32 = 0;

/**
 * Finds a READABLE blob of the key and leases it. OUT: [0] blob id, [1] start time, [2] size,
 * [3] segment slot, [4] byte offset, [5] record id, [6] generation. The caller reads, then calls
 * obj_get_end with (record id, generation, blob id). MMC_EXCEED_CAPACITY when every replica
 * already has MAX_LEASES readers.
 */
export function obj_get(keyLen: u32, flags: u32): i32 {
  const t0 = clockMs();
  tpBegin(TP_GET);
  const id = findKey(keyLen);
  if (id == 0) return getDone(MMC_UNMATCHED_KEY, t0, flags);
  const r = rec(id);
  if (recState(r) != REC_READABLE) return getDone(MMC_OBJECT_NOT_EXISTS, t0, flags);
  let b = recFirstBlob(r);
  while (b && blobLeases(blob(b)) >= MAX_LEASES) b = blobNext(blob(b));
  if (b == 0) return getDone(MMC_EXCEED_CAPACITY, t0, flags);
  const bp = blob(b);
  blobSetLeases(bp, blobLeases(bp) + 1);
  blobSetExpiry(bp, msOf(t0) + leaseMs);
  if ((recFlags(r) & FLAG_MOVING) == 0) listTouch(lruOf(recMedium(r)), id);
  const slot = blobSeg(bp);
  setOut(OUT_GET_BLOB, <f64>b);
  setOut(OUT_GET_T0, t0);
  setOut(OUT_GET_SIZE, <f64>recSize(r));
  setOut(OUT_GET_SLOT, <f64>slot);
  setOut(OUT_GET_OFFSET, <f64>(ra_offset(segAllocator(slot), blobNode(bp)) << alignShift));
  setOut(OUT_GET_ID, <f64>id);
  setOut(OUT_GET_GEN, <f64>recGen(r));
  return MMC_OK;
}

function getDone(code: i32, t0: f64, flags: u32): i32 {
  counted(OP_GET, code, flags);
  tpEnd(TP_GET, code, t0, clockMs());
  return code;
}

/**
 * Ends a get: releases the lease taken on blob `b` of record (id, gen) and counts the result
 * (`code` of the read). Returns the get's code: MMC_TIMEOUT when the lease was lost meanwhile
 * (the blob left the record: it outlived its lease and was freed, or its segment was
 * unmounted), for its bytes may then be another object's.
 */
export function obj_get_end(id: u32, gen: u32, b: u32, code: i32, t0: f64, flags: u32): i32 {
  let held = false;
  if (id > 0 && id < poolHigh(records)) {
    const r = rec(id);
    const st = recState(r);
    if (recGen(r) == gen && (st == REC_READABLE || st == REC_ZOMBIE)) {
      let c = recFirstBlob(r);
      while (c && c != b) c = blobNext(blob(c));
      if (c) {
        const bp = blob(c);
        const leases = blobLeases(bp);
        if (leases > 0) blobSetLeases(bp, leases - 1);
        held = true;
      }
    }
  }
  return getDone(held || code != MMC_OK ? code : MMC_TIMEOUT, t0, flags);
}

/** exist_key: MMC_OK for a READABLE object (OUT[0] = its size), else MMC_UNMATCHED_KEY. */
export function obj_exists(keyLen: u32, flags: u32): i32 {
  const id = findKey(keyLen);
  const code = id && recState(rec(id)) == REC_READABLE ? MMC_OK : MMC_UNMATCHED_KEY;
  if (code == MMC_OK) setOut(OUT_EXISTS_SIZE, <f64>recSize(rec(id)));
  counted(OP_EXIST_KEY, code, flags);
  return code;
}

/**
 * OUT: [0] size, [1] prot, [2] blobs, [3] valid (READABLE), [4] medium, [8 + i] rank of blob i.
 */
export function obj_query(keyLen: u32, flags: u32): i32 {
  const t0 = clockMs();
  tpBegin(TP_QUERY);
  const id = findKey(keyLen);
  let code = MMC_UNMATCHED_KEY;
  if (id) {
    code = MMC_OK;
    const r = rec(id);
    setOut(OUT_QUERY_SIZE, <f64>recSize(r));
    setOut(OUT_QUERY_PROT, <f64>recProt(r));
    setOut(OUT_QUERY_BLOBS, <f64>recNumBlobs(r));
    setOut(OUT_QUERY_VALID, recState(r) == REC_READABLE ? 1 : 0);
    setOut(OUT_QUERY_MEDIUM, <f64>recMedium(r));
    let b = recFirstBlob(r);
    let i = OUT_QUERY_RANKS;
    while (b) {
      const bp = blob(b);
      setOut(i++, <f64>segRank(blobSeg(bp)));
      b = blobNext(bp);
    }
  }
  counted(OP_QUERY, code, flags);
  tpEnd(TP_QUERY, code, t0, clockMs());
  return code;
}
