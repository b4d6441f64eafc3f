import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemCache, MmcError, MMC } from '../../dist/index.js';
import { openSmall, pattern, equalBytes, delta, countersAddUp, slowReadBackend, MiB } from '../helpers/store.js';

const enc = (s) => new TextEncoder().encode(s);
const dec = (b) => new TextDecoder().decode(b);

async function rejects(promise, code, match) {
  try {
    await promise;
  } catch (err) {
    assert.instance(err, MmcError);
    assert.is(err.codeName, code, err.message);
    assert.is(err.code, MMC[code]);
    if (match) assert.match(err.message, match);
    return err;
  }
  assert.unreachable(`expected ${code}`);
}

test('put, get, exists, query, remove round trip', async () => {
  const mc = await openSmall();
  await mc.put('alpha', enc('one'));
  assert.is(dec(await mc.get('alpha')), 'one');
  assert.ok(await mc.exists('alpha'));
  assert.equal(await mc.query('alpha'), {
    key: 'alpha', size: 3, prot: 0, numBlobs: 1, valid: true, blobs: [{ rank: 0, medium: 'HBM' }],
  });
  assert.is(await mc.get('beta'), undefined);
  assert.not.ok(await mc.exists('beta'));
  assert.is(await mc.query('beta'), undefined);
  assert.ok(await mc.remove('alpha'));
  assert.not.ok(await mc.remove('alpha'));
  assert.is(await mc.get('alpha'), undefined);
  assert.equal(mc.segments().map((s) => s.usedBytes), [0, 0]);
  await mc.close();
});

test('sizeOf: the size of a readable object, counted as one exist_key', async () => {
  const mc = await openSmall();
  await mc.put('sized', pattern(3, 12345));
  await mc.alloc('unfinished', 10);
  const s0 = mc.stats();
  assert.is(await mc.sizeOf('sized'), 12345);
  assert.is(await mc.sizeOf('unfinished'), undefined);
  assert.is(await mc.sizeOf('absent'), undefined);
  assert.equal(delta(s0, mc.stats()), { exist_key_req: 3, exist_key_success: 1, exist_key_not_found: 2 });
  await mc.close();
});

test('getInto: reads into the caller\'s buffer, refuses a short one, counts one get each', async () => {
  const mc = await openSmall();
  await mc.put('v', pattern(9, 5000));
  const dst = new Uint8Array(8192).fill(0xee);
  const s0 = mc.stats();
  assert.is(await mc.getInto('v', dst), 5000);
  assert.ok(equalBytes(dst.subarray(0, 5000), pattern(9, 5000)));
  assert.is(dst[5000], 0xee); // nothing past the value is touched
  assert.is(await mc.getInto('absent', dst), undefined);
  await rejects(mc.getInto('v', new Uint8Array(4999)), 'MMC_INVALID_PARAM', /holds 4999 bytes/);
  await rejects(mc.getInto('v', 'buffer'), 'MMC_INVALID_PARAM');
  assert.equal(delta(s0, mc.stats()), { get_req: 3, get_success: 1, get_fail: 1, get_not_found: 1 });
  assert.ok(await mc.remove('v')); // the refused read released its lease
  assert.equal(mc.segments().map((s) => s.usedBytes), [0, 0]);
  await mc.close();
});

test('Unicode keys, long keys, keys(), removeAll()', async () => {
  const mc = await openSmall();
  const long = 'k'.repeat(1024);
  const names = ['ключ', '键/值', 'emoji-🙂', long, 'a b+c%20'];
  for (const [i, k] of names.entries()) await mc.put(k, pattern(i, 100 + i));
  assert.equal((await mc.keys()).sort(), [...names].sort());
  for (const [i, k] of names.entries()) assert.ok(equalBytes(await mc.get(k), pattern(i, 100 + i)), k);
  assert.is(await mc.removeAll(), names.length);
  assert.equal(await mc.keys(), []);
  assert.is(mc.stats().keys, 0);
  await mc.close();
});

