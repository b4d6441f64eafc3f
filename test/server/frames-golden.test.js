// The batch frames of the README's "Batch framing", pinned byte for byte against frames written
// out by hand (little-endian; u32 counts and lengths, i32 codes): the encoders must produce them,
// the decoders must read them (whole and split at every byte into two socket reads), and the
// server must answer hand-written requests with hand-written responses, fast path and Koa alike.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  encodeKeyList, decodeKeyList, decodeKeyListChunks, encodeBatchPut, decodeBatchPut, decodeBatchPutChunks,
  encodeCodes, decodeCodes, encodeBatchGet, decodeBatchGet, decodeBatchGetChunks,
} from '../../dist/protocol/framing.js';
import { startServer, req } from './_helpers.js';

/** Bytes from hex written with spaces and `|` between fields. */
const hex = (s) => Buffer.from(s.replace(/[\s|]/g, ''), 'hex');
const concat = (chunks, length) => Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)), length);
/** Every split of `buf` into two chunks (the second a separate allocation, as another socket read). */
const splits = (buf) => Array.from({ length: buf.length + 1 }, (_, i) => [Buffer.from(buf.subarray(0, i)), Buffer.from(buf.subarray(i))]);

// key list: u32 N | u32 keyLen × N | key bytes. Keys 'a', 300 × 'k' (length 0x12c), 'é' (c3 a9).
const KEYS = ['a', 'k'.repeat(300), 'é'];
const KEY_LIST = Buffer.concat([
  hex('03 00 00 00 | 01 00 00 00 | 2c 01 00 00 | 02 00 00 00 | 61'),
  Buffer.alloc(300, 0x6b),
  hex('c3 a9'),
]);

// batch_put request: u32 N | u32 keyLen × N | u32 valueLen × N | key bytes | value bytes.
const PUT_ENTRIES = [['a', hex('01 02 03')], ['bc', hex('ff')]];
const BATCH_PUT = hex(`
  02 00 00 00 |
  01 00 00 00  02 00 00 00 |
  03 00 00 00  01 00 00 00 |
  61  62 63 |
  01 02 03  ff`);

// code list: u32 N | i32 code × N. 0, -3102 (MMC_UNMATCHED_KEY), -3000 (MMC_INVALID_PARAM),
// -3007 (MMC_OBJECT_NOT_EXISTS), 1.
const CODES = [0, -3102, -3000, -3007, 1];
const CODE_LIST = hex('05 00 00 00 | 00 00 00 00  e2 f3 ff ff  48 f4 ff ff  41 f4 ff ff  01 00 00 00');

// batch_get response: u32 N | i32 code × N | u32 valueLen × N | the found values. Found (3 bytes),
// absent, being written, found (1 byte).
const GET_VALUES = [hex('01 02 03'), undefined, undefined, hex('ff')];
const GET_CODES = [0, -3102, -3007, 0];
const BATCH_GET = hex(`
  04 00 00 00 |
  00 00 00 00  e2 f3 ff ff  41 f4 ff ff  00 00 00 00 |
  03 00 00 00  00 00 00 00  00 00 00 00  01 00 00 00 |
  01 02 03  ff`);

test('key list: encoded byte for byte; decoded whole and from two reads at every split', () => {
  assert.equal(encodeKeyList(KEYS), KEY_LIST);
  assert.equal(encodeKeyList([]), hex('00 00 00 00'));
  assert.equal(decodeKeyList(KEY_LIST), { keys: KEYS, lengths: [1, 300, 2], bad: [] });
  assert.equal(decodeKeyList(hex('00 00 00 00')).keys, []);
  for (const parts of splits(KEY_LIST)) assert.equal(decodeKeyListChunks(parts).keys, KEYS);
  // a key that is not UTF-8 (ff) is listed as bad, with an empty string; the others decode
  assert.equal(decodeKeyList(hex('02 00 00 00 | 01 00 00 00  01 00 00 00 | ff  61')), { keys: ['', 'a'], lengths: [1, 1], bad: [0] });
});

test('batch_put request: encoded byte for byte; decoded whole and from two reads at every split', () => {
  const { chunks, length } = encodeBatchPut(PUT_ENTRIES);
  assert.is(length, BATCH_PUT.length);
  assert.equal(concat(chunks, length), BATCH_PUT);
  const empty = encodeBatchPut([]);
  assert.equal(concat(empty.chunks, empty.length), hex('00 00 00 00'));
  const want = PUT_ENTRIES.map(([k, v]) => [k, [...v]]);
  const plain = ({ entries }) => entries.map(([k, v]) => [k, [...v]]);
  assert.equal(plain(decodeBatchPut(BATCH_PUT)), want);
  assert.equal(decodeBatchPut(BATCH_PUT).keyLengths, [1, 2]);
  assert.equal(decodeBatchPut(BATCH_PUT).bad, []);
  for (const parts of splits(BATCH_PUT)) assert.equal(plain(decodeBatchPutChunks(parts)), want);
});

