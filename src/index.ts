export { MemCache, PutWriter } from './store/memcache.js';
export { MmcError, MMC, codeName } from './errors.js';
export type { MmcCodeName } from './errors.js';
export type * from './store/types.js';
export { createBackend, createSimBackend } from './device/index.js';
export type { DeviceBackend, DeviceSegment, Medium, MaybePromise } from './device/types.js';
export { parseSize, parseConf, loadConf } from './config.js';
