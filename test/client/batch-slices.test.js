// Batches larger than the server's batchKeyLimit: the client sends them as several requests, so
// they work remotely as they do embedded (the server refuses a single frame over its limit).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemCacheClient } from '../../dist/index.js';
import { startServer } from '../server/_helpers.js';

test('batches over the server limit are sent in slices: every item answered in order, each slice counted as one batch', async () => {
  const srv = await startServer({ server: { batchKeyLimit: 1000 } });
  const mc = await MemCacheClient.connect(srv.url, { batchKeyLimit: 1000 });
  const N = 2500;
  const keys = Array.from({ length: N }, (_, i) => `s/${i}`);
  const value = (i) => new Uint8Array([i & 0xff, (i >> 8) & 0xff, 7]);
  const before = await mc.stats();
  const putCodes = await mc.batchPut(keys.map((k, i) => [k, value(i)]));
  assert.equal(putCodes, new Array(N).fill(0));
  const got = await mc.batchGet([...keys, 'absent']);
  assert.is(got.length, N + 1);
  keys.forEach((k, i) => assert.equal([...got[i]], [...value(i)], k));
  assert.is(got[N], undefined);
  const exists = await mc.batchExists(keys);
  assert.ok(exists.every(Boolean));
  const q = await mc.batchQuery(keys);
  assert.equal(q.map((r) => r.key), keys);
  assert.equal(await mc.batchRemove(keys), new Array(N).fill(0));
  const after = await mc.stats();
  assert.is(after.batch_get_req - before.batch_get_req, 3); // 2501 keys in slices of 1000
  assert.is(after.keys, 0);
  // a client that does not slice below the server's limit gets the server's refusal
  const unsliced = await MemCacheClient.connect(srv.url, { batchKeyLimit: 5000 });
  await unsliced.batchGet(keys).then(() => assert.unreachable('a frame over the limit was accepted'), (err) => {
    assert.match(err.message, /keys in one batch/);
  });
  await unsliced.close();
  await mc.close();
  await srv.close();
});

test.run();
