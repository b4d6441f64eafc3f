// The meta service answers a LOOKUP within the socket read it came in (meta.ts quick, run by
// DataSession.quick while the session waits between frames, for a frame whose value is all
// there). Its answers must be the run loop's, byte for byte: the same LOOKUPs sent one at a time
// (quick) and queued behind a RELEASE in one socket write (the run loop takes them: quick stops at
// a frame it does not take) answer alike: found, absent, batches, malformed messages. Pipelined
// COMMITs and LOOKUPs of one key on one connection keep their order.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { MMC } from '../../dist/index.js';
import { DataConn, ChunkSink } from '../../dist/client/data-conn.js';
import { OP, HEADER_BYTES, decodeHead, encodeRequest } from '../../dist/protocol/data-frames.js';
import { encodeAlloc, encodeCommit, encodeLookup, encodeRelease, decodePlacement } from '../../dist/protocol/pool-control.js';
import { exchange as exchangeAt } from './_exchange.js';
import { poolForSuite } from './_inproc.js';

const SEG = 1 << 20;
let meta, agent, c;

const pool = poolForSuite(test, { ranks: [0], hbm: SEG, dram: SEG });
test.before(() => { ({ meta, mc: c, agents: [agent] } = pool); });

const frame = (op, id, body) => Buffer.concat([encodeRequest(op, id, '', '', body.length), body]);

/** Raw frames to the meta service's data path (_exchange.js). */
function exchange(frames, answers, oneWrite) {
  const dp = meta.server.dataPath;
  return exchangeAt({ host: dp.host, port: dp.port }, frames, answers, oneWrite);
}

/** A placement's bytes without its lease (each leased lookup takes the next one). */
const unleased = (a) => ({ ...a, payload: a.payload.length >= 4 ? Buffer.concat([Buffer.alloc(4), a.payload.subarray(4)]) : a.payload });

test('a LOOKUP answers alike in the quick path and in the run loop: found, absent, batch, malformed', async () => {
  await c.put('m1', Buffer.from('one'));
  await c.put('m2', Buffer.from('two'));
  const lookups = [
    encodeLookup({ keys: ['m1'], batch: false, unleased: true }),
    encodeLookup({ keys: ['nope'], batch: false, unleased: true }),
    encodeLookup({ keys: ['m2', 'nope', 'm1'], batch: true, unleased: true }),
    encodeLookup({ keys: ['m1'], batch: false }), // leased: released below
    Buffer.from('garbage!'),
    Buffer.from([0, 1, 0, 0, 2, 0, 0, 0]), // a key list that ends short
    encodeLookup({ keys: ['a', 'b'], batch: false, unleased: true }), // a single lookup of two keys
  ].map((b, i) => frame(OP.LOOKUP, i + 1, b));
  // a RELEASE (of no lease): the run loop's, and the LOOKUPs behind it in the same write too
  const blocker = frame(OP.RELEASE, 99, encodeRelease(0));

  const quick = await exchange(lookups, lookups.length, false);
  const queued = await exchange([blocker, ...lookups], lookups.length + 1, true);
  assert.equal([queued[0].id, queued[0].code], [99, 0]);
  assert.equal(quick.map(unleased), queued.slice(1).map(unleased));
  assert.equal(quick.map((a) => a.id), lookups.map((_, i) => i + 1), 'in order');
  const found = decodePlacement([quick[0].payload]);
  assert.equal(found.items, [{ code: 0, size: 3 }]);
  assert.is(found.groups[0].grant.length, 48);
  assert.equal(decodePlacement([quick[1].payload]).items.map((i) => i.code), [MMC.MMC_UNMATCHED_KEY]);
  assert.equal(decodePlacement([quick[2].payload]).items.map((i) => i.code), [0, MMC.MMC_UNMATCHED_KEY, 0]);
  for (const a of [quick[3], queued[4]]) {
    const p = decodePlacement([a.payload]);
    assert.ok(p.lease > 0, 'a leased lookup has its lease');
    await exchange([frame(OP.RELEASE, 1, encodeRelease(p.lease))], 1, false);
  }
  for (const [i, re] of [[4, /bad lookup message: a flag/], [5, /bad lookup message: malformed key list/], [6, /bad lookup message: 2 keys/]]) {
    assert.is.not(quick[i].code, 0);
    assert.match(quick[i].aux, re);
  }
  assert.equal(Buffer.from(await c.get('m1')), Buffer.from('one'));
});

test('a LOOKUP whose value comes in two socket reads is answered as one that comes whole', async () => {
  await c.put('split', Buffer.from('halves'));
  const f = frame(OP.LOOKUP, 7, encodeLookup({ keys: ['split'], batch: false, unleased: true }));
  const whole = await exchange([f], 1, false);
  const dp = meta.server.dataPath;
  const s = net.connect(dp.port, dp.host);
  await new Promise((r) => s.once('connect', r));
  const got = [];
  const answered = new Promise((r) => s.on('data', (d) => { got.push(d); if (Buffer.concat(got).length >= HEADER_BYTES + whole[0].payload.length) r(); }));
  s.write(f.subarray(0, HEADER_BYTES + 6)); // the header and part of the value: the run loop waits for the rest
  await new Promise((r) => setTimeout(r, 50));
  s.write(f.subarray(HEADER_BYTES + 6));
  await answered;
  s.destroy();
  const b = Buffer.concat(got);
  assert.equal([decodeHead(b, true).a, b.subarray(HEADER_BYTES)], [0, whole[0].payload]);
});

test('pipelined LOOKUPs and a COMMIT of one key on one connection keep their order', async () => {
  const dp = meta.server.dataPath;
  const m = await DataConn.open({ host: dp.host, port: dp.port });
  const sink = new ChunkSink();
  const body = encodeAlloc({ keys: ['ordered'], sizes: [5], query: '', batch: false });
  assert.is((await m.request(OP.ALLOC, '', '', [body], body.length, sink)).code, 0);
  const write = Buffer.from(decodePlacement([Buffer.concat(sink.chunks)]).groups[0].grant);
  m.close();
  const a = await DataConn.open({ host: agent.address.split(':')[0], port: Number(agent.address.split(':')[1]) });
  assert.is((await a.request(OP.WRITE, 'ordered', write, [Buffer.from('fifth')], 5)).code, 0);
  a.close();
  const look = encodeLookup({ keys: ['ordered'], batch: false, unleased: true });
  const got = await exchange([
    frame(OP.LOOKUP, 1, look), // before the commit: not there yet (MMC_OBJECT_NOT_EXISTS)
    frame(OP.COMMIT, 2, encodeCommit({ keys: ['ordered'], ok: [true], batch: false })),
    frame(OP.LOOKUP, 3, look), // after it: found
  ], 3, true);
  assert.equal(got.map((x) => [x.id, x.code]), [[1, 0], [2, 0], [3, 0]]);
  assert.equal(decodePlacement([got[0].payload]).items.map((i) => i.code), [MMC.MMC_OBJECT_NOT_EXISTS]);
  assert.equal(decodePlacement([got[2].payload]).items, [{ code: 0, size: 5 }]);
  assert.equal(Buffer.from(await c.get('ordered')), Buffer.from('fifth'));
});

test.run();
