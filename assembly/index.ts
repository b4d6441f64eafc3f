// The WASM core's entry: every export of these modules is an export of the module.
export * from './allocator';
export * from './engine';
export * from './evict';
