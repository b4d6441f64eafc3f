// The client's requests assembled in a reused buffer (src/client/request-out.ts): the requests of
// one tick go out GROUP at a time in plain writes, each frame intact and in order, large values
// written as they are behind their header; a buffer whose bytes the kernel has not taken is never
// written again; and against a real server, many requests made at once on one connection each get
// their own answer (values, an absent key, an error answer among them).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemCacheClient } from '../../dist/client/index.js';
import { GROUP, RequestOut } from '../../dist/client/request-out.js';
import { MMC, MemCache } from '../../dist/index.js';
import { OP } from '../../dist/protocol/data-frames.js';
import { FrameReader } from '../../dist/protocol/data-reader.js';
import { createServer } from '../../dist/server/index.js';
import { SEGMENTS } from './_suite.js';

const tick = () => new Promise((r) => process.nextTick(r));

/**
 * A socket that keeps what is written to it (the views themselves, and copies made as written),
 * and says whether the kernel took it.
 */
function fakeSocket({ taken = true } = {}) {
  const s = {
    writes: [],
    corked: 0,
    writableLength: 0,
    cork() { s.corked++; },
    uncork() { s.corked--; },
    write(b) {
      s.writes.push({ b, copy: Buffer.from(b), corked: s.corked > 0 });
      if (!taken || s.corked > 0) s.writableLength += b.byteLength;
      return true;
    },
  };
  return s;
}

/** The frames in `chunks`: [{ op, id, key, value }]. */
function frames(chunks) {
  const r = new FrameReader(false);
  for (const c of chunks) r.push(Buffer.from(c));
  const out = [];
  let f;
  for (let ev = r.next(); ev; ev = r.next()) {
    if (ev.kind === 'head') f = { op: ev.head.op, id: ev.head.id, key: Buffer.from(ev.key).toString(), aux: Buffer.from(ev.aux).toString(), value: [] };
    else if (ev.kind === 'value') f.value.push(Buffer.from(ev.chunk));
    else { f.value = Buffer.concat(f.value); out.push(f); }
  }
  return out;
}

test('the requests of one tick: GROUP a write, the rest at the tick\'s end, every frame intact and in order', async () => {
  const s = fakeSocket();
  const out = new RequestOut(s);
  const n = 2 * GROUP + 3;
  for (let i = 0; i < n; i++) {
    if (i % 3 === 0) out.add(OP.PUT, i + 1, `k/${i}`, 'ttl=5', [Buffer.from(`v${i}-`), Buffer.alloc(i * 10, i)], `v${i}-`.length + i * 10);
    else out.add(OP.GET, i + 1, `k/${i}é`, '', [], 0);
  }
  assert.is(s.writes.length, 2, 'two full groups written at once');
  await tick();
  assert.is(s.writes.length, 3, 'the rest at the tick\'s end');
  assert.is(s.writes[1].b.buffer, s.writes[0].b.buffer, 'the kernel took the bytes: the buffer served again');
  const got = frames(s.writes.map((w) => w.copy));
  assert.is(got.length, n);
  got.forEach((f, i) => {
    assert.is(f.id, i + 1);
    if (i % 3 === 0) {
      assert.equal([f.op, f.key, f.aux], [OP.PUT, `k/${i}`, 'ttl=5']);
      assert.equal(f.value, Buffer.concat([Buffer.from(`v${i}-`), Buffer.alloc(i * 10, i)]));
    } else assert.equal([f.op, f.key, f.aux, f.value.length], [OP.GET, `k/${i}é`, '', 0]);
  });
});

test('a large value is written as it is (no copy), right behind the requests before it, in one corked write', async () => {
  const s = fakeSocket();
  const out = new RequestOut(s);
  const big = Buffer.alloc(100 * 1024, 7);
  out.add(OP.GET, 1, 'a', '', [], 0);
  out.add(OP.PUT, 2, 'b', '', [big.subarray(0, 60 * 1024), big.subarray(60 * 1024)], big.length);
  out.add(OP.GET, 3, 'c', '', [], 0);
  await tick();
  assert.is(s.writes.length, 4);
  assert.ok(s.writes[0].corked && s.writes[1].corked && s.writes[2].corked, 'header and value written under one cork');
  assert.is(s.writes[1].b.buffer, big.buffer, 'the value itself, not a copy');
  const got = frames(s.writes.map((w) => w.b));
  assert.equal(got.map((f) => [f.id, f.key, f.value.length]), [[1, 'a', 0], [2, 'b', big.length], [3, 'c', 0]]);
  assert.equal(got[1].value, big);
});

test('bytes the kernel has not taken are never overwritten by later requests', async () => {
  const s = fakeSocket({ taken: false });
  const out = new RequestOut(s);
  for (let i = 0; i < 3 * GROUP; i++) out.add(OP.PUT, i + 1, `k/${i}`, '', [Buffer.alloc(1000, i)], 1000);
  await tick();
  // the views handed to write(), read now: each still holds its own requests
  assert.not.equal(s.writes[1].b.buffer, s.writes[0].b.buffer);
  const got = frames(s.writes.map((w) => w.b));
  assert.is(got.length, 3 * GROUP);
  got.forEach((f, i) => { assert.is(f.key, `k/${i}`); assert.equal(f.value, Buffer.alloc(1000, i)); });
});

test('many requests at once on one connection: each answer matched to its own request (values, absent, an error)', async () => {
  const store = await MemCache.open({ segments: SEGMENTS });
  const running = await createServer(store).listen('127.0.0.1', 0);
  const c = await MemCacheClient.connect(running.url, { dataPath: 'require', dataConnections: 1 });
  try {
    const n = 5 * GROUP;
    const value = (i) => Buffer.alloc(100 + i * 37, i);
    assert.equal(await c.batchPut(Array.from({ length: n }, (_, i) => [`m/${i}`, value(i)])), Array(n).fill(0));
    const results = await Promise.allSettled(Array.from({ length: 2 * n }, (_, j) => {
      const i = j % n;
      if (j === 7) return c.get('m/absent');
      if (j === 11) return c.getInto(`m/${i}`, Buffer.alloc(10)); // refused by the server: the value is larger
      return j % 2 ? c.getInto(`m/${i}`, Buffer.alloc(4096)) : c.get(`m/${i}`);
    }));
    results.forEach((r, j) => {
      const i = j % n;
      if (j === 7) { assert.equal(r, { status: 'fulfilled', value: undefined }); return; }
      if (j === 11) { assert.is(r.status, 'rejected'); assert.is(r.reason.code, MMC.MMC_INVALID_PARAM); return; }
      assert.is(r.status, 'fulfilled', `request ${j}`);
      if (j % 2) assert.is(r.value, value(i).length);
      else assert.equal(Buffer.from(r.value), value(i));
    });
    assert.equal(Buffer.from(await c.get('m/3')), value(3), 'the connection carried on');
  } finally { await c.close(); await running.close(); await store.close(); }
});

test.run();
