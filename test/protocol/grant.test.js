// Grants: signed by the meta service, checked by a rank agent alone; bound to key, range and secret.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import {
  GRANT_BYTES, GRANT_READ, GRANT_WRITE, newGrantSecret, signGrant, verifyGrant,
} from '../../dist/protocol/grant.js';

const grantArb = fc.record({
  op: fc.constantFrom(GRANT_WRITE, GRANT_READ),
  medium: fc.constantFrom('hbm', 'dram'),
  rank: fc.integer({ min: 0, max: 65535 }),
  incarnation: fc.nat({ max: 0xffffffff }),
  view: fc.nat({ max: 0xffffffff }),
  gen: fc.nat({ max: 0xffffffff }),
  offset: fc.maxSafeNat(),
  size: fc.maxSafeNat(),
});

test('a grant reads back to its fields under its secret and key (property)', () => {
  fc.assert(fc.property(grantArb, fc.string({ minLength: 1, maxLength: 64 }), (g, key) => {
    const secret = newGrantSecret();
    const bytes = signGrant(secret, g, key);
    assert.is(bytes.byteLength, GRANT_BYTES);
    assert.equal(verifyGrant(secret, bytes, key), { ...g });
  }), { numRuns: 500 });
});

test('any altered byte, another key or another secret: refused (property)', () => {
  fc.assert(fc.property(grantArb, fc.nat({ max: GRANT_BYTES - 1 }), fc.integer({ min: 1, max: 255 }), (g, at, flip) => {
    const secret = newGrantSecret();
    const bytes = signGrant(secret, g, 'k');
    const bad = bytes.slice();
    bad[at] ^= flip;
    assert.is(verifyGrant(secret, bad, 'k'), undefined);
    assert.is(verifyGrant(secret, bytes, 'k2'), undefined);
    assert.is(verifyGrant(newGrantSecret(), bytes, 'k'), undefined);
  }), { numRuns: 500 });
  const secret = newGrantSecret();
  const g = { op: GRANT_READ, medium: 'dram', rank: 1, incarnation: 2, view: 3, gen: 4, offset: 5, size: 6 };
  assert.is(verifyGrant(secret, signGrant(secret, g, 'k').subarray(0, GRANT_BYTES - 1), 'k'), undefined, 'short');
  assert.is(verifyGrant(secret, new Uint8Array(GRANT_BYTES + 1), 'k'), undefined, 'long');
});

test('the layout, pinned against hand-written bytes', () => {
  const secret = new Uint8Array(32).fill(7);
  const g = { op: GRANT_WRITE, medium: 'hbm', rank: 0x0102, incarnation: 0x03040506, view: 9, gen: 0x0a0b0c0d, offset: 2 ** 32 + 16, size: 4096 };
  const bytes = signGrant(secret, g, 'blk/é');
  const fields = Buffer.from([
    0x01, 0x01, 0x02, 0x01, 0x06, 0x05, 0x04, 0x03, 0x09, 0, 0, 0, 0x0d, 0x0c, 0x0b, 0x0a,
    0x10, 0, 0, 0, 0x01, 0, 0, 0, 0x00, 0x10, 0, 0, 0, 0, 0, 0,
  ]);
  const mac = createHmac('sha256', secret).update(fields).update(Buffer.from('blk/é', 'utf8')).digest().subarray(0, 16);
  assert.equal(Buffer.from(bytes), Buffer.concat([fields, mac]));
});

test('fields that cannot be signed are refused with MMC_INVALID_PARAM', () => {
  const ok = { op: GRANT_READ, medium: 'dram', rank: 1, incarnation: 0, view: 0, gen: 0, offset: 0, size: 1 };
  for (const bad of [{ op: 3 }, { medium: 'ssd' }, { rank: 65536 }, { rank: -1 }, { gen: 2 ** 32 }, { view: 1.5 },
    { offset: -1 }, { size: 2 ** 53 }, { offset: NaN }]) {
    assert.throws(() => signGrant(newGrantSecret(), { ...ok, ...bad }, 'k'), (e) => e.code === -3000, JSON.stringify(bad));
  }
});

// grant-mac.ts computes the mac in JS over the secret's precomputed HMAC states: it must be
// createHmac's bytes for any secret (of any length: over a block it is hashed first) and any key
// (lone surrogates included: both sides write them as U+FFFD), so grants signed before verify after.
const keyArb = fc.oneof(
  fc.string({ minLength: 1, maxLength: 40, unit: 'binary' }),
  fc.string({ minLength: 1, maxLength: 400, unit: 'grapheme' }),
  fc.string({ minLength: 1, maxLength: 1024 }),
);
const createHmacGrant = (secret, bytes, key) => createHmac('sha256', secret).update(bytes.subarray(0, 32)).update(key, 'utf8').digest().subarray(0, 16);

test('the mac is createHmac-SHA256 truncated to 16 bytes, for random secrets, fields and keys (property)', () => {
  fc.assert(fc.property(grantArb, keyArb, fc.uint8Array({ minLength: 1, maxLength: 200 }), (g, key, secret) => {
    const bytes = signGrant(secret, g, key);
    assert.equal(Buffer.from(bytes.subarray(32)), createHmacGrant(secret, bytes, key));
    assert.equal(verifyGrant(secret, bytes, key), { ...g });
  }), { numRuns: 3000 });
});

test('a grant MACed by createHmac (signed before) verifies; one tampered anywhere is refused (property)', () => {
  fc.assert(fc.property(grantArb, keyArb, fc.nat({ max: GRANT_BYTES - 1 }), fc.integer({ min: 1, max: 255 }), (g, key, at, flip) => {
    const secret = newGrantSecret();
    const fields = signGrant(secret, g, key).subarray(0, 32);
    const before = Buffer.concat([fields, createHmacGrant(secret, fields, key)]);
    assert.equal(verifyGrant(secret, before, key), { ...g });
    const bad = Buffer.from(before);
    bad[at] ^= flip;
    assert.is(verifyGrant(secret, bad, key), undefined);
    assert.is(verifyGrant(secret, before, key + 'x'), undefined);
  }), { numRuns: 2000 });
});

test.run();
