// Batch framing decoded from the chunks a body arrives in: the same result as the whole buffer,
// values as views except where they straddle a chunk boundary, malformed frames refused alike.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as F from '../../dist/protocol/framing.js';

/** `buf` cut at the given offsets (each chunk a view of buf). */
const cut = (buf, at) => {
  const out = [];
  let prev = 0;
  for (const a of [...at, buf.length]) { out.push(buf.subarray(prev, a)); prev = a; }
  return out;
};
/** Deterministic pseudo-random cut points. */
function* cuts(len, seed = 7) {
  let s = seed;
  const rnd = () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let k = 0; k < 40; k++) {
    const n = Math.floor(rnd() * 8);
    yield Array.from({ length: n }, () => Math.floor(rnd() * (len + 1))).sort((a, b) => a - b);
  }
  // every single cut point
  for (let a = 0; a <= len; a++) yield [a];
}
const same = (a, b) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

test('batch_put frame: any chunking decodes to the same entries; views within a chunk', () => {
  const entries = [['k1', Buffer.from('v1')], ['ключ', Buffer.alloc(300, 9)], ['e', Buffer.alloc(0)], ['z', Buffer.from('last')]];
  const { chunks, length } = F.encodeBatchPut(entries);
  const buf = Buffer.concat(chunks, length);
  const whole = F.decodeBatchPut(buf).entries;
  for (const at of cuts(buf.length)) {
    const parts = cut(buf, at);
    const got = F.decodeBatchPutChunks(parts).entries;
    assert.equal(got.map(([k]) => k), whole.map(([k]) => k));
    for (let i = 0; i < got.length; i++) assert.ok(same(got[i][1], whole[i][1]), `value ${i} at cuts ${at}`);
    // a value lying wholly inside one chunk is a view of it
    const big = got[1][1];
    const start = buf.length - 4 - 300;
    if (!at.some((a) => a > start && a < start + 300)) assert.is(big.buffer, buf.buffer);
  }
});

test('batch_get frame and key list: any chunking decodes alike', () => {
  const g = F.encodeBatchGet([Buffer.from('abc'), undefined, Buffer.alloc(50, 3), Buffer.alloc(0)], [0, -3102, 0, 0]);
  const buf = Buffer.concat(g.chunks, g.length);
  const whole = F.decodeBatchGet(buf);
  const keys = ['a', '键', '', 'x'.repeat(30)];
  const kl = F.encodeKeyList(keys);
  for (const at of cuts(buf.length)) {
    const got = F.decodeBatchGetChunks(cut(buf, at));
    assert.equal(got.codes, whole.codes);
    assert.equal(got.values.map((v) => v && Buffer.from(v).toString('hex')), whole.values.map((v) => v && Buffer.from(v).toString('hex')));
  }
  for (const at of cuts(kl.length)) assert.equal(F.decodeKeyListChunks(cut(kl, at)).keys, keys);
});

test('encodeBatchGet: adjacent views of one buffer go out as one chunk', () => {
  const store = Buffer.alloc(30, 1);
  const vals = [store.subarray(0, 10), undefined, store.subarray(10, 20), store.subarray(20, 30), Buffer.from('x'), store.subarray(0, 5)];
  const g = F.encodeBatchGet(vals, vals.map((v) => (v ? 0 : -3102)));
  assert.is(g.chunks.length, 4, 'head, store[0..30), x, store[0..5)');
  assert.is(g.chunks[1].byteLength, 30);
  assert.is(g.length, Buffer.concat(g.chunks).length);
  const d = F.decodeBatchGet(Buffer.concat(g.chunks));
  assert.equal(d.values.map((v) => v && v.byteLength), [10, undefined, 10, 10, 1, 5]);
  assert.equal(d.codes, [0, -3102, 0, 0, 0, 0]);
});

test('malformed frames are refused whatever the chunking', () => {
  const good = F.encodeKeyList(['ab']);
  const bads = [Buffer.alloc(0), Buffer.from([1, 0, 0, 0]), Buffer.concat([good, Buffer.from('!')]),
    Buffer.from([255, 255, 255, 255]), Buffer.from([1, 0, 0, 0, 255, 255, 255, 255]), good.subarray(0, good.length - 1)];
  for (const bad of bads) {
    for (const at of [[], ...Array.from({ length: bad.length + 1 }, (_, i) => [i])]) {
      const parts = cut(bad, at);
      assert.throws(() => F.decodeKeyListChunks(parts), (e) => e instanceof F.FrameError);
      assert.throws(() => F.decodeBatchPutChunks(parts), (e) => e instanceof F.FrameError);
      assert.throws(() => F.decodeBatchGetChunks(parts), (e) => e instanceof F.FrameError);
    }
  }
});

test.run();
