// Instantiates a build of the WASM core for tests that exercise its exports directly.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const BUILD = fileURLToPath(new URL('../../build/', import.meta.url));

/** `which`: 'debug' (assertions on, the default for tests) or 'release'. */
export function loadCore(which = 'debug') {
  const file = which === 'release' ? 'core.wasm' : 'core.debug.wasm';
  const module = new WebAssembly.Module(readFileSync(BUILD + file));
  let memory;
  const instance = new WebAssembly.Instance(module, {
    env: {
      abort(msg, fileName, line, col) {
        throw new Error(`wasm abort ${readString(memory, msg)} at ${readString(memory, fileName)}:${line}:${col}`);
      },
      seed: () => 0x9e3779b9,
      clock: () => performance.now(),
      held() {},
    },
  });
  memory = instance.exports.memory;
  return instance.exports;
}

function readString(memory, ptr) {
  if (!ptr) return '';
  const u32 = new Uint32Array(memory.buffer);
  const len = u32[(ptr - 4) >>> 2] >>> 1;
  return String.fromCharCode(...new Uint16Array(memory.buffer, ptr, len));
}
