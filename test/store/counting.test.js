// The counting rules (CONTRACT.md "Counting rules"): the items of a batch are counted on the
// batch operation only, never again on the single operation.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openSmall, pattern, delta, countersAddUp } from '../helpers/store.js';

/** The counter deltas of `fn`, without the usage gauges. */
async function counts(mc, fn) {
  const before = mc.stats();
  await fn();
  const d = delta(before, mc.stats());
  for (const k of Object.keys(d)) if (k === 'keys' || k.endsWith('_used') || k.endsWith('_total')) delete d[k];
  return d;
}

test('two gets + one batch_get of two keys: get +2, batch_get +1', async () => {
  const mc = await openSmall();
  await mc.put('a', pattern(1, 10));
  await mc.put('b', pattern(2, 10));
  assert.equal(await counts(mc, async () => {
    await mc.get('a');
    await mc.get('b');
    await mc.batchGet(['a', 'b']);
  }), { get_req: 2, get_success: 2, batch_get_req: 1, batch_get_success: 1 });
  await mc.close();
});

test('one query + one batch_query of two keys: query +1, batch_query +1', async () => {
  const mc = await openSmall();
  await mc.put('a', pattern(1, 10));
  assert.equal(await counts(mc, async () => {
    await mc.query('a');
    await mc.batchQuery(['a', 'absent']);
  }), { query_req: 1, query_success: 1, batch_query_req: 1, batch_query_success: 1, batch_query_not_found: 1 });
  await mc.close();
});

test('exist, remove, alloc and update_state: the same rule', async () => {
  const mc = await openSmall();
  await mc.put('a', pattern(1, 10));
  await mc.put('b', pattern(2, 10));
  assert.equal(await counts(mc, async () => {
    await mc.exists('a');
    await mc.batchExists(['a', 'b']);
  }), { exist_key_req: 1, exist_key_success: 1, batch_exist_key_req: 1, batch_exist_key_success: 1 });
  assert.equal(await counts(mc, async () => {
    await mc.remove('a');
    await mc.batchRemove(['b', 'absent']);
  }), { remove_req: 1, remove_success: 1, batch_remove_req: 1, batch_remove_success: 1, batch_remove_not_found: 1 });
  assert.equal(await counts(mc, async () => {
    await mc.put('p', pattern(3, 10));
    await mc.batchPut([['q1', pattern(4, 10)], ['q2', pattern(5, 10)]]);
  }), {
    alloc_req: 1, alloc_success: 1, update_state_req: 1, update_state_success: 1,
    batch_alloc_req: 1, batch_alloc_success: 1, batch_update_state_req: 1, batch_update_state_success: 1,
  });
  assert.equal(await counts(mc, async () => {
    const w = await mc.alloc('t', 3);
    await w.write(pattern(6, 3));
    await mc.updateState('t', 'write_ok');
    const ws = await mc.batchAlloc([['u1', 3], ['u2', 3]]);
    for (const x of ws) await x.write(pattern(7, 3));
    await mc.batchUpdateState(['u1', 'u2'], 'write_ok');
  }), {
    alloc_req: 1, alloc_success: 1, update_state_req: 1, update_state_success: 1,
    batch_alloc_req: 1, batch_alloc_success: 1, batch_update_state_req: 1, batch_update_state_success: 1,
  });
  // failures inside a batch mark the batch, not the single operation
  assert.equal(await counts(mc, async () => {
    await mc.batchPut([['p', pattern(1, 1)]]);
    await mc.batchGet(['', 'p']);
  }), { batch_alloc_req: 1, batch_alloc_fail: 1, batch_update_state_req: 1, batch_update_state_success: 1, batch_get_req: 1, batch_get_fail: 1 });
  assert.equal(countersAddUp(mc.stats()), []);
  await mc.close();
});

test.run();
