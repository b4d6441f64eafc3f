// The same behavioural suite, embedded and remote: code written against MemCache runs against a
// server by changing one line.
import * as assert from 'uvu/assert';
import { MemCache, MmcError, MMC } from '../../dist/index.js';
import { createServer } from '../../dist/server/index.js';
import { MemCacheClient } from '../../dist/client/index.js';
import { suite } from 'uvu';
import { behaviour, SEGMENTS, COUNTED } from './_suite.js';

behaviour('embedded MemCache', async () => {
  const mc = await MemCache.open({ segments: SEGMENTS });
  return { mc, stats: async () => mc.stats(), alloc: (k, n) => mc.alloc(k, n), close: () => mc.close() };
}).run();

/** The remote client over one transport: 'off' is HTTP, 'require' the binary data path. */
const remoteOver = (dataPath) => async () => {
  const store = await MemCache.open({ segments: SEGMENTS });
  const running = await createServer(store).listen('127.0.0.1', 0);
  const mc = await MemCacheClient.connect(running.url, { dataPath });
  assert.is(mc.transport, dataPath === 'off' ? 'http' : 'binary');
  return {
    mc,
    stats: async () => store.stats(),
    alloc: (k, n) => store.alloc(k, n),
    async close() { await mc.close(); await running.close(); await store.close(); },
  };
};

behaviour('remote MemCacheClient (binary data path)', remoteOver('require')).run();

const remote = behaviour('remote MemCacheClient', remoteOver('off'));

remote('connect: refused and non-server URLs are MmcError; closed client refuses', async () => {
  let e;
  try { await MemCacheClient.connect('http://127.0.0.1:1'); } catch (x) { e = x; }
  assert.instance(e, MmcError);
  assert.is(e.code, MMC.MMC_ERROR);
  const store = await MemCache.open({ segments: SEGMENTS });
  const running = await createServer(store).listen('127.0.0.1', 0);
  const c = await MemCacheClient.connect(running.address);
  await c.close();
  try { await c.get('a'); assert.unreachable(); } catch (x) { assert.is(x.code, MMC.MMC_NOT_INITIALIZED); }
  await running.close();
  await store.close();
});

remote('metadata helpers: byte-exact, absent is undefined', async () => {
  const store = await MemCache.open({ segments: SEGMENTS });
  const running = await createServer(store).listen('127.0.0.1', 0);
  const c = await MemCacheClient.connect(running.url);
  try {
    await c.putMetadata('m', '{"success":false,"error_message":"x","timestamp":1}');
    assert.is((await c.getMetadata('m')).toString(), '{"success":false,"error_message":"x","timestamp":1}');
    await c.putMetadata('e', '');
    assert.is((await c.getMetadata('e')).length, 0);
    assert.is(await c.getMetadata('absent'), undefined);
    assert.is(await c.deleteMetadata('m'), true);
    assert.is(await c.deleteMetadata('m'), false);
  } finally { await c.close(); await running.close(); await store.close(); }
});

remote('batches spanning many socket reads round trip byte-exact, fast path and Koa alike; errors are MmcError', async () => {
  for (const fastPath of [true, false]) {
    const store = await MemCache.open({ segments: SEGMENTS });
    const running = await createServer(store, { fastPath }).listen('127.0.0.1', 0);
    const c = await MemCacheClient.connect(running.url);
    try {
      // odd sizes, so values straddle the socket reads on both sides
      const entries = Array.from({ length: 97 }, (_, i) => [`span/${i}/键`, Buffer.alloc(1 + ((i * 7919) % 40000), i + 1)]);
      entries.forEach(([, v], i) => { v[0] = i; v[v.length - 1] = 255 - i; });
      assert.equal(await c.batchPut(entries), entries.map(() => 0));
      const got = await c.batchGet([...entries.map(([k]) => k), 'absent']);
      assert.is(got.length, entries.length + 1);
      for (let i = 0; i < entries.length; i++) assert.ok(Buffer.isBuffer(got[i]) && got[i].equals(entries[i][1]), `value ${i} (fastPath ${fastPath})`);
      assert.is(got[entries.length], undefined);
      await c.removeAll();
      // a refused batch: the server's error as MmcError
      let e;
      try { await c.batchPut([['x', Buffer.alloc(1)]], { medium: 'ssd' }); } catch (x) { e = x; }
      assert.instance(e, MmcError);
      assert.is(e.code, MMC.MMC_INVALID_PARAM);
      await store.close();
      e = undefined;
      try { await c.batchGet(['a']); } catch (x) { e = x; }
      assert.instance(e, MmcError);
      assert.is(e.code, MMC.MMC_NOT_INITIALIZED);
    } finally { await c.close(); await running.close(); await store.close(); }
  }
});

remote('GET max_size (the remote getInto), fast path and Koa alike: a larger value is 400 and a failed get', async () => {
  for (const fastPath of [true, false]) {
    const store = await MemCache.open({ segments: SEGMENTS });
    const running = await createServer(store, { fastPath, valueLimit: 1 << 20 }).listen('127.0.0.1', 0);
    try {
      await store.put('g', Buffer.from('nine byte'));
      const get = async (q) => {
        const r = await fetch(`${running.url}/api/v1/objects?key=g${q}`);
        return { status: r.status, body: Buffer.from(await r.arrayBuffer()).toString() };
      };
      const before = store.stats();
      assert.equal(await get('&max_size=9'), { status: 200, body: 'nine byte' });
      assert.equal(await get('&max_size=2000000'), { status: 200, body: 'nine byte' }); // over the value limit: a plain get
      let r = await get('&max_size=4');
      assert.is(r.status, 400);
      assert.is(JSON.parse(r.body).error_message, "MMC_INVALID_PARAM: dst holds 4 bytes, the value of 'g' has 9");
      const after = store.stats();
      assert.equal([after.get_req - before.get_req, after.get_success - before.get_success, after.get_fail - before.get_fail], [3, 2, 1]);
      for (const bad of ['x', '-1', '1e3', '1234567890123456']) {
        r = await get(`&max_size=${bad}`);
        assert.is(r.status, 400, bad);
        assert.is(JSON.parse(r.body).error_message, 'MMC_INVALID_PARAM: max_size must be a byte count');
      }
      assert.is(store.stats().get_req, after.get_req, 'a refused max_size reaches no store');
    } finally { await running.close(); await store.close(); }
  }
});

remote.run();

// Both ran the same calls: every counter they changed, test by test, agrees.
const agree = suite('embedded and remote count alike');
agree('the counters of every counted test agree', () => {
  const embedded = COUNTED['embedded MemCache'];
  assert.ok(Object.keys(embedded).length >= 5, Object.keys(embedded).join(', '));
  for (const name of ['remote MemCacheClient', 'remote MemCacheClient (binary data path)']) {
    const remoteCounts = COUNTED[name];
    assert.equal(Object.keys(remoteCounts).sort(), Object.keys(embedded).sort(), name);
    for (const title of Object.keys(embedded)) assert.equal(remoteCounts[title], embedded[title], `${name}: ${title}`);
  }
});
agree.run();
