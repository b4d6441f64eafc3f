// The memory held by request bodies in flight is bounded in total: beyond the budget a clear 503
// (nothing reaches the store); the budget comes back when a body ends, also when its socket dies
// mid-body, and a body that stalls is cut off.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import { decodeBatchGet, decodeCodes } from '../../dist/protocol/framing.js';
import { startServer, req, isErrorBody, raw, head, keyFrame, delta, until } from './_helpers.js';

const KiB = 1024;
// 700 keys of 1000 bytes: a key list of about 700 KiB
const frame = (tag) => keyFrame(Array.from({ length: 700 }, (_, i) => Buffer.from(`${tag}-${i}-`.padEnd(1000, 'x'))));

for (const route of ['batch_get', 'batch_exists']) {
  test(`two concurrent big ${route} bodies over a 1 MiB budget: the second gets 503, then the budget comes back`, async () => {
    const T = await startServer({ server: { bodyMemoryLimit: 1024 * KiB } });
    try {
      await T.mc.put('keep', Buffer.from('kept bytes'));
      const f = frame('a');
      const path = `/api/v1/objects/${route}`;
      const a = raw(T.port);
      // node:http answers 100 Continue as it hands the request over: the body's share is held by then
      a.write(head('POST', path, { 'Content-Length': f.length, Expect: '100-continue' }));
      assert.is((await a.responses(1))[0].status, 100);
      a.write(f.subarray(0, 100 * KiB));
      await new Promise((r) => setTimeout(r, 50));
      const { d, result: b } = await delta(T.mc, () => req(T.url, 'POST', path, frame('b')));
      assert.is(b.status, 503);
      isErrorBody(b, `MMC_NOT_ENOUGH_MEMORY: request bodies in flight are over the limit (${1024 * KiB} bytes), retry later`);
      assert.equal(d, {}, 'nothing reached the store');
      a.write(f.subarray(100 * KiB));
      const [, ra] = await a.responses(2);
      assert.is(ra.status, 200);
      a.destroy();
      // the first has ended: a new one is accepted
      const c = await req(T.url, 'POST', path, frame('c'));
      assert.is(c.status, 200);
      assert.is(route === 'batch_get' ? decodeBatchGet(c.body).codes.length : decodeCodes(c.body).length, 700);
      // a socket that dies mid-body gives its share back
      const dead = raw(T.port);
      dead.write(head('POST', path, { 'Content-Length': f.length, Expect: '100-continue' }));
      assert.is((await dead.responses(1))[0].status, 100);
      dead.write(f.subarray(0, 10 * KiB));
      dead.destroy();
      await dead.closed;
      // its share comes back as the server sees the socket close
      await until(async () => (await req(T.url, 'POST', path, frame('e'))).status === 200, 5000, 'the dead body\'s share back');
      assert.is(Buffer.from(await T.mc.get('keep')).toString(), 'kept bytes');
    } finally { await T.close(); }
  });
}

test('chunked bodies count as their bytes arrive; a stalled batch body is cut off (408) and its share freed', async () => {
  const T = await startServer({ server: { bodyMemoryLimit: 1024 * KiB, bodyTimeoutMs: 300 } });
  try {
    const u = new URL(T.url);
    // a chunked body that grows past the budget is refused with 503 while it arrives
    const over = await new Promise((resolve, reject) => {
      const r = http.request({ host: u.hostname, port: u.port, method: 'POST', path: '/api/v1/objects/batch_exists', headers: { 'Transfer-Encoding': 'chunked' } }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => { const b = Buffer.concat(chunks); resolve({ status: res.statusCode, headers: res.headers, text: b.toString() }); });
      });
      r.on('error', reject);
      const f = Buffer.concat([frame('x'), frame('y')]);
      r.end(f);
    });
    assert.is(over.status, 503);
    isErrorBody(over, /^MMC_NOT_ENOUGH_MEMORY: request bodies in flight are over the limit/);
    const f = frame('s');
    const s = raw(T.port);
    s.write(head('POST', '/api/v1/objects/batch_get', { 'Content-Length': f.length }));
    s.write(f.subarray(0, 1000));
    const [r] = await s.responses(1);
    assert.is(r.status, 408);
    isErrorBody(r, 'MMC_TIMEOUT: no body bytes for 300 ms');
    await s.closed;
    assert.is((await req(T.url, 'POST', '/api/v1/objects/batch_get', frame('t'))).status, 200);
  } finally { await T.close(); }
});

test.run();
