// Pure parts: query decoding, contract formatting, batch framing, client error mapping.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Query } from '../../dist/server/query.js';
import { keyTooLong } from '../../dist/protocol/key.js';
import { summaryLine, ptracerRow, ptracerTable, allocFreeTable, PTRACER_HEADER, ratio, errorBody, SUMMARY_FIELDS } from '../../dist/server/format.js';
import * as F from '../../dist/protocol/framing.js';
import { errorFromReason, encodeKey } from '../../dist/client/index.js';
import { MMC } from '../../dist/index.js';

test('Query: urlencoded UTF-8, + is space, empty is missing, lenient on %, strict on UTF-8, keys split on ,', () => {
  const q = new Query('a=x+y&b=%2B&c=&d=%zz&e=%E4%B8%AD&f=%E4&g=1,,2,&h=,,&a=second&r=%EF%BF%BD&s=%ED%A0%80&t=ok%ff&t=%EF%BF%BD&k%65y=%80');
  assert.is(q.get('a'), 'x y');
  assert.is(q.get('b'), '+');
  assert.is(q.get('c'), undefined);
  assert.is(q.get('missing'), undefined);
  assert.is(q.get('d'), '%zz');
  assert.is(q.get('e'), '中');
  // invalid UTF-8 is refused, never replaced by U+FFFD; a real U+FFFD is a value like any other
  for (const name of ['f', 's', 't', 'key']) {
    assert.throws(() => q.get(name), (e) => e.code === MMC.MMC_INVALID_PARAM && e.message === `MMC_INVALID_PARAM: '${name}' is not valid UTF-8`);
  }
  assert.is(q.get('r'), '\uFFFD');
  assert.equal(q.list('g'), ['1', '2']);
  assert.is(q.list('h'), undefined);
  assert.is(keyTooLong('a'.repeat(1024)), false);
  assert.is(keyTooLong('a'.repeat(1025)), true);
  assert.is(keyTooLong('é'.repeat(512)), false);
  assert.is(keyTooLong('é'.repeat(513)), true);
  assert.is(keyTooLong('中'.repeat(342)), true);
});

test('summaryLine: 62 fields, used/total, missing counters as 0, no newline', () => {
  assert.is(SUMMARY_FIELDS.length, 62);
  const line = summaryLine({ keys: 2, evict: 1, hbm_used: 368640, hbm_total: 5368709120, dram_used: 0, dram_total: 5368709120, alloc_req: 68, query_not_found: 1, tracepoints: [] });
  assert.ok(line.startsWith('keys=2 evict=1 hbm_used=368640/5368709120 dram_used=0/5368709120 alloc_req=68 alloc_success=0 '));
  assert.ok(line.includes(' query_not_found=1 '));
  assert.ok(line.endsWith(' unmount_fail=0'));
  assert.is(line.split(' ').length, 62);
});

test('ptracer: widths 23/40/15, three decimals, zeros without good ends, long names not cut', () => {
  assert.is(PTRACER_HEADER.length, 23 + 40 + 8 * 15);
  const row = ptracerRow({ name: 'TP_MMC_META_PUT', begin: 8, goodEnd: 8, badEnd: 0, minUs: 31.88, maxUs: 131.87, totalUs: 475.03 }, '2026-01-05 14:57:03');
  assert.is(row, '2026-01-05 14:57:03    TP_MMC_META_PUT                         8              8              0              0              31.880         131.870        59.379         475.030        ');
  const bad = ptracerRow({ name: 'X', begin: 3, goodEnd: 0, badEnd: 2, minUs: 1e300, maxUs: 5, totalUs: 5 }, 't');
  assert.equal(bad.slice(63).split(/ +/).filter(Boolean), ['3', '0', '2', '1', '0.000', '0.000', '0.000', '0.000']);
  const long = ptracerRow({ name: 'N'.repeat(45), begin: 1, goodEnd: 1, badEnd: 0, minUs: 1, maxUs: 1, totalUs: 1 }, 't');
  assert.ok(long.includes('N'.repeat(45)));
  const t = ptracerTable([{ name: 'A', begin: 0, goodEnd: 0, badEnd: 0, minUs: 0, maxUs: 0, totalUs: 0 }, { name: 'B', begin: 1, goodEnd: 1, badEnd: 0, minUs: 2, maxUs: 2, totalUs: 2 }], new Date(2026, 0, 5, 14, 57, 3));
  assert.is(t.split('\n').length, 3);
  assert.ok(t.split('\n')[1].startsWith('2026-01-05 14:57:03    B '));
  const af = allocFreeTable([{ name: 'TP_MMC_META_FREE', begin: 0, goodEnd: 0, badEnd: 0, minUs: 0, maxUs: 0, totalUs: 0 }]);
  assert.equal(af.split('\n').filter(Boolean).slice(1).map((l) => l.slice(23, 63).trim()), ['TP_MMC_META_ALLOC', 'TP_MMC_META_REMOVE', 'TP_MMC_META_FREE']);
});

