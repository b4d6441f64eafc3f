// The layer calls (putFrom*, getInto*, their batches) on the embedded store: the conformance
// suite of test/helpers/sdk-calls.js, and what only the embedded store shows (device faults).
import * as assert from 'uvu/assert';
import { MemCache, MMC } from '../../dist/index.js';
import { sdkCalls } from '../helpers/sdk-calls.js';
import { delta } from '../helpers/store.js';

const SEGMENTS = [
  { rank: 0, medium: 'hbm', bytes: '8MB' }, { rank: 1, medium: 'hbm', bytes: '8MB' },
  { rank: 0, medium: 'dram', bytes: '8MB' }, { rank: 1, medium: 'dram', bytes: '8MB' },
];

const t = sdkCalls('embedded MemCache', async () => {
  const mc = await MemCache.open({ segments: SEGMENTS, debug: true });
  return { mc, stats: async () => mc.stats(), close: () => mc.close() };
});

t.run();

// What only the embedded store shows: a device that fails part way.
const faults = (await import('uvu')).suite('layer calls: embedded device faults');

const ops = (d) => Object.fromEntries(Object.entries(d).filter(([k]) => /_(req|success|fail|not_found)$/.test(k)));

faults('a layer whose device write fails: the put fails, the key stays absent, its space free; counted as put counts', async () => {
  const counted = async (failWrite, fn) => {
    const mc = await MemCache.open({ segments: SEGMENTS, sim: { failWrite } });
    try {
      const used = mc.segments().map((x) => x.usedBytes);
      const before = mc.stats();
      let e;
      try { await fn(mc); } catch (x) { e = x; }
      assert.is(e?.code, MMC.MMC_ERROR);
      assert.is(await mc.exists('f'), false);
      assert.equal(mc.segments().map((x) => x.usedBytes), used);
      const d = ops(delta(before, mc.stats()));
      await fn(mc); // the same put goes through once the device works again
      assert.is((await mc.get('f')).length, 200);
      return d;
    } finally { await mc.close(); }
  };
  // the second write is the second layer here, the only write of put
  assert.equal(await counted(2, (mc) => mc.putFromLayers('f', [Buffer.alloc(100, 1), Buffer.alloc(100, 2)])), await counted(1, (mc) => mc.put('f', Buffer.alloc(200))));
});

faults('a batch item whose device write fails is that item\'s error, counted as batchPut counts it; the others are stored', async () => {
  const counted = async (failWrite, fn) => {
    const mc = await MemCache.open({ segments: SEGMENTS, sim: { failWrite } });
    try {
      const before = mc.stats();
      const codes = await fn(mc);
      assert.is(await mc.exists('a'), false);
      assert.is(Buffer.from(await mc.get('b')).toString(), 'b1b2');
      return { codes, d: ops(delta(before, mc.stats())) };
    } finally { await mc.close(); }
  };
  // the second write is the second layer of 'a' here, the only write of 'a' in batchPut
  const layered = await counted(2, (mc) => mc.batchPutFromLayers(['a', 'b'], [[Buffer.from('a1'), Buffer.from('a2')], [Buffer.from('b1'), Buffer.from('b2')]]));
  const whole = await counted(1, (mc) => mc.batchPut([['a', Buffer.from('a1a2')], ['b', Buffer.from('b1b2')]]));
  assert.equal(layered.codes, [MMC.MMC_ERROR, 0]);
  assert.equal(layered, whole);
  assert.is(layered.d.update_state_req, undefined);
});

faults('a failed device read: getIntoLayers rejects, the batch answers that item\'s code; the leases are given back', async () => {
  const mc = await MemCache.open({ segments: SEGMENTS, sim: { failRead: 2 } });
  try {
    await mc.putFrom('r', Buffer.alloc(64, 7));
    let e;
    try { await mc.getIntoLayers('r', [Buffer.alloc(32), Buffer.alloc(32)]); } catch (x) { e = x; }
    assert.is(e?.code, MMC.MMC_ERROR);
    assert.equal(await mc.batchGetIntoLayers(['r'], [[Buffer.alloc(64)]]), [64]);
    assert.is(await mc.remove('r'), true);
    assert.is(mc.internals().liveBlobs, 0);
  } finally { await mc.close(); }
});

faults.run();
