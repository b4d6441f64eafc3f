// The batch_put / batch_get fast path in the node:http handler answers byte for byte as the Koa
// routes (fastPath: false), errors included; malformed frames get 400 and leave the store intact;
// a body arriving in many pieces decodes alike.
import http from 'node:http';
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemCache } from '../../dist/index.js';
import { createServer } from '../../dist/server/index.js';
import { encodeBatchPut, encodeKeyList, decodeCodes, decodeBatchGet } from '../../dist/protocol/framing.js';
import { SEGMENTS_2x2, isErrorBody } from './_helpers.js';

const OBJ = '/api/v1/objects';
const frame = ({ chunks, length }) => Buffer.concat(chunks, length);

async function serve(server) {
  const mc = await MemCache.open({ segments: SEGMENTS_2x2 });
  const r = await createServer(mc, { valueLimit: 1 << 20, batchLimit: 4 << 20, ...server }).listen('127.0.0.1', 0);
  return { mc, port: r.port, close: async () => { await r.close(); await mc.close(); } };
}

let FAST;
let KOA;
test.before(async () => { FAST = await serve({}); KOA = await serve({ fastPath: false }); });
test.after(async () => { await FAST.close(); await KOA.close(); });

/**
 * One raw exchange on its own connection: the request head and `body` written in `pieces` writes
 * (a pause between them, so the server reads several chunks); the whole response as bytes.
 *
 * A server may answer from the head alone (a refusal) before the body is sent: the answer is what
 * the tests assert. The connection is kept alive, so the server never closes it under a body
 * still arriving (a close with unread bytes resets the connection, and a write then fails with
 * EPIPE before the answer is read); the answer ends at its Content-Length, no piece is written
 * once it has begun, and the client closes.
 */
function raw(port, method, path, body = Buffer.alloc(0), { pieces = 1, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const out = [];
    let got = 0;
    let done = false;
    const finish = (err) => {
      if (done) return;
      done = true;
      s.destroy();
      if (err) reject(err);
      else resolve(Buffer.concat(out, got));
    };
    s.on('data', (c) => {
      out.push(c);
      got += c.length;
      const all = Buffer.concat(out, got);
      const end = all.indexOf('\r\n\r\n');
      if (end < 0) return;
      const cl = /\r\ncontent-length: *(\d+)/i.exec(all.subarray(0, end).toString('latin1'));
      if (cl && got >= end + 4 + Number(cl[1])) finish();
    });
    s.on('error', (e) => finish(got ? undefined : e));
    s.on('close', () => finish(got ? undefined : new Error(`${method} ${path}: closed without an answer`)));
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('');
    const cl = 'transfer-encoding' in headers ? '' : `Content-Length: ${body.length}\r\n`;
    s.write(`${method} ${path} HTTP/1.1\r\nHost: x\r\n${cl}${extra}\r\n`);
    const step = Math.ceil(body.length / pieces) || 1;
    let off = 0;
    const next = () => {
      if (off >= body.length || got > 0 || done) return;
      s.write(body.subarray(off, off + step));
      off += step;
      setTimeout(next, 5);
    };
    next();
  });
}

/** Response bytes with the Date header and the error body's timestamp blanked. */
const norm = (b) => b.toString('latin1').replace(/\r\nDate: [^\r]*/, '\r\nDate: -').replace(/"timestamp":\d+/, '"timestamp":0');

function parse(b) {
  const i = b.indexOf('\r\n\r\n');
  const head = b.subarray(0, i).toString('latin1');
  return { status: Number(head.split(' ')[1]), head, body: b.subarray(i + 4), text: b.subarray(i + 4).toString('utf8'), headers: { 'content-type': /Content-Type: ([^\r]*)/.exec(head)?.[1] } };
}

/** The same request to both servers: identical responses; the fast server's response. */
async function both(method, path, body, opts) {
  const [a, b] = await Promise.all([raw(FAST.port, method, path, body, opts), raw(KOA.port, method, path, body, opts)]);
  assert.is(norm(a), norm(b), `${method} ${path}: fast path and Koa answer alike`);
  return parse(a);
}

/** Counts calls of ServerResponse.cork (the fast path corks to write a batch_get's chunks; Koa does not). */
async function corks(fn) {
  const orig = http.ServerResponse.prototype.cork;
  let n = 0;
  http.ServerResponse.prototype.cork = function (...a) { n++; return orig.apply(this, a); };
  try { return { result: await fn(), n }; } finally { http.ServerResponse.prototype.cork = orig; }
}

const sameKeys = async () => {
  const [a, b] = [(await FAST.mc.keys()).sort(), (await KOA.mc.keys()).sort()];
  assert.equal(a, b);
  return a;
};

