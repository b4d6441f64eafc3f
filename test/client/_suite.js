// One behavioural suite for the embedded store and the remote client: the same calls, the same
// answers, the same errors, the same counters.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MmcError, MMC } from '../../dist/index.js';

const bytes = (s) => Buffer.from(s);
const same = (a, b) => a instanceof Uint8Array && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b));

async function rejects(p, code) {
  try {
    await p;
  } catch (e) {
    assert.instance(e, MmcError);
    assert.is(e.codeName, Object.keys(MMC).find((k) => MMC[k] === code));
    assert.is(e.code, code);
    return e;
  }
  assert.unreachable(`expected ${code}`);
}

/**
 * `open()` resolves to { mc, stats: () => Promise<Stats>, close() } on a fresh store with
 * segments rank 0/1 × hbm/dram of 8 MB each.
 */
export function behaviour(name, open) {
  const t = suite(name);
  let h;
  t.before.each(async () => { h = await open(); });
  t.after.each(async () => { await h.close(); });

  t('put, get, exists, query, remove', async () => {
    const { mc } = h;
    await mc.put('k1', bytes('value one'));
    assert.ok(same(await mc.get('k1'), 'value one'));
    assert.is(await mc.exists('k1'), true);
    assert.is(await mc.exists('nope'), false);
    assert.is(await mc.get('nope'), undefined);
    assert.equal(await mc.query('k1'), { key: 'k1', size: 9, prot: 0, numBlobs: 1, valid: true, blobs: [{ rank: 0, medium: 'HBM' }] });
    assert.is(await mc.query('nope'), undefined);
    const dst = Buffer.alloc(16, 0x2e);
    assert.is(await mc.getInto('k1', dst), 9);
    assert.is(dst.toString(), 'value one.......');
    assert.is(await mc.getInto('nope', dst), undefined);
    assert.is(await mc.remove('k1'), true);
    assert.is(await mc.remove('k1'), false);
    assert.is(await mc.get('k1'), undefined);
  });

  t('options: medium, replicas, preferredRank', async () => {
    const { mc } = h;
    await mc.put('d', bytes('x'), { medium: 'dram', replicas: 2 });
    assert.equal((await mc.query('d')).blobs, [{ rank: 0, medium: 'DRAM' }, { rank: 1, medium: 'DRAM' }]);
    await mc.put('r1', bytes('x'), { preferredRank: 1 });
    assert.equal((await mc.query('r1')).blobs, [{ rank: 1, medium: 'HBM' }]);
    await rejects(mc.put('r3', bytes('x'), { replicas: 3 }), MMC.MMC_INVALID_PARAM);
  });

  t('errors: duplicate, no room, key too long; nothing lost', async () => {
    const { mc } = h;
    await mc.put('dup', bytes('first'));
    const e = await rejects(mc.put('dup', bytes('second')), MMC.MMC_DUPLICATED_OBJECT);
    assert.match(e.message, /^MMC_DUPLICATED_OBJECT: /);
    assert.ok(same(await mc.get('dup'), 'first'));
    await rejects(mc.put('huge', Buffer.alloc(9 << 20), { medium: 'hbm' }), MMC.MMC_NOT_ENOUGH_MEMORY);
    await rejects(mc.put('x'.repeat(1025), bytes('v')), MMC.MMC_INVALID_PARAM);
    assert.equal(await mc.keys(), ['dup']);
  });

  t('Unicode and awkward keys', async () => {
    const { mc } = h;
    const keys = ['键 值', 'a+b', 'a b', '?&=#%', 'é'.repeat(512), 'tab\tkey', '🔑'];
    // keys are listed one a line: a line break in a key is refused
    for (const bad of ['line\nbreak', 'cr\rkey']) await rejects(mc.put(bad, bytes('v')), MMC.MMC_INVALID_PARAM);
    for (const [i, k] of keys.entries()) await mc.put(k, bytes(`v${i}`));
    for (const [i, k] of keys.entries()) assert.ok(same(await mc.get(k), `v${i}`), k);
    assert.equal((await mc.keys()).sort(), [...keys].sort());
    assert.equal((await mc.batchExists(keys)), keys.map(() => true));
  });

  t('batch forms: per-item results in request order', async () => {
    const { mc } = h;
    assert.equal(await mc.batchPut([['b1', bytes('one')], ['b2', Buffer.alloc(70000, 2)], ['b1', bytes('again')]]), [0, 0, MMC.MMC_DUPLICATED_OBJECT]);
    const got = await mc.batchGet(['b2', 'zz', 'b1']);
    assert.is(got.length, 3);
    assert.ok(same(got[0], Buffer.alloc(70000, 2)));
    assert.is(got[1], undefined);
    assert.ok(same(got[2], 'one'));
    assert.equal(await mc.batchExists(['b1', 'zz']), [true, false]);
    const q = await mc.batchQuery(['b1', 'zz']);
    assert.equal(q[1], { key: 'zz', size: 0, prot: 0, numBlobs: 0, valid: false, blobs: [] });
    assert.is(q[0].size, 3);
    assert.equal(await mc.batchRemove(['b1', 'zz', 'b2']), [0, MMC.MMC_UNMATCHED_KEY, 0]);
    assert.equal(await mc.batchGet([]), []);
    assert.equal(await mc.keys(), []);
  });

  t('removeAll, keys, segments, stats', async () => {
    const { mc } = h;
    await mc.batchPut([['a', bytes('1')], ['b', bytes('2')], ['c', bytes('3')]]);
    assert.equal((await mc.keys()).sort(), ['a', 'b', 'c']);
    const segs = await mc.segments();
    assert.equal(segs.map((s) => [s.id, s.rank, s.medium, s.totalBytes]), [
      ['rank-0-hbm', 0, 'HBM', 8 << 20], ['rank-1-hbm', 1, 'HBM', 8 << 20], ['rank-0-dram', 0, 'DRAM', 8 << 20], ['rank-1-dram', 1, 'DRAM', 8 << 20]]);
    assert.is(segs[0].usedBytes, 3 * 4096);
    const st = await mc.stats();
    assert.is(st.keys, 3);
    assert.ok(Array.isArray(st.tracepoints));
    assert.is(await mc.removeAll(), 3);
    assert.equal(await mc.keys(), []);
  });

  t('counting: the same calls count the same', async () => {
    const { mc } = h;
    const before = await h.stats();
    await mc.put('c1', bytes('x'));
    await mc.get('c1');
    await mc.get('nope');
    await mc.query('c1');
    await mc.query('nope');
    await mc.batchPut([['c2', bytes('y')], ['c1', bytes('dup')]]);
    await mc.batchGet(['c1', 'nope']);
    await mc.batchExists(['c1']);
    await mc.batchQuery(['c2', 'nope']);
    await mc.batchRemove(['c2', 'nope']);
    await mc.remove('c1');
    await mc.remove('c1');
    await mc.keys();
    await mc.removeAll();
    const after = await h.stats();
    const d = {};
    for (const [k, v] of Object.entries(after)) if (typeof v === 'number' && v !== before[k] && !/_used$|_total$|^keys$/.test(k)) d[k] = v - before[k];
    assert.equal(d, {
      // batch items count on the batch operation only (CONTRACT.md "Counting rules")
      alloc_req: 1, alloc_success: 1, update_state_req: 1, update_state_success: 1,
      batch_alloc_req: 1, batch_alloc_fail: 1, batch_update_state_req: 1, batch_update_state_success: 1,
      get_req: 2, get_success: 1, get_not_found: 1, batch_get_req: 1, batch_get_success: 1, batch_get_not_found: 1,
      query_req: 2, query_success: 1, query_not_found: 1, batch_query_req: 1, batch_query_success: 1, batch_query_not_found: 1,
      batch_exist_key_req: 1, batch_exist_key_success: 1,
      remove_req: 2, remove_success: 1, remove_not_found: 1, batch_remove_req: 1, batch_remove_success: 1, batch_remove_not_found: 1,
      get_all_keys_req: 1, get_all_keys_success: 1, remove_all_req: 1, remove_all_success: 1,
    });
  });

  return t;
}

export const SEGMENTS = [
  { rank: 0, medium: 'hbm', bytes: '8MB' }, { rank: 1, medium: 'hbm', bytes: '8MB' },
  { rank: 0, medium: 'dram', bytes: '8MB' }, { rank: 1, medium: 'dram', bytes: '8MB' },
];
