// A FREE is acknowledged only once the device operations in flight on the freed segment have ended
// (src/device/inflight.ts): a device write of the freed allocation still landing after the
// acknowledgement would overwrite the range's next key (the acl backend copies on a worker thread).
// Here a sim backend whose writes the test holds stands in for a slow device.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemCacheClient } from '../../dist/index.js';
import { startMeta } from '../../dist/pool/meta.js';
import { startAgent } from '../../dist/pool/agent.js';
import { createSimBackend } from '../../dist/device/index.js';
import { InflightBackend } from '../../dist/device/inflight.js';
import { DataConn, answerError } from '../../dist/client/data-conn.js';
import { OP } from '../../dist/protocol/data-frames.js';
import { encodeAlloc, encodeCommit, decodePlacement } from '../../dist/protocol/pool-control.js';
import { decodeCodes } from '../../dist/protocol/framing.js';
import { metaControl, waitFor } from './_procs.js';

const KiB = 1024;

/** A sim backend whose writes wait while held (their bytes taken at the call, as a device copy would). */
function heldWrites() {
  const sim = createSimBackend();
  let gate;
  const held = [];
  const backend = {
    name: 'sim-held',
    open: (...a) => sim.open(...a),
    write(seg, offset, src) {
      if (gate === undefined) return sim.write(seg, offset, src);
      const bytes = Buffer.from(src);
      held.push(offset);
      return gate.promise.then(() => sim.write(seg, offset, bytes));
    },
    read: (...a) => sim.read(...a),
    copy: (...a) => sim.copy(...a),
    release: (seg) => sim.release(seg),
    close: () => sim.close(),
  };
  return {
    backend,
    held,
    hold() { let open; gate = { promise: new Promise((r) => { open = r; }), open }; },
    release() { const g = gate; gate = undefined; g?.open(); },
  };
}

test('InflightBackend: settled() waits for the operations begun before it, failed ones too, not later ones', async () => {
  const dev = heldWrites();
  const b = new InflightBackend(dev.backend);
  const seg = await b.open(0, 'dram', 64 * KiB);
  const other = await b.open(0, 'hbm', 64 * KiB);
  assert.is(b.write(seg, 0, Buffer.alloc(16, 1)), undefined, 'a synchronous write stays synchronous');
  dev.hold();
  const w = b.write(seg, 0, Buffer.alloc(16, 2));
  assert.is(b.inflight(seg), 1);
  assert.is(b.inflight(other), 0);
  let done = false;
  const s = b.settled(seg).then(() => { done = true; });
  await b.settled(other); // nothing in flight there: at once
  await new Promise((r) => setImmediate(r));
  assert.is(done, false, 'settled() before the write ended');
  dev.release();
  await w;
  await s;
  assert.is(b.inflight(seg), 0);
  // a failed operation ends too
  const failing = new InflightBackend({ ...dev.backend, write: () => Promise.reject(new Error('device lost')) });
  const seg2 = await failing.open(0, 'dram', 4 * KiB);
  const f = failing.write(seg2, 0, Buffer.alloc(8));
  await failing.settled(seg2);
  await f.then(() => assert.unreachable('the write failed'), (e) => assert.match(e.message, /device lost/));
  assert.is(failing.inflight(seg2), 0);
  await b.close();
  await failing.close();
});

test('a FREE waits for a device write of the freed allocation still in flight; the range\'s next key keeps its bytes', async () => {
  const dev = heldWrites();
  const meta = await startMeta({ store: { alignment: 64 } });
  let registered;
  const reg = new Promise((r) => { registered = r; });
  const agent = await startAgent({ meta: meta.url, rank: 0, hbm: 0, dram: 64 * KiB, inProcess: false, backend: dev.backend, onRegistered: () => registered() });
  await reg;
  const c = await MemCacheClient.connect(meta.url);
  const [host, port] = agent.address.split(':');
  const conn = await DataConn.open({ host, port: Number(port) });
  try {
    // the whole segment granted to 'slow'; its write reaches the device and is held there
    const size = 64 * KiB;
    const alloc = decodePlacement([await metaControl(meta, OP.ALLOC, encodeAlloc({ keys: ['slow'], sizes: [size], query: '', batch: false }))]);
    dev.hold();
    const writing = conn.request(OP.WRITE, 'slow', alloc.groups[0].grant, [Buffer.alloc(size, 's')], size);
    writing.catch(() => {}); // awaited below; a failing assertion before must not leave it unhandled
    await waitFor(() => dev.held.length === 1, 5000, 'the write to reach the device');
    // the put given up (as a client does when a replica failed): the meta frees the range and tells the agent
    assert.equal(decodeCodes(await metaControl(meta, OP.COMMIT, encodeCommit({ keys: ['slow'], ok: [false], batch: false }))), [0]);
    await waitFor(() => meta.frees.pending().ranges === 1, 5000, 'the range held for the FREE');
    // the agent does not acknowledge the FREE while the old write is still landing: the range stays
    // held (without the wait, the acknowledgement comes within milliseconds)
    await new Promise((r) => setTimeout(r, 500));
    assert.is(meta.frees.pending().ranges, 1, 'the FREE was acknowledged under a write in flight');
    dev.release();
    const a = await writing;
    // the FREE had reached the agent before the write ended: the write is refused, not recorded
    assert.match(answerError(a).message, /freed since it was granted/);
    await waitFor(() => meta.frees.pending().ranges === 0, 5000, 'the FREE acknowledged once the write ended');
    // the range goes to the next key, whose bytes nothing overwrites
    const next = Buffer.alloc(size, 'n');
    await c.put('next', next);
    assert.ok(Buffer.from(await c.get('next')).equals(next));
    assert.is(await c.get('slow'), undefined);
  } finally {
    dev.release();
    conn.close();
    await c.close();
    await agent.close();
    await meta.close();
  }
});

test.run();
