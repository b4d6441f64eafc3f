// The ABI the TS side shares with the core, exported as immutable globals so that the loader
// (src/store/core.ts) checks its own copy against this build at instantiation: the scratch
// layout (key area, OUT, list area), the stats block, the operation and tracepoint numbers,
// MMC codes and the core's signals, media. The alloc flags are exported by put.ts, IN_BATCH by call.ts.
import { SCRATCH_SIZE, MAX_KEY_BYTES, OUT_OFFSET, OUT_SLOTS, LIST_OFFSET } from './scratch';
import { OPS, OP_STRIDE, EVICTS, TP_BASE, TPS, TP_FIELDS, STATS_SLOTS } from './stats';

export * from './codes';
export { MEDIUM_HBM, MEDIUM_DRAM } from './segment';
export {
  OP_ALLOC, OP_BATCH_ALLOC, OP_GET, OP_BATCH_GET, OP_REMOVE, OP_BATCH_REMOVE, OP_REMOVE_ALL,
  OP_UPDATE_STATE, OP_BATCH_UPDATE_STATE, OP_QUERY, OP_BATCH_QUERY, OP_GET_ALL_KEYS, OP_EXIST_KEY,
  OP_BATCH_EXIST_KEY, OP_MOUNT, OP_UNMOUNT,
  TP_PUT, TP_GET, TP_ALLOC, TP_REMOVE, TP_UPDATE_STATE, TP_QUERY, TP_EVICT,
} from './stats';

// Scratch area (bytes from its start)
export const ABI_MAX_KEY_BYTES: u32 = MAX_KEY_BYTES;
export const ABI_OUT_OFFSET: u32 = <u32>OUT_OFFSET;
export const ABI_OUT_SLOTS: u32 = OUT_SLOTS;
export const ABI_LIST_OFFSET: u32 = <u32>LIST_OFFSET;
export const ABI_SCRATCH_SIZE: u32 = <u32>SCRATCH_SIZE;

// Stats block (f64 slots)
export const ABI_STATS_OPS: u32 = OPS;
export const ABI_STATS_OP_STRIDE: u32 = OP_STRIDE;
export const ABI_STATS_EVICTS: u32 = EVICTS;
export const ABI_STATS_TP_BASE: u32 = TP_BASE;
export const ABI_STATS_TPS: u32 = TPS;
export const ABI_STATS_TP_FIELDS: u32 = TP_FIELDS;
export const ABI_STATS_SLOTS: u32 = STATS_SLOTS;
