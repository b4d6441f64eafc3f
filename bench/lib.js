// Small helpers shared by the benchmarks.
import { readFileSync } from 'node:fs';

/** The number after `name` in args, or dflt. */
export function argNum(args, name, dflt) {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** `count` distinct values of `size` bytes (one byte in every `stride` set from the index). */
export function makeValues(count, size, stride) {
  const vs = [];
  for (let i = 0; i < count; i++) {
    const v = new Uint8Array(size);
    for (let j = 0; j < size; j += stride) v[j] = (i + j) & 0xff;
    vs.push(v);
  }
  return vs;
}

/**
 * The release build of the WASM core (build/core.wasm) instantiated bare, without the store
 * around it: its raw exports, for benchmarks of one piece of the core.
 */
export function loadReleaseCore() {
  const module = new WebAssembly.Module(readFileSync(new URL('../build/core.wasm', import.meta.url)));
  const env = {
    abort: (_msg, _file, line, col) => { throw new Error(`WASM core abort at ${line}:${col}`); },
    seed: () => 0x9e3779b9,
    clock: () => performance.now(),
  };
  return new WebAssembly.Instance(module, { env }).exports;
}
