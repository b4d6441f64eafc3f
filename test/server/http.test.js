// The 24 endpoints of the contract against a real server on a free loopback port.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { startServer, req, delta, isErrorBody } from './_helpers.js';

let S;
const CT_JSON = 'application/json; charset=utf-8';
const CT_TEXT = 'text/plain; charset=utf-8';
const SENTINEL = 'sentinel/key';
const SENTINEL_VALUE = Buffer.from('still here');

test.before(async () => {
  S = await startServer();
  await S.mc.put(SENTINEL, SENTINEL_VALUE);
});
test.after(async () => { await S.close(); });

/** The server answers and the store kept its data. */
async function intact() {
  const h = await req(S.url, 'GET', '/health');
  assert.is(h.status, 200);
  const v = await S.mc.get(SENTINEL);
  assert.ok(v && Buffer.from(v).equals(SENTINEL_VALUE), 'store intact');
}

const get = (p) => req(S.url, 'GET', p);

// ---- health and HA ----
test('GET /health: standalone leader, serving, own address', async () => {
  const r = await get('/health');
  assert.is(r.status, 200);
  assert.is(r.headers['content-type'], CT_JSON);
  assert.is(r.text, `{"status":"ok","role":"leader","ha_state":"serving","service_ready":true,"leader_address":"${S.address}","view_version":0}`);
});

test('GET /role, /ha_status, /leader', async () => {
  const role = await get('/role');
  assert.is(role.text, 'leader');
  assert.is(role.headers['content-type'], CT_TEXT);
  const ha = await get('/ha_status');
  assert.is(ha.text, 'serving');
  assert.is(ha.headers['content-type'], CT_TEXT);
  const l = await get('/leader');
  assert.is(l.text, `{"present":true,"leader_address":"${S.address}","view_version":0}`);
  assert.is(l.headers['content-type'], CT_JSON);
});

// ---- metadata ----
test('metadata: byte-exact round trip (newlines, CRLF, UTF-8, empty), own store, no counting', async () => {
  const values = ['a\nb\r\n\n', '键值 ✓ \u{1F600}\u0000end', '', '{"success":false,"x":1}', 'x'.repeat(1 << 20)];
  for (const [i, v] of values.entries()) {
    const key = `meta ${i}`;
    const { d } = await delta(S.mc, async () => {
      const p = await req(S.url, 'PUT', `/metadata?key=meta+${i}`, Buffer.from(v, 'utf8'), { 'content-type': 'text/plain; charset=utf-8' });
      assert.is(p.status, 200);
      assert.is(p.text, 'metadata updated');
      assert.is(p.headers['content-type'], CT_TEXT);
      const g = await get(`/metadata?key=${encodeURIComponent(key)}`);
      assert.is(g.status, 200);
      assert.is(g.headers['content-type'], CT_TEXT);
      assert.ok(g.body.equals(Buffer.from(v, 'utf8')), `value ${i} byte for byte`);
    });
    assert.equal(d, {}, 'metadata counts nothing');
  }
  // overwrite
  await req(S.url, 'PUT', '/metadata?key=meta+0', 'new');
  assert.is((await get('/metadata?key=meta%200')).text, 'new');
  // not in the object index
  assert.not.ok(await S.mc.exists('meta 0'));
  const del = await req(S.url, 'DELETE', '/metadata?key=meta%200');
  assert.is(del.text, 'metadata deleted');
  assert.is(del.headers['content-type'], CT_TEXT);
  isErrorBody(await get('/metadata?key=meta%200'), 'Metadata key not found');
  isErrorBody(await req(S.url, 'DELETE', '/metadata?key=meta%200'), 'Metadata key not found');
});

test('metadata: missing key, empty key, key too long', async () => {
  for (const m of ['GET', 'PUT', 'DELETE']) {
    for (const p of ['/metadata', '/metadata?key=', '/metadata?other=1']) {
      const r = await req(S.url, m, p, m === 'PUT' ? 'v' : undefined);
      assert.is(r.status, 200);
      isErrorBody(r, "Missing 'key' parameter");
    }
    isErrorBody(await req(S.url, m, `/metadata?key=${'k'.repeat(1025)}`, m === 'PUT' ? 'v' : undefined), 'MMC_INVALID_PARAM: key too long');
  }
  await intact();
});

