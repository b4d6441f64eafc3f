// Freed ranges in the pool: the meta service hands a freed range out again only after the agent
// holding it acknowledged a FREE; the agent's journal drops what was freed and refuses writes
// granted for a freed generation; a batch lookup holds its blobs until the client releases it.
import { createHmac } from 'node:crypto';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemCacheClient } from '../../dist/index.js';
import { startMeta } from '../../dist/pool/meta.js';
import { startAgent } from '../../dist/pool/agent.js';
import { SegmentBlobs } from '../../dist/pool/agent-blobs.js';
import { DataConn, ChunkSink, answerError } from '../../dist/client/data-conn.js';
import { OP } from '../../dist/protocol/data-frames.js';
import { signFree } from '../../dist/protocol/pool-free.js';
import { decodeBatchGetChunks, decodeCodes } from '../../dist/protocol/framing.js';
import { encodeAlloc, encodeCommit, encodeLookup, encodeRelease, decodePlacement } from '../../dist/protocol/pool-control.js';
import { metaControl, startLocalProc, stop, waitFor } from './_procs.js';

const MiB = 1 << 20;

async function agentConn(addr) {
  const [host, port] = addr.split(':');
  return DataConn.open({ host, port: Number(port) });
}

async function inProcessPool(n, seg, opts = {}) {
  const meta = await startMeta({ store: { alignment: 64 }, ...opts });
  const regs = [];
  const agents = [];
  for (let rank = 0; rank < n; rank++) {
    let done;
    regs.push(new Promise((r) => { done = r; }));
    agents.push(await startAgent({ meta: meta.url, rank, hbm: 0, dram: seg, inProcess: false, onRegistered: () => done() }));
  }
  await Promise.all(regs);
  const c = await MemCacheClient.connect(meta.url);
  const close = async () => {
    await c.close();
    for (const a of agents) await a.close();
    await meta.close();
  };
  return { meta, agents, c, close };
}

/** A FREE message whose bytes were changed, signed again under `secret` (its MAC: the last 32 bytes). */
function resign(msg, secret) {
  const end = msg.length - 32;
  createHmac('sha256', secret).update(msg.subarray(0, end)).digest().copy(msg, end);
  return msg;
}

const settled = (meta) => waitFor(() => meta.frees.pending().ranges === 0, 15_000, 'the FREE notices to be acknowledged');

test('a removed key\'s range is not given out again while its agent (SIGSTOP) has not acknowledged the FREE', async () => {
  // agents silent for a minute stay registered: the stopped one is not dropped meanwhile
  const meta = await startMeta({ silentMs: 60_000 });
  const procs = [];
  let c;
  try {
    // rank 1 has room for one 1 MiB value, rank 0 for four
    for (const rank of [0, 1]) procs.push(await startLocalProc(meta.url, rank, ['--hbm', rank ? '1MB' : '4MB', '--dram', '4KB']));
    await waitFor(() => meta.registry.list().length === 2, 15_000, 'two agents');
    c = await MemCacheClient.connect(meta.url);
    const a = Buffer.alloc(MiB, 'a');
    await c.put('a', a, { preferredRank: 1 }); // fills rank 1
    assert.is((await c.query('a')).blobs[0].rank, 1);
    procs[1].p.kill('SIGSTOP');
    assert.ok(await c.remove('a'));
    await waitFor(() => meta.frees.pending().ranges === 1, 5000, 'the range held');
    const b = Buffer.alloc(MiB, 'b');
    await c.put('b', b, { preferredRank: 1 }); // rank 1's only range is held: it goes elsewhere
    assert.is((await c.query('b')).blobs[0].rank, 0);
    await c.put('c', Buffer.alloc(MiB, 'c'), { preferredRank: 1 });
    assert.is((await c.query('c')).blobs[0].rank, 0);
    assert.is(meta.frees.pending().ranges, 1, 'still held');
    assert.is((await c.segments()).find((s) => s.id === 'rank-1-hbm').usedBytes, 0, 'a held range counts as free in the usage');
    procs[1].p.kill('SIGCONT');
    await settled(meta);
    const d = Buffer.alloc(MiB, 'd');
    await c.put('d', d, { preferredRank: 1 });
    assert.is((await c.query('d')).blobs[0].rank, 1, 'acknowledged: the range is given out again');
    assert.ok(Buffer.from(await c.get('b')).equals(b));
    assert.ok(Buffer.from(await c.get('d')).equals(d));
  } finally {
    await c?.close();
    for (const p of procs) { p.p.kill('SIGCONT'); await stop(p); }
    await meta.close();
  }
});