test('bad input: MMC_INVALID_PARAM and the store unchanged', async () => {
  const mc = await openSmall({ ranks: 2 });
  await mc.put('keep', enc('safe'));
  const before = mc.stats();
  const segs = mc.segments();
  await rejects(mc.put('', enc('x')), 'MMC_INVALID_PARAM', /empty/);
  await rejects(mc.put('k'.repeat(1025), enc('x')), 'MMC_INVALID_PARAM', /too long/);
  await rejects(mc.put('é'.repeat(513), enc('x')), 'MMC_INVALID_PARAM', /too long/); // 1026 bytes
  await rejects(mc.put(42, enc('x')), 'MMC_INVALID_PARAM');
  await rejects(mc.put('v', 'not bytes'), 'MMC_INVALID_PARAM', /Uint8Array/);
  await rejects(mc.put('v', new Uint8Array(0)), 'MMC_INVALID_PARAM', /size/);
  await rejects(mc.put('v', enc('x'), { medium: 'ssd' }), 'MMC_INVALID_PARAM', /medium/);
  await rejects(mc.put('v', enc('x'), { replicas: 0 }), 'MMC_INVALID_PARAM', /replicas/);
  await rejects(mc.put('v', enc('x'), { replicas: 9 }), 'MMC_INVALID_PARAM', /replicas/);
  await rejects(mc.put('v', enc('x'), { replicas: 1.5 }), 'MMC_INVALID_PARAM', /replicas/);
  await rejects(mc.put('v', enc('x'), { replicas: 3 }), 'MMC_INVALID_PARAM', /ranks/); // 2 ranks
  await rejects(mc.alloc('v', -5), 'MMC_INVALID_PARAM', /size/);
  await rejects(mc.alloc('v', 0), 'MMC_INVALID_PARAM', /size/);
  await rejects(mc.get(''), 'MMC_INVALID_PARAM');
  await rejects(mc.updateState('keep', 'maybe'), 'MMC_INVALID_PARAM');
  await rejects(mc.batchGet('keep'), 'MMC_INVALID_PARAM');
  assert.equal(await mc.keys(), ['keep']);
  assert.is(dec(await mc.get('keep')), 'safe');
  assert.equal(mc.segments().map((s) => s.usedBytes), segs.map((s) => s.usedBytes));
  // the refused replicas=3 reached the core: it counts one failed alloc, nothing else changed
  const d = delta(before, mc.stats());
  assert.equal(d, { alloc_req: 1, alloc_fail: 1, get_req: 1, get_success: 1, get_all_keys_req: 1, get_all_keys_success: 1 });
  await mc.close();
});

test('open: bad options are refused', async () => {
  const bad = [
    [{ alignment: 100 }, /alignment/],
    [{ alignment: 32 }, /alignment/],
    [{ evictThresholdHigh: 0 }, /evictThresholdHigh/],
    [{ evictThresholdHigh: 100 }, /evictThresholdHigh/],
    [{ evictThresholdLow: 95 }, /below/],
    [{ evictThresholdHigh: 50, evictThresholdLow: 50 }, /below/],
    [{ segments: [{ rank: 0, medium: 'tape', bytes: MiB }] }, /medium/],
    [{ segments: [{ rank: -1, medium: 'hbm', bytes: MiB }] }, /rank/],
    [{ segments: [{ rank: 0, medium: 'hbm', bytes: 'lots' }] }, /lots/],
    [{ segments: [{ rank: 0, medium: 'hbm', bytes: 100 }] }, /alignment/],
    [{ segments: [{ rank: 0, medium: 'hbm', bytes: MiB }, { rank: 0, medium: 'HBM', bytes: MiB }] }, /twice/],
    [{ backend: 'gpu' }, /backend/],
  ];
  for (const [opts, re] of bad) await rejects(MemCache.open(opts), 'MMC_INVALID_PARAM', re);
});