test('metadata: oversize value refused (Content-Length and chunked), nothing stored', async () => {
  const big = Buffer.alloc((1 << 20) + 1, 0x61);
  const r = await req(S.url, 'PUT', '/metadata?key=big', big);
  assert.is(r.status, 200);
  isErrorBody(r, /^MMC_INVALID_PARAM: metadata value too large/);
  isErrorBody(await get('/metadata?key=big'), 'Metadata key not found');
  const r2 = await req(S.url, 'PUT', '/metadata?key=big', big, { 'transfer-encoding': 'chunked' });
  isErrorBody(r2, /^MMC_INVALID_PARAM: metadata value too large/);
  isErrorBody(await get('/metadata?key=big'), 'Metadata key not found');
  // exactly the limit is fine
  const ok = await req(S.url, 'PUT', '/metadata?key=big', big.subarray(0, 1 << 20));
  assert.is(ok.text, 'metadata updated');
  await req(S.url, 'DELETE', '/metadata?key=big');
  await intact();
});

// ---- keys ----
test('GET /query_key: exact body, counting, errors', async () => {
  await S.mc.put('qk', Buffer.alloc(100, 1));
  let { d, result: r } = await delta(S.mc, () => get('/query_key?key=qk'));
  assert.is(r.headers['content-type'], CT_JSON);
  assert.is(r.text, '{"key":"qk","size":100,"prot":0,"numBlobs":1,"valid":true,"blobs":[{"rank":0,"medium":"HBM"}]}');
  assert.equal(d, { query_req: 1, query_success: 1 });
  ({ d, result: r } = await delta(S.mc, () => get('/query_key?key=absent')));
  isErrorBody(r, 'Key not found');
  assert.equal(d, { query_req: 1, query_not_found: 1 });
  ({ d, result: r } = await delta(S.mc, () => get('/query_key?key=')));
  isErrorBody(r, "Missing 'key' parameter");
  assert.equal(d, {}, 'refused before the store: counts nothing');
  ({ d, result: r } = await delta(S.mc, () => get(`/query_key?key=${'x'.repeat(1025)}`)));
  isErrorBody(r, 'MMC_INVALID_PARAM: key too long');
  assert.equal(d, {});
  assert.is(r.status, 200);
  await S.mc.remove('qk');
});

test('GET /batch_query_keys: request order, absent shape, empty items, batch counting', async () => {
  await S.mc.put('bq1', Buffer.alloc(10, 1));
  await S.mc.put('bq2', Buffer.alloc(20, 1), { medium: 'dram', replicas: 2 });
  const { d, result: r } = await delta(S.mc, () => get('/batch_query_keys?keys=bq2,,nope,bq1,'));
  assert.is(r.headers['content-type'], CT_JSON);
  assert.is(r.text, '{"success":true,"data":[' +
    '{"key":"bq2","size":20,"prot":0,"numBlobs":2,"valid":true,"blobs":[{"rank":0,"medium":"DRAM"},{"rank":1,"medium":"DRAM"}]},' +
    '{"key":"nope","size":0,"prot":0,"numBlobs":0,"valid":false,"blobs":[]},' +
    '{"key":"bq1","size":10,"prot":0,"numBlobs":1,"valid":true,"blobs":[{"rank":0,"medium":"HBM"}]}]}');
  assert.equal(d, { batch_query_req: 1, batch_query_success: 1, batch_query_not_found: 1 });
  const all = await delta(S.mc, () => get('/batch_query_keys?keys=bq1'));
  assert.equal(all.d, { batch_query_req: 1, batch_query_success: 1 });
  // split on ',' after decoding: %2C separates too; '+' is a space inside an item
  const enc = (await get('/batch_query_keys?keys=bq1%2C%2Cbq2,a+b')).json().data.map((x) => x.key);
  assert.equal(enc, ['bq1', 'bq2', 'a b']);
  for (const p of ['/batch_query_keys', '/batch_query_keys?keys=', '/batch_query_keys?keys=,,,']) {
    const m = await delta(S.mc, () => get(p));
    isErrorBody(m.result, "Missing 'keys' parameter");
    assert.equal(m.d, {});
  }
  isErrorBody(await get(`/batch_query_keys?keys=a,${'y'.repeat(1025)}`), 'MMC_INVALID_PARAM: key too long');
  await S.mc.batchRemove(['bq1', 'bq2']);
});

