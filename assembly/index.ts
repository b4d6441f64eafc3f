// The WASM core's entry: every export of the core's modules is an export of the module.
export * from './allocator';
