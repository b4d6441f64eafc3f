// The data plane (/api/v1/objects): real HTTP status codes, streaming put, batch framing, counting.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startServer, req, delta, isErrorBody } from './_helpers.js';
import { encodeBatchPut, encodeKeyList, decodeCodes, decodeBatchGet, decodeKeyList } from '../../dist/protocol/framing.js';

let S;
test.before(async () => { S = await startServer({ server: { valueLimit: 4 << 20 } }); });
test.after(async () => { await S.close(); });

const OBJ = '/api/v1/objects';
const enc = encodeURIComponent;
const batch = ({ chunks, length }) => Buffer.concat(chunks, length);

test('PUT, GET, HEAD, DELETE: bodies, statuses and counting', async () => {
  const v = Buffer.from('hello\n\0world');
  let { d, result: r } = await delta(S.mc, () => req(S.url, 'PUT', `${OBJ}?key=obj1`, v));
  assert.is(r.status, 200);
  assert.is(r.text, `{"success":true,"key":"obj1","size":${v.length}}`);
  assert.is(r.headers['content-type'], 'application/json; charset=utf-8');
  assert.equal(d, { alloc_req: 1, alloc_success: 1, update_state_req: 1, update_state_success: 1 });
  ({ d, result: r } = await delta(S.mc, () => req(S.url, 'GET', `${OBJ}?key=obj1`)));
  assert.is(r.status, 200);
  assert.is(r.headers['content-type'], 'application/octet-stream');
  assert.ok(r.body.equals(v));
  assert.equal(d, { get_req: 1, get_success: 1 });
  ({ d, result: r } = await delta(S.mc, () => req(S.url, 'DELETE', `${OBJ}?key=obj1`)));
  assert.is(r.status, 200);
  assert.is(r.text, '{"success":true,"message":"key deleted"}');
  assert.equal(d, { remove_req: 1, remove_success: 1 });
  ({ d, result: r } = await delta(S.mc, () => req(S.url, 'GET', `${OBJ}?key=obj1`)));
  assert.is(r.status, 404);
  isErrorBody(r, 'Key not found');
  assert.equal(d, { get_req: 1, get_not_found: 1 });
  ({ d, result: r } = await delta(S.mc, () => req(S.url, 'DELETE', `${OBJ}?key=obj1`)));
  assert.is(r.status, 404);
  isErrorBody(r, 'Key not found');
  assert.equal(d, { remove_req: 1, remove_not_found: 1 });
});

test('HEAD: Content-Length is the size; counts one exist_key and nothing else (needs MemCache.sizeOf)', async () => {
  const v = Buffer.from('hello\n\0world');
  await S.mc.put('obj1', v);
  let d, r;
  try {
    ({ d, result: r } = await delta(S.mc, () => req(S.url, 'HEAD', `${OBJ}?key=obj1`)));
    assert.is(r.status, 200);
    assert.is(r.headers['content-length'], String(v.length));
    assert.is(r.body.length, 0);
    assert.equal(d, { exist_key_req: 1, exist_key_success: 1 }, 'HEAD counts one exist_key and nothing else');
    ({ d, result: r } = await delta(S.mc, () => req(S.url, 'HEAD', `${OBJ}?key=nope`)));
    assert.is(r.status, 404);
    assert.equal(d, { exist_key_req: 1, exist_key_not_found: 1 });
  } finally {
    await S.mc.remove('obj1');
  }
});

test('PUT: duplicate 409, medium and replicas honoured, Unicode keys', async () => {
  const key = 'ключ 键 🔑/+?&';
  let r = await req(S.url, 'PUT', `${OBJ}?key=${enc(key)}&medium=dram&replicas=2`, Buffer.alloc(5000, 7));
  assert.is(r.status, 200);
  assert.is(r.json().key, key);
  const q = await S.mc.query(key);
  assert.equal(q.blobs, [{ rank: 0, medium: 'DRAM' }, { rank: 1, medium: 'DRAM' }]);
  const { d, result } = await delta(S.mc, () => req(S.url, 'PUT', `${OBJ}?key=${enc(key)}`, Buffer.alloc(10)));
  assert.is(result.status, 409);
  isErrorBody(result, /^MMC_DUPLICATED_OBJECT: /);
  assert.equal(d, { alloc_req: 1, alloc_fail: 1 });
  assert.is((await S.mc.get(key)).length, 5000, 'the stored value is untouched');
  r = await req(S.url, 'GET', `${OBJ}?key=${enc(key)}`);
  assert.ok(r.body.equals(Buffer.alloc(5000, 7)));
  await S.mc.remove(key);
});

