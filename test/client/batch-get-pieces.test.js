// The binary batch get reads its answer into pieces of whole values (src/client/batch-get-sink.ts):
// values of any size, absent keys, answers split at any byte, malformed answers refused.
import http from 'node:http';
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemCacheClient } from '../../dist/client/index.js';
import { MemCache } from '../../dist/index.js';
import { createServer } from '../../dist/server/index.js';
import { OP, encodeAnswer } from '../../dist/protocol/data-frames.js';
import { FrameReader } from '../../dist/protocol/data-reader.js';
import { encodeBatchGet } from '../../dist/protocol/framing.js';
import { SEGMENTS } from './_suite.js';

const value = (n, seed) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));

test('batch get over the data path: small, 4 KiB and larger-than-a-piece values, absent keys; held values stay intact', async () => {
  const store = await MemCache.open({ segments: SEGMENTS });
  const running = await createServer(store).listen('127.0.0.1', 0);
  const c = await MemCacheClient.connect(running.url, { dataPath: 'require' });
  try {
    const sizes = [1, 4096, 200 * 1024, 70 * 1024, ...Array.from({ length: 40 }, () => 4096), 65536, 3];
    const keys = sizes.map((_, i) => `p/${i}`);
    assert.ok((await c.batchPut(keys.map((k, i) => [k, value(sizes[i], i)]))).every((x) => x === 0));
    const asked = ['absent/0', ...keys, 'absent/1'];
    const first = await c.batchGet(asked);
    assert.is(first.length, asked.length);
    assert.is(first[0], undefined);
    assert.is(first[asked.length - 1], undefined);
    for (let i = 0; i < keys.length; i++) assert.ok(Buffer.from(first[i + 1]).equals(value(sizes[i], i)), `value ${i}`);
    const again = await c.batchGet([...keys].reverse());
    assert.ok(Buffer.from(again[0]).equals(value(3, keys.length - 1)));
    // the first call's values are the caller's: the second call wrote none of their bytes
    for (let i = 0; i < keys.length; i++) assert.ok(Buffer.from(first[i + 1]).equals(value(sizes[i], i)), `value ${i} after`);
  } finally { await c.close(); await running.close(); await store.close(); }
});

/** A fake data path answering every BATCH_GET with `payload`, written in `step`-byte writes. */
async function fakeServer(payload, step) {
  const data = net.createServer((s) => {
    s.setNoDelay(true);
    const r = new FrameReader(false);
    s.on('data', async (c) => {
      r.push(c);
      for (let ev = r.next(); ev; ev = r.next()) {
        if (ev.kind !== 'end') continue;
        const h = ev.head;
        if (h.op !== OP.BATCH_GET) { s.write(encodeAnswer(h.op, h.id, 0, undefined, 0)); continue; }
        const all = Buffer.concat([encodeAnswer(h.op, h.id, 0, undefined, payload.length), payload]);
        for (let at = 0; at < all.length; at += step) {
          s.write(all.subarray(at, at + step));
          await new Promise((res) => setTimeout(res, 1));
        }
      }
    });
    s.on('error', () => {});
  });
  await new Promise((res) => data.listen(0, '127.0.0.1', res));
  const web = http.createServer((req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(req.url === '/api/v1/data_path' ? JSON.stringify({ host: '127.0.0.1', port: data.address().port, tls: false }) : '{}');
  });
  await new Promise((res) => web.listen(0, '127.0.0.1', res));
  return {
    url: `http://127.0.0.1:${web.address().port}`,
    close: () => Promise.all([new Promise((r) => web.close(r)), new Promise((r) => { data.close(r); })]),
  };
}

const frameOf = (vals) => {
  const { chunks, length } = encodeBatchGet(vals, vals.map((v) => (v ? 0 : -3102)));
  return Buffer.concat(chunks, length);
};

test('batch get answers that arrive a few bytes at a time (split inside the table and inside values)', async () => {
  const vals = [value(5, 1), undefined, value(9000, 2), value(4096, 3)];
  const f = await fakeServer(frameOf(vals), 7 * 1024 + 3);
  const c = await MemCacheClient.connect(f.url, { dataPath: 'require', dataConnections: 1 });
  try {
    const got = await c.batchGet(['a', 'b', 'c', 'd']);
    assert.equal(got.map((v) => v && Buffer.from(v).toString('hex')), vals.map((v) => v && v.toString('hex')));
  } finally { await c.close(); await f.close(); }
});

test('a batch get answer whose table does not match its length is refused as malformed', async () => {
  const good = frameOf([value(100, 1), value(100, 2)]);
  const bad = Buffer.from(good);
  bad.writeUInt32LE(99, 4 + 8 + 4); // the second length one short: the table no longer adds up
  const tooMany = Buffer.from(good);
  tooMany.writeUInt32LE(1000, 0); // a count whose table is longer than the answer
  for (const payload of [bad, tooMany]) {
    const f = await fakeServer(payload, 1 << 20);
    const c = await MemCacheClient.connect(f.url, { dataPath: 'require', dataConnections: 1 });
    try {
      let e;
      try { await c.batchGet(['a', 'b']); } catch (x) { e = x; }
      assert.match(e?.message ?? '', /malformed batch frame/);
    } finally { await c.close(); await f.close(); }
  }
});

test.run();
