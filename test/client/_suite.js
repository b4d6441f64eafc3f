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

/** The counters each implementation's tests saw change, by suite name and test: they must agree. */
export const COUNTED = {};

const NOT_COUNTERS = /_used$|_total$|^keys$/;

/** An MmcError's code and message, or a note that `p` did not reject. */
async function outcome(p) {
  try {
    return { resolved: await p };
  } catch (e) {
    return e instanceof MmcError ? { code: e.code, message: e.message } : { other: String(e) };
  }
}

/**
 * `open()` resolves to { mc, stats: () => Promise<Stats>, alloc(key, size), close() } on a fresh
 * store with segments rank 0/1 × hbm/dram of 8 MB each; `alloc` starts a two-phase put on the
 * store itself (the server's, for the remote client), leaving the key being written.
 */
export function behaviour(name, open) {
  const t = suite(name);
  let h;
  const counted = (COUNTED[name] = {});
  t.before.each(async () => { h = await open(); });
  t.after.each(async () => { await h.close(); });

  /** The counters `fn` changed, as { field: delta }, recorded under `title` for the agreement check. */
  async function count(title, fn) {
    const before = await h.stats();
    await fn();
    const after = await h.stats();
    const d = {};
    for (const [k, v] of Object.entries(after)) if (typeof v === 'number' && v !== before[k] && !NOT_COUNTERS.test(k)) d[k] = v - before[k];
    counted[title] = d;
    return d;
  }
  /** Only the batch operations' counters of a delta. */
  const batchOnly = (d) => Object.fromEntries(Object.entries(d).filter(([k]) => k.startsWith('batch_')));

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

  t('getInto: a buffer too short is MMC_INVALID_PARAM and a failed get; buffers are filled from their start', async () => {
    const { mc } = h;
    await mc.put('g', bytes('nine byte'));
    const d = await count('getInto', async () => {
      const short = Buffer.alloc(4, 0x2e);
      const e = await rejects(mc.getInto('g', short), MMC.MMC_INVALID_PARAM);
      assert.is(e.message, "MMC_INVALID_PARAM: dst holds 4 bytes, the value of 'g' has 9");
      assert.is(short.toString(), '....', 'the short buffer is untouched');
      const exact = Buffer.alloc(9);
      assert.is(await mc.getInto('g', exact), 9);
      assert.is(exact.toString(), 'nine byte');
      // a view into a bigger buffer is written from the view's start
      const backing = Buffer.alloc(30, 0x2e);
      assert.is(await mc.getInto('g', backing.subarray(3, 20)), 9);
      assert.is(backing.toString(), '...nine byte..................');
      assert.is(await mc.getInto('absent', exact), undefined);
      const big = Buffer.alloc(70000, 7);
      await mc.put('big', big);
      const into = Buffer.alloc(70001);
      assert.is(await mc.getInto('big', into), 70000);
      assert.ok(into.subarray(0, 70000).equals(big));
    });
    assert.equal(
      [d.get_req, d.get_success, d.get_fail, d.get_not_found],
      [5, 3, 1, 1],
      JSON.stringify(d),
    );
  });

  t('empty batches: each is one call of its batch operation, counted alike', async () => {
    const { mc } = h;
    const d = await count('empty batches', async () => {
      assert.equal(await mc.batchPut([]), []);
      assert.equal(await mc.batchGet([]), []);
      assert.equal(await mc.batchExists([]), []);
      assert.equal(await mc.batchRemove([]), []);
      assert.equal(await mc.batchQuery([]), []);
    });
    assert.equal(d, {
      batch_alloc_req: 1, batch_alloc_success: 1, batch_update_state_req: 1, batch_update_state_success: 1,
      batch_get_req: 1, batch_get_success: 1, batch_exist_key_req: 1, batch_exist_key_success: 1,
      batch_remove_req: 1, batch_remove_success: 1, batch_query_req: 1, batch_query_success: 1,
    });
  });

  t('a key being written: not readable, not existing, queried as invalid; remove drops it', async () => {
    const { mc } = h;
    const w = await h.alloc('w', 5);
    const d = await count('being written', async () => {
      const e = await rejects(mc.get('w'), MMC.MMC_OBJECT_NOT_EXISTS);
      assert.is(e.message, "MMC_OBJECT_NOT_EXISTS: 'w' is being written and not readable yet");
      assert.is((await rejects(mc.getInto('w', Buffer.alloc(8)), MMC.MMC_OBJECT_NOT_EXISTS)).message, e.message);
      assert.is(await mc.exists('w'), false);
      assert.is(await mc.sizeOf('w'), undefined);
      assert.equal(await mc.query('w'), { key: 'w', size: 5, prot: 0, numBlobs: 1, valid: false, blobs: [{ rank: 0, medium: 'HBM' }] });
      assert.is((await rejects(mc.put('w', bytes('other')), MMC.MMC_DUPLICATED_OBJECT)).message, 'MMC_DUPLICATED_OBJECT: key already exists');
      assert.is(await mc.remove('w'), true);
      assert.is(await mc.remove('w'), false);
      assert.is(await mc.get('w'), undefined);
    });
    assert.equal(
      [d.get_req, d.get_fail, d.exist_key_req, d.exist_key_not_found, d.query_req, d.query_success, d.remove_req, d.remove_success, d.remove_not_found],
      [3, 2, 2, 2, 1, 1, 2, 1, 1],
      JSON.stringify(d),
    );
    // the writer whose key was removed cannot commit
    let committed = true;
    try { await w.write(bytes('12345')); await w.commit(); } catch { committed = false; }
    assert.is(committed, false);
    assert.is(await mc.exists('w'), false);
  });

  t('sizes: sizeOf, segments with their largest free range, usage after puts and removes', async () => {
    const { mc } = h;
    await mc.put('s1', Buffer.alloc(1, 1));
    await mc.put('s2', Buffer.alloc(70000, 2), { medium: 'dram', preferredRank: 1 });
    assert.is(await mc.sizeOf('s1'), 1);
    assert.is(await mc.sizeOf('s2'), 70000);
    assert.is(await mc.sizeOf('none'), undefined);
    const MB8 = 8 << 20;
    const seg = (id, rank, medium, used, largest) => ({ id, rank, medium, totalBytes: MB8, usedBytes: used, largestFreeBytes: largest });
    assert.equal(await mc.segments(), [
      seg('rank-0-hbm', 0, 'HBM', 4096, MB8 - 4096), seg('rank-1-hbm', 1, 'HBM', 0, MB8),
      seg('rank-0-dram', 0, 'DRAM', 0, MB8), seg('rank-1-dram', 1, 'DRAM', 73728, MB8 - 73728),
    ]);
    await mc.remove('s2');
    assert.equal((await mc.segments())[3], seg('rank-1-dram', 1, 'DRAM', 0, MB8));
  });

  t('bad input: the same code and message, nothing sent, nothing counted', async () => {
    const { mc } = h;
    await mc.put('k', bytes('v'));
    const v = bytes('value');
    const cases = [
      [() => mc.put('', v), 'key is empty'],
      [() => mc.put('x'.repeat(1025), v), 'key too long'],
      [() => mc.put('é'.repeat(513), v), 'key too long'],
      [() => mc.put(42, v), 'key must be a string'],
      [() => mc.put('line\nbreak', v), 'key contains a line break'],
      [() => mc.get('cr\rkey'), 'key contains a line break'],
      [() => mc.put('lone\ud800', v), 'key is not well-formed Unicode (a lone surrogate)'],
      [() => mc.query('\udc00'), 'key is not well-formed Unicode (a lone surrogate)'],
      [() => mc.put('k2', 'not bytes'), 'value must be a Uint8Array'],
      [() => mc.put('k2', new ArrayBuffer(4)), 'value must be a Uint8Array'],
      [() => mc.put('k2', new Uint8Array(0)), 'size must be a positive integer, got 0'],
      [() => mc.put('k2', v, { medium: 'ssd' }), "unknown medium 'ssd' (hbm or dram)"],
      [() => mc.put('k2', v, { replicas: 0 }), 'replicas must be 1..8, got 0'],
      [() => mc.put('k2', v, { replicas: 1.5 }), 'replicas must be 1..8, got 1.5'],
      [() => mc.put('k2', v, { preferredRank: -1 }), 'preferredRank must be a rank number, got -1'],
      [() => mc.get(''), 'key is empty'],
      [() => mc.get(undefined), 'key must be a string'],
      [() => mc.getInto('', Buffer.alloc(4)), 'key is empty'],
      [() => mc.getInto('k', 'not a buffer'), 'dst must be a Uint8Array'],
      [() => mc.exists(''), 'key is empty'],
      [() => mc.sizeOf('x'.repeat(1025)), 'key too long'],
      [() => mc.query(''), 'key is empty'],
      [() => mc.remove(7), 'key must be a string'],
      [() => mc.batchPut('k'), 'entries must be an array of [key, value]'],
      [() => mc.batchGet('k'), 'keys must be an array of strings'],
      [() => mc.batchExists(undefined), 'keys must be an array of strings'],
      [() => mc.batchRemove({}), 'keys must be an array of strings'],
      [() => mc.batchQuery('abc'), 'keys must be an array of strings'],
    ];
    const d = await count('bad input', async () => {
      for (const [call, message] of cases) {
        const o = await outcome(Promise.resolve().then(call));
        assert.equal(o, { code: MMC.MMC_INVALID_PARAM, message: `MMC_INVALID_PARAM: ${message}` }, `${call}`);
      }
    });
    assert.equal(d, {}, 'nothing counted');
    assert.equal(await mc.keys(), ['k'], 'nothing stored');
  });

  t('bad items in a batch: that item is MMC_INVALID_PARAM, the others go ahead', async () => {
    const { mc } = h;
    const v = bytes('v');
    const d = await count('bad batch items', async () => {
      assert.equal(
        await mc.batchPut([['ok1', v], ['', v], [42, v], ['bad-entry'], ['z', 'str'], ['e', new Uint8Array(0)], ['x'.repeat(1025), v], ['a\nb', v], ['\ud800', v], ['ok2', v]]),
        [0, -3000, -3000, -3000, -3000, -3000, -3000, -3000, -3000, 0],
      );
      const keys = ['ok1', '', 42, 'x'.repeat(1025), 'absent', 'ok2'];
      const got = await mc.batchGet(keys);
      assert.equal(got.map((x) => (x ? Buffer.from(x).toString() : x)), ['v', undefined, undefined, undefined, undefined, 'v']);
      assert.equal(await mc.batchExists(keys), [true, false, false, false, false, true]);
      const q = await mc.batchQuery(keys);
      assert.equal(q.map((r) => [r.key, r.size, r.valid]), [['ok1', 1, true], ['', 0, false], ['42', 0, false], ['x'.repeat(1025), 0, false], ['absent', 0, false], ['ok2', 1, true]]);
      assert.equal(await mc.batchRemove(keys), [0, -3000, -3000, -3000, MMC.MMC_UNMATCHED_KEY, 0]);
    });
    assert.equal(batchOnly(d), {
      batch_alloc_req: 1, batch_alloc_fail: 1, batch_update_state_req: 1, batch_update_state_success: 1,
      batch_get_req: 1, batch_get_fail: 1, batch_exist_key_req: 1, batch_exist_key_fail: 1,
      batch_query_req: 1, batch_query_fail: 1, batch_remove_req: 1, batch_remove_fail: 1,
    });
    assert.equal(await mc.keys(), []);
  });

  return t;
}

export const SEGMENTS = [
  { rank: 0, medium: 'hbm', bytes: '8MB' }, { rank: 1, medium: 'hbm', bytes: '8MB' },
  { rank: 0, medium: 'dram', bytes: '8MB' }, { rank: 1, medium: 'dram', bytes: '8MB' },
];