test('code list: encoded byte for byte (signed codes); decoded', () => {
  assert.equal(encodeCodes(CODES), CODE_LIST);
  assert.equal(encodeCodes([]), hex('00 00 00 00'));
  assert.equal(decodeCodes(CODE_LIST), CODES);
  assert.equal(decodeCodes(hex('00 00 00 00')), []);
});

test('batch_get response: encoded byte for byte; decoded whole and from two reads at every split', () => {
  const { chunks, length } = encodeBatchGet(GET_VALUES, GET_CODES);
  assert.is(length, BATCH_GET.length);
  assert.equal(concat(chunks, length), BATCH_GET);
  const empty = encodeBatchGet([], []);
  assert.equal(concat(empty.chunks, empty.length), hex('00 00 00 00'));
  const plain = ({ codes, values }) => ({ codes, values: values.map((v) => (v ? [...v] : v)) });
  const want = { codes: GET_CODES, values: [[1, 2, 3], undefined, undefined, [0xff]] };
  assert.equal(plain(decodeBatchGet(BATCH_GET)), want);
  for (const parts of splits(BATCH_GET)) assert.equal(plain(decodeBatchGetChunks(parts)), want);
});

test('frames whose lengths do not add up are refused by every decoder', () => {
  const bad = [
    [decodeKeyList, Buffer.concat([KEY_LIST, hex('00')])], // a byte too many
    [decodeKeyList, KEY_LIST.subarray(0, KEY_LIST.length - 1)], // a byte short
    [decodeKeyList, hex('02 00 00 00 | 01 00 00 00')], // N says 2, one length
    [decodeBatchPut, Buffer.concat([BATCH_PUT, hex('00')])],
    [decodeBatchPut, BATCH_PUT.subarray(0, BATCH_PUT.length - 1)],
    [decodeCodes, hex('02 00 00 00 | 00 00 00 00')],
    [decodeCodes, hex('00 00 00')],
    [decodeBatchGet, Buffer.concat([BATCH_GET, hex('00')])],
    [decodeBatchGet, BATCH_GET.subarray(0, BATCH_GET.length - 1)],
  ];
  for (const [decode, frame] of bad) {
    assert.throws(() => decode(frame), /malformed batch frame/, `${decode.name} ${frame.toString('hex')}`);
  }
});

test('the server answers hand-written requests with hand-written responses (fast path and Koa)', async () => {
  for (const fastPath of [true, false]) {
    const S = await startServer({ server: { fastPath } });
    try {
      const post = async (route, body, want) => {
        const r = await req(S.url, 'POST', `/api/v1/objects/${route}`, body, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length });
        assert.is(r.status, 200, `${route}: ${r.text}`);
        assert.is(r.headers['content-type'], 'application/octet-stream');
        assert.equal(r.body, want, `${route} (fastPath ${fastPath})`);
      };
      // put 'a' = 01 02 03 and 'bc' = ff: both stored
      await post('batch_put', BATCH_PUT, hex('02 00 00 00 | 00 00 00 00  00 00 00 00'));
      // again: both duplicates, -3006 (MMC_DUPLICATED_OBJECT)
      await post('batch_put', BATCH_PUT, hex('02 00 00 00 | 42 f4 ff ff  42 f4 ff ff'));
      // get 'bc', 'zz', 'a'
      const getKeys = hex('03 00 00 00 | 02 00 00 00  02 00 00 00  01 00 00 00 | 62 63  7a 7a  61');
      await post('batch_get', getKeys, hex(`
        03 00 00 00 |
        00 00 00 00  e2 f3 ff ff  00 00 00 00 |
        01 00 00 00  00 00 00 00  03 00 00 00 |
        ff  01 02 03`));
      await post('batch_exists', getKeys, hex('03 00 00 00 | 00 00 00 00  e2 f3 ff ff  00 00 00 00'));
      await post('batch_remove', getKeys, hex('03 00 00 00 | 00 00 00 00  e2 f3 ff ff  00 00 00 00'));
      await post('batch_get', getKeys, hex(`
        03 00 00 00 |
        e2 f3 ff ff  e2 f3 ff ff  e2 f3 ff ff |
        00 00 00 00  00 00 00 00  00 00 00 00`));
      // empty batches are well-formed frames: N = 0 in, N = 0 out
      await post('batch_put', hex('00 00 00 00'), hex('00 00 00 00'));
      await post('batch_get', hex('00 00 00 00'), hex('00 00 00 00'));
      await post('batch_exists', hex('00 00 00 00'), hex('00 00 00 00'));
      await post('batch_remove', hex('00 00 00 00'), hex('00 00 00 00'));
      // GET /api/v1/objects/keys answers a key list
      await S.mc.put('é', hex('01'));
      const r = await req(S.url, 'GET', '/api/v1/objects/keys');
      assert.equal(r.body, hex('01 00 00 00 | 02 00 00 00 | c3 a9'));
    } finally {
      await S.close();
    }
  }
});

test.run();
