// What the pool's processes refuse: an agent checks every WRITE and READ against a grant of the
// meta service (mac, key, op, rank, incarnation, range inside the segment, length); garbage frames
// close the connection; the meta service refuses agent ops and bad control messages; mmc serve
// refuses pool ops. Each refusal is a clear MMC error and changes nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import net from 'node:net';
import { MemCacheClient, MemCache, MMC } from '../../dist/index.js';
import { createServer } from '../../dist/server/index.js';
import { startMeta } from '../../dist/pool/meta.js';
import { startAgent } from '../../dist/pool/agent.js';
import { SegmentBlobs } from '../../dist/pool/agent-blobs.js';
import { DataConn, ChunkSink, answerError } from '../../dist/client/data-conn.js';
import { OP } from '../../dist/protocol/data-frames.js';
import { decodeCodes, decodeBatchGetChunks } from '../../dist/protocol/framing.js';
import { encodeAlloc, encodeLookup, encodeCommit, decodePlacement } from '../../dist/protocol/pool-control.js';
import { signGrant, GRANT_READ, GRANT_WRITE } from '../../dist/protocol/grant.js';

const SEG = 1 << 20;
let meta, agent, c, conn;

test.before(async () => {
  meta = await startMeta();
  let registered;
  const done = new Promise((r) => { registered = r; });
  agent = await startAgent({ meta: meta.url, rank: 0, hbm: SEG, dram: SEG, onRegistered: () => registered() });
  await done;
  c = await MemCacheClient.connect(meta.url);
  const [host, port] = agent.address.split(':');
  conn = await DataConn.open({ host, port: Number(port) });
});
test.after(async () => {
  conn?.close();
  await c?.close();
  await agent?.close();
  await meta?.close();
});

const secret = () => meta.registry.agent(0).secret;
const grant = (over, key) => signGrant(secret(), {
  op: GRANT_WRITE, medium: 'hbm', rank: 0, incarnation: agent.incarnation, view: 0, gen: 1, offset: 0, size: 4, ...over,
}, key);
async function refusedWith(op, key, g, value, re) {
  const a = await conn.request(op, key, g, value ? [value] : [], value ? value.length : 0);
  assert.is.not(a.code, 0, `accepted: ${re}`);
  const e = answerError(a);
  assert.match(e.message, re);
  return e;
}

