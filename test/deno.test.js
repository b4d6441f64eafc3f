// A Deno round trip: the built package imported and used under Deno 2 (npm package `deno`).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

test('open, put, get, query, close under Deno', () => {
  const deno = require.resolve('deno/bin.cjs');
  const script = fileURLToPath(new URL('./deno/roundtrip.mjs', import.meta.url));
  const stdout = execFileSync(process.execPath, [deno, 'run', '--allow-read', '--allow-env', '--no-prompt', script], {
    encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' }, timeout: 60_000,
  });
  const result = JSON.parse(stdout.trim().split('\n').pop());
  assert.match(result.runtime, /^deno 2\./);
  assert.equal(result, { runtime: result.runtime, same: true, size: 10_000, medium: 'HBM' });
});

test.run();