test('an agent dropped while its ranges are held: they go with its segments; back, it takes puts again', async () => {
  const meta = await startMeta({ silentMs: 1500 });
  let proc;
  let c;
  try {
    proc = await startLocalProc(meta.url, 1, ['--hbm', '1MB', '--dram', '0']);
    c = await MemCacheClient.connect(meta.url);
    await c.put('a', Buffer.alloc(MiB, 'a'));
    proc.p.kill('SIGSTOP');
    assert.ok(await c.remove('a'));
    await waitFor(() => meta.frees.pending().ranges === 1, 5000, 'the range held');
    await waitFor(async () => (await c.segments()).length === 0, 15_000, 'the stopped agent dropped');
    await settled(meta); // nothing left to tell a dropped agent
    proc.p.kill('SIGCONT');
    await waitFor(async () => (await c.segments()).length === 1, 15_000, 'the agent registered again');
    const b = Buffer.alloc(MiB, 'b');
    await c.put('b', b);
    assert.ok(Buffer.from(await c.get('b')).equals(b));
  } finally {
    await c?.close();
    if (proc) { proc.p.kill('SIGCONT'); await stop(proc); }
    await meta.close();
  }
});

test('the agent\'s journal drops removed and failed keys; a write granted for a freed generation is refused', async () => {
  const { meta, agents, c, close } = await inProcessPool(1, 4 * MiB);
  try {
    for (let i = 0; i < 20; i++) await c.put(`k${i}`, Buffer.alloc(1000 + i, i));
    assert.is(agents[0].blobs().dram, 20);
    for (let i = 0; i < 10; i++) assert.ok(await c.remove(`k${i}`));
    assert.ok(await c.remove('k10'));
    await c.put('k10', Buffer.alloc(3000, 'x')); // put again: elsewhere (its old range was held meanwhile)
    await settled(meta);
    assert.is(agents[0].blobs().dram, 10);
    // a put whose write failed: the grant's range is freed, and that grant writes nothing there afterwards
    const alloc = decodePlacement([await metaControl(meta, OP.ALLOC, encodeAlloc({ keys: ['late'], sizes: [4], query: '', batch: false }))]);
    assert.equal(decodeCodes(await metaControl(meta, OP.COMMIT, encodeCommit({ keys: ['late'], ok: [false], batch: false }))), [0]);
    await settled(meta);
    const conn = await agentConn(agents[0].address);
    try {
      const ans = await conn.request(OP.WRITE, 'late', alloc.groups[0].grant, [Buffer.from('late')], 4);
      assert.match(answerError(ans).message, /freed since it was granted/);
      assert.is(agents[0].blobs().dram, 10);
      assert.is(await c.get('late'), undefined);
      for (let i = 10; i < 20; i++) assert.ok(await c.get(`k${i}`));
    } finally {
      conn.close();
    }
  } finally {
    await close();
  }
});

test('a FREE not signed by the meta service of the registration is refused and changes nothing', async () => {
  const { meta, agents, c, close } = await inProcessPool(1, MiB);
  const conn = await agentConn(agents[0].address);
  try {
    await c.put('kept', Buffer.from('kept'));
    const a = meta.registry.agent(0);
    const ask = async (b) => answerError(await conn.request(OP.FREE, '', '', [b], b.length)).message;
    const whole = [{ medium: 'dram', offset: 0, size: MiB, gen: 2 ** 31 }];
    const signed = signFree(a.secret, a.incarnation, whole);
    assert.match(await ask(signFree(Buffer.alloc(32), a.incarnation, whole)), /not signed by the meta service/);
    assert.match(await ask(signFree(a.secret, a.incarnation + 1, whole)), /a free for incarnation/);
    assert.match(await ask(signFree(a.secret, a.incarnation, [{ medium: 'hbm', offset: 0, size: 64, gen: 1 }])), /no hbm segment/);
    assert.match(await ask(signFree(a.secret, a.incarnation, [{ medium: 'dram', offset: MiB - 1, size: 64, gen: 1 }])), /outside segment/);
    // a signed message with a byte changed: the MAC no longer matches
    const flipped = Buffer.from(signed);
    flipped[8 + 8] ^= 1; // the range's offset
    assert.match(await ask(flipped), /not signed by the meta service/);
    // malformed: short, a count that does not match the length, a count over the limit
    assert.match(await ask(Buffer.alloc(4)), /bad free message/);
    assert.match(await ask(signed.subarray(0, signed.length - 1)), /bad free message/);
    const many = Buffer.from(signed);
    many.writeUInt32LE(0xffffffff, 4);
    assert.match(await ask(many), /bad free message/);
    // signed but not a range of ours: medium 3, or a range of 0 bytes
    const medium3 = signFree(a.secret, a.incarnation, [{ medium: 'dram', offset: 0, size: 64, gen: 1 }]);
    medium3[8] = 3;
    assert.match(await ask(resign(medium3, a.secret)), /bad free message: a medium/);
    assert.match(await ask(signFree(a.secret, a.incarnation, [{ medium: 'dram', offset: 0, size: 0, gen: 1 }])), /bad free message: an empty range/);
    assert.is(agents[0].blobs().dram, 1);
    assert.is(Buffer.from(await c.get('kept')).toString(), 'kept');
  } finally {
    conn.close();
    await close();
  }
});