test('refused before the store: 400s and 413 count nothing and leave nothing behind', async () => {
  const cases = [
    ['PUT', `${OBJ}`, Buffer.from('x'), 400, "Missing 'key' parameter"],
    ['PUT', `${OBJ}?key=`, Buffer.from('x'), 400, "Missing 'key' parameter"],
    ['PUT', `${OBJ}?key=${'k'.repeat(1025)}`, Buffer.from('x'), 400, 'MMC_INVALID_PARAM: key too long'],
    ['PUT', `${OBJ}?key=e`, Buffer.alloc(0), 400, 'MMC_INVALID_PARAM: empty value'],
    ['PUT', `${OBJ}?key=m&medium=ssd`, Buffer.from('x'), 400, /^MMC_INVALID_PARAM: medium/],
    ['PUT', `${OBJ}?key=r&replicas=0`, Buffer.from('x'), 400, /^MMC_INVALID_PARAM: replicas/],
    ['PUT', `${OBJ}?key=r&replicas=x`, Buffer.from('x'), 400, /^MMC_INVALID_PARAM: replicas/],
    ['PUT', `${OBJ}?key=big`, Buffer.alloc((4 << 20) + 1), 413, /^MMC_INVALID_PARAM: value too large/],
    ['GET', `${OBJ}`, undefined, 400, "Missing 'key' parameter"],
    ['GET', `${OBJ}?key=${'k'.repeat(2000)}`, undefined, 400, 'MMC_INVALID_PARAM: key too long'],
    ['DELETE', `${OBJ}?key=`, undefined, 400, "Missing 'key' parameter"],
    ['POST', `${OBJ}/batch_get`, Buffer.from([1, 0, 0]), 400, 'MMC_INVALID_PARAM: malformed batch frame'],
    ['POST', `${OBJ}/batch_get`, Buffer.from([1, 0, 0, 0, 5, 0, 0, 0, 65]), 400, 'MMC_INVALID_PARAM: malformed batch frame'],
    ['POST', `${OBJ}/batch_put`, Buffer.from([2, 0, 0, 0, 1, 0, 0, 0]), 400, 'MMC_INVALID_PARAM: malformed batch frame'],
    ['POST', `${OBJ}/batch_put`, batch(encodeBatchPut([['big', Buffer.alloc((4 << 20) + 1)]])), 413, /^MMC_INVALID_PARAM: value too large/],
  ];
  for (const [m, p, body, status, reason] of cases) {
    const { d, result: r } = await delta(S.mc, () => req(S.url, m, p, body));
    assert.is(r.status, status, `${m} ${p.slice(0, 40)}`);
    isErrorBody(r, reason);
    assert.equal(d, {}, `${m} ${p.slice(0, 40)} counts nothing`);
  }
  assert.equal(await S.mc.keys(), []);
  // chunked body over the limit
  const r = await req(S.url, 'PUT', `${OBJ}?key=chunked`, Buffer.alloc((4 << 20) + 10), { 'transfer-encoding': 'chunked' });
  assert.is(r.status, 413);
  assert.not.ok(await S.mc.exists('chunked'));
  // HEAD with a bad key: 400, no body
  assert.is((await req(S.url, 'HEAD', `${OBJ}`)).status, 400);
});

test('PUT chunked (no Content-Length) is buffered once and stored', async () => {
  const v = Buffer.alloc(100000, 3);
  const r = await req(S.url, 'PUT', `${OBJ}?key=ch`, v, { 'transfer-encoding': 'chunked' });
  assert.is(r.status, 200);
  assert.ok(Buffer.from(await S.mc.get('ch')).equals(v));
  await S.mc.remove('ch');
});

test('PUT streams large bodies into the device; no room is 507 and nothing is left', async () => {
  const v = Buffer.alloc(3 << 20);
  for (let i = 0; i < v.length; i += 4096) v[i] = i & 0xff;
  let r = await req(S.url, 'PUT', `${OBJ}?key=large`, v);
  assert.is(r.status, 200);
  r = await req(S.url, 'GET', `${OBJ}?key=large`);
  assert.ok(r.body.equals(v));
  await S.mc.remove('large');
  const T = await startServer({ store: { segments: [{ rank: 0, medium: 'hbm', bytes: '1MB' }] } });
  try {
    const { d, result } = await delta(T.mc, () => req(T.url, 'PUT', `${OBJ}?key=toolarge`, Buffer.alloc(2 << 20)));
    assert.is(result.status, 507);
    isErrorBody(result, /^MMC_NOT_ENOUGH_MEMORY: /);
    assert.equal(d, { alloc_req: 1, alloc_fail: 1 });
    assert.equal(await T.mc.keys(), []);
    assert.is(T.mc.segments()[0].usedBytes, 0);
    assert.is((await req(T.url, 'PUT', `${OBJ}?key=fits`, Buffer.alloc(1000))).status, 200);
  } finally { await T.close(); }
});

test('a client that goes away mid-body leaves no key and no used space', async () => {
  const http = await import('node:http');
  const u = new URL(S.url);
  await new Promise((resolve) => {
    const r = http.request({ host: u.hostname, port: u.port, method: 'PUT', path: `${OBJ}?key=aborted`, headers: { 'content-length': 1 << 20 } });
    r.on('error', () => resolve());
    r.write(Buffer.alloc(64 * 1024));
    setTimeout(() => { r.destroy(); resolve(); }, 100);
  });
  for (let i = 0; i < 50 && S.mc.segments().some((s) => s.usedBytes); i++) await new Promise((r) => setTimeout(r, 20));
  assert.not.ok(await S.mc.exists('aborted'));
  assert.ok(S.mc.segments().every((s) => s.usedBytes === 0), 'space freed');
  assert.is((await req(S.url, 'GET', '/health')).status, 200);
});

