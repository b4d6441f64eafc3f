/**
 * The package's main entry: the embedded store, its errors, sizes, device backends and types,
 * plus the remote client (which loads undici only when it connects). It loads no HTTP framework
 * and no metrics library: the server is `memcache-hybrid/server`, the native backend
 * `memcache-hybrid/acl`, the client alone `memcache-hybrid/client`.
 */
export { MemCache, PutWriter } from './store/memcache.js';
export { MmcError, MMC, codeName } from './errors.js';
export type { MmcCodeName } from './errors.js';
export type * from './store/types.js';
export { createBackend, createSimBackend } from './device/index.js';
export type { DeviceBackend, DeviceSegment, Medium, MaybePromise } from './device/types.js';
export { parseSize, parseConf, loadConf } from './config.js';
export { MemCacheClient } from './client/index.js';
export type { ClientOptions } from './client/index.js';