test('a batch lookup holds its blobs: a remove meanwhile frees nothing until the client releases the batch', async () => {
  const { meta, agents, c, close } = await inProcessPool(1, MiB);
  const conn = await agentConn(agents[0].address);
  try {
    await c.put('b1', Buffer.alloc(500, 1));
    await c.put('b2', Buffer.alloc(700, 2));
    const look = decodePlacement([await metaControl(meta, OP.LOOKUP, encodeLookup({ keys: ['b1', 'b2', 'nope'], batch: true }))]);
    assert.is(look.groups.length, 1);
    assert.equal(look.items.map((it) => it.code), [0, 0, -3102]);
    assert.equal(await c.batchRemove(['b1', 'b2']), [0, 0]);
    // the batch's reads go ahead: nothing of theirs was freed, nothing told to the agent
    await new Promise((r) => setImmediate(r));
    assert.is(meta.frees.pending().ranges, 0);
    const read = async () => {
      // READS: u32 block length | the grant block | u32 count | u32 item index x count (pool-frames.ts)
      const block = Buffer.from(look.groups[0].grant);
      const f = Buffer.alloc(4 + block.length + 12);
      f.writeUInt32LE(block.length, 0);
      block.copy(f, 4);
      f.writeUInt32LE(2, 4 + block.length);
      f.writeUInt32LE(0, 8 + block.length); // the block's items: b1, b2
      f.writeUInt32LE(1, 12 + block.length);
      const s = new ChunkSink();
      assert.is((await conn.request(OP.READS, '', '', [f], f.length, s)).code, 0);
      return decodeBatchGetChunks(s.chunks);
    };
    const got = await read();
    assert.equal(got.codes, [0, 0]);
    assert.ok(Buffer.from(got.values[0]).equals(Buffer.alloc(500, 1)));
    assert.ok(Buffer.from(got.values[1]).equals(Buffer.alloc(700, 2)));
    assert.is(agents[0].blobs().dram, 2);
    await metaControl(meta, OP.RELEASE, encodeRelease(look.lease));
    // released: the removed objects' blobs go at the core's next sweep, then the agent is told
    await waitFor(() => agents[0].blobs().dram === 0, 15_000, 'the agent told of the freed blobs');
    assert.equal((await read()).codes, [-3102, -3102]);
  } finally {
    conn.close();
    await close();
  }
});

test('an unleased single lookup holds nothing: counted as it answers, a remove frees at once, the agent then reads absent', async () => {
  const { meta, agents, c, close } = await inProcessPool(1, MiB);
  const conn = await agentConn(agents[0].address);
  try {
    await c.put('u1', Buffer.alloc(600, 3));
    const before = meta.store.stats().get_success;
    const look = decodePlacement([await metaControl(meta, OP.LOOKUP, encodeLookup({ keys: ['u1'], batch: false, unleased: true }))]);
    assert.is(look.lease, 0, 'no lease to release');
    assert.is(look.items[0].code, 0);
    await new Promise((r) => setImmediate(r));
    assert.is(meta.store.stats().get_success, before + 1, 'counted without a RELEASE');
    const read = async () => {
      const s = new ChunkSink();
      const a = await conn.request(OP.READ, 'u1', look.groups[0].grant, [], 0, s);
      return { code: a.code, value: Buffer.concat(s.chunks) };
    };
    const first = await read();
    assert.is(first.code, 0);
    assert.ok(first.value.equals(Buffer.alloc(600, 3)));
    assert.ok(await c.remove('u1'));
    // nothing holds the blob: it goes at the core's next sweep and the agent is told
    await waitFor(() => agents[0].blobs().dram === 0, 15_000, 'the agent told of the freed blob');
    assert.is((await read()).code, -3102, 'the grant of a freed blob reads absent, never other bytes');
    assert.is(await c.get('u1'), undefined);
  } finally {
    conn.close();
    await close();
  }
});

