// MMC result codes (values from the reference implementation) and the core's own signals.
export const MMC_OK: i32 = 0;
export const MMC_ERROR: i32 = -1;
export const MMC_INVALID_PARAM: i32 = -3000;
export const MMC_TIMEOUT: i32 = -3004;
export const MMC_DUPLICATED_OBJECT: i32 = -3006;
export const MMC_OBJECT_NOT_EXISTS: i32 = -3007;
export const MMC_EXCEED_CAPACITY: i32 = -3013;
export const MMC_NOT_ENOUGH_MEMORY: i32 = -3016;
export const MMC_UNMATCHED_STATE: i32 = -3101;
export const MMC_UNMATCHED_KEY: i32 = -3102;

/** Positive answers ask the caller to act, then call again. */
export const NEED_EVICT: i32 = 1;   // alloc: evict on the medium in OUT[0], then retry with ALLOC_NO_EVICT
export const DEMOTE: i32 = 2;       // evict: copy the pairs in OUT, then call demote_end
export const EVICTED: i32 = 3;      // evict: one victim removed
