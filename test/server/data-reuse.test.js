// The binary data path's reused buffers never hand out bytes that are not the answer's own: the
// server assembles answers in a buffer it reuses only once the kernel has them (a slow reader,
// then a remove and puts of other keys into the same space: the reader still gets its bytes), a
// batch get whose values could not all be read falls back to a frame of its own, and the client
// reads large values straight into their buffers (get, getInto, getIntoLayers) intact.
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemCacheClient } from '../../dist/client/index.js';
import { OP, encodeRequest } from '../../dist/protocol/data-frames.js';
import { encodeKeyList, decodeBatchGet } from '../../dist/protocol/framing.js';
import { FrameReader } from '../../dist/protocol/data-reader.js';
import { startServer, req } from './_helpers.js';

/** `size` bytes that tell key `i` apart at every offset. */
function pattern(i, size) {
  const b = Buffer.allocUnsafe(size);
  for (let j = 0; j < size; j++) b[j] = (i * 131 + j * 7 + (j >> 8)) & 0xff;
  return b;
}

async function dataPort(S) {
  return (await req(S.url, 'GET', '/api/v1/data_path')).json().port;
}

/** All answers of a raw connection, read only once `go` is called (the socket stays paused until then). */
function pausedReader(port) {
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => {});
  s.pause();
  const r = new FrameReader(true);
  const got = new Map();
  let cur;
  let want = 0;
  let done;
  const all = new Promise((resolve) => { done = resolve; });
  s.on('data', (c) => {
    r.push(c);
    for (let ev = r.next(); ev; ev = r.next()) {
      if (ev.kind === 'head') cur = { id: ev.head.id, code: ev.head.a, parts: [] };
      else if (ev.kind === 'value') cur.parts.push(Buffer.from(ev.chunk));
      else { got.set(cur.id, { code: cur.code, value: Buffer.concat(cur.parts) }); if (got.size === want) done(got); }
    }
  });
  return { s, go(n) { want = n; s.resume(); return all; } };
}

test('a slow reader gets its own bytes though the values are removed and their space put again meanwhile', async () => {
  const S = await startServer({ store: { leaseMs: 60_000 } });
  try {
    const N = 48;
    const SIZE = 256 * 1024; // 12 MiB of answers: far more than the socket buffers take
    for (let i = 0; i < N; i++) await S.mc.put(`v/${i}`, pattern(i, SIZE));
    const c = pausedReader(await dataPort(S));
    const frames = [];
    for (let i = 0; i < N; i++) frames.push(encodeRequest(OP.GET, i + 1, `v/${i}`, '', 0));
    c.s.write(Buffer.concat(frames));
    // the gets run until the server's write backpressure (8 MiB queued) stops it reading: their
    // answers are assembled, waiting on the paused reader ...
    let ran = 0;
    for (let t = 0, still = 0; t < 500 && still < 20; t++) {
      await new Promise((r) => setTimeout(r, 10));
      const now = S.mc.stats().get_req;
      still = now === ran ? still + 1 : 0;
      ran = now;
    }
    assert.ok(ran >= 24, `at least 6 MiB of answers assembled before the server waits (${ran} gets ran)`);
    // ... then the keys of those answers go and other keys take the space, with other bytes
    for (let i = 0; i < ran; i++) assert.ok(await S.mc.remove(`v/${i}`));
    for (let i = 0; i < ran; i++) await S.mc.put(`w/${i}`, Buffer.alloc(SIZE, 0xee));
    const got = await c.go(N);
    for (let i = 0; i < N; i++) {
      const a = got.get(i + 1);
      assert.is(a.code, 0);
      assert.ok(a.value.equals(pattern(i, SIZE)), `answer ${i + 1} has the bytes of v/${i}`);
    }
    c.s.destroy();
  } finally { await S.close(); }
});

