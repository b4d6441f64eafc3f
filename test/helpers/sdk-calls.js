// One conformance suite for the calls inference engines make (putFrom*, getInto*, their
// batches), run against the embedded store (test/store/layers.test.js) and the remote client
// over a real listening server (test/client/layers.test.js): the same calls, answers, errors and
// counters.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { MmcError, MMC } from '../../dist/index.js';
import { pattern, delta } from './store.js';

const { MMC_INVALID_PARAM: INVALID, MMC_UNMATCHED_KEY: ABSENT, MMC_DUPLICATED_OBJECT: DUPLICATE } = MMC;

/** The bytes a view spans. */
const bytesOf = (v) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
const concat = (views) => Buffer.concat(views.map(bytesOf));

async function rejects(p, code) {
  try {
    await p;
  } catch (e) {
    assert.instance(e, MmcError);
    assert.is(e.code, code);
    return e;
  }
  assert.unreachable(`expected ${code}`);
}

/**
 * `length` bytes of `value` from `at` as a view of kind `kind`, over a buffer of its own at an odd
 * offset (typed arrays of wider elements at the offset their alignment allows).
 */
function viewOf(kind, src) {
  const pad = kind === 'f32' ? 4 : kind === 'u16' || kind === 'f16' ? 2 : 3;
  const ab = new ArrayBuffer(src.length + 2 * pad);
  new Uint8Array(ab).fill(0xee);
  new Uint8Array(ab, pad, src.length).set(src);
  switch (kind) {
    case 'buf': return Buffer.from(ab, pad, src.length);
    case 'dv': return new DataView(ab, pad, src.length);
    case 'f32': return new Float32Array(ab, pad, src.length / 4);
    case 'u16': return new Uint16Array(ab, pad, src.length / 2);
    case 'f16': return new globalThis.Float16Array(ab, pad, src.length / 2);
    default: return new Uint8Array(ab).subarray(pad, pad + src.length);
  }
}

/** Kinds a view of `length` bytes can be. */
const kindsFor = (length) => ['u8', 'buf', 'dv', ...(length % 2 === 0 ? ['u16', ...(globalThis.Float16Array ? ['f16'] : [])] : []), ...(length % 4 === 0 ? ['f32'] : [])];

/** Views over `value` cut at `lengths`, of the kinds given in turn (one the kind allows). */
function split(value, lengths, kinds = ['u8', 'buf', 'dv', 'f32', 'u16', 'f16']) {
  let at = 0;
  return lengths.map((n, i) => {
    const allowed = kindsFor(n);
    const kind = allowed.includes(kinds[i % kinds.length]) ? kinds[i % kinds.length] : allowed[i % allowed.length];
    const v = viewOf(kind, value.subarray(at, at + n));
    at += n;
    return v;
  });
}

/** Empty views of the same lengths and kinds as `views`, filled with 0xee. */
const blank = (views) => split(Buffer.alloc(views.reduce((t, v) => t + v.byteLength, 0), 0xee), views.map((v) => v.byteLength), views.map(kindOf));
const kindOf = (v) => (Buffer.isBuffer(v) ? 'buf' : v instanceof DataView ? 'dv' : v instanceof Float32Array ? 'f32' : v instanceof Uint16Array ? 'u16' : globalThis.Float16Array && v instanceof globalThis.Float16Array ? 'f16' : 'u8');

/**
 * `open()` resolves to { mc, stats: () => Promise<Stats>, close() } on a fresh store (8 MB
 * segments on ranks 0 and 1); `mc` has the layer calls.
 */