test('the agent refuses writes and reads its grant does not allow, and nothing changes', async () => {
  const v = Buffer.from('kept intact');
  await c.put('good', v);
  const before = JSON.stringify(agent.blobs());
  const four = Buffer.from('evil');
  await refusedWith(OP.WRITE, 'good', Buffer.alloc(48, 1), four, /grant does not verify/);
  await refusedWith(OP.WRITE, 'good', Buffer.alloc(3), four, /grant does not verify/);
  await refusedWith(OP.WRITE, 'good', grant({}, 'other'), four, /grant does not verify/);
  await refusedWith(OP.WRITE, 'good', grant({ offset: SEG - 2 }, 'good'), four, /outside segment/);
  await refusedWith(OP.WRITE, 'good', grant({ offset: 2 ** 40 }, 'good'), four, /outside segment/);
  await refusedWith(OP.WRITE, 'good', grant({ incarnation: agent.incarnation > 1 ? agent.incarnation - 1 : 2 }, 'good'), four, /incarnation/);
  await refusedWith(OP.WRITE, 'good', grant({ rank: 1 }, 'good'), four, /rank 1/);
  await refusedWith(OP.WRITE, 'good', grant({ op: GRANT_READ }, 'good'), four, /for a read/);
  await refusedWith(OP.WRITE, 'good', grant({ size: 5 }, 'good'), four, /a value of 4 bytes for a grant of 5/);
  await refusedWith(OP.READ, 'good', grant({}, 'good'), undefined, /for a write/);
  await refusedWith(OP.READ, 'good', Buffer.alloc(48), undefined, /grant does not verify/);
  await refusedWith(OP.GET, 'good', '', undefined, /not a rank agent's/);
  await refusedWith(OP.BATCH_PUT, '', '', Buffer.alloc(10), /not a rank agent's/);
  assert.is(JSON.stringify(agent.blobs()), before);
  assert.equal(Buffer.from(await c.get('good')), v);
  assert.ok(conn.alive, 'refusals keep the connection');
});

/** A control message to the meta service's data path: its answer and payload. */
async function metaAskAnswer(op, body) {
  const dp = meta.server.dataPath;
  const m = await DataConn.open({ host: dp.host, port: dp.port });
  try {
    const sink = new ChunkSink();
    const a = await m.request(op, '', '', [body], body.length, sink);
    return { a, payload: Buffer.concat(sink.chunks) };
  } finally {
    m.close();
  }
}
/** metaAsk's payload, the answer checked to be a success. */
async function metaAsk(op, body) {
  const { a, payload } = await metaAskAnswer(op, body);
  assert.is(a.code, 0);
  return payload;
}
const flipped = (b, at) => { const x = Buffer.from(b); x[at] ^= 0xff; return x; };
const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
/** A WRITES / READS request to the agent: its answer and payload. */
async function agentBatch(op, parts) {
  const body = Buffer.concat(parts);
  const sink = new ChunkSink();
  const a = await conn.request(op, '', '', [body], body.length, sink);
  return { a, payload: Buffer.concat(sink.chunks) };
}

test('a batch to an agent (WRITES, READS): one grant block for all its items; anything else refused, nothing changes', async () => {
  const keys = ['w1', 'w2'];
  const alloc = decodePlacement([await metaAsk(OP.ALLOC, encodeAlloc({ keys, sizes: [4, 4], query: '', batch: true }))]);
  assert.equal(alloc.items.map((i) => i.code), [0, 0]);
  assert.is(alloc.groups.length, 1);
  const block = Buffer.from(alloc.groups[0].grant);
  const values = Buffer.from('abcdefgh');
  const before = JSON.stringify(agent.blobs());
  const refusals = [
    [[u32(block.length), flipped(block, 20), values], /grant block does not verify/],
    [[u32(block.length - 1), block.subarray(0, -1), values], /grant block does not verify/],
    [[u32(block.length), block, values.subarray(0, 7)], /values of 7 bytes for grants of 8/],
    [[u32(block.length + 100), block, values], /grant block of/],
    [[Buffer.from('xy')], /too short/],
  ];
  for (const [parts, re] of refusals) {
    const { a } = await agentBatch(OP.WRITES, parts);
    assert.match(answerError(a).message, re);
  }
  assert.is(JSON.stringify(agent.blobs()), before, 'refused batches change nothing');
  const w = await agentBatch(OP.WRITES, [u32(block.length), block, values]);
  assert.is(w.a.code, 0);
  assert.equal(decodeCodes(w.payload), [0, 0]);
  const commit = (id, ok) => metaAsk(OP.COMMIT, encodeCommit({ batch: true, id, ok }));
  assert.match(answerError((await metaAskAnswer(OP.COMMIT, encodeCommit({ batch: true, id: alloc.lease, ok: [true] }))).a).message, /commit of 1 items for a batch of 2/);
  assert.equal(decodeCodes(await commit(alloc.lease, [true, true])), [0, 0]);
  // committed once: that id is gone, as is one never handed out
  assert.equal(decodeCodes(await commit(alloc.lease, [true, true])), [MMC.MMC_UNMATCHED_KEY, MMC.MMC_UNMATCHED_KEY]);
  assert.equal(decodeCodes(await commit(0xfffffff0, [true])), [MMC.MMC_UNMATCHED_KEY]);
  const look = decodePlacement([await metaAsk(OP.LOOKUP, encodeLookup({ keys: ['w2', 'ghost', 'w1'], batch: true }))]);
  assert.equal(look.items.map((i) => i.code), [0, MMC.MMC_UNMATCHED_KEY, 0]);
  const rb = Buffer.from(look.groups[0].grant);
  const sel = (...is) => Buffer.concat([u32(is.length), ...is.map(u32)]);
  const r = await agentBatch(OP.READS, [u32(rb.length), rb, sel(1, 0)]);
  assert.is(r.a.code, 0);
  const got = decodeBatchGetChunks([r.payload]);
  assert.equal(got.values.map((v) => Buffer.from(v).toString()), ['abcd', 'efgh']);
  assert.match(answerError((await agentBatch(OP.READS, [u32(rb.length), rb, sel(0, 0)])).a).message, /named twice/);
  assert.match(answerError((await agentBatch(OP.READS, [u32(rb.length), rb, sel(2)])).a).message, /out of the block/);
  assert.match(answerError((await agentBatch(OP.READS, [u32(block.length), block, sel(0)])).a).message, /for a write/);
  assert.match(answerError((await agentBatch(OP.WRITES, [u32(rb.length), rb, values])).a).message, /for a read/);
  assert.equal(Buffer.from(await c.get('w1')), Buffer.from('abcd'));
  assert.ok(conn.alive, 'refusals keep the connection');
});

test('a read grant for a range that no longer holds its key reads absent', async () => {
  // a valid read grant for a key the agent never stored (or lost): absent, not someone else's bytes
  const a = await conn.request(OP.READ, 'ghost', grant({ op: GRANT_READ, offset: 0, size: 11 }, 'ghost'), [], 0);
  assert.is(a.code, -3102);
});

test('garbage framing: the agent answers and closes that connection; others carry on', async () => {
  const [host, port] = agent.address.split(':');
  const s = net.connect(Number(port), host);
  const got = [];
  s.on('data', (d) => got.push(d));
  await new Promise((r) => s.once('connect', r));
  s.write(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n and more garbage'));
  await new Promise((r) => s.once('close', r));
  const b = Buffer.concat(got);
  assert.ok(b.length >= 24);
  assert.is(b[3], 0, 'an answer about the connection');
  assert.is(b.readInt32LE(8), -3000);
  assert.match(b.subarray(24).toString(), /bad magic/);
  assert.ok(Buffer.from(await c.get('good')).equals(Buffer.from('kept intact')));
});

test('the meta service refuses agent ops and bad control messages', async () => {
  const dp = meta.server.dataPath;
  const m = await DataConn.open({ host: dp.host, port: dp.port });
  try {
    const ask = async (op, body) => {
      const b = Buffer.from(body);
      const a = await m.request(op, op === OP.WRITE ? 'k' : '', op === OP.WRITE ? Buffer.alloc(48) : '', [b], b.length, new ChunkSink());
      assert.is.not(a.code, 0);
      return answerError(a).message;
    };
    assert.match(await ask(OP.WRITE, 'abcd'), /goes to a rank agent/);
    assert.match(await ask(OP.ALLOC, 'not json'), /bad alloc message/);
    assert.match(await ask(OP.ALLOC, '\x01\x00\x00\x00\x05\x00\x00\x00'), /bad alloc message: truncated/);
    assert.match(await ask(OP.COMMIT, '\x00\x00\x00\x00\x01\x00\x00\x00\x01'), /bad commit message: malformed key list/);
    assert.match(await ask(OP.COMMIT, '\x01\x00\x00\x00\x01\x00\x00\x00\x01'), /bad commit message: truncated/);
    assert.match(await ask(OP.LOOKUP, 'garbage!'), /bad lookup message/);
    assert.match(await ask(OP.RELEASE, 'garbage!'), /bad release message/);
    assert.match(await ask(OP.REGISTER, '{"rank":70000,"incarnation":1,"advertise":"x:1","segments":[]}'), /bad register message/);
    assert.ok(m.alive);
  } finally {
    m.close();
  }
  // value bytes never go through meta, over HTTP neither
  const r = await fetch(`${meta.url}/api/v1/objects?key=x`, { method: 'PUT', body: Buffer.from('v') });
  assert.is.not(r.status, 200);
  assert.match(await r.text(), /holds no value bytes/);
});

test('mmc serve refuses the pool ops on its data path', async () => {
  const store = await MemCache.open({ segments: [{ rank: 0, medium: 'dram', bytes: 1 << 20 }] });
  const running = await createServer(store).listen('127.0.0.1', 0);
  const d = await DataConn.open({ host: running.dataPath.host, port: running.dataPath.port });
  try {
    const b = Buffer.from('{}');
    const a = await d.request(OP.ALLOC, '', '', [b], b.length);
    assert.match(answerError(a).message, /is a pool op/);
  } finally {
    d.close();
    await running.close();
    await store.close();
  }
});

test('SegmentBlobs: a write over a range drops what overlapped it; a key lives at one place', () => {
  const s = new SegmentBlobs();
  s.record({ key: 'a', offset: 0, size: 100, gen: 1 });
  s.record({ key: 'b', offset: 100, size: 100, gen: 1 });
  s.record({ key: 'c', offset: 300, size: 50, gen: 1 });
  s.record({ key: 'd', offset: 150, size: 200, gen: 2 }); // over b's tail and all of c
  assert.ok(s.find('a'));
  assert.is(s.find('b'), undefined);
  assert.is(s.find('c'), undefined);
  assert.is(s.startingAt(150).key, 'd');
  s.record({ key: 'a', offset: 400, size: 10, gen: 3 });
  assert.is(s.startingAt(0), undefined);
  assert.is(s.find('a').offset, 400);
  assert.is(s.count, 2);
  s.freed(0, 1000, 3);
  assert.is(s.count, 0);
});

test.run();