test('a batch get whose read fails for one item answers it with its code and the others with their bytes', async () => {
  const S = await startServer({ store: { sim: { failRead: 1 } } }); // the first read fails: the first item's
  try {
    const keys = ['b/0', 'b/1', 'b/2', 'b/missing'];
    for (let i = 0; i < 3; i++) await S.mc.put(keys[i], pattern(i, 40_000));
    // (the values are then no longer back to back in the room)
    const c = await MemCacheClient.connect(S.url);
    try {
      assert.is(c.transport, 'binary');
      const v = await c.batchGet(keys);
      assert.is(v[0], undefined);
      assert.ok(Buffer.from(v[1]).equals(pattern(1, 40_000)));
      assert.ok(Buffer.from(v[2]).equals(pattern(2, 40_000)));
      assert.is(v[3], undefined);
      const again = await c.batchGet(keys);
      for (let i = 0; i < 3; i++) assert.ok(Buffer.from(again[i]).equals(pattern(i, 40_000)));
    } finally { await c.close(); }
  } finally { await S.close(); }
});

test('raw BATCH_GET: one frame, codes, lengths and values back to back, as framing.ts says', async () => {
  const S = await startServer();
  try {
    await S.mc.put('r/0', pattern(0, 5000));
    await S.mc.put('r/1', pattern(1, 70_000));
    const s = net.connect(await dataPort(S), '127.0.0.1');
    s.on('error', () => {});
    const list = encodeKeyList(['r/0', 'nope', 'r/1']);
    s.write(Buffer.concat([encodeRequest(OP.BATCH_GET, 9, '', '', list.length), list]));
    const r = new FrameReader(true);
    const parts = [];
    const head = await new Promise((resolve) => {
      let h;
      s.on('data', (c) => {
        r.push(c);
        for (let ev = r.next(); ev; ev = r.next()) {
          if (ev.kind === 'head') h = ev.head;
          else if (ev.kind === 'value') parts.push(Buffer.from(ev.chunk));
          else resolve(h);
        }
      });
    });
    s.destroy();
    assert.equal([head.op, head.id, head.a], [OP.BATCH_GET, 9, 0]);
    const { codes, values } = decodeBatchGet(Buffer.concat(parts));
    assert.equal(codes, [0, -3102, 0]);
    assert.ok(Buffer.from(values[0]).equals(pattern(0, 5000)));
    assert.is(values[1], undefined);
    assert.ok(Buffer.from(values[2]).equals(pattern(1, 70_000)));
  } finally { await S.close(); }
});

test('large values read straight into their buffers: get, getInto, getIntoLayers, many at once, intact', async () => {
  const S = await startServer();
  const c = await MemCacheClient.connect(S.url, { dataConnections: 1 });
  try {
    const sizes = [1, 4096, 65_535, 65_537, 200_000, 1 << 20];
    for (const [i, n] of sizes.entries()) await c.put(`l/${i}`, pattern(i, n));
    const gets = await Promise.all(sizes.map((_, i) => c.get(`l/${i}`)));
    for (const [i, n] of sizes.entries()) assert.ok(Buffer.from(gets[i]).equals(pattern(i, n)), `get l/${i}`);
    const dsts = sizes.map((n) => Buffer.alloc(n + 100, 0x55));
    const lens = await Promise.all(sizes.map((_, i) => c.getInto(`l/${i}`, dsts[i])));
    for (const [i, n] of sizes.entries()) {
      assert.is(lens[i], n);
      assert.ok(dsts[i].subarray(0, n).equals(pattern(i, n)), `getInto l/${i}`);
      assert.ok(dsts[i].subarray(n).equals(Buffer.alloc(100, 0x55)), `getInto l/${i} wrote past the value`);
    }
    const big = sizes.length - 1;
    const views = [Buffer.alloc(300_000), Buffer.alloc(0), Buffer.alloc(70_000), Buffer.alloc((1 << 20) - 370_000)];
    assert.is(await c.getIntoLayers(`l/${big}`, views), 1 << 20);
    assert.ok(Buffer.concat(views).equals(pattern(big, 1 << 20)));
    // a value too large for the views refuses the call and the connection carries on
    let e;
    try { await c.getInto(`l/${big}`, Buffer.alloc(1000)); } catch (x) { e = x; }
    assert.match(e.message, /dst holds 1000 bytes/);
    assert.ok(Buffer.from(await c.get(`l/${big}`)).equals(pattern(big, 1 << 20)));
  } finally { await c.close(); await S.close(); }
});

test.run();
