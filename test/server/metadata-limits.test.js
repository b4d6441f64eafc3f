// /metadata is bounded in key count and total bytes (keys plus values): beyond, the contract's
// error body and nothing changes; a delete makes room again.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startServer, req, isErrorBody } from './_helpers.js';

/** A PUT whose body goes chunked (no Content-Length): the limit is checked once it is read. */
function chunkedPut(base, path, body) {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const r = http.request({ host: u.hostname, port: u.port, method: 'PUT', path, headers: { 'Transfer-Encoding': 'chunked' } }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const b = Buffer.concat(chunks);
        resolve({ status: res.statusCode, headers: res.headers, body: b, text: b.toString() });
      });
    });
    r.on('error', reject);
    r.write(body.subarray(0, 10));
    r.end(body.subarray(10));
  });
}

test('key count: beyond the limit refused, overwrite allowed, delete makes room', async () => {
  const T = await startServer({ server: { metadataKeyLimit: 3 } });
  try {
    for (const k of ['a', 'b', 'c']) assert.is((await req(T.url, 'PUT', `/metadata?key=${k}`, `v-${k}`)).text, 'metadata updated');
    const r = await req(T.url, 'PUT', '/metadata?key=d', 'v-d');
    assert.is(r.status, 200);
    isErrorBody(r, 'MMC_NOT_ENOUGH_MEMORY: metadata is full (limit 3 keys)');
    isErrorBody(await req(T.url, 'GET', '/metadata?key=d'), 'Metadata key not found');
    assert.is((await req(T.url, 'PUT', '/metadata?key=a', 'new-a')).text, 'metadata updated');
    assert.is((await req(T.url, 'DELETE', '/metadata?key=b')).text, 'metadata deleted');
    assert.is((await req(T.url, 'PUT', '/metadata?key=d', 'v-d')).text, 'metadata updated');
    for (const [k, v] of [['a', 'new-a'], ['c', 'v-c'], ['d', 'v-d']]) assert.is((await req(T.url, 'GET', `/metadata?key=${k}`)).text, v);
  } finally { await T.close(); }
});

test('total bytes: keys plus values, declared or chunked; refused puts change nothing; delete makes room', async () => {
  const T = await startServer({ server: { metadataTotalLimit: 10_000 } });
  try {
    const big = Buffer.alloc(6000, 0x61);
    assert.is((await req(T.url, 'PUT', '/metadata?key=k1', big)).text, 'metadata updated'); // 6002 bytes
    const full = 'MMC_NOT_ENOUGH_MEMORY: metadata is full (limit 10000 bytes)';
    isErrorBody(await req(T.url, 'PUT', '/metadata?key=k2', Buffer.alloc(4000, 0x62)), full); // 6002 + 4002
    isErrorBody(await chunkedPut(T.url, '/metadata?key=k2', Buffer.alloc(4000, 0x62)), full);
    assert.is((await req(T.url, 'PUT', '/metadata?key=k2', Buffer.alloc(3996, 0x62))).text, 'metadata updated'); // exactly 10000
    // an overwrite counts the old value out: k1 may grow only into what is free
    isErrorBody(await req(T.url, 'PUT', '/metadata?key=k1', Buffer.alloc(6001, 0x63)), full);
    assert.ok((await req(T.url, 'GET', '/metadata?key=k1')).body.equals(big), 'the refused overwrite changed nothing');
    assert.is((await req(T.url, 'PUT', '/metadata?key=k1', Buffer.alloc(5000, 0x63))).text, 'metadata updated');
    assert.is((await req(T.url, 'DELETE', '/metadata?key=k2')).text, 'metadata deleted');
    assert.is((await chunkedPut(T.url, '/metadata?key=k3', Buffer.alloc(4996, 0x64))).text, 'metadata updated');
    assert.ok((await req(T.url, 'GET', '/metadata?key=k3')).body.equals(Buffer.alloc(4996, 0x64)));
    assert.ok((await req(T.url, 'GET', '/metadata?key=k1')).body.equals(Buffer.alloc(5000, 0x63)));
  } finally { await T.close(); }
});

test('defaults: 64 MiB and 65536 keys', async () => {
  const T = await startServer();
  try {
    const v = Buffer.alloc(1 << 20, 0x41);
    let n = 0;
    let r;
    for (; n < 70; n++) {
      r = await req(T.url, 'PUT', `/metadata?key=m${n}`, v);
      if (r.text !== 'metadata updated') break;
    }
    assert.is(n, 63, 'sixty-three 1 MiB values and their keys fit in 64 MiB, not a 64th');
    isErrorBody(r, `MMC_NOT_ENOUGH_MEMORY: metadata is full (limit ${64 << 20} bytes)`);
    for (let i = 0; i < n; i++) assert.is((await req(T.url, 'DELETE', `/metadata?key=m${i}`)).text, 'metadata deleted');
    assert.is((await req(T.url, 'PUT', '/metadata?key=again', v)).text, 'metadata updated');
  } finally { await T.close(); }
});

test('memory comes back: values are held in buffers of their own, freed by a delete', async () => {
  // a server of its own (with --expose-gc) whose memory this test can ask for
  const child = fork(fileURLToPath(new URL('./fixtures/serve-child.js', import.meta.url)),
    [JSON.stringify({ segments: [{ rank: 0, medium: 'dram', bytes: '4MB' }] })], { execArgv: ['--expose-gc'] });
  const message = () => new Promise((resolve) => child.once('message', resolve));
  const memory = async () => { const m = message(); child.send('memory'); return (await m).memory.arrayBuffers; };
  try {
    const url = `http://127.0.0.1:${(await message()).port}`;
    const base = await memory();
    // small values from large socket reads: each stored as a view would keep its read alive
    const v = Buffer.alloc(200, 0x42);
    for (let i = 0; i < 500; i++) assert.is((await req(url, 'PUT', `/metadata?key=s${i}`, v)).text, 'metadata updated');
    for (let i = 0; i < 20; i++) assert.is((await req(url, 'PUT', `/metadata?key=b${i}`, Buffer.alloc(1 << 20, i))).text, 'metadata updated');
    const full = await memory();
    assert.ok(full - base < 24 << 20, `20.1 MiB of values hold ${((full - base) / 2 ** 20).toFixed(1)} MiB`);
    for (let i = 0; i < 500; i++) await req(url, 'DELETE', `/metadata?key=s${i}`);
    for (let i = 0; i < 20; i++) await req(url, 'DELETE', `/metadata?key=b${i}`);
    const after = await memory();
    console.log(`  /metadata array buffers: ${(base / 2 ** 20).toFixed(1)} MiB, full ${(full / 2 ** 20).toFixed(1)} MiB, after deletes ${(after / 2 ** 20).toFixed(1)} MiB`);
    assert.ok(after - base < 4 << 20, 'the deletes gave the memory back');
  } finally {
    await new Promise((r) => { child.once('exit', r); child.disconnect(); });
  }
});

test.run();