test('DELETE /key: body, counting, Key not found', async () => {
  await S.mc.put('dk', Buffer.alloc(1, 1));
  let { d, result: r } = await delta(S.mc, () => req(S.url, 'DELETE', '/key?key=dk'));
  assert.is(r.text, '{"success":true,"message":"key deleted"}');
  assert.is(r.headers['content-type'], CT_JSON);
  assert.equal(d, { remove_req: 1, remove_success: 1 });
  assert.not.ok(await S.mc.exists('dk'));
  ({ d, result: r } = await delta(S.mc, () => req(S.url, 'DELETE', '/key?key=dk')));
  isErrorBody(r, 'Key not found');
  assert.equal(d, { remove_req: 1, remove_not_found: 1 });
  ({ d, result: r } = await delta(S.mc, () => req(S.url, 'DELETE', '/key')));
  isErrorBody(r, "Missing 'key' parameter");
  assert.equal(d, {});
});

test('GET /get_all_keys and DELETE /all_keys: bodies and counting', async () => {
  await S.mc.put('k\u00e9y 1', Buffer.alloc(1, 1));
  let { d, result: r } = await delta(S.mc, () => get('/get_all_keys'));
  assert.is(r.headers['content-type'], CT_TEXT);
  assert.equal(r.text.split('\n').filter(Boolean).sort(), [SENTINEL, 'k\u00e9y 1'].sort());
  assert.ok(r.text.endsWith('\n'));
  assert.equal(d, { get_all_keys_req: 1, get_all_keys_success: 1 });
  ({ d, result: r } = await delta(S.mc, () => req(S.url, 'DELETE', '/all_keys')));
  assert.is(r.text, '{"success":true,"message":"all keys deleted"}');
  assert.is(r.headers['content-type'], CT_JSON);
  assert.is(d.remove_all_req, 1);
  assert.is(d.remove_all_success, 1);
  r = await get('/get_all_keys');
  assert.is(r.text, '');
  assert.is(r.status, 200);
  await S.mc.put(SENTINEL, SENTINEL_VALUE);
});

