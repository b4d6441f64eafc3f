// A rank agent answers a READ within the socket read it came in (agent-ops.ts quickRead, run by
// DataSession.quick while the session waits between frames). Its answers must be the run loop's,
// byte for byte: the same READs sent one at a time (quick) and queued behind a WRITE in one
// socket write (the run loop takes them: quick stops at a frame that carries a value) answer
// alike, refusals (forged, for a write, another incarnation, outside the segment, bad key),
// absences (stale generation, freed range, never stored) and values. Pipelined READs and WRITEs
// of one key on one connection keep their order.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DataConn, ChunkSink } from '../../dist/client/data-conn.js';
import { OP, encodeRequest } from '../../dist/protocol/data-frames.js';
import { encodeAlloc, encodeCommit, encodeLookup, decodePlacement } from '../../dist/protocol/pool-control.js';
import { decodeCodes } from '../../dist/protocol/framing.js';
import { signGrant, verifyGrant, newGrantSecret, GRANT_READ, GRANT_WRITE } from '../../dist/protocol/grant.js';
import { agentOps } from '../../dist/pool/agent-ops.js';
import { SegmentBlobs } from '../../dist/pool/agent-blobs.js';
import { InflightBackend } from '../../dist/device/inflight.js';
import { createSimBackend } from '../../dist/device/index.js';
import { exchange as exchangeAt } from './_exchange.js';
import { poolForSuite } from './_inproc.js';

const SEG = 1 << 20;
let meta, agent, c;

const pool = poolForSuite(test, { ranks: [0], hbm: SEG, dram: SEG });
test.before(() => { ({ meta, mc: c, agents: [agent] } = pool); });

const secret = () => meta.registry.agent(0).secret;
const resign = (g, over, key) => signGrant(secret(), { ...g, ...over }, key);

async function metaAsk(op, body) {
  const dp = meta.server.dataPath;
  const m = await DataConn.open({ host: dp.host, port: dp.port });
  try {
    const sink = new ChunkSink();
    const a = await m.request(op, '', '', [body], body.length, sink);
    assert.is(a.code, 0);
    return Buffer.concat(sink.chunks);
  } finally {
    m.close();
  }
}

/** The 48-byte grant of a single key's LOOKUP (unleased), and its fields. */
async function readGrant(key) {
  const p = decodePlacement([await metaAsk(OP.LOOKUP, encodeLookup({ keys: [key], batch: false, unleased: true }))]);
  assert.is(p.items[0].code, 0, `${key} found`);
  const grant = Buffer.from(p.groups[0].grant);
  return { grant, g: verifyGrant(secret(), grant, key) };
}

/** Raw frames to the agent (_exchange.js), the payloads as text. */
async function exchange(frames, answers, oneWrite) {
  const [host, port] = agent.address.split(':');
  const got = await exchangeAt({ host, port: Number(port) }, frames, answers, oneWrite);
  return got.map((a) => ({ ...a, payload: a.payload.toString() }));
}

test('a READ answers alike in the quick path and in the run loop: values, absences, every refusal', async () => {
  const value = Buffer.from('kept value');
  await c.put('keep', value);
  await c.put('gone', Buffer.from('to be freed'));
  const keep = await readGrant('keep');
  const gone = await readGrant('gone');
  const before = agent.blobs().hbm + agent.blobs().dram;
  await c.remove('gone');
  // the FREE reaches the agent after the remove: wait until its blob map has dropped the range
  for (let i = 0; i < 200 && agent.blobs().hbm + agent.blobs().dram === before; i++) await new Promise((r) => setTimeout(r, 10));
  assert.is(agent.blobs().hbm + agent.blobs().dram, before - 1, 'freed at the agent');

  const k = keep.g;
  const reads = [
    ['keep', keep.grant], // its bytes
    ['keep', resign(k, { gen: k.gen + 1 }, 'keep')], // stale generation: absent
    ['gone', gone.grant], // freed range: absent
    ['ghost', resign(k, {}, 'ghost')], // a range that holds another key: absent
    ['keep', Buffer.alloc(48, 1)], // forged
    ['keep', resign(k, {}, 'other')], // for another key
    ['keep', resign(k, { op: GRANT_WRITE }, 'keep')], // for a write
    ['keep', resign(k, { incarnation: agent.incarnation === 1 ? 2 : agent.incarnation - 1 }, 'keep')], // another incarnation
    ['keep', resign(k, { offset: SEG - 2 }, 'keep')], // outside the segment
    [Buffer.from([0xff, 0xfe]), Buffer.alloc(48)], // a key that is not UTF-8
    ['keep', Buffer.alloc(3)], // a grant of the wrong length
  ].map(([key, grant], i) => encodeRequest(OP.READ, i + 1, key, grant, 0));
  // a WRITE the agent refuses (forged grant), its value in the same write: the READs after it wait for it
  const blocker = Buffer.concat([encodeRequest(OP.WRITE, 99, 'keep', Buffer.alloc(48, 2), 4), Buffer.from('evil')]);

  const quick = await exchange(reads, reads.length, false);
  const queued = await exchange([blocker, ...reads], reads.length + 1, true);
  assert.is(queued[0].id, 99);
  assert.match(queued[0].aux, /grant does not verify/);
  assert.equal(quick, queued.slice(1));
  assert.equal(quick.map((a) => a.id), reads.map((_, i) => i + 1), 'in order');
  assert.equal(quick[0], { op: OP.READ, id: 1, code: 0, aux: '', payload: 'kept value' });
  assert.equal(quick.slice(1, 4).map((a) => a.code), [-3102, -3102, -3102]);
  const refusals = quick.slice(4).map((a) => a.aux);
  for (const [i, re] of [/grant does not verify/, /grant does not verify/, /for a write/, /incarnation/, /outside segment/, /not UTF-8/, /grant does not verify/].entries()) {
    assert.match(refusals[i], re);
    assert.is.not(quick[4 + i].code, 0);
  }
  assert.equal(Buffer.from(await c.get('keep')), value, 'nothing changed');
});

