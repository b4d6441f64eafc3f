// Before the store is ready: ha_state `starting`, the store endpoints refuse, the server answers.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemCache } from '../../dist/index.js';
import { createServer } from '../../dist/server/index.js';
import { req, isErrorBody } from './_helpers.js';

test('starting until the store is open, then serving', async () => {
  let open;
  const pending = new Promise((resolve) => { open = resolve; });
  const s = createServer(pending);
  const r = await s.listen('127.0.0.1', 0);
  try {
    const h = await req(r.url, 'GET', '/health');
    assert.is(h.text, `{"status":"ok","role":"leader","ha_state":"starting","service_ready":false,"leader_address":"${r.address}","view_version":0}`);
    assert.is((await req(r.url, 'GET', '/ha_status')).text, 'starting');
    assert.is((await req(r.url, 'GET', '/role')).text, 'leader');
    isErrorBody(await req(r.url, 'GET', '/query_key?key=a'), /^MMC_NOT_INITIALIZED: /);
    isErrorBody(await req(r.url, 'GET', '/metrics/summary'), /^MMC_NOT_INITIALIZED: /);
    const dp = await req(r.url, 'GET', '/api/v1/objects?key=a');
    assert.is(dp.status, 503);
    isErrorBody(dp, /^MMC_NOT_INITIALIZED: /);
    const cap = (await req(r.url, 'GET', '/api/v1/capacity/usage')).json();
    assert.is(cap.data_source_ready, false);
    assert.is(cap.degraded, true);
    assert.is((await req(r.url, 'GET', '/metrics')).status, 200);
    // metadata works without the store
    assert.is((await req(r.url, 'PUT', '/metadata?key=m', 'v')).text, 'metadata updated');
    const mc = await MemCache.open({ segments: [{ rank: 0, medium: 'hbm', bytes: '4MB' }] });
    open(mc);
    await pending;
    assert.is((await req(r.url, 'GET', '/ha_status')).text, 'serving');
    assert.is((await req(r.url, 'GET', '/health')).json().service_ready, true);
    assert.is((await req(r.url, 'GET', '/get_all_segments')).text, 'rank-0-hbm\n');
    assert.is((await req(r.url, 'GET', '/metadata?key=m')).text, 'v');
    await mc.close();
    assert.is((await req(r.url, 'GET', '/ha_status')).text, 'starting', 'a closed store is not serving');
  } finally { await r.close(); }
});

test('advertise option sets leader_address', async () => {
  const mc = await MemCache.open({ segments: [{ rank: 0, medium: 'hbm', bytes: '4MB' }] });
  const s = createServer(mc, { advertise: 'node1.example:9000' });
  const r = await s.listen('127.0.0.1', 0);
  try {
    assert.is((await req(r.url, 'GET', '/leader')).text, '{"present":true,"leader_address":"node1.example:9000","view_version":0}');
  } finally { await r.close(); await mc.close(); }
});

test('listen on a port in use rejects with EADDRINUSE', async () => {
  const mc = await MemCache.open({ segments: [{ rank: 0, medium: 'hbm', bytes: '4MB' }] });
  const a = await createServer(mc).listen('127.0.0.1', 0);
  try {
    await createServer(mc).listen('127.0.0.1', a.port).then(() => assert.unreachable('listened twice'), (e) => assert.is(e.code, 'EADDRINUSE'));
  } finally { await a.close(); await mc.close(); }
});

test('fast path and Koa answer the same bytes and count the same', async () => {
  const mc = await MemCache.open({ segments: [{ rank: 0, medium: 'hbm', bytes: '4MB' }] });
  await mc.put('k', Buffer.from('value'));
  const fast = await createServer(mc).listen('127.0.0.1', 0);
  const slow = await createServer(mc, { fastPath: false, advertise: fast.address }).listen('127.0.0.1', 0);
  try {
    for (const [m, p] of [['GET', '/health'], ['HEAD', '/health'], ['GET', '/api/v1/objects?key=k'], ['GET', '/api/v1/objects?key=nope'],
      ['GET', '/api/v1/objects?key='], ['GET', `/api/v1/objects?key=${'x'.repeat(1025)}`], ['HEAD', '/api/v1/objects?key=k'], ['GET', '/api/v1/objects?key=%zz'],
      ['GET', '/api/v1/objects?key=k#frag'], ['GET', '/api/v1/objects?key=k%23frag'], ['GET', '/health#x']]) {
      const s0 = mc.stats();
      const a = await req(fast.url, m, p);
      const s1 = mc.stats();
      const b = await req(slow.url, m, p);
      const s2 = mc.stats();
      assert.is(a.status, b.status, `${m} ${p}`);
      assert.is(a.headers['content-type'], b.headers['content-type'], `${m} ${p}`);
      assert.is(a.headers['content-length'], b.headers['content-length'], `${m} ${p}`);
      assert.is(a.text.replace(/"timestamp":\d+/, ''), b.text.replace(/"timestamp":\d+/, ''), `${m} ${p}`);
      for (const f of ['get_req', 'get_success', 'get_not_found', 'exist_key_req']) assert.is(s1[f] - s0[f], s2[f] - s1[f], `${m} ${p} ${f}`);
    }
  } finally { await fast.close(); await slow.close(); await mc.close(); }
});

test.run();
