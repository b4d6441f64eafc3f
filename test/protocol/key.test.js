// Keys on the wire: the 1024-byte limit counts UTF-8 bytes; the URL encoding is UTF-8 percent
// encoding that every string survives (lone surrogates as U+FFFD) and the server decodes back.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { MAX_KEY_BYTES, encodeKey, keyTooLong } from '../../dist/protocol/key.js';
import { Query } from '../../dist/server/query.js';

const anyString = fc.oneof(fc.string({ unit: 'grapheme', maxLength: 400 }), fc.string({ unit: 'binary', maxLength: 600 }));

test('keyTooLong is over MAX_KEY_BYTES bytes of UTF-8 (property)', () => {
  assert.is(MAX_KEY_BYTES, 1024);
  fc.assert(fc.property(anyString, (k) => {
    assert.is(keyTooLong(k), Buffer.byteLength(k, 'utf8') > MAX_KEY_BYTES);
  }), { numRuns: 3000 });
});

test('encodeKey: plain keys as they are; any key decodes back to its UTF-8 (property)', () => {
  assert.is(encodeKey('layer0.blk-42_~'), 'layer0.blk-42_~');
  assert.is(encodeKey('a b/é'), 'a%20b%2F%C3%A9');
  assert.is(encodeKey('x\uD800'), 'x%EF%BF%BD');
  fc.assert(fc.property(anyString, (k) => {
    const wire = encodeKey(k);
    assert.ok(/^[A-Za-z0-9\-_.~!*'()%]*$/.test(wire), wire);
    assert.is(new Query(`key=${wire}`).get('key') ?? '', Buffer.from(k, 'utf8').toString('utf8'));
  }), { numRuns: 3000 });
});

test.run();