test('a batch get keeps no lease: counted once as it is answered, nothing to release, a remove frees at once', async () => {
  const { meta, agents, c, close } = await inProcessPool(1, MiB);
  try {
    assert.equal(await c.batchPut([['n1', Buffer.alloc(500, 1)], ['n2', Buffer.alloc(700, 2)]]), [0, 0]);
    const before = meta.store.stats();
    const got = await c.batchGet(['n1', 'n2', 'nope']);
    assert.ok(Buffer.from(got[0]).equals(Buffer.alloc(500, 1)));
    assert.ok(Buffer.from(got[1]).equals(Buffer.alloc(700, 2)));
    assert.is(got[2], undefined);
    const after = meta.store.stats();
    assert.is(after.batch_get_req, before.batch_get_req + 1, 'one batch_get counted');
    assert.is(after.get_req, before.get_req, 'no single get counted');
    // no lease held: a remove frees the blobs at the core's next sweep, the agent is told
    assert.equal(await c.batchRemove(['n1', 'n2']), [0, 0]);
    await waitFor(() => agents[0].blobs().dram === 0, 15_000, 'the agent told of the freed blobs');
  } finally {
    await close();
  }
});

test('a batch get: items removed or put again between its lookup and its reads are looked up once more, never read under the old grant', async () => {
  const { agents, c, close } = await inProcessPool(1, MiB);
  try {
    assert.equal(await c.batchPut([['m1', Buffer.alloc(500, 1)], ['m2', Buffer.alloc(700, 2)], ['m3', Buffer.alloc(300, 3)]]), [0, 0, 0]);
    // the client's pool transport, its lookups watched: after the first one (before its reads) m1
    // is put again (a new range and generation) and m2 removed, and the agent is told
    const pool = c.data;
    const control = pool.control.bind(pool);
    const lookups = [];
    pool.control = async (op, body) => {
      const answer = await control(op, body);
      if (op === OP.LOOKUP) {
        lookups.push(decodePlacement(answer).items.length);
        if (lookups.length === 1) {
          assert.equal(await c.batchRemove(['m1', 'm2']), [0, 0]);
          await c.put('m1', Buffer.alloc(500, 9));
          await waitFor(() => agents[0].blobs().dram === 2, 15_000, 'the agent told of the freed blobs');
        }
      }
      return answer;
    };
    const got = await c.batchGet(['m1', 'm2', 'm3']);
    assert.ok(Buffer.from(got[0]).equals(Buffer.alloc(500, 9)), 'm1: its new value, read at its new range');
    assert.is(got[1], undefined, 'm2: removed');
    assert.ok(Buffer.from(got[2]).equals(Buffer.alloc(300, 3)));
    assert.equal(lookups, [3, 2], 'the absent items looked up once more, together');
  } finally {
    await close();
  }
});

test('SegmentBlobs: a freed range refuses writes granted for its generation or older, over any part of it', () => {
  const s = new SegmentBlobs();
  s.record({ key: 'a', offset: 0, size: 100, gen: 5 });
  assert.not.ok(s.fenced(0, 100, 5), 'the same allocation may write again');
  assert.ok(s.fenced(0, 100, 4), 'an older allocation may not');
  s.freed(0, 100, 5);
  assert.is(s.find('a'), undefined);
  assert.is(s.count, 0);
  assert.ok(s.fenced(0, 100, 5));
  assert.ok(s.fenced(90, 20, 3), 'any overlap');
  assert.not.ok(s.fenced(100, 50, 1), 'next to it: free');
  assert.not.ok(s.fenced(0, 100, 6), 'a newer allocation of the range');
  // a newer write over part of it: the rest stays fenced at the old generation
  s.record({ key: 'b', offset: 40, size: 20, gen: 9 });
  assert.ok(s.fenced(0, 40, 5));
  assert.ok(s.fenced(60, 40, 5));
  assert.not.ok(s.fenced(60, 40, 6));
  assert.ok(s.fenced(40, 20, 8), 'b is newer than a grant of 8');
  assert.is(s.startingAt(40).key, 'b');
  assert.is(s.startingAt(0), undefined, 'a freed span is no entry');
  // a key recorded elsewhere: its old range becomes a freed span
  s.record({ key: 'b', offset: 200, size: 10, gen: 10 });
  assert.ok(s.fenced(40, 20, 9));
  assert.is(s.find('b').offset, 200);
  assert.is(s.count, 1);
});

test.run();
