// The layer calls (putFrom*, getInto*, their batches) on the remote client against a real
// listening server: the conformance suite of test/helpers/sdk-calls.js, then what only the wire
// shows (batches over batchKeyLimit, values spanning many socket reads, the server's refusals).
import * as assert from 'uvu/assert';
import { suite } from 'uvu';
import { MemCache, MmcError, MMC } from '../../dist/index.js';
import { createServer } from '../../dist/server/index.js';
import { MemCacheClient } from '../../dist/client/index.js';
import { sdkCalls } from '../helpers/sdk-calls.js';
import { pattern } from '../helpers/store.js';
import { SEGMENTS } from './_suite.js';

async function serve(serverOpts = {}, clientOpts = {}) {
  const store = await MemCache.open({ segments: SEGMENTS });
  const running = await createServer(store, serverOpts).listen('127.0.0.1', 0);
  // HTTP unless asked: the wire tests below are about the HTTP data plane
  const mc = await MemCacheClient.connect(running.url, { dataPath: 'off', ...clientOpts });
  return {
    mc, store, running,
    stats: async () => store.stats(),
    async close() { await mc.close(); await running.close(); await store.close(); },
  };
}

sdkCalls('remote MemCacheClient', () => serve()).run();
sdkCalls('remote MemCacheClient (binary data path)', () => serve({}, { dataPath: 'require' })).run();

const wire = suite('layer calls: remote only');

wire('fast path, Koa and the binary data path alike: values spanning many socket reads stream into their views byte-exact', async () => {
  for (const [fastPath, dataPath] of [[true, 'off'], [false, 'off'], [true, 'require']]) {
    const h = await serve({ fastPath }, { dataPath });
    try {
      const values = Array.from({ length: 9 }, (_, i) => Buffer.from(pattern(i, 100_000 + i * 7919)));
      const keys = values.map((_, i) => `big/${i}`);
      // each value in three layers of odd lengths
      const cut = (v) => [v.subarray(0, 17), v.subarray(17, 70_001), v.subarray(70_001)];
      assert.equal(await h.mc.batchPutFromLayers(keys, values.map(cut)), keys.map(() => 0));
      await h.mc.putFromLayers('big/one', cut(values[3]));
      const into = values.map((v) => cut(Buffer.alloc(v.length)));
      assert.equal(await h.mc.batchGetIntoLayers([...keys, 'absent'], [...into, [Buffer.alloc(1)]]), [...values.map((v) => v.length), MMC.MMC_UNMATCHED_KEY]);
      into.forEach((l, i) => assert.ok(Buffer.concat(l).equals(values[i]), `value ${i}, fastPath ${fastPath}`));
      const one = cut(Buffer.alloc(values[3].length));
      assert.is(await h.mc.getIntoLayers('big/one', one), values[3].length);
      assert.ok(Buffer.concat(one).equals(values[3]));
      // a value that does not fit its views is read to its end and dropped: the connection stays usable
      await assertRejects(h.mc.getIntoLayers('big/one', [Buffer.alloc(10)]), MMC.MMC_INVALID_PARAM);
      assert.is(await h.mc.getIntoLayers('big/one', one), values[3].length);
    } finally { await h.close(); }
  }
});

wire('batches over batchKeyLimit go as several requests, answers in request order', async () => {
  const h = await serve({}, { batchKeyLimit: 2 });
  try {
    const keys = ['s0', 's1', '', 's3', 's4'];
    const views = keys.map((k, i) => Buffer.from(`v${i}`));
    assert.equal(await h.mc.batchPutFrom(keys, views), [0, 0, MMC.MMC_INVALID_PARAM, 0, 0]);
    const into = keys.map(() => Buffer.alloc(2));
    assert.equal(await h.mc.batchGetInto(keys, into), [2, 2, MMC.MMC_INVALID_PARAM, 2, 2]);
    assert.equal(into.map(String), ['v0', 'v1', '\0\0', 'v3', 'v4']);
    assert.is(h.store.stats().batch_get_req, 3);
  } finally { await h.close(); }
});

wire('the server\'s refusals are MmcError: a value over its limit, a closed store, a closed client', async () => {
  const h = await serve({ valueLimit: 1000 });
  try {
    await assertRejects(h.mc.putFromLayers('v', [Buffer.alloc(600), Buffer.alloc(600)]), MMC.MMC_INVALID_PARAM);
    assert.is(await h.mc.exists('v'), false);
    await h.store.close();
    await assertRejects(h.mc.getIntoLayers('v', [Buffer.alloc(1)]), MMC.MMC_NOT_INITIALIZED);
    await assertRejects(h.mc.batchGetInto(['v'], [Buffer.alloc(1)]), MMC.MMC_NOT_INITIALIZED);
    await h.mc.close();
    await assertRejects(h.mc.putFrom('v', Buffer.alloc(1)), MMC.MMC_NOT_INITIALIZED);
  } finally { await h.close(); }
});

wire('a key being written: getIntoLayers is MMC_OBJECT_NOT_EXISTS, as embedded', async () => {
  const h = await serve();
  try {
    const w = await h.store.alloc('w', 4);
    await assertRejects(h.mc.getIntoLayers('w', [Buffer.alloc(4)]), MMC.MMC_OBJECT_NOT_EXISTS);
    assert.equal(await h.mc.batchGetInto(['w'], [Buffer.alloc(4)]), [MMC.MMC_OBJECT_NOT_EXISTS]);
    await w.abort();
  } finally { await h.close(); }
});

async function assertRejects(p, code) {
  try {
    await p;
  } catch (e) {
    assert.instance(e, MmcError);
    assert.is(e.code, code, e.message);
    return;
  }
  assert.unreachable(`expected ${code}`);
}

wire.run();