test('segments: sizes as strings, HBM first then DRAM by rank, mount and unmount', async () => {
  const mc = await MemCache.open({
    segments: [{ rank: 1, medium: 'dram', bytes: '2MB' }, { rank: 0, medium: 'dram', bytes: '1MB' }, { rank: 1, medium: 'HBM', bytes: '1.5MB' }],
  });
  assert.equal(mc.segments().map((s) => [s.id, s.medium, s.totalBytes]), [
    ['rank-1-hbm', 'HBM', 1.5 * MiB], ['rank-0-dram', 'DRAM', MiB], ['rank-1-dram', 'DRAM', 2 * MiB],
  ]);
  const info = await mc.mount({ rank: 0, medium: 'hbm', bytes: MiB });
  assert.equal(info, { id: 'rank-0-hbm', rank: 0, medium: 'HBM', totalBytes: MiB, usedBytes: 0, largestFreeBytes: MiB });
  await rejects(mc.mount({ rank: 0, medium: 'hbm', bytes: MiB }), 'MMC_INVALID_PARAM', /already mounted/);
  // an object on rank 0 only: unmounting rank-0-hbm drops it; one with a replica on rank 1 survives
  await mc.put('only0', pattern(1, 5000), { medium: 'hbm', preferredRank: 0 });
  await mc.put('both', pattern(2, 5000), { medium: 'hbm', replicas: 2 });
  assert.equal((await mc.query('both')).blobs.map((b) => b.rank).sort(), [0, 1]);
  await mc.unmount('rank-0-hbm');
  assert.is(await mc.get('only0'), undefined);
  assert.ok(equalBytes(await mc.get('both'), pattern(2, 5000)));
  assert.equal(await mc.query('both'), { key: 'both', size: 5000, prot: 0, numBlobs: 1, valid: true, blobs: [{ rank: 1, medium: 'HBM' }] });
  await rejects(mc.unmount('rank-0-hbm'), 'MMC_INVALID_PARAM', /Segment not found/);
  const s = mc.stats();
  // the duplicate mount counts as a failed mount, the unknown unmount as a failed unmount
  assert.equal([s.mount_req, s.mount_success, s.mount_fail], [5, 4, 1]);
  assert.equal([s.unmount_req, s.unmount_success, s.unmount_fail], [2, 1, 1]);
  await mc.close();
});

test('replicas land on distinct ranks, preferred rank first', async () => {
  const mc = await openSmall({ ranks: 4 });
  await mc.put('r3', enc('x'), { medium: 'dram', replicas: 3, preferredRank: 2 });
  const q = await mc.query('r3');
  assert.equal(q.blobs.map((b) => b.rank), [2, 3, 0]);
  assert.ok(q.blobs.every((b) => b.medium === 'DRAM'));
  await mc.put('p1', enc('x'), { preferredRank: 3 });
  assert.equal((await mc.query('p1')).blobs, [{ rank: 3, medium: 'HBM' }]);
  await mc.close();
});

test('duplicate put: MMC_DUPLICATED_OBJECT, the first value kept', async () => {
  const mc = await openSmall();
  await mc.put('dup', enc('first'));
  const err = await rejects(mc.put('dup', enc('second')), 'MMC_DUPLICATED_OBJECT', /already exists/);
  assert.is(err.message, 'MMC_DUPLICATED_OBJECT: key already exists');
  assert.is(dec(await mc.get('dup')), 'first');
  await mc.close();
});

test('an object larger than any segment fails and evicts nothing', async () => {
  const mc = await openSmall({ hbm: MiB, dram: 2 * MiB });
  for (let i = 0; i < 10; i++) await mc.put(`k${i}`, pattern(i, 50_000));
  const before = mc.stats();
  await rejects(mc.put('huge', new Uint8Array(3 * MiB)), 'MMC_NOT_ENOUGH_MEMORY');
  await rejects(mc.put('huge', new Uint8Array(MiB + 1), { medium: 'hbm' }), 'MMC_NOT_ENOUGH_MEMORY');
  assert.is(mc.stats().evict, before.evict);
  assert.is((await mc.keys()).length, 10);
  await mc.close();
});