test('ratio and error body', () => {
  assert.is(ratio(5368340480, 5368709120), 0.9999313354);
  assert.is(ratio(1, 0), 0);
  assert.match(errorBody('Key not found'), /^\{"success":false,"error_message":"Key not found","timestamp":\d+\}$/);
  assert.match(errorBody('a "q" \\ \n'), /"error_message":"a \\"q\\" \\\\ \\n"/);
});

test('framing: round trips, exact lengths, malformed frames refused', () => {
  const keys = ['a', '键', '', 'x'.repeat(300)];
  assert.equal(F.decodeKeyList(F.encodeKeyList(keys)).keys, keys);
  const entries = [['k1', Buffer.from('v1')], ['ключ', Buffer.alloc(5000, 9)], ['e', Buffer.alloc(0)]];
  const { chunks, length } = F.encodeBatchPut(entries);
  const buf = Buffer.concat(chunks);
  assert.is(buf.length, length);
  assert.is(buf.readUInt32LE(0), 3);
  const back = F.decodeBatchPut(buf).entries;
  assert.equal(back.map(([k]) => k), ['k1', 'ключ', 'e']);
  assert.ok(Buffer.from(back[1][1]).equals(Buffer.alloc(5000, 9)));
  assert.is(back[1][1].buffer, buf.buffer, 'values are views, not copies');
  assert.equal(F.decodeCodes(F.encodeCodes([0, -3102, -3006])), [0, -3102, -3006]);
  const g = F.encodeBatchGet([Buffer.from('abc'), undefined, Buffer.from('z')], [0, -3102, 0]);
  const dg = F.decodeBatchGet(Buffer.concat(g.chunks));
  assert.equal(dg.codes, [0, -3102, 0]);
  assert.equal(dg.values.map((v) => v && Buffer.from(v).toString()), ['abc', undefined, 'z']);
  for (const bad of [Buffer.alloc(0), Buffer.from([1, 0, 0, 0]), Buffer.concat([F.encodeKeyList(['ab']), Buffer.from('!')]),
    Buffer.from([255, 255, 255, 255]), Buffer.from([1, 0, 0, 0, 255, 255, 255, 255])]) {
    assert.throws(() => F.decodeKeyList(bad), (e) => e instanceof F.FrameError);
    assert.throws(() => F.decodeBatchPut(bad), (e) => e instanceof F.FrameError);
  }
  assert.throws(() => F.decodeCodes(Buffer.from([1, 0, 0, 0])), (e) => e instanceof F.FrameError);
});

test('client: reasons map to MMC codes; keys percent-encoded as UTF-8', () => {
  assert.is(errorFromReason('MMC_DUPLICATED_OBJECT: key already exists').code, MMC.MMC_DUPLICATED_OBJECT);
  assert.is(errorFromReason('MMC_DUPLICATED_OBJECT: key already exists').message, 'MMC_DUPLICATED_OBJECT: key already exists');
  assert.is(errorFromReason('MMC_NOT_ENOUGH_MEMORY: no room').code, MMC.MMC_NOT_ENOUGH_MEMORY);
  assert.is(errorFromReason('Key not found').code, MMC.MMC_UNMATCHED_KEY);
  assert.is(errorFromReason("Missing 'key' parameter").code, MMC.MMC_INVALID_PARAM);
  assert.is(errorFromReason('whatever').code, MMC.MMC_ERROR);
  assert.is(encodeKey('plain-key_1.~'), 'plain-key_1.~');
  assert.is(encodeKey('a b+c'), 'a%20b%2Bc');
  assert.is(encodeKey('\uD800x'), '%EF%BF%BDx');
});

test.run();
