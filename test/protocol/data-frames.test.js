// The binary data path's frames (src/protocol/data-frames.ts), pinned byte for byte against frames
// written out by hand (little-endian): the encoders produce them, the incremental reader reads them
// whole and split at every byte into two socket reads; then fuzzing: random and mutated byte streams
// into the reader give frames or a clean DataFrameError, never another exception, never a hang.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import {
  OP, HEADER_BYTES, encodeRequest, encodeAnswer, encodeU64, decodeU64, decodeHead, DataFrameError,
} from '../../dist/protocol/data-frames.js';
import { FrameReader } from '../../dist/protocol/data-reader.js';
import { FrameError, encodeKeyList } from '../../dist/protocol/framing.js';

const hex = (s) => Buffer.from(s.replace(/[\s|]/g, ''), 'hex');
const splits = (buf) => Array.from({ length: buf.length + 1 }, (_, i) => [Buffer.from(buf.subarray(0, i)), Buffer.from(buf.subarray(i))]);

// PUT id 7 of key 'é' (c3 a9), put options 'replicas=2', value 01 02 03:
//   magic 'MD' | version 1 | op 2 | id 7 | key length 2 | aux length 10 | value length 3 (lo, hi)
const PUT = hex(`
  4d 44 | 01 | 02 | 07 00 00 00 | 02 00 00 00 | 0a 00 00 00 | 03 00 00 00  00 00 00 00 |
  c3 a9 | 72 65 70 6c 69 63 61 73 3d 32 | 01 02 03`);
// GET id 0x01020304 of 'k' with a max size (getInto) of 2^32 + 5: aux is a u64 (lo, hi)
const GET_INTO = hex(`
  4d 44 | 01 | 03 | 04 03 02 01 | 01 00 00 00 | 08 00 00 00 | 00 00 00 00  00 00 00 00 |
  6b | 05 00 00 00  01 00 00 00`);
// HELLO id 1, token 'tok'
const HELLO = hex('4d 44 | 01 | 01 | 01 00 00 00 | 03 00 00 00 | 00 00 00 00 | 00 00 00 00  00 00 00 00 | 74 6f 6b');
// BATCH_GET id 2 of the key list ['a']: no key, the key list as its value
const BATCH_GET = hex(`
  4d 44 | 01 | 08 | 02 00 00 00 | 00 00 00 00 | 00 00 00 00 | 09 00 00 00  00 00 00 00 |
  01 00 00 00 | 01 00 00 00 | 61`);
// answers: GET id 7 found, payload 'hi'; SIZE id 9, size 2^32 (aux u64); GET id 8 absent (-3102);
// PUT id 3 refused, reason 'MMC_INVALID_PARAM: x' (-3000)
const ANSWER_GET = hex('4d 44 | 01 | 03 | 07 00 00 00 | 00 00 00 00 | 00 00 00 00 | 02 00 00 00  00 00 00 00 | 68 69');
const ANSWER_SIZE = hex('4d 44 | 01 | 04 | 09 00 00 00 | 00 00 00 00 | 08 00 00 00 | 00 00 00 00  00 00 00 00 | 00 00 00 00  01 00 00 00');
const ANSWER_ABSENT = hex('4d 44 | 01 | 03 | 08 00 00 00 | e2 f3 ff ff | 00 00 00 00 | 00 00 00 00  00 00 00 00');
const ANSWER_REFUSED = Buffer.concat([
  hex('4d 44 | 01 | 02 | 03 00 00 00 | 48 f4 ff ff | 14 00 00 00 | 00 00 00 00  00 00 00 00'),
  Buffer.from('MMC_INVALID_PARAM: x'),
]);