test('a failed write leaves no trace: key absent, space free', async () => {
  const mc = await openSmall({ sim: { failWrite: 2 } });
  await mc.put('a', pattern(1, 10_000));
  const used = mc.segments().map((s) => s.usedBytes);
  const err = await rejects(mc.put('b', pattern(2, 10_000)), 'MMC_ERROR', /injected write failure/);
  assert.ok(err);
  assert.is(await mc.get('b'), undefined);
  assert.is(await mc.query('b'), undefined);
  assert.equal(mc.segments().map((s) => s.usedBytes), used);
  await mc.put('b', pattern(2, 10_000)); // the key can be put again
  assert.ok(equalBytes(await mc.get('b'), pattern(2, 10_000)));
  const tp = mc.stats().tracepoints.find((t) => t.name === 'TP_MMC_META_PUT');
  assert.equal([tp.begin, tp.goodEnd, tp.badEnd], [3, 2, 1]);
  await mc.close();
});

test('a failed read rejects and releases the lease', async () => {
  const mc = await openSmall({ sim: { failRead: 1 } });
  await mc.put('a', pattern(1, 100));
  await rejects(mc.get('a'), 'MMC_ERROR', /injected read failure/);
  assert.ok(equalBytes(await mc.get('a'), pattern(1, 100)));
  const s = mc.stats();
  assert.equal([s.get_req, s.get_success, s.get_fail, s.get_not_found], [2, 1, 1, 0]);
  assert.ok(await mc.remove('a'));
  assert.equal(mc.segments().map((x) => x.usedBytes), [0, 0]); // no lease held: freed at once
  await mc.close();
});

test('two-phase put: alloc is invisible until write_ok; write_fail drops it', async () => {
  const mc = await openSmall();
  const w = await mc.alloc('two', 6);
  assert.equal(w.blobs.map((b) => [b.segment, b.medium]), [['rank-0-hbm', 'HBM']]);
  await rejects(mc.get('two'), 'MMC_OBJECT_NOT_EXISTS', /being written/);
  assert.not.ok(await mc.exists('two'));
  assert.equal(await mc.batchGet(['two']), [undefined]);
  assert.equal(await mc.query('two'), { key: 'two', size: 6, prot: 0, numBlobs: 1, valid: false, blobs: [{ rank: 0, medium: 'HBM' }] });
  await rejects(mc.put('two', enc('clash')), 'MMC_DUPLICATED_OBJECT');
  await w.write(enc('abc'));
  await w.write(enc('def'));
  await mc.updateState('two', 'write_ok');
  assert.is(dec(await mc.get('two')), 'abcdef');
  await rejects(mc.updateState('two', 'write_ok'), 'MMC_UNMATCHED_STATE');
  await rejects(mc.updateState('nokey', 'write_ok'), 'MMC_UNMATCHED_KEY');

  const w2 = await mc.alloc('gone', 4096);
  assert.is(mc.segments()[0].usedBytes, 8192);
  await mc.updateState('gone', 'write_fail');
  assert.is(await mc.query('gone'), undefined);
  assert.is(mc.segments()[0].usedBytes, 4096);
  await rejects(w2.write(enc('late')), 'MMC_UNMATCHED_STATE');

  const w3 = await mc.alloc('short', 10);
  await w3.write(enc('12345'));
  await rejects(w3.write(enc('1234567')), 'MMC_INVALID_PARAM', /overruns/);
  assert.is(await mc.query('short'), undefined); // a bad write aborts the put
  const w4 = await mc.alloc('partial', 10);
  await w4.write(enc('12345'));
  await rejects(w4.commit(), 'MMC_INVALID_PARAM', /only 5 of 10/);
  assert.is(await mc.query('partial'), undefined);
  const s = mc.stats();
  assert.equal(countersAddUp(s), []);
  await mc.close();
});

