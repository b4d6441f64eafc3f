// The WASM core's entry: every export of these modules is an export of the module. The range
// allocator's are for its tests (test/core); its metadata estimates stay internal.
export * from './abi';
export {
  RA_NONE, ra_create, ra_destroy, ra_alloc, ra_free, ra_offset, ra_size, ra_used, ra_free_units,
  ra_largest_free, ra_free_ranges, ra_live, ra_capacity, ra_footprint, ra_check,
} from './allocator';
export { IN_BATCH } from './call';
export * from './engine';
export { seg_unmount, seg_unmount_begin, seg_unmount_step, seg_unmount_end } from './drain';
export * from './put';
export * from './get';
export * from './evict';
export { core_hold_frees, seg_release } from './held';
