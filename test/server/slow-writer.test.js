// A streaming PUT that outlives allocTimeoutMs must not write into the space its reservation
// lost: a real server on loopback, one 4 MiB HBM segment, a slow client.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { MemCache } from '../../dist/index.js';
import { createServer } from '../../dist/server/index.js';
import { req } from './_helpers.js';
import { pattern, equalBytes, sleep } from '../helpers/store.js';

const MiB = 1 << 20;
const ALLOC_TIMEOUT_MS = 800;

/** A raw HTTP/1.1 request whose body the test sends piece by piece; `response` resolves with the status line and body. */
function rawPut(port, path, length) {
  const socket = net.connect(port, '127.0.0.1');
  const chunks = [];
  const response = new Promise((resolve, reject) => {
    socket.on('data', (c) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.on('error', reject);
  });
  socket.write(`PUT ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${length}\r\nConnection: close\r\n\r\n`);
  return {
    send: (bytes) => new Promise((resolve) => socket.write(bytes, resolve)),
    response,
  };
}

test('a slow PUT past allocTimeoutMs fails; the victim put into the space it lost reads back byte for byte', async () => {
  const mc = await MemCache.open({ segments: [{ rank: 0, medium: 'hbm', bytes: 4 * MiB }], allocTimeoutMs: ALLOC_TIMEOUT_MS });
  // the slow put still receives its body: an in-flight limit above both puts lets the victim in
  const running = await createServer(mc, { putInFlightLimit: 16 * MiB }).listen('127.0.0.1', 0);
  try {
    const slowBody = Buffer.alloc(4 * MiB, 0xaa);
    const slow = rawPut(running.port, '/api/v1/objects?key=slow', 4 * MiB);
    await slow.send(slowBody.subarray(0, MiB));
    await sleep(ALLOC_TIMEOUT_MS + 900); // past the deadline and a sweep (every 500 ms)
    const victim = pattern(42, 4 * MiB);
    const put = await req(running.url, 'PUT', '/api/v1/objects?key=victim', victim);
    assert.is(put.status, 200, put.text); // only fits where 'slow' was
    await slow.send(slowBody.subarray(MiB));
    const answer = await slow.response;
    assert.not.match(answer, /^HTTP\/1\.1 200/, 'the slow put must fail');
    assert.match(answer, /expired|removed/);
    const got = await req(running.url, 'GET', '/api/v1/objects?key=victim');
    assert.is(got.status, 200);
    assert.ok(equalBytes(new Uint8Array(got.body), victim), 'victim intact byte for byte');
    assert.is((await req(running.url, 'GET', '/api/v1/objects?key=slow')).status, 404);
  } finally {
    await running.close();
    await mc.close();
  }
});

test.run();