test('ALLOCATED objects never committed are reclaimed after the timeout', async () => {
  const mc = await openSmall({ allocTimeoutMs: 50 });
  await mc.alloc('stuck', 5000);
  assert.is(mc.segments()[0].usedBytes, 8192);
  await new Promise((r) => setTimeout(r, 80));
  assert.is(mc.internals().pendingPuts, 1);
  assert.is(mc.sweep(), 1);
  assert.is(mc.internals().pendingPuts, 0);
  assert.is(await mc.query('stuck'), undefined);
  assert.is(mc.segments()[0].usedBytes, 0);
  await rejects(mc.updateState('stuck', 'write_ok'), 'MMC_UNMATCHED_KEY');
  await mc.close();
});

test('remove during a read: space is kept until the lease ends', async () => {
  const slow = slowReadBackend();
  slow.hold = true;
  const mc = await MemCache.open({ backend: slow.backend, segments: [{ rank: 0, medium: 'hbm', bytes: MiB }], leaseMs: 60_000 });
  await mc.put('leased', pattern(5, 3000));
  const reading = mc.get('leased');
  slow.hold = false;
  assert.ok(await mc.remove('leased'));
  assert.is(await mc.query('leased'), undefined);
  assert.is(mc.segments()[0].usedBytes, 4096); // held by the reader
  await mc.put('leased', pattern(6, 3000)); // the key is free for a new object meanwhile
  slow.release();
  assert.ok(equalBytes(await reading, pattern(5, 3000)));
  assert.is(mc.sweep(), 1);
  assert.is(mc.segments()[0].usedBytes, 4096); // only the new object
  assert.ok(equalBytes(await mc.get('leased'), pattern(6, 3000)));
  await mc.close();
});

test('batch calls: per-item outcomes in request order and the counting rules', async () => {
  const mc = await openSmall({ ranks: 2 });
  let s0 = mc.stats();
  const codes = await mc.batchPut([['a', enc('1')], ['b', enc('22')], ['a', enc('dup')], ['', enc('x')]]);
  assert.equal(codes, [0, 0, MMC.MMC_DUPLICATED_OBJECT, MMC.MMC_INVALID_PARAM]);
  let d = delta(s0, mc.stats());
  // items are counted on the batch operations only, never again on alloc / update_state
  assert.equal(d.alloc_req, undefined);
  assert.equal(d.update_state_req, undefined);
  assert.equal([d.batch_alloc_req, d.batch_alloc_fail, d.batch_update_state_req, d.batch_update_state_success], [1, 1, 1, 1]);

  s0 = mc.stats();
  const got = await mc.batchGet(['b', 'zzz', 'a']);
  assert.equal(got.map((v) => v && dec(v)), ['22', undefined, '1']);
  d = delta(s0, mc.stats());
  assert.equal(d, { batch_get_req: 1, batch_get_success: 1, batch_get_not_found: 1 });

  s0 = mc.stats();
  assert.equal(await mc.batchExists(['a', 'q']), [true, false]);
  d = delta(s0, mc.stats());
  assert.equal(d, { batch_exist_key_req: 1, batch_exist_key_success: 1, batch_exist_key_not_found: 1 });

  s0 = mc.stats();
  const q = await mc.batchQuery(['a', 'nope']);
  assert.equal(q, [
    { key: 'a', size: 1, prot: 0, numBlobs: 1, valid: true, blobs: [{ rank: 0, medium: 'HBM' }] },
    { key: 'nope', size: 0, prot: 0, numBlobs: 0, valid: false, blobs: [] },
  ]);
  d = delta(s0, mc.stats());
  assert.equal(d, { batch_query_req: 1, batch_query_success: 1, batch_query_not_found: 1 });

  s0 = mc.stats();
  assert.equal(await mc.batchRemove(['a', 'a', '']), [0, MMC.MMC_UNMATCHED_KEY, MMC.MMC_INVALID_PARAM]);
  d = delta(s0, mc.stats());
  // a real error (the invalid item) makes the batch a failure and not a not_found
  assert.equal(d.remove_req, undefined);
  assert.equal([d.keys, d.hbm_used, d.batch_remove_req, d.batch_remove_fail], [-1, -4096, 1, 1]);

  s0 = mc.stats();
  const writers = await mc.batchAlloc([['t1', 3], ['t2', 3], ['b', 3]]);
  assert.instance(writers[2], MmcError);
  await writers[0].write(enc('xyz'));
  await writers[1].write(enc('uvw'));
  assert.equal(await mc.batchUpdateState(['t1', 't2', 'none'], ['write_ok', 'write_fail', 'write_ok']), [0, 0, MMC.MMC_UNMATCHED_KEY]);
  assert.is(dec(await mc.get('t1')), 'xyz');
  assert.is(await mc.get('t2'), undefined);
  d = delta(s0, mc.stats());
  assert.equal([d.batch_alloc_req, d.batch_alloc_fail, d.batch_update_state_req, d.batch_update_state_success, d.batch_update_state_not_found], [1, 1, 1, 1, 1]);
  assert.equal(countersAddUp(mc.stats()), []);
  await mc.close();
});