// ---- segments and capacity: pure reads, count nothing ----
test('segments: ids HBM first then DRAM by rank; query_segment; status; capacity', async () => {
  await S.mc.put('cap', Buffer.alloc(5000, 1));
  const { d } = await delta(S.mc, async () => {
    const segs = await get('/get_all_segments');
    assert.is(segs.headers['content-type'], CT_TEXT);
    assert.is(segs.text, 'rank-0-hbm\nrank-1-hbm\nrank-0-dram\nrank-1-dram\n');
    const q = await get('/query_segment?segment=rank-0-hbm');
    const used = S.mc.segments()[0].usedBytes;
    const total = 16 * 1024 * 1024;
    assert.is(q.headers['content-type'], CT_JSON);
    assert.is(q.text, `{"segment":"rank-0-hbm","medium":"HBM","total_bytes":${total},"used_bytes":${used},"remaining_bytes":${total - used},"remaining_ratio":${Number(((total - used) / total).toFixed(10))}}`);
    assert.is(used % 4096, 0);
    const q2 = await get('/query_segment?segment=rank-1-dram');
    assert.is(q2.json().remaining_ratio, 1);
    isErrorBody(await get('/query_segment?segment=rank-9-hbm'), 'Segment not found');
    isErrorBody(await get('/query_segment'), "Missing 'segment' parameter");
    const st = await get('/api/v1/segments/status?segment=rank-1-hbm');
    assert.is(st.text, '{"success":true,"segment":"rank-1-hbm","status":1,"status_name":"OK"}');
    isErrorBody(await get('/api/v1/segments/status?segment=nope'), 'Segment not found');
    isErrorBody(await get('/api/v1/segments/status?segment='), "Missing 'segment' parameter");
    const u = await get('/api/v1/capacity/usage');
    const uj = u.json();
    assert.equal(Object.keys(uj), ['timestamp', 'data_source_ready', 'degraded', 'npu', 'cpu']);
    assert.equal(Object.keys(uj.npu), ['total_bytes', 'used_bytes', 'free_bytes', 'usage_ratio']);
    assert.is(uj.data_source_ready, true);
    assert.is(uj.degraded, false);
    assert.is(uj.npu.total_bytes, 2 * total);
    assert.is(uj.npu.used_bytes + uj.npu.free_bytes, 2 * total);
    assert.ok(uj.npu.usage_ratio > 0 && uj.npu.usage_ratio < 1);
    assert.equal(uj.cpu, { total_bytes: 2 * total, used_bytes: 0, free_bytes: 2 * total, usage_ratio: 0 });
    assert.ok(Math.abs(uj.timestamp - Date.now() / 1000) < 5);
    const sr = (await get('/api/v1/capacity/segment_remaining')).json();
    assert.equal(Object.keys(sr), ['timestamp', 'data_source_ready', 'degraded', 'segments']);
    assert.equal(sr.segments.map((s) => s.segment_name), ['rank-0-hbm', 'rank-1-hbm', 'rank-0-dram', 'rank-1-dram']);
    assert.equal(Object.keys(sr.segments[0]), ['segment_name', 'medium', 'total_bytes', 'used_bytes', 'remaining_bytes', 'remaining_ratio']);
    await get('/metrics');
    await get('/metrics/summary');
    await get('/metrics/ptracer');
    await get('/api/v1/analysis/alloc_free_latency');
    await get('/health');
  });
  assert.equal(d, {}, 'pure reads count nothing');
  await S.mc.remove('cap');
});

test('capacity/usage: a medium with no segment is all zeros', async () => {
  const T = await startServer({ store: { segments: [{ rank: 0, medium: 'dram', bytes: '8MB' }] } });
  try {
    const u = (await req(T.url, 'GET', '/api/v1/capacity/usage')).json();
    assert.equal(u.npu, { total_bytes: 0, used_bytes: 0, free_bytes: 0, usage_ratio: 0 });
    assert.is(u.cpu.total_bytes, 8 << 20);
    const m = (await req(T.url, 'GET', '/metrics')).text;
    assert.ok(m.includes('\nmemcache_total_capacity_bytes{medium="hbm"} 0\n'));
    assert.ok(m.includes('\nmemcache_allocated_bytes{medium="hbm"} 0\n'));
    assert.ok((await req(T.url, 'GET', '/metrics/summary')).text.includes(' hbm_used=0/0 dram_used=0/8388608 '));
  } finally { await T.close(); }
  const H = await startServer({ store: { segments: [{ rank: 0, medium: 'hbm', bytes: '8MB' }] } });
  try {
    const u = (await req(H.url, 'GET', '/api/v1/capacity/usage')).json();
    assert.equal(u.cpu, { total_bytes: 0, used_bytes: 0, free_bytes: 0, usage_ratio: 0 });
    assert.is(u.npu.total_bytes, 8 << 20);
  } finally { await H.close(); }
});

test('segment order does not depend on the order they were mounted in: HBM by rank, then DRAM by rank', async () => {
  const T = await startServer({ store: { segments: [
    { rank: 1, medium: 'dram', bytes: '4MB' }, { rank: 0, medium: 'dram', bytes: '4MB' },
    { rank: 1, medium: 'hbm', bytes: '4MB' }, { rank: 0, medium: 'hbm', bytes: '4MB' },
  ] } });
  try {
    const ids = ['rank-0-hbm', 'rank-1-hbm', 'rank-0-dram', 'rank-1-dram'];
    assert.is((await req(T.url, 'GET', '/get_all_segments')).text, ids.join('\n') + '\n');
    const sr = (await req(T.url, 'GET', '/api/v1/capacity/segment_remaining')).json();
    assert.equal(sr.segments.map((s) => s.segment_name), ids);
    assert.equal(sr.segments.map((s) => s.medium), ['HBM', 'HBM', 'DRAM', 'DRAM']);
    const m = (await req(T.url, 'GET', '/metrics')).text.split('\n');
    for (const fam of ['memcache_segment_capacity_bytes', 'memcache_segment_allocated_bytes']) {
      assert.equal(m.filter((l) => l.startsWith(`${fam}{`)).map((l) => /segment="([^"]+)"/.exec(l)[1]), ids, fam);
    }
  } finally { await T.close(); }
});