test('pipelined READs and WRITEs of one key on one connection keep their order', async () => {
  const alloc = decodePlacement([await metaAsk(OP.ALLOC, encodeAlloc({ keys: ['order'], sizes: [5], query: '', batch: false }))]);
  const write = Buffer.from(alloc.groups[0].grant);
  const g = verifyGrant(secret(), write, 'order');
  const read = resign(g, { op: GRANT_READ }, 'order');
  const frames = [
    encodeRequest(OP.READ, 1, 'order', read, 0), // before the write: absent
    encodeRequest(OP.WRITE, 2, 'order', write, 5), Buffer.from('first'),
    encodeRequest(OP.READ, 3, 'order', read, 0), // after it: its bytes
    encodeRequest(OP.READ, 4, 'order', read, 0),
  ];
  const got = await exchange(frames, 4, true);
  assert.equal(got.map((a) => [a.id, a.code, a.payload]), [[1, -3102, ''], [2, 0, ''], [3, 0, 'first'], [4, 0, 'first']]);
  assert.equal(decodeCodes(await metaAsk(OP.COMMIT, encodeCommit({ keys: ['order'], ok: [true], batch: false }))), [0]);
  assert.equal(Buffer.from(await c.get('order')), Buffer.from('first'));
});

/** An Answers that collects what a request answers (with a room, as a session lends one). */
function collector() {
  const got = [];
  return {
    got,
    ok: (h, aux, p) => got.push(['ok', h.id, p ? Buffer.concat(p.chunks).toString() : '']),
    absent: (h) => got.push(['absent', h.id]),
    fail: (h, e) => got.push(['fail', h.id, e.message]),
    room: (n) => Buffer.alloc(n),
    sendRoom: (h, v) => got.push(['ok', h.id, Buffer.from(v).toString()]),
    dropRoom: () => got.push(['dropRoom']),
  };
}

const head = (op, id, len = 0) => ({ op, id, a: 0, aux: 48, len });

/** An agent's ops over a sim device whose 2nd read fails, with 'k' written; its read grant. */
async function opsWithK() {
  const backend = new InflightBackend(createSimBackend({ failRead: 2 }));
  const seg = { device: await backend.open(0, 'hbm', SEG), blobs: new SegmentBlobs() };
  const s = { rank: 0, incarnation: 7, backend, segments: new Map([['hbm', seg]]), secret: newGrantSecret() };
  const ops = agentOps(s);
  const g = { op: GRANT_WRITE, medium: 'hbm', rank: 0, incarnation: 7, view: 0, gen: 1, offset: 64, size: 5 };
  const w = collector();
  const p = ops.begin(head(OP.WRITE, 1, 5), Buffer.from('k'), signGrant(s.secret, g, 'k'), w);
  await p.write(Buffer.from('bytes'));
  await p.end();
  assert.equal(w.got, [['ok', 1, '']]);
  return { ops, backend, read: signGrant(s.secret, { ...g, op: GRANT_READ }, 'k') };
}

test('quick answers a READ synchronously where the device reads at once; a device failure as the run loop does', async () => {
  const quick = await opsWithK();
  const q = collector();
  assert.is(quick.ops.quick(head(OP.READ, 2), Buffer.from('k'), quick.read, q), true, 'answered at once');
  assert.equal(q.got, [['ok', 2, 'bytes']], 'before any await');
  assert.is(quick.ops.quick(head(OP.READ, 3), Buffer.from('k'), quick.read, q), true, 'the device read fails');
  assert.is(quick.ops.quick(head(OP.WRITE, 4, 5), Buffer.from('k'), quick.read, q), false, 'not a READ: the run loop takes it');
  // the same two READs through begin and end (the run loop)
  const slow = await opsWithK();
  const r = collector();
  for (const id of [2, 3]) await slow.ops.begin(head(OP.READ, id), Buffer.from('k'), slow.read, r).end();
  assert.equal(q.got, r.got);
  assert.equal(q.got.slice(1).map((x) => x[0]), ['dropRoom', 'fail']);
  await quick.backend.close();
  await slow.backend.close();
});

test.run();
