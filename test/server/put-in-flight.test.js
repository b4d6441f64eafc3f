// Puts that have not sent their bodies: nothing reserved (nothing evicted) before the first body
// byte, a body that stalls is cut off and its space freed at once, and the space held by puts
// still receiving their bodies is capped (beyond it 503, never an eviction).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startServer, req, isErrorBody, raw, head, until } from './_helpers.js';

const MiB = 1 << 20;
const value = (i) => Buffer.alloc(MiB, 0x30 + i);
const used = (mc) => mc.segments().reduce((a, s) => a + s.usedBytes, 0);

async function tenObjects(T) {
  for (let i = 0; i < 10; i++) assert.is((await req(T.url, 'PUT', `/api/v1/objects?key=k${i}`, value(i))).status, 200);
}

/** The objects still readable, each checked byte for byte. */
async function readable(T) {
  let n = 0;
  for (let i = 0; i < 10; i++) {
    const r = await req(T.url, 'GET', `/api/v1/objects?key=k${i}`);
    if (r.status === 404) continue;
    assert.is(r.status, 200);
    assert.ok(r.body.equals(value(i)), `k${i} intact`);
    n++;
  }
  return n;
}

test('header-only puts reserve nothing; a stalled body is cut off and its space freed at once', async () => {
  const T = await startServer({ store: { segments: [{ rank: 0, medium: 'hbm', bytes: '16MB' }] }, server: { bodyTimeoutMs: 1500 } });
  try {
    await tenObjects(T);
    // two sockets send only the head of a 7 MiB put
    const a = raw(T.port);
    const b = raw(T.port);
    a.write(head('PUT', '/api/v1/objects?key=big-a', { 'Content-Length': 7 * MiB }));
    b.write(head('PUT', '/api/v1/objects?key=big-b', { 'Content-Length': 7 * MiB }));
    await new Promise((r) => setTimeout(r, 200));
    assert.is(await readable(T), 10, 'header-only puts evicted nothing');
    assert.is(used(T.mc), 10 * MiB);
    // then they are cut off: 408, the connection closed
    for (const s of [a, b]) {
      const [r] = await s.responses(1);
      assert.is(r.status, 408);
      isErrorBody(r, 'MMC_TIMEOUT: no body bytes for 1500 ms');
      assert.is(r.headers.connection, 'close');
      await s.closed;
    }
    // a put that sends 1 MiB of 7 and stops holds its space only until the timeout
    const c = raw(T.port);
    c.write(head('PUT', '/api/v1/objects?key=stalled', { 'Content-Length': 7 * MiB }));
    c.write(Buffer.alloc(MiB, 0xee));
    const t0 = Date.now();
    // 7 MiB beside ten 1 MiB objects in 16 MiB: the reservation evicts
    await until(() => T.mc.stats().evict > 0, 5000, 'the reservation');
    assert.ok(used(T.mc) >= 7 * MiB + (await readable(T)) * MiB, 'space reserved while the body arrives');
    const [r] = await c.responses(1);
    const waited = Date.now() - t0;
    assert.is(r.status, 408);
    await c.closed;
    const n = await readable(T);
    assert.is(used(T.mc), n * MiB, `the stalled put's space is freed at once (cut off after ${waited} ms)`);
    assert.is((await req(T.url, 'GET', '/api/v1/objects?key=stalled')).status, 404);
    // and the store still takes a full put
    assert.is((await req(T.url, 'PUT', '/api/v1/objects?key=after', Buffer.alloc(7 * MiB, 1))).status, 200);
  } finally { await T.close(); }
});

test('puts receiving their bodies are capped in total: beyond, 503 and no eviction', async () => {
  const T = await startServer({ store: { segments: [{ rank: 0, medium: 'hbm', bytes: '32MB' }] }, server: { putInFlightLimit: 8 * MiB } });
  try {
    await tenObjects(T);
    const a = raw(T.port);
    a.write(head('PUT', '/api/v1/objects?key=a', { 'Content-Length': 7 * MiB }));
    a.write(Buffer.alloc(64 * 1024, 0xaa));
    await until(() => used(T.mc) === 17 * MiB, 5000, 'the reservation of a');
    const b = raw(T.port);
    b.write(head('PUT', '/api/v1/objects?key=b', { 'Content-Length': 7 * MiB }));
    b.write(Buffer.alloc(64 * 1024, 0xbb));
    const [rb] = await b.responses(1);
    assert.is(rb.status, 503);
    isErrorBody(rb, `MMC_NOT_ENOUGH_MEMORY: puts receiving their bodies hold the in-flight limit (${8 * MiB} bytes), retry later`);
    assert.is(used(T.mc), 17 * MiB, 'the refused put reserved nothing');
    assert.is(await readable(T), 10);
    b.destroy();
    // a small put on another connection still fits beside a
    assert.is((await req(T.url, 'PUT', '/api/v1/objects?key=small', Buffer.alloc(4096, 5))).status, 200);
    a.write(Buffer.alloc(7 * MiB - 64 * 1024, 0xaa));
    const [ra] = await a.responses(1);
    assert.is(ra.status, 200);
    a.destroy();
    const got = await req(T.url, 'GET', '/api/v1/objects?key=a');
    assert.ok(got.body.equals(Buffer.alloc(7 * MiB, 0xaa)));
    // the limit is free again: b goes through
    assert.is((await req(T.url, 'PUT', '/api/v1/objects?key=b', Buffer.alloc(7 * MiB, 0xbb))).status, 200);
    assert.is(await readable(T), 10);
  } finally { await T.close(); }
});

test.run();