// ---- drain jobs ----
test('drain jobs: Not supported whatever the parameters', async () => {
  for (const [m, p] of [['POST', '/api/v1/drain_jobs'], ['POST', '/api/v1/drain_jobs?segment=rank-0-hbm'],
    ['GET', '/api/v1/drain_jobs/query'], ['GET', '/api/v1/drain_jobs/query?job_id=job_1'],
    ['POST', '/api/v1/drain_jobs/cancel'], ['POST', '/api/v1/drain_jobs/cancel?job_id=job_1']]) {
    const r = await req(S.url, m, p, m === 'POST' ? '{}' : undefined);
    assert.is(r.status, 200);
    isErrorBody(r, 'Not supported');
  }
});

// ---- 404 / 405 / HEAD ----
test('unknown paths: 404 Not found; wrong methods: 405 with Allow', async () => {
  for (const p of ['/nope', '/health/', '/HEALTH', '/metrics/', '/api/v1', '/%zz', '/metadata%2F', '/api/v1/objects/nope']) {
    const r = await get(p);
    assert.is(r.status, 404, p);
    isErrorBody(r, 'Not found');
  }
  for (const [m, p, allow] of [['POST', '/health', 'GET, HEAD'], ['DELETE', '/metrics', 'GET, HEAD'], ['PUT', '/query_key?key=a', 'GET, HEAD'],
    ['GET', '/key?key=a', 'DELETE'], ['GET', '/all_keys', 'DELETE'], ['GET', '/api/v1/drain_jobs', 'POST'], ['PATCH', '/metadata?key=a', 'GET, HEAD, PUT, DELETE'],
    ['OPTIONS', '/health', 'GET, HEAD'], ['POST', '/api/v1/objects?key=a', 'PUT, HEAD, GET, DELETE']]) {
    const r = await req(S.url, m, p);
    assert.is(r.status, 405, `${m} ${p}`);
    assert.is(r.headers.allow, allow, `${m} ${p}`);
    isErrorBody(r, 'Method not allowed');
  }
  await intact();
});

test('HEAD is answered wherever GET is, with the GET headers and no body', async () => {
  await req(S.url, 'PUT', '/metadata?key=hm', 'meta');
  for (const p of ['/health', '/role', '/metrics', '/metrics/summary', '/get_all_segments', '/api/v1/capacity/usage',
    '/metadata?key=hm', '/metadata?key=absent', '/metrics/ptracer', '/ha_status', '/leader', `/query_key?key=${encodeURIComponent(SENTINEL)}`,
    '/query_key?key=absent', '/batch_query_keys?keys=a,b', '/get_all_keys', '/query_segment?segment=rank-0-hbm', '/query_segment?segment=x',
    '/api/v1/drain_jobs/query?job_id=j', '/api/v1/segments/status?segment=rank-0-dram', '/api/v1/capacity/segment_remaining',
    '/api/v1/analysis/alloc_free_latency', '/health?x=1']) {
    const h = await req(S.url, 'HEAD', p);
    const g = await get(p);
    assert.is(h.status, 200, p);
    assert.is(h.body.length, 0);
    assert.is(h.headers['content-type'], g.headers['content-type'], p);
    assert.is(h.headers['content-length'], g.headers['content-length'], p);
  }
  await req(S.url, 'DELETE', '/metadata?key=hm');
});