test('batch routes: framing round trip and the batch counting rules', async () => {
  const entries = [['b1', Buffer.from('one')], ['b2', Buffer.alloc(9000, 2)], ['b3', Buffer.from('three')]];
  let { d, result: r } = await delta(S.mc, () => req(S.url, 'POST', `${OBJ}/batch_put`, batch(encodeBatchPut(entries))));
  assert.is(r.status, 200);
  assert.is(r.headers['content-type'], 'application/octet-stream');
  assert.equal(decodeCodes(r.body), [0, 0, 0]);
  assert.equal(d, {
    batch_alloc_req: 1, batch_alloc_success: 1, batch_update_state_req: 1, batch_update_state_success: 1,
  });
  // a duplicate is a real error: the batch call is a failure
  ({ d, result: r } = await delta(S.mc, () => req(S.url, 'POST', `${OBJ}/batch_put`, batch(encodeBatchPut([['b1', Buffer.from('x')], ['b4', Buffer.from('four')]])))));
  assert.equal(decodeCodes(r.body), [-3006, 0]);
  assert.is(d.batch_alloc_fail, 1);
  assert.is(d.alloc_req, undefined);
  // batch_get with one absent: success + not_found on the call; items are not counted on get
  ({ d, result: r } = await delta(S.mc, () => req(S.url, 'POST', `${OBJ}/batch_get`, encodeKeyList(['b2', 'nope', 'b1']))));
  const g = decodeBatchGet(r.body);
  assert.equal(g.codes, [0, -3102, 0]);
  assert.ok(Buffer.from(g.values[0]).equals(Buffer.alloc(9000, 2)));
  assert.is(g.values[1], undefined);
  assert.is(Buffer.from(g.values[2]).toString(), 'one');
  assert.equal(d, { batch_get_req: 1, batch_get_success: 1, batch_get_not_found: 1 });
  ({ d, result: r } = await delta(S.mc, () => req(S.url, 'POST', `${OBJ}/batch_exists`, encodeKeyList(['b1', 'zz']))));
  assert.equal(decodeCodes(r.body), [0, -3102]);
  assert.equal(d, { batch_exist_key_req: 1, batch_exist_key_success: 1, batch_exist_key_not_found: 1 });
  ({ d, result: r } = await delta(S.mc, () => req(S.url, 'POST', `${OBJ}/batch_query`, encodeKeyList(['b3']))));
  assert.is(r.text, '{"success":true,"data":[{"key":"b3","size":5,"prot":0,"numBlobs":1,"valid":true,"blobs":[{"rank":0,"medium":"HBM"}]}]}');
  assert.equal(d, { batch_query_req: 1, batch_query_success: 1 });
  r = await req(S.url, 'GET', `${OBJ}/keys`);
  assert.equal(decodeKeyList(r.body).keys.sort(), ['b1', 'b2', 'b3', 'b4']);
  ({ d, result: r } = await delta(S.mc, () => req(S.url, 'POST', `${OBJ}/batch_remove`, encodeKeyList(['b1', 'b2', 'b3', 'b4', 'b5']))));
  assert.equal(decodeCodes(r.body), [0, 0, 0, 0, -3102]);
  assert.equal(d, { batch_remove_req: 1, batch_remove_success: 1, batch_remove_not_found: 1 });
  // empty batches are fine
  r = await req(S.url, 'POST', `${OBJ}/batch_get`, encodeKeyList([]));
  assert.equal(decodeBatchGet(r.body).values, []);
  // remove_all and stats
  await S.mc.put('ra', Buffer.from('x'));
  r = await req(S.url, 'POST', `${OBJ}/remove_all`);
  assert.is(r.text, '{"success":true,"removed":1}');
  r = await req(S.url, 'GET', `${OBJ}/stats`);
  assert.equal(Object.keys(r.json()).sort(), Object.keys(S.mc.stats()).sort());
});

test('a key still being written: GET 404 MMC_OBJECT_NOT_EXISTS (a failed get), batch_get item -3007, over-long batch key -3000', async () => {
  const w = await S.mc.beginPut('wip', 10);
  try {
    let { d, result: r } = await delta(S.mc, () => req(S.url, 'GET', `${OBJ}?key=wip`));
    assert.is(r.status, 404);
    assert.match(JSON.parse(r.text).error_message, /^MMC_OBJECT_NOT_EXISTS: /);
    assert.equal(d, { get_req: 1, get_fail: 1 });
    const { MemCacheClient } = await import('../../dist/index.js');
    const c = await MemCacheClient.connect(S.url);
    try {
      const err = await c.get('wip').then(() => null, (e) => e);
      assert.is(err && err.code, -3007);
    } finally {
      await c.close();
    }
    r = await req(S.url, 'POST', `${OBJ}/batch_get`, encodeKeyList(['wip', 'nokey', 'k'.repeat(1025)]));
    assert.is(r.status, 200);
    assert.equal(decodeBatchGet(r.body).codes, [-3007, -3102, -3000]);
  } finally {
    await w.abort();
  }
});

test.run();