/** Every event of `chunks` through one reader, values gathered per frame. */
function readAll(chunks, answer) {
  const r = new FrameReader(answer);
  const frames = [];
  let cur;
  for (const c of chunks) {
    r.push(c);
    for (let ev = r.next(); ev; ev = r.next()) {
      if (ev.kind === 'head') cur = { ...ev.head, key: Buffer.from(ev.key).toString('hex'), aux: Buffer.from(ev.aux).toString('hex'), value: [] };
      else if (ev.kind === 'value') cur.value.push(...ev.chunk);
      else frames.push(cur);
    }
  }
  return { frames, midFrame: r.midFrame };
}

test('requests: encoded byte for byte', () => {
  assert.equal(Buffer.concat([encodeRequest(OP.PUT, 7, 'é', 'replicas=2', 3), hex('01 02 03')]), PUT);
  assert.equal(encodeRequest(OP.GET, 0x01020304, 'k', encodeU64(2 ** 32 + 5), 0), GET_INTO);
  assert.equal(encodeRequest(OP.HELLO, 1, 'tok', '', 0), HELLO);
  const list = encodeKeyList(['a']);
  assert.equal(Buffer.concat([encodeRequest(OP.BATCH_GET, 2, '', '', list.length), list]), BATCH_GET);
  assert.is(HEADER_BYTES, 24);
});

test('answers: encoded byte for byte', () => {
  assert.equal(Buffer.concat([encodeAnswer(OP.GET, 7, 0, undefined, 2), Buffer.from('hi')]), ANSWER_GET);
  assert.equal(encodeAnswer(OP.SIZE, 9, 0, encodeU64(2 ** 32), 0), ANSWER_SIZE);
  assert.equal(encodeAnswer(OP.GET, 8, -3102, undefined, 0), ANSWER_ABSENT);
  assert.equal(encodeAnswer(OP.PUT, 3, -3000, Buffer.from('MMC_INVALID_PARAM: x'), 0), ANSWER_REFUSED);
  assert.is(decodeU64(encodeU64(2 ** 53 - 1)), 2 ** 53 - 1);
});

test('requests: read whole, and from two reads at every split', () => {
  const stream = Buffer.concat([PUT, GET_INTO, HELLO, BATCH_GET]);
  const want = [
    { op: 2, id: 7, a: 2, aux: '7265706c69636173 3d32'.replace(' ', ''), len: 3, key: 'c3a9', value: [1, 2, 3] },
    { op: 3, id: 0x01020304, a: 1, aux: '0500000001000000', len: 0, key: '6b', value: [] },
    { op: 1, id: 1, a: 3, aux: '', len: 0, key: '746f6b', value: [] },
    { op: 8, id: 2, a: 0, aux: '', len: 9, key: '', value: [...encodeKeyList(['a'])] },
  ];
  const norm = (fs) => fs.map((f) => ({ ...f, aux: f.aux }));
  const whole = readAll([stream], false);
  // the header's aux field is its length; the frame's aux bytes come with the head event
  assert.equal(norm(whole.frames).map((f) => [f.op, f.id, f.a, f.key, f.aux, f.len, f.value]), want.map((f) => [f.op, f.id, f.a, f.key, f.aux, f.len, f.value]));
  assert.is(whole.midFrame, false);
  for (const parts of splits(stream)) {
    assert.equal(readAll(parts, false).frames.map((f) => [f.id, f.key, f.aux, f.value]), want.map((f) => [f.id, f.key, f.aux, f.value]));
  }
});

test('answers: read whole, and from two reads at every split', () => {
  const stream = Buffer.concat([ANSWER_GET, ANSWER_SIZE, ANSWER_ABSENT, ANSWER_REFUSED]);
  const want = [[7, 0, '', [0x68, 0x69]], [9, 0, '0000000001000000', []], [8, -3102, '', []], [3, -3000, Buffer.from('MMC_INVALID_PARAM: x').toString('hex'), []]];
  for (const parts of splits(stream)) assert.equal(readAll(parts, true).frames.map((f) => [f.id, f.a, f.aux, f.value]), want);
});

