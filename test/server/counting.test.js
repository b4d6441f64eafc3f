// The counting rules over HTTP, read back from /metrics/summary and /metrics of a real server:
// the items of a batch are counted on the batch operation only (CONTRACT.md "Counting rules").
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startServer, req } from './_helpers.js';
import { encodeBatchPut, encodeKeyList, decodeCodes, decodeBatchGet } from '../../dist/protocol/framing.js';

let S;
test.before(async () => { S = await startServer({ store: { coreMemoryLimit: '64MB' } }); });
test.after(async () => { await S.close(); });

const OBJ = '/api/v1/objects';
const batch = ({ chunks, length }) => Buffer.concat(chunks, length);

/** The /metrics/summary line as { field: number } (hbm_used/dram_used as their used part). */
async function summary() {
  const r = await req(S.url, 'GET', '/metrics/summary');
  assert.is(r.status, 200);
  return Object.fromEntries(r.text.split(' ').map((f) => {
    const [k, v] = f.split('=');
    return [k, Number(v.split('/')[0])];
  }));
}

/** Summary fields that changed while `fn` ran (usage fields left out). */
async function counted(fn) {
  const before = await summary();
  await fn();
  const after = await summary();
  const d = {};
  for (const [k, v] of Object.entries(after)) if (v !== before[k] && !['keys', 'hbm_used', 'dram_used'].includes(k)) d[k] = v - before[k];
  return d;
}

test('two GETs + one batch_get of two keys: get +2, batch_get +1 (summary and /metrics agree)', async () => {
  for (const k of ['a', 'b']) assert.is((await req(S.url, 'PUT', `${OBJ}?key=${k}`, Buffer.from(k))).status, 200);
  const m0 = await req(S.url, 'GET', '/metrics');
  const d = await counted(async () => {
    assert.is((await req(S.url, 'GET', `${OBJ}?key=a`)).text, 'a');
    assert.is((await req(S.url, 'GET', `${OBJ}?key=b`)).text, 'b');
    const r = await req(S.url, 'POST', `${OBJ}/batch_get`, encodeKeyList(['a', 'b']));
    assert.equal(decodeBatchGet(r.body).codes, [0, 0]);
  });
  assert.equal(d, { get_req: 2, get_success: 2, batch_get_req: 1, batch_get_success: 1 });
  const m1 = await req(S.url, 'GET', '/metrics');
  const val = (text, name) => Number(text.split('\n').find((l) => l.startsWith(name + ' ')).split(' ')[1]);
  assert.is(val(m1.text, 'memcache_get_requests_total') - val(m0.text, 'memcache_get_requests_total'), 2);
  assert.is(val(m1.text, 'memcache_batch_get_requests_total') - val(m0.text, 'memcache_batch_get_requests_total'), 1);
  // the core's metadata gauges
  const st = S.mc.stats();
  assert.is(val(m1.text, 'memcache_core_metadata_limit_bytes'), 64 << 20);
  assert.is(val(m1.text, 'memcache_core_metadata_bytes'), st.metadata_used);
});

test('/query_key + /batch_query_keys of two keys: query +1, batch_query +1', async () => {
  const d = await counted(async () => {
    assert.is((await req(S.url, 'GET', '/query_key?key=a')).status, 200);
    assert.is((await req(S.url, 'GET', '/batch_query_keys?keys=a,b')).json().data.length, 2);
  });
  assert.equal(d, { query_req: 1, query_success: 1, batch_query_req: 1, batch_query_success: 1 });
});

test('HEAD + batch_exists, DELETE + batch_remove, PUT + batch_put: the same rule', async () => {
  let d = await counted(async () => {
    assert.is((await req(S.url, 'HEAD', `${OBJ}?key=a`)).status, 200);
    assert.equal(decodeCodes((await req(S.url, 'POST', `${OBJ}/batch_exists`, encodeKeyList(['a', 'b']))).body), [0, 0]);
  });
  assert.equal(d, { exist_key_req: 1, exist_key_success: 1, batch_exist_key_req: 1, batch_exist_key_success: 1 });
  d = await counted(async () => {
    assert.is((await req(S.url, 'PUT', `${OBJ}?key=c`, Buffer.from('c'))).status, 200);
    const r = await req(S.url, 'POST', `${OBJ}/batch_put`, batch(encodeBatchPut([['d', Buffer.from('d')], ['e', Buffer.from('e')]])));
    assert.equal(decodeCodes(r.body), [0, 0]);
  });
  assert.equal(d, {
    alloc_req: 1, alloc_success: 1, update_state_req: 1, update_state_success: 1,
    batch_alloc_req: 1, batch_alloc_success: 1, batch_update_state_req: 1, batch_update_state_success: 1,
  });
  d = await counted(async () => {
    assert.is((await req(S.url, 'DELETE', `${OBJ}?key=a`)).status, 200);
    assert.equal(decodeCodes((await req(S.url, 'POST', `${OBJ}/batch_remove`, encodeKeyList(['b', 'c', 'd', 'e']))).body), [0, 0, 0, 0]);
  });
  assert.equal(d, { remove_req: 1, remove_success: 1, batch_remove_req: 1, batch_remove_success: 1 });
});

test.run();
