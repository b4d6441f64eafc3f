// The binary data path against a real server over TCP (and TLS): raw frames written by hand,
// pipelining, in-order effect, the token, refusals that keep the connection, frames that close it,
// a stall or a vanished peer mid-value (the reservation freed, the store intact), other
// connections unaffected; the client's transport choice.
import net from 'node:net';
import { readFileSync, rmSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { MemCacheClient } from '../../dist/client/index.js';
import { MmcError, MMC } from '../../dist/index.js';
import { OP, encodeRequest, encodeU64, decodeU64 } from '../../dist/protocol/data-frames.js';
import { encodeKeyList } from '../../dist/protocol/framing.js';
import { FrameReader } from '../../dist/protocol/data-reader.js';
import { startServer, req } from './_helpers.js';
import { planServe, serve } from '../../dist/server/serve.js';
import { MemCache as Store } from '../../dist/index.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { opensslRuns, opensslTest, makeCerts } from '../helpers/tls.js';

/** A raw data-path connection: frames out as given, answers in by id. */
function raw(port) {
  const s = net.connect(port, '127.0.0.1');
  const r = new FrameReader(true);
  const got = new Map();
  const waiting = new Map();
  let cur;
  const closed = new Promise((resolve) => s.on('close', resolve));
  s.on('error', () => {});
  s.on('data', (c) => {
    r.push(c);
    for (let ev = r.next(); ev; ev = r.next()) {
      if (ev.kind === 'head') cur = { op: ev.head.op, id: ev.head.id, code: ev.head.a, aux: Buffer.from(ev.aux), value: [] };
      else if (ev.kind === 'value') cur.value.push(Buffer.from(ev.chunk));
      else {
        const a = { ...cur, reason: cur.aux.toString(), value: Buffer.concat(cur.value) };
        got.set(a.id, a);
        waiting.get(a.id)?.(a);
      }
    }
  });
  return {
    s, closed,
    send: (...bufs) => { for (const b of bufs) s.write(b); },
    answer: (id) => (got.has(id) ? Promise.resolve(got.get(id)) : new Promise((res) => waiting.set(id, res))),
    order: () => [...got.keys()],
  };
}

const put = (id, key, value, aux = '') => [encodeRequest(OP.PUT, id, key, aux, value.length), value];
const get = (id, key) => encodeRequest(OP.GET, id, key, '', 0);
/** Polls `cond` until true (a freed reservation shows a moment after the close is seen). */
async function until(cond) {
  for (let i = 0; i < 500 && !(await cond()); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(await cond(), 'condition never held');
}
const used = (S) => S.mc.segments().reduce((t, s) => t + s.usedBytes, 0);

test('discovery: GET /api/v1/data_path names the listener; off answers 404', async () => {
  const S = await startServer();
  const off = await startServer({ server: { dataListen: 'off' } });
  try {
    const r = await req(S.url, 'GET', '/api/v1/data_path');
    assert.is(r.status, 200);
    const j = r.json();
    assert.equal(Object.keys(j), ['host', 'port', 'tls']);
    assert.is(j.host, '127.0.0.1');
    assert.is(j.tls, false);
    assert.ok(j.port !== S.port);
    const o = await req(off.url, 'GET', '/api/v1/data_path');
    assert.is(o.status, 404);
    assert.is(o.json().error_message, 'Not found');
    const auto = await MemCacheClient.connect(off.url);
    assert.is(auto.transport, 'http');
    await auto.put('k', Buffer.from('v'));
    await auto.close();
    let e;
    try { await MemCacheClient.connect(off.url, { dataPath: 'require' }); } catch (x) { e = x; }
    assert.instance(e, MmcError);
    assert.match(e.message, /no binary data path offered/);
    try { await MemCacheClient.connect(S.url, { dataPath: 'sometimes' }); } catch (x) { e = x; }
    assert.is(e.code, MMC.MMC_INVALID_PARAM);
  } finally { await S.close(); await off.close(); }
});

test('1000 pipelined requests on one connection: each answered by id, each put seen by the get after it', async () => {
  const S = await startServer();
  const c = raw((await req(S.url, 'GET', '/api/v1/data_path')).json().port);
  try {
    const frames = [];
    for (let i = 0; i < 500; i++) frames.push(...put(2 * i + 1, `p/${i}`, Buffer.from(`value ${i}`)), get(2 * i + 2, `p/${i}`));
    c.s.write(Buffer.concat(frames)); // in one write: the server reads them all before answering any
    for (let i = 0; i < 500; i++) {
      const p = await c.answer(2 * i + 1);
      assert.equal([p.op, p.code], [OP.PUT, 0]);
      const g = await c.answer(2 * i + 2);
      assert.equal([g.op, g.code, g.value.toString()], [OP.GET, 0, `value ${i}`]);
    }
    assert.is(c.order().length, 1000);
    // the other single ops
    c.send(encodeRequest(OP.SIZE, 2001, 'p/7', '', 0), encodeRequest(OP.SIZE, 2002, 'nope', '', 0),
      encodeRequest(OP.QUERY, 2003, 'p/7', '', 0), encodeRequest(OP.REMOVE, 2004, 'p/7', '', 0),
      encodeRequest(OP.REMOVE, 2005, 'p/7', '', 0), encodeRequest(OP.GET, 2006, 'p/8', encodeU64(3), 0));
    const size = await c.answer(2001);
    assert.is(decodeU64(size.aux), 'value 7'.length);
    assert.equal([(await c.answer(2002)).code, (await c.answer(2002)).aux.length], [MMC.MMC_UNMATCHED_KEY, 0]);
    assert.equal(JSON.parse((await c.answer(2003)).value).size, 7);
    assert.is((await c.answer(2004)).code, 0);
    assert.is((await c.answer(2005)).code, MMC.MMC_UNMATCHED_KEY);
    const small = await c.answer(2006);
    assert.equal([small.code, small.reason], [MMC.MMC_INVALID_PARAM, "MMC_INVALID_PARAM: dst holds 3 bytes, the value of 'p/8' has 7"]);
  } finally { c.s.destroy(); await S.close(); }
});

test('refusals keep the connection: bad key, bad options, empty and oversized values (their bytes dropped)', async () => {
  const S = await startServer({ server: { valueLimit: 1024 } });
  const c = raw((await req(S.url, 'GET', '/api/v1/data_path')).json().port);
  try {
    c.send(...put(1, Buffer.from([0xff]), Buffer.from('x')));
    c.send(...put(2, 'k', Buffer.from('x'), 'medium=ssd'));
    c.send(encodeRequest(OP.PUT, 3, 'k', '', 0));
    c.send(...put(4, 'big', Buffer.alloc(5000, 7)));
    c.send(...put(5, 'k', Buffer.from('after')), get(6, 'k'));
    assert.is((await c.answer(1)).reason, "MMC_INVALID_PARAM: 'key' is not valid UTF-8");
    assert.is((await c.answer(2)).reason, 'MMC_INVALID_PARAM: medium must be hbm or dram');
    assert.is((await c.answer(3)).reason, 'MMC_INVALID_PARAM: empty value');
    const big = await c.answer(4);
    assert.equal([big.code, big.reason], [MMC.MMC_INVALID_PARAM, 'MMC_INVALID_PARAM: value too large (limit 1024 bytes)']);
    assert.is((await c.answer(5)).code, 0);
    assert.is((await c.answer(6)).value.toString(), 'after');
    assert.is(await S.mc.exists('big'), false);
    // the client sees the same error as over HTTP
    for (const dataPath of ['off', 'require']) {
      const m = await MemCacheClient.connect(S.url, { dataPath });
      let e;
      try { await m.put('big', Buffer.alloc(5000)); } catch (x) { e = x; }
      assert.equal([e.code, e.message], [MMC.MMC_INVALID_PARAM, 'MMC_INVALID_PARAM: value too large (limit 1024 bytes)'], dataPath);
      await m.close();
    }
  } finally { c.s.destroy(); await S.close(); }
});

test('the HTTP side limits: puts in flight, batch keys, batch size, malformed batch frames; the connection carries on', async () => {
  const S = await startServer({ server: { putInFlightLimit: 1000, batchKeyLimit: 2, batchLimit: 64 } });
  const port = (await req(S.url, 'GET', '/api/v1/data_path')).json().port;
  const a = raw(port);
  const b = raw(port);
  try {
    a.send(encodeRequest(OP.PUT, 1, 'slow', '', 800), Buffer.alloc(100, 1)); // holds 800 of 1000
    await until(() => used(S) > 0);
    b.send(...put(1, 'other', Buffer.alloc(800, 2)));
    assert.is((await b.answer(1)).reason, 'MMC_NOT_ENOUGH_MEMORY: puts receiving their bodies hold the in-flight limit (1000 bytes), retry later');
    a.send(Buffer.alloc(700, 1));
    assert.is((await a.answer(1)).code, 0);
    const list = (keys) => { const l = encodeKeyList(keys); return [encodeRequest(OP.BATCH_GET, 0, '', '', l.length), l]; };
    const [h3, l3] = list(['x', 'y', 'z']);
    h3.writeUInt32LE(2, 4);
    b.send(h3, l3);
    assert.is((await b.answer(2)).reason, 'MMC_INVALID_PARAM: 3 keys in one batch (limit 2)');
    const bad = Buffer.from([9, 0, 0, 0]); // a key list that says 9 keys and has none
    b.send(encodeRequest(OP.BATCH_EXISTS, 3, '', '', 4), bad);
    assert.is((await b.answer(3)).reason, 'MMC_INVALID_PARAM: malformed batch frame');
    b.send(encodeRequest(OP.BATCH_PUT, 4, '', '', 100), Buffer.alloc(100));
    assert.is((await b.answer(4)).reason, 'MMC_INVALID_PARAM: batch too large (limit 64 bytes)');
    const [h5, l5] = list(['slow', 'nope']);
    h5.writeUInt32LE(5, 4);
    b.send(h5, l5);
    const got = await b.answer(5);
    assert.equal([got.code, [...got.value.subarray(0, 12)]], [0, [2, 0, 0, 0, 0, 0, 0, 0, 0xe2, 0xf3, 0xff, 0xff]]);
  } finally { a.s.destroy(); b.s.destroy(); await S.close(); }
});

test('garbage and untrusted frames: an error answer (id 0 when unknown), then the connection closes; others unaffected', async () => {
  const S = await startServer();
  const port = (await req(S.url, 'GET', '/api/v1/data_path')).json().port;
  const other = raw(port);
  try {
    other.send(...put(1, 'keep', Buffer.from('kept')));
    assert.is((await other.answer(1)).code, 0);
    const g = raw(port);
    g.send(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    const a = await g.answer(0);
    assert.equal([a.op, a.code, a.reason], [0, MMC.MMC_INVALID_PARAM, 'MMC_INVALID_PARAM: bad frame: bad magic']);
    await g.closed;
    const u = raw(port);
    const huge = encodeRequest(OP.GET, 77, 'k', '', 0);
    huge.writeUInt32LE(5000, 8); // a key of 5000 bytes: the stream cannot be trusted
    u.send(huge);
    const b = await u.answer(77);
    assert.equal([b.op, b.code], [0, MMC.MMC_INVALID_PARAM]);
    assert.match(b.reason, /key of 5000 bytes/);
    await u.closed;
    other.send(get(2, 'keep'));
    assert.is((await other.answer(2)).value.toString(), 'kept');
  } finally { other.s.destroy(); await S.close(); }
});

test('fuzz over TCP: mutated request streams get answers or a close, never a hang; the server carries on', async () => {
  const S = await startServer({ server: { valueLimit: 1 << 16 } });
  const port = (await req(S.url, 'GET', '/api/v1/data_path')).json().port;
  const valid = [Buffer.concat(put(1, 'f', Buffer.from('xyz'), 'replicas=1')), get(2, 'f'), encodeRequest(OP.SIZE, 3, 'f', '', 0),
    Buffer.concat([encodeRequest(OP.BATCH_GET, 4, '', '', 9), encodeKeyList(['f'])]), encodeRequest(OP.REMOVE, 5, 'f', '', 0)];
  try {
    await fc.assert(fc.asyncProperty(
      fc.array(fc.integer({ min: 0, max: valid.length - 1 }), { minLength: 1, maxLength: 5 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      async (picks, flips) => {
        const b = Buffer.concat(picks.map((i) => valid[i]));
        for (const [at, v] of flips) b[at % b.length] = v;
        const c = raw(port);
        c.s.end(b); // the peer sends, then stops: every connection must end
        await c.closed;
      }), { numRuns: 60 });
    const c = raw(port);
    c.send(...put(1, 'after', Buffer.from('ok')), get(2, 'after'));
    assert.is((await c.answer(2)).value.toString(), 'ok');
    c.s.destroy();
  } finally { await S.close(); }
});

test('a stall mid-value: MMC_TIMEOUT for that request, connection closed, reservation freed, store intact', async () => {
  const S = await startServer({ server: { bodyTimeoutMs: 200 } });
  const port = (await req(S.url, 'GET', '/api/v1/data_path')).json().port;
  const c = raw(port);
  try {
    c.send(...put(1, 'intact', Buffer.from('before')));
    assert.is((await c.answer(1)).code, 0);
    const base = used(S);
    c.send(encodeRequest(OP.PUT, 2, 'stalled', '', 100000), Buffer.alloc(1000, 1));
    const a = await c.answer(2);
    assert.equal([a.code, a.reason], [MMC.MMC_TIMEOUT, 'MMC_TIMEOUT: no body bytes for 200 ms']);
    await c.closed;
    await until(() => used(S) === base);
    assert.is(await S.mc.exists('stalled'), false);
    assert.is(Buffer.from(await S.mc.get('intact')).toString(), 'before');
  } finally { c.s.destroy(); await S.close(); }
});

test('a peer killed mid-value: nothing half written, reservation freed; other connections carry on', async () => {
  const S = await startServer();
  const port = (await req(S.url, 'GET', '/api/v1/data_path')).json().port;
  const other = raw(port);
  try {
    const base = used(S);
    const c = raw(port);
    c.send(encodeRequest(OP.PUT, 1, 'half', '', 1 << 20), Buffer.alloc(300000, 2));
    await until(() => used(S) > base); // the put reserved its space
    c.s.destroy();
    await until(() => used(S) === base);
    assert.is(await S.mc.exists('half'), false);
    other.send(...put(1, 'half', Buffer.from('whole')), get(2, 'half'));
    assert.is((await other.answer(2)).value.toString(), 'whole');
  } finally { other.s.destroy(); await S.close(); }
});

test('token: the first frame must be a HELLO with it; the client finds and uses the data path with it', async () => {
  const S = await startServer({ server: { token: 'sekret', bodyTimeoutMs: 300 } });
  const port = (await req(S.url, 'GET', '/api/v1/data_path', undefined, { authorization: 'Bearer sekret' })).json().port;
  try {
    assert.is((await req(S.url, 'GET', '/api/v1/data_path')).status, 401);
    const none = raw(port);
    none.send(get(5, 'k'));
    assert.equal([(await none.answer(5)).code, (await none.answer(5)).reason], [MMC.MMC_ERROR, 'Unauthorized: bearer token required']);
    await none.closed;
    const wrong = raw(port);
    wrong.send(encodeRequest(OP.HELLO, 1, 'nope', '', 0), get(2, 'k'));
    assert.is((await wrong.answer(1)).reason, 'Forbidden: wrong bearer token');
    await wrong.closed;
    const silent = raw(port); // never says HELLO: closed after bodyTimeoutMs
    await silent.closed;
    const right = raw(port);
    right.send(encodeRequest(OP.HELLO, 1, 'sekret', '', 0), ...put(2, 'k', Buffer.from('v')));
    assert.equal([(await right.answer(1)).code, (await right.answer(2)).code], [0, 0]);
    right.s.destroy();
    const m = await MemCacheClient.connect(S.url, { token: 'sekret', dataPath: 'require' });
    assert.is(m.transport, 'binary');
    assert.is(Buffer.from(await m.get('k')).toString(), 'v');
    await m.close();
  } finally { await S.close(); }
});

test('mmc serve: --data-listen and ock.mmc.data_path.listen; a taken port named; off', async () => {
  const base = { listen: '127.0.0.1:0', hbm: '1MB', dram: '0' };
  assert.is(planServe(base, {}).dataListen, undefined);
  assert.is(planServe({ ...base, dataListen: 'off' }, {}).dataListen, 'off');
  assert.equal(planServe({ ...base, dataListen: ':9123' }, {}).dataListen, { host: '127.0.0.1', port: 9123 });
  assert.throws(() => planServe({ ...base, dataListen: 'nowhere' }, {}), /--data-listen: expected HOST:PORT, got 'nowhere'/);
  const dir = mkdtempSync(join(tmpdir(), 'mmc-dp-'));
  const conf = join(dir, 'dp.conf');
  writeFileSync(conf, 'ock.mmc.data_path.listen = 127.0.0.1:9124\n');
  assert.equal(planServe({ ...base, config: conf }, {}).dataListen, { host: '127.0.0.1', port: 9124 });
  assert.is(planServe({ ...base, config: conf, dataListen: 'OFF' }, {}).dataListen, 'off');
  writeFileSync(conf, 'ock.mmc.data_path.listen = here\n');
  assert.throws(() => planServe({ ...base, config: conf }, {}), /ock\.mmc\.data_path\.listen/);
  rmSync(dir, { recursive: true, force: true });
  const open = (o) => Store.open(o);
  const lines = [];
  const a = await serve(planServe(base, {}), open, (l) => lines.push(l));
  try {
    assert.ok(a.running.dataPath.port > 0);
    assert.match(lines[0], new RegExp(`^mmc: listening on http://127\\.0\\.0\\.1:\\d+, binary data path on 127\\.0\\.0\\.1:${a.running.dataPath.port} \\(starting\\)$`));
    let e;
    try { await serve(planServe({ ...base, dataListen: `127.0.0.1:${a.running.dataPath.port}` }, {}), open); } catch (x) { e = x; }
    assert.is(e.message, `MMC_ERROR: cannot listen on 127.0.0.1:${a.running.dataPath.port} (binary data path): address already in use`);
    const off = await serve(planServe({ ...base, dataListen: 'off' }, {}), open);
    assert.is(off.running.dataPath, undefined);
    await off.stop();
  } finally { await a.stop(); }
});

const tlsTest = opensslTest(test, import.meta.url);
let C;
test.before(() => { if (opensslRuns()) C = makeCerts(); });
test.after(() => { if (C) rmSync(C.dir, { recursive: true, force: true }); });

tlsTest('TLS: the data path takes the HTTP side certificates and its client-certificate requirement', async () => {
  const pem = (f) => readFileSync(f);
  const S = await startServer({ server: { tls: { cert: pem(C.serverCert), key: pem(C.serverKey), ca: pem(C.ca) } } });
  try {
    const m = await MemCacheClient.connect(S.url, { ca: pem(C.ca), cert: pem(C.clientCert), key: pem(C.clientKey), dataPath: 'require' });
    assert.is(m.transport, 'binary');
    await m.put('t', Buffer.from('over tls'));
    assert.is(Buffer.from(await m.get('t')).toString(), 'over tls');
    await m.close();
    // a plain TCP peer gets no frames through
    const p = raw((await new Promise((res) => {
      import('node:https').then(({ default: https }) => https.get(`${S.url}/api/v1/data_path`, { ca: pem(C.ca), cert: pem(C.clientCert), key: pem(C.clientKey) }, (r) => {
        const b = []; r.on('data', (d) => b.push(d)); r.on('end', () => res(JSON.parse(Buffer.concat(b)).port));
      }));
    })));
    p.send(get(1, 't'));
    await p.closed;
    assert.is(p.order().length, 0);
  } finally { await S.close(); }
});

test.run();