test('batch_put and batch_get: fast path and Koa answer byte for byte, many-piece bodies too', async () => {
  const entries = Array.from({ length: 40 }, (_, i) => [`fp/${i}/ключ`, Buffer.alloc(3000 + i, i)]);
  let r = await both('POST', `${OBJ}/batch_put`, frame(encodeBatchPut(entries)), { pieces: 7 });
  assert.is(r.status, 200);
  assert.equal(decodeCodes(r.body), entries.map(() => 0));
  // duplicates and options
  r = await both('POST', `${OBJ}/batch_put?medium=dram&replicas=1`, frame(encodeBatchPut([entries[0], ['fp/new', Buffer.from('n')]])));
  assert.equal(decodeCodes(r.body), [-3006, 0]);
  for (const s of [FAST, KOA]) assert.is((await s.mc.query('fp/new')).blobs[0].medium, 'DRAM');
  for (const pieces of [1, 5]) {
    const { result, n } = await corks(() => both('POST', `${OBJ}/batch_get`, encodeKeyList([...entries.map(([k]) => k), 'absent']), { pieces }));
    assert.ok(n >= 1, 'the fast path took batch_get');
    const g = decodeBatchGet(result.body);
    assert.equal(g.codes, [...entries.map(() => 0), -3102]);
    for (let i = 0; i < entries.length; i++) assert.ok(Buffer.from(g.values[i]).equals(entries[i][1]));
  }
  assert.is((await sameKeys()).length, 41);
});

test('errors: same status, headers and error body; malformed frames leave the store intact', async () => {
  const before = await sameKeys();
  const big = frame(encodeBatchPut([['fp/big', Buffer.alloc((1 << 20) + 1)]]));
  const cases = [
    ['POST', `${OBJ}/batch_put`, Buffer.from([2, 0, 0, 0, 1, 0, 0, 0]), 400, 'MMC_INVALID_PARAM: malformed batch frame'],
    ['POST', `${OBJ}/batch_put`, Buffer.concat([frame(encodeBatchPut([['fp/x', Buffer.from('x')]])), Buffer.from('!')]), 400, 'MMC_INVALID_PARAM: malformed batch frame'],
    ['POST', `${OBJ}/batch_put`, Buffer.alloc(0), 400, 'MMC_INVALID_PARAM: malformed batch frame'],
    ['POST', `${OBJ}/batch_put`, big, 413, /^MMC_INVALID_PARAM: value too large/],
    ['POST', `${OBJ}/batch_put?medium=ssd`, frame(encodeBatchPut([['fp/m', Buffer.from('x')]])), 400, /^MMC_INVALID_PARAM: medium/],
    ['POST', `${OBJ}/batch_put?replicas=0`, frame(encodeBatchPut([['fp/m', Buffer.from('x')]])), 400, /^MMC_INVALID_PARAM: replicas/],
    ['POST', `${OBJ}/batch_put`, Buffer.alloc((4 << 20) + 1), 413, /^MMC_INVALID_PARAM: batch too large/],
    ['POST', `${OBJ}/batch_get`, Buffer.from([1, 0, 0]), 400, 'MMC_INVALID_PARAM: malformed batch frame'],
    ['POST', `${OBJ}/batch_get`, Buffer.from([1, 0, 0, 0, 5, 0, 0, 0, 65]), 400, 'MMC_INVALID_PARAM: malformed batch frame'],
    ['POST', `${OBJ}/batch_get`, Buffer.from([255, 255, 255, 255]), 400, 'MMC_INVALID_PARAM: malformed batch frame'],
  ];
  for (const [m, p, body, status, reason] of cases) {
    for (const pieces of [1, 3]) {
      const r = await both(m, p, body, { pieces });
      assert.is(r.status, status, `${m} ${p} (${pieces} pieces)`);
      isErrorBody(r, reason);
    }
  }
  assert.equal(await sameKeys(), before, 'nothing reached the store');
  // a chunked batch (no Content-Length) goes through Koa on both, and works
  const te = { 'transfer-encoding': 'chunked' };
  const body = frame(encodeBatchPut([['fp/chunked', Buffer.from('c')]]));
  const chunked = Buffer.concat([Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
  const r = await both('POST', `${OBJ}/batch_put`, chunked, { headers: te });
  assert.equal(decodeCodes(r.body), [0]);
  // other paths and methods are Koa's: 404 / 405 alike
  assert.is((await both('POST', `${OBJ}/batch_get/`, encodeKeyList(['a']))).status, 404);
  assert.is((await both('GET', `${OBJ}/batch_get`)).status, 405);
  assert.is((await both('POST', `${OBJ}/batch_getx`, encodeKeyList(['a']))).status, 404);
});

test('store errors in a batch_get: the same answer as Koa', async () => {
  // a store whose batchGetCodes throws an MmcError, and one that throws something else
  const { MmcError, MMC } = await import('../../dist/errors.js');
  for (const [thrown, status, reason] of [
    [new MmcError(MMC.MMC_NOT_INITIALIZED, 'closing'), 503, /^MMC_NOT_INITIALIZED/],
    [new Error('boom'), 500, 'Internal server error'],
  ]) {
    const stub = { ready: true, batchGetCodes: async () => { throw thrown; } };
    const servers = await Promise.all([{}, { fastPath: false }].map((o) => createServer(stub, o).listen('127.0.0.1', 0)));
    try {
      for (const s of servers) s.server.on('error', () => {});
      const [a, b] = await Promise.all(servers.map((s) => raw(s.port, 'POST', `${OBJ}/batch_get`, encodeKeyList(['k']))));
      assert.is(norm(a), norm(b));
      const r = parse(a);
      assert.is(r.status, status);
      isErrorBody(r, reason);
    } finally { await Promise.all(servers.map((s) => s.close())); }
  }
});

test.run();
