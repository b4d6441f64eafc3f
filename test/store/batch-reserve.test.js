// The meta service's two-phase batch put kept as numbers (store/batch-reserve.ts): it places,
// commits and counts as batchAlloc + batchUpdateState do (the contract's batch counters), a
// write_fail frees the item's space, refused items carry their error, and a commit that does
// not match its batch is refused and changes nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MMC, MmcError } from '../../dist/index.js';
import { openSmall, delta } from '../helpers/store.js';

const used = (mc) => mc.segments().reduce((n, s) => n + s.usedBytes, 0);

test('batchReserve + batchCommit count, place and commit as batchAlloc + batchUpdateState', async () => {
  const a = await openSmall();
  const b = await openSmall();
  await a.put('dup', new Uint8Array(10));
  await b.put('dup', new Uint8Array(10));
  const keys = ['k1', 'dup', 'k2', 'k3'];
  const sizes = [100, 10, 5000, 7];
  const a0 = a.stats();
  const ws = await a.batchAlloc(keys.map((k, i) => [k, sizes[i]]));
  const ac = await a.batchUpdateState(['k1', 'k2', 'k3'], ['write_ok', 'write_fail', 'write_ok']);
  const b0 = b.stats();
  const r = await b.batchReserve(keys, sizes);
  assert.equal([...r.replicas], [1, 0, 1, 1]);
  assert.is(r.errors.get(1).code, MMC.MMC_DUPLICATED_OBJECT);
  assert.is(r.errors.get(1).message, ws[1].message);
  const bc = b.batchCommit(r, Uint8Array.from([1, 1, 0, 1]));
  assert.equal(bc, [0, MMC.MMC_DUPLICATED_OBJECT, 0, 0]);
  assert.equal(ac, [0, 0, 0]);
  assert.equal(delta(b0, b.stats()), delta(a0, a.stats()), 'the same counters');
  assert.equal(await b.keys(), await a.keys());
  assert.is(used(b), used(a), 'the write_fail freed its space');
  // committed once: its handles are no longer allocated
  assert.equal(b.batchCommit(r, Uint8Array.from([1, 1, 1, 1])), [MMC.MMC_UNMATCHED_KEY, MMC.MMC_DUPLICATED_OBJECT, MMC.MMC_UNMATCHED_KEY, MMC.MMC_UNMATCHED_KEY]);
  await a.close();
  await b.close();
});

test('a commit not one flag per item is refused and leaves the batch allocated; batchDrop frees one item', async () => {
  const mc = await openSmall();
  const r = await mc.batchReserve(['x', 'y'], [64, 64]);
  const before = used(mc);
  assert.throws(() => mc.batchCommit(r, Uint8Array.from([1])), (e) => e.code === MMC.MMC_INVALID_PARAM && /1 write results for a batch of 2/.test(e.message));
  assert.is(used(mc), before);
  mc.batchDrop(r, 0, new MmcError(MMC.MMC_ERROR, 'rank 0 has no agent'));
  assert.ok(used(mc) < before, 'the dropped item freed its space');
  assert.equal(mc.batchCommit(r, Uint8Array.from([1, 1])), [MMC.MMC_ERROR, 0]);
  assert.equal(await mc.keys(), ['y']);
  try { await mc.batchReserve(['z'], [1, 2]); assert.unreachable(); } catch (e) { assert.is(e.code, MMC.MMC_INVALID_PARAM); }
  await mc.close();
});

test.run();