// ---- query-string decoding ----
test('query strings: UTF-8 percent-encoding, + as space, %2B as plus, lenient on malformed input', async () => {
  await S.mc.put('a b', Buffer.from('space'));
  await S.mc.put('a+b', Buffer.from('plus'));
  await S.mc.put('键/é?&=#', Buffer.from('unicode'));
  assert.is((await get('/query_key?key=a+b')).json().key, 'a b');
  assert.is((await get('/query_key?key=a%20b')).json().key, 'a b');
  assert.is((await get('/query_key?key=a%2Bb')).json().key, 'a+b');
  assert.is((await get(`/query_key?key=${encodeURIComponent('键/é?&=#')}`)).json().key, '键/é?&=#');
  assert.is((await get('/query_key?x=1&key=a%2Bb&key=zzz')).json().key, 'a+b', 'first occurrence wins');
  for (const p of ['/query_key?key=%', '/query_key?key=%zz', '/query_key?key=%E4', '/query_key?key=%E4%B8', '/query_key?key=%%%41',
    '/query_key?key=%C0%AF', '/metadata?key=%FF', '/batch_query_keys?keys=%,%E4,a', '/query_segment?segment=%zz']) {
    const r = await get(p);
    assert.is(r.status, 200, p);
    assert.ok(r.json(), p);
  }
  // a bad '%' stays literal
  await S.mc.put('%zz', Buffer.from('lit'));
  assert.is((await get('/query_key?key=%zz')).json().key, '%zz');
  await S.mc.batchRemove(['a b', 'a+b', '键/é?&=#', '%zz']);
  await intact();
});

test('huge keys: 1024 bytes accepted, 1025 refused, 10 KB refused; server unharmed', async () => {
  const k1024 = 'é'.repeat(512); // 1024 bytes of UTF-8
  await S.mc.put(k1024, Buffer.from('x'));
  assert.is((await get(`/query_key?key=${encodeURIComponent(k1024)}`)).json().key, k1024);
  isErrorBody(await get(`/query_key?key=${encodeURIComponent(k1024 + 'a')}`), 'MMC_INVALID_PARAM: key too long');
  isErrorBody(await get(`/query_key?key=${'z'.repeat(10000)}`), 'MMC_INVALID_PARAM: key too long');
  isErrorBody(await req(S.url, 'DELETE', `/key?key=${'z'.repeat(10000)}`), 'MMC_INVALID_PARAM: key too long');
  // beyond Node's default 16 KiB request head: still the contract's answer, not a bare 431
  const huge = await get(`/query_key?key=${encodeURIComponent('键'.repeat(20000))}`);
  assert.is(huge.status, 200);
  isErrorBody(huge, 'MMC_INVALID_PARAM: key too long');
  const hugeDp = await req(S.url, 'GET', `/api/v1/objects?key=${'z'.repeat(100000)}`);
  assert.is(hugeDp.status, 400);
  isErrorBody(hugeDp, 'MMC_INVALID_PARAM: key too long');
  await S.mc.remove(k1024);
  await intact();
});

test('requests that are not HTTP: 400/431 with the error body; server and store unharmed', async () => {
  const raw = (data) => new Promise((resolve, reject) => {
    const s = net.connect(S.port, '127.0.0.1', () => s.write(data));
    let b = '';
    s.on('data', (d) => { b += d; });
    s.on('close', () => resolve(b));
    s.on('error', reject);
  });
  const check = (text, status) => {
    const head = text.slice(0, text.indexOf('\r\n\r\n'));
    const body = text.slice(head.length + 4);
    assert.ok(head.startsWith(`HTTP/1.1 ${status} `), head);
    isErrorBody({ text: body, headers: { 'content-type': /\r\ncontent-type: ([^\r]*)/i.exec(head)?.[1] } }, /^MMC_INVALID_PARAM: /);
    assert.match(head, new RegExp(`\r\nContent-Length: ${Buffer.byteLength(body)}(\r|$)`, 'i'));
  };
  check(await raw('GARBAGE\r\n\r\n'), 400);
  check(await raw('GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'), 400);
  check(await raw('PUT /api/v1/objects?key=rawbad HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n'), 400);
  check(await raw('PUT /metadata?key=rawbad HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'), 400);
  check(await raw(`GET /query_key?key=${'x'.repeat(2 << 20)} HTTP/1.1\r\nHost: x\r\n\r\n`), 431);
  // a good request first, then garbage on the same connection: answered too
  const two = await new Promise((resolve, reject) => {
    const s = net.connect(S.port, '127.0.0.1', () => s.write('GET /role HTTP/1.1\r\nHost: x\r\n\r\n'));
    let b = '';
    s.on('data', (d) => { b += d; if (b.endsWith('\r\n\r\nleader')) s.write('GARBAGE\r\n\r\n'); });
    s.on('close', () => resolve(b));
    s.on('error', reject);
  });
  assert.ok(two.startsWith('HTTP/1.1 200 '));
  check(two.slice(two.indexOf('HTTP/1.1 400')), 400);
  assert.not.ok(await S.mc.exists('rawbad'));
  isErrorBody(await get('/metadata?key=rawbad'), 'Metadata key not found');
  await intact();
});