test('counters and tracepoints: requests = successes + failures + not_found', async () => {
  const mc = await openSmall();
  await mc.put('x', enc('1'));
  await mc.get('x'); await mc.get('y');
  await mc.remove('y'); await mc.remove('x');
  await mc.query('x'); await mc.exists('x'); await mc.keys(); await mc.removeAll();
  const s = mc.stats();
  assert.equal(countersAddUp(s), []);
  assert.equal([s.get_req, s.get_success, s.get_not_found, s.remove_req, s.remove_not_found, s.get_all_keys_req, s.remove_all_req],
    [2, 1, 1, 2, 1, 1, 1]);
  for (const tp of s.tracepoints) {
    assert.ok(tp.begin >= tp.goodEnd + tp.badEnd, tp.name);
    if (tp.goodEnd) assert.ok(tp.minUs <= tp.totalUs / tp.goodEnd && tp.totalUs / tp.goodEnd <= tp.maxUs, tp.name);
  }
  assert.equal(s.tracepoints.map((t) => t.name), ['TP_MMC_META_PUT', 'TP_MMC_META_GET', 'TP_MMC_META_ALLOC',
    'TP_MMC_META_REMOVE', 'TP_MMC_META_UPDATE_STATE', 'TP_MMC_META_QUERY', 'TP_MMC_META_EVICT']);
  await mc.close();
});

test('eviction: LRU order, down to the low watermark, HBM victims demoted to DRAM', async () => {
  const mc = await openSmall({ hbm: 100 * 4096, dram: 1000 * 4096 });
  for (let i = 0; i < 90; i++) await mc.put(`k${i}`, pattern(i, 4096), { medium: 'hbm' });
  assert.is(mc.stats().evict, 0);
  await mc.get('k0'); // k0 becomes most recently used
  await mc.put('k90', pattern(90, 4096), { medium: 'hbm' }); // 91% > 90%: evict down to 80%, then add
  const s = mc.stats();
  assert.is(s.evict, 10);
  assert.is(s.hbm_used, 81 * 4096);
  assert.is(s.dram_used, 10 * 4096);
  assert.equal((await mc.query('k0')).blobs, [{ rank: 0, medium: 'HBM' }]);
  for (let i = 1; i <= 10; i++) assert.equal((await mc.query(`k${i}`)).blobs, [{ rank: 0, medium: 'DRAM' }], `k${i}`);
  assert.equal((await mc.query('k11')).blobs, [{ rank: 0, medium: 'HBM' }]);
  for (let i = 0; i <= 90; i++) assert.ok(equalBytes(await mc.get(`k${i}`), pattern(i, 4096)), `k${i}`);
  await mc.close();
});

