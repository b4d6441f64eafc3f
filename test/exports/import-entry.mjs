// Imports one package entry (argv[2]) and prints, as one JSON line, how long the import took,
// the names it exports and the CommonJS modules now in require's cache (CJS packages loaded by
// an ESM import, and what they require in turn, land there).
import Module from 'node:module';
import { performance } from 'node:perf_hooks';

const t0 = performance.now();
const ns = await import(process.argv[2]);
const ms = performance.now() - t0;
console.log(JSON.stringify({ ms, exports: Object.keys(ns), cjs: Object.keys(Module._cache) }));
