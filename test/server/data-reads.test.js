// How the binary data path's server reads (src/server/data-session.ts). A put's value is read
// into two buffers of its connection that serve from put to put (direct): a buffer is lent to the
// next socket read only once the chunk read into it has been written to the store, and only for
// bytes of the value being read. Many large puts sent back to back, mixed with small frames, and
// puts whose store writes land late (both buffers lent, the next reads go elsewhere) must all
// store their own bytes. GETs are answered within the read they came in (quick), and still in
// order with the frames around them, also where the store's read is in flight.
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { OP, encodeRequest } from '../../dist/protocol/data-frames.js';
import { FrameReader } from '../../dist/protocol/data-reader.js';
import { heldBackend, slowReadBackend, sleep } from '../helpers/store.js';
import { startServer, req } from './_helpers.js';

const MiB = 1 << 20;

/** `size` bytes that tell value `i` apart at every offset. */
function pattern(i, size) {
  const b = Buffer.allocUnsafe(size);
  for (let j = 0; j < size; j++) b[j] = (i * 151 + j * 13 + (j >> 9)) & 0xff;
  return b;
}

/** A raw data-path connection: send(buffer); answers(n) resolves with the first n answers' heads by id, values(id) their payloads. */
async function raw(S) {
  const port = (await req(S.url, 'GET', '/api/v1/data_path')).json().port;
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => {});
  const r = new FrameReader(true);
  const heads = new Map();
  const values = new Map();
  const reasons = new Map();
  const order = [];
  let want = Infinity;
  let done;
  s.on('data', (c) => {
    r.push(c);
    for (let ev = r.next(); ev; ev = r.next()) {
      if (ev.kind === 'head') { heads.set(ev.head.id, ev.head); order.push(ev.head.id); values.set(ev.head.id, []); reasons.set(ev.head.id, Buffer.from(ev.aux).toString()); }
      if (ev.kind === 'value') values.get(order.at(-1)).push(Buffer.from(ev.chunk));
      if (ev.kind === 'end' && heads.size >= want) done();
    }
  });
  return {
    send: (b) => s.write(b),
    get count() { return heads.size; },
    order,
    value: (id) => Buffer.concat(values.get(id)),
    reason: (id) => reasons.get(id),
    answers(n) { want = n; return heads.size >= n ? Promise.resolve(heads) : new Promise((resolve) => { done = () => resolve(heads); }); },
    close: () => s.destroy(),
  };
}

/** The frames of puts of `sizes` (key p/i), a SIZE request between each two. */
function puts(sizes, prefix) {
  const frames = [];
  let id = 1;
  for (const [i, n] of sizes.entries()) {
    frames.push(encodeRequest(OP.PUT, id++, `${prefix}/${i}`, '', n), pattern(i, n));
    frames.push(encodeRequest(OP.SIZE, id++, `${prefix}/${i}`, '', 0));
  }
  return { bytes: Buffer.concat(frames), answers: id - 1 };
}

test('large puts sent back to back on one connection each store their own bytes', async () => {
  const S = await startServer({ server: { valueLimit: 4 * MiB } });
  try {
    const sizes = [MiB, 65_536, 3 * MiB + 17, 100, 300_000, MiB, 2 * MiB - 1, 70_000];
    const c = await raw(S);
    const { bytes, answers } = puts(sizes, 'p');
    c.send(bytes);
    const heads = await c.answers(answers);
    for (const h of heads.values()) assert.is(h.a, 0, `answer ${h.id} (op ${h.op}) is 0`);
    for (const [i, n] of sizes.entries()) assert.ok(Buffer.from(await S.mc.get(`p/${i}`)).equals(pattern(i, n)), `p/${i} stored intact`);
    c.close();
  } finally { await S.close(); }
});

test('puts whose store writes land late: no value buffer is read into before its chunk is written', async () => {
  const held = heldBackend();
  const S = await startServer({ store: { backend: held.backend }, server: { valueLimit: 4 * MiB } });
  try {
    const sizes = [2 * MiB, 3 * MiB, MiB + 5];
    const c = await raw(S);
    held.holdWrites = true;
    const { bytes, answers } = puts(sizes, 'h');
    c.send(bytes);
    // the first chunks' writes wait; meanwhile the socket keeps bringing the rest of the values
    for (let t = 0; t < 200 && held.writesHeld === 0; t++) await sleep(5);
    assert.ok(held.writesHeld > 0, 'a write is held');
    await sleep(50);
    // the writes land one at a time, the run loop reading on between them
    for (let t = 0; t < 2000; t++) {
      if (held.writesHeld) held.releaseWrites(1);
      else if (c.count >= answers) break;
      await sleep(1);
    }
    held.holdWrites = false;
    held.releaseWrites();
    const heads = await c.answers(answers);
    for (const h of heads.values()) assert.is(h.a, 0, `answer ${h.id} (op ${h.op}) is 0`);
    for (const [i, n] of sizes.entries()) assert.ok(Buffer.from(await S.mc.get(`h/${i}`)).equals(pattern(i, n)), `h/${i} stored intact`);
    c.close();
  } finally { await S.close(); }
});

test('gets sent with other frames in one write are answered in order, each seeing the frames before it', async () => {
  const S = await startServer();
  try {
    await S.mc.put('q/old', pattern(7, 5000));
    const c = await raw(S);
    const v = pattern(8, 70_000);
    c.send(Buffer.concat([
      encodeRequest(OP.GET, 1, 'q/new', '', 0),
      encodeRequest(OP.GET, 2, 'q/old', '', 0),
      encodeRequest(OP.PUT, 3, 'q/new', '', v.length), v,
      encodeRequest(OP.GET, 4, 'q/new', '', 0),
      encodeRequest(OP.REMOVE, 5, 'q/old', '', 0),
      encodeRequest(OP.GET, 6, 'q/old', '', 0),
      encodeRequest(OP.GET, 7, Buffer.from([0xff]), '', 0),
      encodeRequest(OP.GET, 8, 'q/new', '', 0),
    ]));
    const heads = await c.answers(8);
    assert.equal(c.order, [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.equal([...heads.values()].map((h) => h.a), [-3102, 0, 0, 0, 0, -3102, -3000, 0]);
    assert.ok(c.value(2).equals(pattern(7, 5000)));
    assert.ok(c.value(4).equals(v) && c.value(8).equals(v));
    assert.match(c.reason(7), /not valid UTF-8/);
    c.close();
  } finally { await S.close(); }
});

test('a get whose store read is in flight holds back the frames behind it', async () => {
  const slow = slowReadBackend();
  const S = await startServer({ store: { backend: slow.backend } });
  try {
    await S.mc.put('s/k', pattern(3, 9000));
    const c = await raw(S);
    slow.hold = true;
    c.send(Buffer.concat([encodeRequest(OP.GET, 1, 's/k', '', 0), encodeRequest(OP.REMOVE, 2, 's/k', '', 0), encodeRequest(OP.GET, 3, 's/k', '', 0)]));
    await sleep(50);
    assert.is(c.count, 0, 'nothing answered while the read is held');
    assert.ok(await S.mc.exists('s/k'), 'the remove behind the get waits for it');
    slow.hold = false;
    slow.release();
    const heads = await c.answers(3);
    assert.equal([...heads.values()].map((h) => h.a), [0, 0, -3102]);
    assert.ok(c.value(1).equals(pattern(3, 9000)));
    c.close();
  } finally { await S.close(); }
});

test.run();
