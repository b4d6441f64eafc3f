// An embedded rank in a child process (MemCache.open({ pool })): it contributes its segments, uses
// the whole pool, keeps its own rank's bytes in-process, and serves its blobs to other clients.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { MemCacheClient, MemCache } from '../../dist/index.js';
import { freePort, segmentIds, startLocalProc, startMetaProc, stop, waitFor } from './_procs.js';

const CHILD = fileURLToPath(new URL('./_embedded-rank.mjs', import.meta.url));

test('an embedded rank in a child process', async () => {
  const meta = await startMetaProc(await freePort());
  const a0 = await startLocalProc(meta.url, 0);
  const c = await MemCacheClient.connect(meta.url);
  const child = spawn(process.execPath, [CHILD, meta.url, '7'], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    await c.put('from-test', Buffer.from('held by rank 0'), { preferredRank: 0 });
    let out = '';
    child.stdout.on('data', (d) => { out += d; });
    const line = await waitFor(() => out.includes('\n') && out, 30_000, 'the embedded rank');
    const r = JSON.parse(line);
    console.log(`  embedded rank: ${r.moved} bytes through its read/write calls for 16 MiB put and got on its own rank`);
    assert.is(r.same, 8);
    assert.equal(r.ranks, [7]);
    assert.is(r.other, 'held by rank 0');
    assert.ok(r.moved < (1 << 20), `own-rank bytes left the process (${r.moved})`);
    assert.ok((await segmentIds(meta.url)).includes('rank-7-dram'));
    // other clients read the embedded rank's blobs over the network
    assert.is(Buffer.from(await c.get('emb')).toString(), 'from the embedded rank');
  } finally {
    child.stdin.end();
    await new Promise((r) => child.once('exit', r));
    await c.close();
    await stop(a0);
    await stop(meta);
  }
});

test('MemCache.open({ pool }) refuses segments of another rank', async () => {
  try {
    await MemCache.open({ pool: { meta: 'http://127.0.0.1:1', rank: 1 }, segments: [{ rank: 2, medium: 'dram', bytes: 1 << 20 }] });
    assert.unreachable();
  } catch (e) {
    assert.match(e.message, /rank 2 is not 1/);
  }
});

test.run();
