// The client's binary data path against servers that misbehave: one that stops answering (the
// requests fail with MMC_TIMEOUT after timeoutMs), connections dropped under the client (it opens
// new ones), answers for requests never made (the connection is dropped); and the seam for layer
// calls: a value scattered over views whose lengths must add up.
import http from 'node:http';
import net from 'node:net';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemCacheClient } from '../../dist/client/index.js';
import { MMC, MemCache } from '../../dist/index.js';
import { createServer } from '../../dist/server/index.js';
import { OP, encodeAnswer } from '../../dist/protocol/data-frames.js';
import { FrameReader } from '../../dist/protocol/data-reader.js';
import { SEGMENTS } from './_suite.js';

/** An HTTP side that offers a data path at `port` (a fake one, served by `onFrame`). */
async function fakeServer(onFrame) {
  const data = net.createServer((s) => {
    const r = new FrameReader(false);
    s.on('data', (c) => { r.push(c); for (let ev = r.next(); ev; ev = r.next()) if (ev.kind === 'end') onFrame(s, ev.head); });
    s.on('error', () => {});
  });
  await new Promise((res) => data.listen(0, '127.0.0.1', res));
  const port = data.address().port;
  const web = http.createServer((req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(req.url === '/api/v1/data_path' ? JSON.stringify({ host: '127.0.0.1', port, tls: false }) : '{}');
  });
  await new Promise((res) => web.listen(0, '127.0.0.1', res));
  return {
    url: `http://127.0.0.1:${web.address().port}`,
    close: () => Promise.all([new Promise((r) => web.close(r)), new Promise((r) => { data.close(r); })]),
  };
}

const hello = (s, h) => { if (h.op === OP.HELLO) { s.write(encodeAnswer(OP.HELLO, h.id, 0, undefined, 0)); return true; } return false; };

test('a data path that stops answering: MMC_TIMEOUT after timeoutMs', async () => {
  const f = await fakeServer((s, h) => { hello(s, h); });
  const c = await MemCacheClient.connect(f.url, { dataPath: 'require', timeoutMs: 150, dataConnections: 1 });
  try {
    assert.is(c.transport, 'binary');
    let e;
    try { await c.get('k'); } catch (x) { e = x; }
    assert.is(e.code, MMC.MMC_TIMEOUT);
    assert.match(e.message, /no answer for 150 ms/);
  } finally { await c.close(); await f.close(); }
});

test('an answer to a request never made drops the connection; the next request opens another', async () => {
  let n = 0;
  const f = await fakeServer((s, h) => {
    if (hello(s, h)) return;
    if (++n === 1) s.write(encodeAnswer(h.op, h.id + 1000, 0, undefined, 0));
    else s.write(encodeAnswer(h.op, h.id, -3102, undefined, 0));
  });
  const c = await MemCacheClient.connect(f.url, { dataPath: 'require', dataConnections: 1 });
  try {
    let e;
    try { await c.get('k'); } catch (x) { e = x; }
    assert.is(e.code, MMC.MMC_ERROR);
    assert.match(e.message, /answer to unknown request/);
    assert.is(await c.get('k'), undefined);
  } finally { await c.close(); await f.close(); }
});

test('connections dropped by the server: waiting requests fail, later ones go over new connections', async () => {
  const store = await MemCache.open({ segments: SEGMENTS });
  const running = await createServer(store).listen('127.0.0.1', 0);
  const c = await MemCacheClient.connect(running.url, { dataPath: 'require', dataConnections: 2 });
  try {
    await c.put('k', Buffer.from('v'));
    // the server goes away and comes back on the same ports
    await running.close();
    let e;
    try { await c.get('k'); } catch (x) { e = x; }
    assert.is(e.code, MMC.MMC_ERROR);
    const again = await createServer(store, { dataListen: `127.0.0.1:${running.dataPath.port}` }).listen('127.0.0.1', running.port);
    try {
      assert.is(Buffer.from(await c.get('k')).toString(), 'v');
    } finally { await again.close(); }
  } finally { await c.close(); await store.close(); }
});

test('the layer seam: getIntoViews scatters a value over views (exact lengths, else nothing written); putChunks gathers', async () => {
  const store = await MemCache.open({ segments: SEGMENTS });
  const running = await createServer(store).listen('127.0.0.1', 0);
  const c = await MemCacheClient.connect(running.url, { dataPath: 'require' });
  const t = c['data'];
  try {
    await t.putChunks('L', [Buffer.from('abc'), Buffer.from('defg'), Buffer.from('h')], 8, '');
    const views = [Buffer.alloc(2), Buffer.alloc(5), Buffer.alloc(1)];
    assert.is(await t.getIntoViews('L', views, true), 8);
    assert.equal(views.map(String), ['ab', 'cdefg', 'h']);
    const short = [Buffer.alloc(3, 0x2e), Buffer.alloc(3, 0x2e)];
    let e;
    try { await t.getIntoViews('L', [...short, Buffer.alloc(3, 0x2e)], true); } catch (x) { e = x; }
    assert.equal([e.code, e.message], [MMC.MMC_INVALID_PARAM, "MMC_INVALID_PARAM: views add up to 9 bytes, the value of 'L' has 8"]);
    assert.equal(short.map(String), ['...', '...']);
    assert.is(await t.getIntoViews('absent', views, true), undefined);
    assert.is(Buffer.from(await c.get('L')).toString(), 'abcdefgh'); // the connection carried on
  } finally { await c.close(); await running.close(); await store.close(); }
});

test.run();