export function sdkCalls(name, open) {
  const t = suite(`layer calls: ${name}`);
  let h;
  t.before.each(async () => { h = await open(); });
  t.after.each(async () => { await h.close(); });
  /** Only the counters of operations (no gauges, no tracepoints). */
  const ops = (d) => Object.fromEntries(Object.entries(d).filter(([k]) => /_(req|success|fail|not_found)$/.test(k)));
  /** The operation counters `fn` changed. */
  const count = async (fn) => {
    const before = await h.stats();
    await fn();
    return ops(delta(before, await h.stats()));
  };

  t('round trip: mixed view kinds at odd offsets, gathered and scattered in order', async () => {
    const { mc } = h;
    const value = Buffer.from(pattern(1, 10_000));
    await mc.putFromLayers('l/1', split(value, [3, 4000, 1, 2996, 3000]));
    assert.ok(Buffer.from(await mc.get('l/1')).equals(value));
    const into = blank(split(value, [16, 2000, 7, 977, 7000]));
    assert.is(await mc.getIntoLayers('l/1', into), 10_000);
    assert.ok(concat(into).equals(value));
    // putFrom of a DataView, read back by getInto and by one Float32Array layer
    const dv = viewOf('dv', value.subarray(0, 4096));
    await mc.putFrom('l/2', dv);
    const dst = Buffer.alloc(5000, 0xee);
    assert.is(await mc.getInto('l/2', dst), 4096);
    assert.ok(dst.subarray(0, 4096).equals(value.subarray(0, 4096)));
    const f32 = new Float32Array(1024);
    assert.is(await mc.getIntoLayers('l/2', [f32]), 4096);
    assert.ok(bytesOf(f32).equals(value.subarray(0, 4096)));
  });

  t('layers of zero length are allowed anywhere: they take no byte', async () => {
    const { mc } = h;
    const value = Buffer.from(pattern(2, 300));
    const views = split(value, [0, 100, 0, 0, 200, 0]);
    await mc.putFromLayers('z', views);
    assert.ok(Buffer.from(await mc.get('z')).equals(value));
    const into = blank(split(value, [0, 0, 150, 0, 150, 0]));
    assert.is(await mc.getIntoLayers('z', into), 300);
    assert.ok(concat(into).equals(value));
    assert.equal(await mc.batchPutFromLayers(['z0', 'z1'], [[new Uint8Array(0)], [new Uint8Array(0), Buffer.from('a')]]), [INVALID, 0]);
  });

  t('views that do not add up to the value: MMC_INVALID_PARAM, nothing written into them', async () => {
    const { mc } = h;
    const value = Buffer.from(pattern(3, 1000));
    await mc.putFrom('m', value);
    for (const lengths of [[500, 499], [500, 501], [1000, 1], []]) {
      const into = blank(split(Buffer.alloc(lengths.reduce((a, b) => a + b, 0)), lengths));
      const e = await rejects(mc.getIntoLayers('m', into), INVALID);
      assert.match(e.message, /add up/);
      assert.ok(into.every((v) => bytesOf(v).every((b) => b === 0xee)), `${lengths}: untouched`);
    }
    // a single view (batchGetInto) may be longer than the value, as getInto's buffer, not shorter
    const long = Buffer.alloc(1200, 0xee);
    const short = Buffer.alloc(999, 0xee);
    assert.equal(await mc.batchGetInto(['m', 'm'], [long, short]), [1000, INVALID]);
    assert.ok(long.subarray(0, 1000).equals(value) && long.subarray(1000).every((b) => b === 0xee));
    assert.ok(short.every((b) => b === 0xee));
    const layers = [Buffer.alloc(400, 0xee), Buffer.alloc(600, 0xee)];
    const wrong = [Buffer.alloc(400, 0xee), Buffer.alloc(601, 0xee)];
    assert.equal(await mc.batchGetIntoLayers(['m', 'm'], [wrong, layers]), [INVALID, 1000]);
    assert.ok(concat(layers).equals(value) && wrong.every((v) => v.every((b) => b === 0xee)));
  });

  t('absent keys: undefined, -3102 in a batch; empty lists', async () => {
    const { mc } = h;
    assert.is(await mc.getIntoLayers('absent', [Buffer.alloc(4)]), undefined);
    assert.is(await mc.getIntoLayers('absent', []), undefined);
    const v = Buffer.alloc(4, 0xee);
    assert.equal(await mc.batchGetInto(['absent'], [v]), [ABSENT]);
    assert.equal(await mc.batchGetIntoLayers(['absent'], [[v]]), [ABSENT]);
    assert.ok(v.every((b) => b === 0xee));
    assert.equal(await mc.batchPutFrom([], []), []);
    assert.equal(await mc.batchPutFromLayers([], []), []);
    assert.equal(await mc.batchGetInto([], []), []);
    assert.equal(await mc.batchGetIntoLayers([], []), []);
    await rejects(mc.putFromLayers('e', []), INVALID);
    await rejects(mc.putFromLayers('e', [new Uint8Array(0)]), INVALID);
    assert.is(await mc.exists('e'), false);
  });

  t('bad input: refused with MMC_INVALID_PARAM before anything changes', async () => {
    const { mc } = h;
    const before = await h.stats();
    await rejects(mc.putFrom('k', 'text'), INVALID);
    await rejects(mc.putFrom('k', [1, 2]), INVALID);
    await rejects(mc.putFromLayers('k', Buffer.from('x')), INVALID);
    await rejects(mc.putFromLayers('k', [Buffer.from('x'), new ArrayBuffer(2)]), INVALID);
    await rejects(mc.putFrom('', Buffer.from('x')), INVALID);
    await rejects(mc.putFrom('a\nb', Buffer.from('x')), INVALID);
    await rejects(mc.getIntoLayers('k', [{}]), INVALID);
    await rejects(mc.getIntoLayers('', [Buffer.alloc(1)]), INVALID);
    await rejects(mc.batchPutFrom(['a', 'b'], [Buffer.from('x')]), INVALID);
    await rejects(mc.batchGetIntoLayers(['a'], 'x'), INVALID);
    await rejects(mc.batchGetInto('a', [Buffer.alloc(1)]), INVALID);
    await rejects(mc.batchPutFromLayers(['a'], [[Buffer.from('x')]], { medium: 'ssd' }), INVALID);
    assert.equal(ops(delta(before, await h.stats())), {}, 'nothing counted');
    assert.equal(await mc.keys(), []);
  });

  t('batches: bad keys and bad views are their item\'s -3000, the others go ahead; duplicate keys', async () => {
    const { mc } = h;
    const v = (s) => Buffer.from(s);
    assert.equal(await mc.batchPutFrom(['', 'ok', 'x\ny', 'dv', 'bad'], [v('1'), v('ok'), v('3'), new DataView(new ArrayBuffer(5)), 'not a view']), [INVALID, 0, INVALID, 0, INVALID]);
    assert.equal((await mc.keys()).sort(), ['dv', 'ok']);
    assert.equal(await mc.batchPutFromLayers(['d', 'd', 'e'], [[v('ab'), v('c')], [v('zz')], [v('e'), 7]]), [0, DUPLICATE, INVALID]);
    assert.is(Buffer.from(await mc.get('d')).toString(), 'abc');
    const a = [Buffer.alloc(1), Buffer.alloc(2)];
    const b = [Buffer.alloc(2), Buffer.alloc(1)];
    assert.equal(await mc.batchGetIntoLayers(['d', '', 'd', 'ok', 'absent'], [a, [Buffer.alloc(3)], b, 'bad', [Buffer.alloc(1)]]), [3, INVALID, 3, INVALID, ABSENT]);
    assert.equal([concat(a).toString(), concat(b).toString()], ['abc', 'abc']);
    const one = [Buffer.alloc(8), Buffer.alloc(8)];
    assert.equal(await mc.batchGetInto(['ok', 'a\rb'], one), [2, INVALID]);
    assert.is(one[0].subarray(0, 2).toString(), 'ok');
  });

  t('counting: as the calls they stand for (put, get, batchPut, batchGet); a batch once, on its batch operation', async () => {
    const { mc } = h;
    const value = Buffer.from(pattern(4, 5000));
    const put = await count(() => mc.put('c/put', value));
    assert.equal(await count(() => mc.putFromLayers('c/layers', split(value, [1000, 4000]))), put);
    assert.equal(await count(() => mc.putFrom('c/one', viewOf('dv', value))), put);
    const get = await count(() => mc.get('c/put'));
    assert.equal(await count(() => mc.getIntoLayers('c/layers', blank(split(value, [2500, 2500])))), get);
    assert.equal(await count(() => mc.getIntoLayers('c/absent', [Buffer.alloc(1)])), await count(() => mc.get('c/absent')));
    // views that do not fit are refused after the value was found: counted as the get it was
    assert.equal(await count(() => rejects(mc.getIntoLayers('c/put', [Buffer.alloc(1)]), INVALID)), get);
    const entries = [['c/b1', value], ['c/b2', value.subarray(7)], ['', value]];
    const batchPut = await count(() => mc.batchPut(entries));
    assert.equal([batchPut.batch_alloc_req, batchPut.batch_update_state_req, batchPut.alloc_req], [1, 1, undefined]);
    await mc.removeAll();
    assert.equal(await count(() => mc.batchPutFromLayers(entries.map(([k]) => k), entries.map(([, x]) => split(x, [3, x.length - 3])))), batchPut);
    await mc.removeAll();
    assert.equal(await count(() => mc.batchPutFrom(entries.map(([k]) => k), entries.map(([, x]) => x))), batchPut);
    const keys = ['c/b1', 'c/b2', 'absent', ''];
    const batchGet = await count(() => mc.batchGet(keys));
    assert.equal([batchGet.batch_get_req, batchGet.batch_get_fail, batchGet.get_req], [1, 1, undefined]);
    const lists = [[Buffer.alloc(5000)], [Buffer.alloc(4993)], [Buffer.alloc(1)], [Buffer.alloc(1)]];
    assert.equal(await count(() => mc.batchGetIntoLayers(keys, lists)), batchGet);
    assert.equal(await count(() => mc.batchGetInto(keys, lists.map(([x]) => x))), batchGet);
    // items with refused views are not sent, not counted
    assert.equal(await count(() => mc.batchGetInto(['c/b1', 'c/b2'], [Buffer.alloc(5000), 'bad'])), { batch_get_req: 1, batch_get_success: 1 });
  });

  t('property: any value, split into any layers of any view kinds, round-trips byte-exact', async () => {
    const { mc } = h;
    let n = 0;
    const cuts = (size) => fc.array(fc.integer({ min: 0, max: size }), { maxLength: 6 })
      .map((c) => [0, ...c.sort((a, b) => a - b), size].flatMap((x, i, all) => (i ? [x - all[i - 1]] : [])));
    const sample = fc.integer({ min: 1, max: 20_000 }).chain((size) => fc.record({ size: fc.constant(size), put: cuts(size), get: cuts(size), kinds: fc.array(fc.constantFrom('u8', 'buf', 'dv', 'f32', 'u16', 'f16'), { minLength: 1, maxLength: 6 }), seed: fc.nat() }));
    await fc.assert(fc.asyncProperty(sample, async ({ size, put, get, kinds, seed }) => {
      const value = Buffer.from(pattern(seed, size));
      const key = `p/${n++}`;
      await mc.putFromLayers(key, split(value, put, kinds));
      const into = blank(split(value, get, [...kinds].reverse()));
      assert.is(await mc.getIntoLayers(key, into), size);
      assert.ok(concat(into).equals(value));
      const [got] = [Buffer.alloc(size + 3, 0xee)];
      assert.equal(await mc.batchGetInto([key], [got]), [size]);
      assert.ok(got.subarray(0, size).equals(value));
      assert.is(await mc.remove(key), true);
    }), { numRuns: 60 });
  });

  return t;
}