test('headers that cannot be trusted are DataFrameErrors (with the id once magic and version are right)', () => {
  const bad = (b, re, id, answer = false) => {
    try { decodeHead(b, answer); } catch (e) {
      assert.instance(e, DataFrameError);
      assert.instance(e, FrameError);
      assert.match(e.message, re);
      assert.is(e.id, id);
      return;
    }
    assert.unreachable(`accepted ${b.toString('hex')}`);
  };
  const head = (over) => { const b = Buffer.from(PUT.subarray(0, 24)); for (const [at, v] of over) b[at] = v; return b; };
  bad(head([[0, 0x47]]), /bad magic/, 0);
  bad(head([[2, 2]]), /version 2/, 0);
  bad(head([[3, 0]]), /unknown op 0/, 7);
  bad(head([[3, 24]]), /unknown op 24/, 7); // 12..23 are the pool's (pool-frames.ts, pool-free.ts)
  bad(head([[9, 0x04], [8, 0x01]]), /key of 1025 bytes/, 7); // key over MAX_KEY_BYTES
  bad(head([[13, 0x10], [12, 0x01]]), /aux of 4097 bytes/, 7);
  bad(head([[23, 0x01]]), /length over 2\^53/, 7);
  bad(head([[3, 3]]), /op 3 carries no value/, 7); // a GET with a value
  bad(head([[3, 8], [8, 1]]), /key of 1 bytes/, 7); // a batch with a key
  // an answer about the connection: op 0, id 0
  assert.equal(decodeHead(encodeAnswer(0, 0, -3000, undefined, 0), true), { op: 0, id: 0, a: -3000, aux: 0, len: 0 });
  assert.throws(() => decodeU64(hex('00 00 00 00  00 00 20 00')), /over 2\^53/);
  assert.throws(() => decodeU64(hex('00')), /8 bytes/);
});

/** Feeds `chunks` into a reader: the frames read, or the DataFrameError; anything else fails. */
function survive(chunks, answer) {
  const r = new FrameReader(answer);
  let events = 0;
  try {
    for (const c of chunks) {
      r.push(c);
      // each event consumes bytes or completes a frame, so this loop is bounded by the input
      for (let ev = r.next(); ev; ev = r.next()) if (++events > 1e6) throw new Error('reader does not progress');
    }
  } catch (e) {
    if (!(e instanceof DataFrameError)) throw e;
    assert.throws(() => r.next(), (x) => x instanceof DataFrameError); // the stream stays lost
  }
}

const frames = [PUT, GET_INTO, HELLO, BATCH_GET];
const answers = [ANSWER_GET, ANSWER_SIZE, ANSWER_ABSENT, ANSWER_REFUSED];
const cuts = fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 8 });
const chunked = (buf, sizes) => {
  const out = [];
  let at = 0;
  for (const n of sizes) { out.push(buf.subarray(at, at + n)); at += n; }
  out.push(buf.subarray(at));
  return out;
};

test('fuzz: random bytes, requests and answers alike, never throw anything but DataFrameError', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), cuts, fc.boolean(), (bytes, sizes, answer) => {
    survive(chunked(Buffer.from(bytes), sizes), answer);
  }), { numRuns: 4000 });
});

test('fuzz: valid frames with bytes flipped, cut or inserted never throw anything but DataFrameError', () => {
  const stream = fc.tuple(fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 1, maxLength: 6 }), fc.boolean());
  const mutation = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'cut', 'insert')), { maxLength: 6 });
  fc.assert(fc.property(stream, mutation, cuts, ([picks, answer], muts, sizes) => {
    let b = Buffer.concat(picks.map((i) => (answer ? answers : frames)[i]));
    for (const [at, v, how] of muts) {
      const i = at % (b.length + 1);
      if (how === 'flip' && i < b.length) { b = Buffer.from(b); b[i] = v; }
      else if (how === 'cut') b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1)]);
      else b = Buffer.concat([b.subarray(0, i), Buffer.from([v]), b.subarray(i)]);
    }
    survive(chunked(b, sizes), answer);
  }), { numRuns: 4000 });
});

test.run();
