// The server's limits from `mmc serve` flags: parsed and checked by planServe, and in force in the
// real binary.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { planServe } from '../../dist/server/serve.js';
import { req, isErrorBody, raw, head } from './_helpers.js';

const MMC = fileURLToPath(new URL('../../bin/mmc.js', import.meta.url));

test('planServe: the limit flags, and a bad value named', () => {
  const p = planServe({
    bodyTimeout: '2500', putInFlightLimit: '64MB', bodyMemoryLimit: '256MB', batchKeyLimit: '1000',
    metadataTotalLimit: '8MB', metadataKeyLimit: '100',
  });
  assert.equal(p.limits, {
    bodyTimeoutMs: 2500, putInFlightLimit: 64 << 20, bodyMemoryLimit: 256 << 20, batchKeyLimit: 1000,
    metadataTotalLimit: 8 << 20, metadataKeyLimit: 100,
  });
  assert.equal(planServe({}).limits, {
    bodyTimeoutMs: undefined, putInFlightLimit: undefined, bodyMemoryLimit: undefined, batchKeyLimit: undefined,
    metadataTotalLimit: undefined, metadataKeyLimit: undefined,
  });
  for (const [flag, v, msg] of [
    ['bodyTimeout', '0', "--body-timeout: expected a positive integer, got '0'"],
    ['bodyTimeout', '1s', "--body-timeout: expected a positive integer, got '1s'"],
    ['metadataKeyLimit', '-1', "--metadata-key-limit: expected a positive integer, got '-1'"],
    ['batchKeyLimit', 'many', "--batch-key-limit: expected a positive integer, got 'many'"],
  ]) assert.throws(() => planServe({ [flag]: v }), (e) => e.message === `MMC_INVALID_PARAM: ${msg}`);
  assert.throws(() => planServe({ bodyMemoryLimit: 'lots' }), (e) => e.message.startsWith('MMC_INVALID_PARAM: --body-memory-limit: '));
});

test('mmc serve --body-timeout, --metadata-key-limit, --batch-key-limit are in force', async () => {
  const p = spawn(process.execPath, [MMC, 'serve', '--listen', '127.0.0.1:0', '--hbm', '16MB', '--dram', '0',
    '--body-timeout', '300', '--metadata-key-limit', '1', '--batch-key-limit', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  try {
    const url = await new Promise((resolve, reject) => {
      let err = '';
      p.stderr.on('data', (c) => { err += c; const m = /serving on (http:\/\/[0-9.]+:\d+)/.exec(err); if (m) resolve(m[1]); });
      p.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
    });
    assert.is((await req(url, 'PUT', '/metadata?key=a', 'x')).text, 'metadata updated');
    isErrorBody(await req(url, 'PUT', '/metadata?key=b', 'x'), 'MMC_NOT_ENOUGH_MEMORY: metadata is full (limit 1 keys)');
    isErrorBody(await req(url, 'GET', '/batch_query_keys?keys=a,b,c'), 'MMC_INVALID_PARAM: 3 keys in one batch (limit 2)');
    const s = raw(Number(new URL(url).port));
    s.write(head('PUT', '/api/v1/objects?key=k', { 'Content-Length': 10 }));
    const [r] = await s.responses(1);
    assert.is(r.status, 408);
    isErrorBody(r, 'MMC_TIMEOUT: no body bytes for 300 ms');
  } finally {
    p.kill('SIGTERM');
    await new Promise((r) => p.once('exit', r));
  }
});

test.run();