// ---- summary, ptracer, alloc_free_latency ----
test('/metrics/summary: 62 fields in order, one line, values from the store', async () => {
  const fixture = readFileSync(new URL('./fixtures/metrics-help.txt', import.meta.url), 'utf8');
  void fixture;
  const r = await get('/metrics/summary');
  assert.is(r.headers['content-type'], CT_TEXT);
  assert.not.ok(r.text.includes('\n'));
  const fields = r.text.split(' ');
  assert.is(fields.length, 62);
  const names = fields.map((f) => f.split('=')[0]);
  const expected = 'keys evict hbm_used dram_used alloc_req alloc_success alloc_fail batch_alloc_req batch_alloc_success batch_alloc_fail get_req get_success get_fail get_not_found batch_get_req batch_get_success batch_get_fail batch_get_not_found remove_req remove_success remove_fail remove_not_found batch_remove_req batch_remove_success batch_remove_fail batch_remove_not_found remove_all_req remove_all_success remove_all_fail update_state_req update_state_success update_state_fail update_state_not_found batch_update_state_req batch_update_state_success batch_update_state_fail batch_update_state_not_found query_req query_success query_fail query_not_found batch_query_req batch_query_success batch_query_fail batch_query_not_found get_all_keys_req get_all_keys_success get_all_keys_fail exist_key_req exist_key_success exist_key_fail exist_key_not_found batch_exist_key_req batch_exist_key_success batch_exist_key_fail batch_exist_key_not_found mount_req mount_success mount_fail unmount_req unmount_success unmount_fail'.split(' ');
  assert.equal(names, expected);
  const st = S.mc.stats();
  const map = Object.fromEntries(fields.map((f) => f.split('=')));
  assert.is(map.keys, String(st.keys));
  assert.is(map.hbm_used, `${st.hbm_used}/${st.hbm_total}`);
  assert.is(map.dram_used, `${st.dram_used}/${st.dram_total}`);
  assert.is(map.hbm_used.split('/')[1], String(32 << 20));
  for (const n of expected.slice(4)) assert.is(map[n], String(st[n]), n);
  assert.is(map.mount_req, '4', 'four segments mounted at open');
});

const HEADER = 'TIME                   NAME                                    BEGIN          GOOD_END       BAD_END        ON_FLY         MIN(us)        MAX(us)        AVG(us)        TOTAL(us)      ';

test('/metrics/ptracer: fixed-width table of the tracepoints that have begun', async () => {
  await S.mc.put('pt', Buffer.from('x'));
  await S.mc.get('pt');
  await S.mc.get('pt-absent');
  const r = await get('/metrics/ptracer');
  assert.is(r.headers['content-type'], CT_TEXT);
  const lines = r.text.split('\n');
  assert.is(lines.pop(), '', 'each line ends with a newline');
  assert.is(lines[0], HEADER);
  const tps = S.mc.stats().tracepoints.filter((t) => t.begin > 0);
  assert.is(lines.length, 1 + tps.length);
  for (const [i, tp] of tps.entries()) {
    const row = lines[i + 1];
    assert.match(row.slice(0, 23), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d {4}$/);
    assert.is(row.slice(23, 63).trimEnd(), tp.name);
    const cols = [];
    for (let c = 63; c < row.length; c += 15) cols.push(row.slice(c, c + 15));
    assert.is(cols.length, 8);
    for (const c of cols) assert.is(c.length, 15);
    const v = cols.map((c) => c.trimEnd());
    assert.is(v[0], String(tp.begin));
    assert.is(v[1], String(tp.goodEnd));
    assert.is(v[2], String(tp.badEnd));
    assert.is(v[3], String(tp.begin - tp.goodEnd - tp.badEnd));
    for (const x of v.slice(4)) assert.match(x, /^\d+\.\d{3}$/);
    if (tp.goodEnd === 0) assert.equal(v.slice(4), ['0.000', '0.000', '0.000', '0.000']);
  }
  const get_ = lines.find((l) => l.includes('TP_MMC_META_GET '));
  assert.ok(get_, 'TP_MMC_META_GET row');
  const now = new Date();
  const p = (n) => String(n).padStart(2, '0');
  assert.ok(lines[1].startsWith(`${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}`), 'local date');
  await S.mc.remove('pt');
});

