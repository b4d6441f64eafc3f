// AnswerOut reuses the buffer it assembles answers in only once the kernel has all the bytes of its
// last write. Writes that complete at once still call back a tick later: by then the buffer may
// hold another answer the kernel took only part of, and that answer's tail must not be overwritten
// by the next answers (a reader that is slow to read then gets bytes that are not its value's).
// And a burst of answers is written as it is made, a write per ~16 KiB.
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AnswerOut } from '../../dist/server/data-out.js';
import { OP } from '../../dist/protocol/data-frames.js';
import { FrameReader } from '../../dist/protocol/data-reader.js';

const SIZE = 256 * 1024;

/** Bytes that tell answer `id` apart at every offset. */
function fill(v, id) {
  for (let j = 0; j < v.length; j++) v[j] = (id * 131 + j * 7 + (j >> 8) + (j >> 16) * 17) & 0xff;
  return v;
}

/** A connected pair on loopback: the server side, and a client side that reads nothing yet. */
async function pair() {
  const server = net.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const accepted = new Promise((r) => server.once('connection', r));
  const client = net.connect(server.address().port, '127.0.0.1');
  client.pause();
  const sock = await accepted;
  return { server, client, sock };
}

/** Every answer the client reads, by id, once `want` of them are in. */
function readAnswers(client, want) {
  const r = new FrameReader(true);
  const got = new Map();
  let cur;
  return new Promise((resolve) => {
    client.on('data', (c) => {
      r.push(c);
      for (let ev = r.next(); ev; ev = r.next()) {
        if (ev.kind === 'head') cur = { id: ev.head.id, parts: [] };
        else if (ev.kind === 'value') cur.parts.push(Buffer.from(ev.chunk));
        else {
          got.set(cur.id, Buffer.concat(cur.parts));
          if (got.size === want) resolve(got);
        }
      }
    });
    client.resume();
  });
}

function answer(out, id) {
  const room = out.room(SIZE);
  fill(room, id);
  out.sendRoom(OP.GET, id, room);
  out.flush();
}

test('a buffer whose last write the kernel took only in part is not reused when its earlier writes call back', async () => {
  const { server, client, sock } = await pair();
  try {
    const out = new AnswerOut(sock);
    // in one turn: answers written at once, until the kernel takes one only in part
    let id = 0;
    while (sock.writableLength === 0) {
      answer(out, ++id);
      assert.ok(id < 1000, 'the kernel stops taking bytes of a reader that reads nothing');
    }
    const partial = id;
    assert.ok(partial >= 2, `some writes completed at once before one did not (${partial})`);
    // the callbacks of the writes that completed at once run now ...
    await new Promise((r) => setImmediate(r));
    // ... and the next answers must go to another buffer than the one still being sent
    for (let k = 0; k < 4; k++) answer(out, ++id);
    const got = await readAnswers(client, id);
    for (let i = 1; i <= id; i++) {
      const want = fill(Buffer.allocUnsafe(SIZE), i);
      assert.ok(got.get(i)?.equals(want), `answer ${i} (of ${id}; ${partial} written in part) has its own bytes`);
    }
  } finally {
    client.destroy();
    sock.destroy();
    server.close();
  }
});

test('a burst of answers goes out in writes of about 16 KiB, not one at its end, each answer whole and in order', async () => {
  const { server, client, sock } = await pair();
  try {
    const out = new AnswerOut(sock);
    const writes = [];
    const write = sock.write.bind(sock);
    sock.write = (chunk, ...rest) => { writes.push(chunk.byteLength); return write(chunk, ...rest); };
    const n = 16;
    const size = 4096;
    out.hold(); // the requests of one socket read
    for (let id = 1; id <= n; id++) {
      const room = out.room(size);
      fill(room, id);
      out.sendRoom(OP.GET, id, room);
    }
    const beforeRelease = writes.length;
    out.release();
    assert.ok(beforeRelease >= 3, `written as the burst is made: ${beforeRelease} writes before its end (${writes.join(', ')} B)`);
    assert.ok(writes.every((b) => b <= 16 * 1024 + size + 64), `no write much over 16 KiB: ${writes.join(', ')}`);
    const got = await readAnswers(client, n);
    assert.equal([...got.keys()], Array.from({ length: n }, (_, i) => i + 1), 'in order');
    for (let id = 1; id <= n; id++) assert.ok(got.get(id).equals(fill(Buffer.allocUnsafe(size), id)), `answer ${id} whole`);
  } finally {
    client.destroy();
    sock.destroy();
    server.close();
  }
});

test.run();
