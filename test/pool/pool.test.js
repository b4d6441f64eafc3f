// The pool across processes: `mmc meta` and two `mmc local` on loopback, a MemCacheClient against
// the meta service: value bytes go to the agents, control to meta.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { MemCacheClient, MMC as MMC_CODES } from '../../dist/index.js';
import { MMC, freePort, ioOf, segmentIds, startLocalProc, startMetaProc, stop } from './_procs.js';

let meta, a0, a1, c;

test.before(async () => {
  meta = await startMetaProc(await freePort());
  [a0, a1] = await Promise.all([startLocalProc(meta.url, 0), startLocalProc(meta.url, 1)]);
  c = await MemCacheClient.connect(meta.url);
});
test.after(async () => {
  await c?.close();
  await Promise.all([stop(a0), stop(a1)]);
  await stop(meta);
});

test('the meta service says it is a pool; its segments are the agents\'', async () => {
  const j = await (await fetch(`${meta.url}/api/v1/data_path`)).json();
  assert.is(j.pool, true);
  assert.is(c.transport, 'binary');
  assert.equal((await segmentIds(meta.url)).sort(), ['rank-0-dram', 'rank-0-hbm', 'rank-1-dram', 'rank-1-hbm']);
  const segs = await c.segments();
  assert.is(segs.length, 4);
  assert.ok(segs.every((s) => s.totalBytes === 8 << 20));
});

test('put, get, getInto, exists, query, remove through the pool', async () => {
  const v = Buffer.from('hello, pool');
  await c.put('k1', v);
  assert.equal(Buffer.from(await c.get('k1')), v);
  const dst = Buffer.alloc(64);
  assert.is(await c.getInto('k1', dst), v.length);
  assert.equal(dst.subarray(0, v.length), v);
  assert.is(await c.exists('k1'), true);
  assert.is((await c.query('k1')).size, v.length);
  assert.is(await c.get('nope'), undefined);
  assert.is(await c.remove('k1'), true);
  assert.is(await c.get('k1'), undefined);
  assert.is(await c.exists('k1'), false);
  // a duplicate is refused by the meta service as by mmc serve
  await c.put('dup', v);
  try { await c.put('dup', v); assert.unreachable('accepted a duplicate'); } catch (e) { assert.is(e.code, MMC_CODES.MMC_DUPLICATED_OBJECT); }
});

test('replicas land on distinct ranks; preferredRank places a single replica', async () => {
  await c.put('r2', Buffer.alloc(10_000, 3), { replicas: 2 });
  const q = await c.query('r2');
  assert.equal(q.blobs.map((b) => b.rank).sort(), [0, 1]);
  for (const rank of [0, 1]) {
    await c.put(`on${rank}`, Buffer.alloc(100, rank + 1), { preferredRank: rank });
    assert.equal((await c.query(`on${rank}`)).blobs.map((b) => b.rank), [rank]);
    assert.equal(Buffer.from(await c.get(`on${rank}`)), Buffer.alloc(100, rank + 1));
  }
});

test('batch put and get: values of many sizes come back intact, absent ones undefined', async () => {
  const entries = Array.from({ length: 300 }, (_, i) => [`b${i}`, createHash('sha256').update(String(i)).digest().subarray(0, 1 + (i % 32))]);
  const codes = await c.batchPut(entries, { replicas: 1 + (entries.length % 2) });
  assert.ok(codes.every((x) => x === 0), String(codes));
  const got = await c.batchGet([...entries.map((e) => e[0]), 'missing']);
  assert.is(got.length, 301);
  entries.forEach(([, v], i) => assert.equal(Buffer.from(got[i]), v));
  assert.is(got[300], undefined);
  assert.equal(await c.batchExists(['b0', 'missing']), [true, false]);
  const removed = await c.batchRemove(['b0', 'missing']);
  assert.is(removed[0], 0);
  assert.is.not(removed[1], 0);
  assert.is(await c.get('b0'), undefined);
});

test('the meta process moves no value bytes: its read/write counters grow far less than what was put and got', async () => {
  const value = Buffer.alloc(1 << 20, 0x5a);
  const before = ioOf(meta.p.pid);
  for (let i = 0; i < 24; i++) await c.put(`big${i}`, value);
  for (let i = 0; i < 24; i++) assert.is((await c.get(`big${i}`)).length, value.length);
  const after = ioOf(meta.p.pid);
  const moved = 48 * value.length;
  const through = after.rchar - before.rchar + after.wchar - before.wchar;
  console.log(`  meta rchar+wchar grew by ${through} bytes for ${moved} value bytes put and got`);
  assert.ok(through < moved / 20, `meta moved ${through} bytes`);
});

test('mmc put / mmc get against the meta service', async () => {
  const run = (args, input) => new Promise((resolve) => {
    const p = execFile(process.execPath, [MMC, ...args, '-s', meta.url], { encoding: 'buffer' }, (err, stdout, stderr) => resolve({ code: err ? err.code : 0, stdout, stderr: String(stderr) }));
    p.stdin.end(input);
  });
  const put = await run(['put', 'cli-key', '-', '--no-progress'], Buffer.from('from the cli'));
  assert.is(put.code, 0, put.stderr);
  const get = await run(['get', 'cli-key', '--no-progress']);
  assert.is(get.code, 0, get.stderr);
  assert.is(String(get.stdout), 'from the cli');
});

test.run();