test('/api/v1/analysis/alloc_free_latency: header + ALLOC and REMOVE rows', async () => {
  const r = await get('/api/v1/analysis/alloc_free_latency');
  assert.is(r.headers['content-type'], CT_TEXT);
  const lines = r.text.split('\n').filter(Boolean);
  assert.is(lines[0], HEADER);
  const names = lines.slice(1).map((l) => l.slice(23, 63).trimEnd());
  assert.equal(names.slice(0, 2), ['TP_MMC_META_ALLOC', 'TP_MMC_META_REMOVE']);
  assert.ok(names.length === 2 || names[2] === 'TP_MMC_META_FREE');
  const alloc = S.mc.stats().tracepoints.find((t) => t.name === 'TP_MMC_META_ALLOC');
  assert.is(lines[1].slice(63, 78).trimEnd(), String(alloc.begin));
});

// ---- /metrics ----
test('/metrics: families, HELP and TYPE lines in the contract order, values from the store', async () => {
  await S.mc.put('m1', Buffer.alloc(10));
  const r = await get('/metrics');
  assert.is(r.headers['content-type'], 'text/plain; version=0.0.4');
  const meta = r.text.split('\n').filter((l) => l.startsWith('# '));
  const expected = readFileSync(new URL('./fixtures/metrics-help.txt', import.meta.url), 'utf8').trim().split('\n');
  assert.equal(meta.slice(0, expected.length), expected);
  const st = S.mc.stats();
  const val = (line) => Number(r.text.split('\n').find((l) => l.startsWith(line + ' ')).slice(line.length + 1));
  assert.is(val('memcache_alloc_requests_total'), st.alloc_req);
  assert.is(val('memcache_get_not_found_total'), st.get_not_found);
  assert.is(val('memcache_mount_successes_total'), 4);
  assert.is(val('memcache_stored_keys'), st.keys);
  assert.is(val('memcache_evict_operations_total'), st.evict);
  for (const s of S.mc.segments()) {
    assert.is(val(`memcache_segment_capacity_bytes{segment="${s.id}"}`), s.totalBytes);
    assert.is(val(`memcache_segment_allocated_bytes{segment="${s.id}"}`), s.usedBytes);
  }
  assert.is(val('memcache_total_capacity_bytes{medium="hbm"}'), 32 << 20);
  assert.is(val('memcache_allocated_bytes{medium="hbm"}'), st.hbm_used);
  assert.is(val('memcache_allocated_bytes{medium="dram"}'), st.dram_used);
  assert.not.ok(r.text.includes('process_cpu'), 'no default Node metrics');
  assert.not.ok(r.text.includes('\n\n'));
  assert.ok(r.text.endsWith('\n'));
  // segment lines in segment order
  const segLines = r.text.split('\n').filter((l) => l.startsWith('memcache_segment_capacity_bytes{'));
  assert.equal(segLines.map((l) => /segment="([^"]+)"/.exec(l)[1]), ['rank-0-hbm', 'rank-1-hbm', 'rank-0-dram', 'rank-1-dram']);
  // scrape-time values: a new op shows on the next scrape
  await S.mc.get('m1');
  const r2 = await get('/metrics');
  const v2 = Number(/\nmemcache_get_successes_total (\d+)/.exec(r2.text)[1]);
  assert.is(v2, S.mc.stats().get_success);
  await S.mc.remove('m1');
});

test.run();