test('eviction skips leased objects and removes when DRAM has no room', async () => {
  const slow = slowReadBackend();
  const mc = await MemCache.open({ backend: slow.backend, segments: [{ rank: 0, medium: 'hbm', bytes: 10 * 4096 }], leaseMs: 60_000 });
  for (let i = 0; i < 9; i++) await mc.put(`k${i}`, pattern(i, 4096));
  slow.hold = true;
  const reading = mc.get('k0'); // k0 is leased (and most recent) while its read is in flight
  slow.hold = false;
  await mc.get('k1'); // k1 becomes most recently used; LRU order is now k2 .. k8, k0, k1
  await mc.put('k9', pattern(9, 4096)); // 100% > 90%: evict k2 (to 80%)
  await mc.put('k10', pattern(10, 4096)); // evict k3
  assert.equal((await mc.keys()).sort(), ['k0', 'k1', 'k10', 'k4', 'k5', 'k6', 'k7', 'k8', 'k9']);
  for (let i = 0; i < 12; i++) await mc.get(`k${i}`); // leases of finished reads are released
  for (let i = 11; i < 15; i++) await mc.put(`k${i}`, pattern(i, 4096));
  // k0's lease is still held: every other old key went before it
  assert.ok(await mc.exists('k0'));
  assert.not.ok(await mc.exists('k4'));
  slow.release();
  assert.ok(equalBytes(await reading, pattern(0, 4096)));
  assert.is(mc.stats().evict, 6);
  await mc.close();
});

test('eviction and demotion under 3x capacity with checksummed values: never a wrong byte', async () => {
  const mc = await openSmall({ ranks: 2, hbm: 2 * MiB, dram: 4 * MiB, alignment: 512 });
  const capacity = 2 * (2 + 4) * MiB;
  let written = 0;
  let i = 0;
  const sizes = [];
  while (written < 3 * capacity) {
    const size = 1 + ((i * 7919) % 60_000);
    const opts = i % 3 === 0 ? { medium: 'hbm' } : i % 3 === 1 ? { medium: 'dram' } : {};
    if (i % 5 === 0) opts.replicas = 2;
    await mc.put(`obj-${i}`, pattern(i, size), opts);
    sizes.push(size);
    written += size;
    if (i % 7 === 0) await mc.get(`obj-${Math.floor(i / 2)}`);
    i++;
  }
  let present = 0;
  for (let j = 0; j < i; j++) {
    const v = await mc.get(`obj-${j}`);
    if (v === undefined) continue;
    present++;
    assert.ok(equalBytes(v, pattern(j, sizes[j])), `obj-${j}`);
  }
  const s = mc.stats();
  assert.ok(s.evict > 0, `evict ${s.evict}`);
  assert.ok(present > 0, `present ${present}`);
  assert.is(present, s.keys);
  assert.ok(s.hbm_used <= s.hbm_total, 'hbm');
  assert.ok(s.dram_used <= s.dram_total, 'dram');
  assert.equal(countersAddUp(s), []);
  await mc.removeAll();
  for (const seg of mc.segments()) assert.equal([seg.usedBytes, seg.largestFreeBytes], [0, seg.totalBytes], seg.id);
  await mc.close();
});

test('a failed demotion copy evicts by removal, nothing wrong is read', async () => {
  const mc = await openSmall({ hbm: 10 * 4096, dram: 100 * 4096, sim: { failCopy: 1 } });
  // k9 evicts k0 (its copy fails: removed), k10 evicts k1 (demoted)
  for (let i = 0; i < 11; i++) await mc.put(`k${i}`, pattern(i, 4096), { medium: 'hbm' });
  assert.is(await mc.get('k0'), undefined);
  assert.equal((await mc.query('k1')).blobs, [{ rank: 0, medium: 'DRAM' }]);
  for (let i = 1; i < 11; i++) assert.ok(equalBytes(await mc.get(`k${i}`), pattern(i, 4096)));
  assert.equal(mc.segments().map((s) => s.usedBytes), [9 * 4096, 4096]);
  assert.is(mc.stats().evict, 2);
  await mc.close();
});

test('conf file: sizes, world size and thresholds from ock.mmc keys; explicit options win', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mmc-conf-'));
  const file = join(dir, 'mmc-meta.conf');
  writeFileSync(file, [
    '# reference style',
    'ock.mmc.local_service.world_size = 2',
    'ock.mmc.local_service.hbm.size = 2MB',
    'ock.mmc.local_service.dram.size = 3MB',
    'ock.mmc.evict_threshold_high = 70',
    'ock.mmc.evict_threshold_low = 60',
    'ock.mmc.something_new = 1',
  ].join('\n'));
  const mc = await MemCache.open({ config: file });
  assert.equal(mc.segments().map((s) => [s.id, s.totalBytes]), [
    ['rank-0-hbm', 2 * MiB], ['rank-1-hbm', 2 * MiB], ['rank-0-dram', 3 * MiB], ['rank-1-dram', 3 * MiB],
  ]);
  assert.is(mc.warnings.length, 1);
  assert.match(mc.warnings[0], /something_new/);
  await mc.close();
  await rejects(MemCache.open({ config: file, evictThresholdLow: 75 }), 'MMC_INVALID_PARAM', /below/);
  const mc2 = await MemCache.open({ config: file, evictThresholdHigh: 95, segments: [{ rank: 0, medium: 'dram', bytes: MiB }] });
  assert.is(mc2.segments().length, 1);
  await mc2.close();
  writeFileSync(file, 'ock.mmc.evict_threshold_high = lots\n');
  await rejects(MemCache.open({ config: file }), 'MMC_INVALID_PARAM', /evict_threshold_high/);
  await rejects(MemCache.open({ config: join(dir, 'missing.conf') }), 'MMC_INVALID_PARAM', `config file not found: ${join(dir, 'missing.conf')}`);
});

test('1 TiB segments cost nothing until written; alignment 64 addresses all of it', async () => {
  const { createSimBackend } = await import('../../dist/index.js');
  const sim = createSimBackend();
  const mc = await MemCache.open({ backend: sim, alignment: 64, segments: [{ rank: 0, medium: 'dram', bytes: '1TB' }, { rank: 0, medium: 'hbm', bytes: '1TB' }] });
  assert.equal(mc.segments().map((s) => s.totalBytes), [2 ** 40, 2 ** 40]);
  assert.is(sim.residentBytes(), 0);
  const w = await mc.alloc('big', 2 ** 40 - 64, { medium: 'hbm' }); // all but the last 64 bytes
  assert.is(w.blobs[0].offset, 0);
  // an object being written is never evicted: the next one takes the last 64 bytes
  const t = await mc.alloc('tail', 64, { medium: 'hbm' });
  assert.is(t.blobs[0].offset, 2 ** 40 - 64);
  await t.write(pattern(1, 64));
  await t.commit();
  assert.ok(equalBytes(await mc.get('tail'), pattern(1, 64)));
  await w.write(pattern(2, 100));
  await w.abort();
  assert.is(mc.segments()[0].usedBytes, 64);
  assert.ok(sim.residentBytes() <= 2 * 64 * MiB, `resident ${sim.residentBytes()}`);
  await mc.close();
});

test('default open: one rank, 1 GiB HBM and 1 GiB DRAM, lazily backed', async () => {
  const mc = await MemCache.open();
  assert.equal(mc.segments().map((s) => [s.id, s.totalBytes]), [['rank-0-hbm', 1 << 30], ['rank-0-dram', 1 << 30]]);
  assert.ok(mc.ready);
  await mc.close();
  assert.not.ok(mc.ready);
  await rejects(mc.get('x'), 'MMC_NOT_INITIALIZED', /closed/);
  await mc.close(); // twice is fine
});

test.run();
