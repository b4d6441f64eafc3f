// The pool's binary control messages (pool-control.ts) and batch grant blocks (grant-block.ts),
// pinned byte for byte against hand-written frames; round trips; and fuzzed decoders: garbage
// gets MMC_INVALID_PARAM (never another exception), and any altered block byte fails its mac.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { createHmac } from 'node:crypto';
import {
  encodeAlloc, decodeAlloc, encodeCommit, decodeCommit, encodeLookup, decodeLookup, encodeRelease, decodeRelease,
  encodePlacement, decodePlacement,
} from '../../dist/protocol/pool-control.js';
import { signGrantBlock, verifyGrantBlock } from '../../dist/protocol/grant-block.js';
import { GRANT_READ, GRANT_WRITE, newGrantSecret } from '../../dist/protocol/grant.js';

const hex = (s) => Buffer.from(s.replace(/[\s|]/g, ''), 'hex');
/** Every split of `buf` into two chunks (two socket reads). */
const splits = (buf) => Array.from({ length: buf.length + 1 }, (_, i) => [buf.subarray(0, i), buf.subarray(i)]);
const invalidParam = (f) => { try { f(); return false; } catch (e) { return e.code === -3000; } };

// key list (framing.ts): u32 N | u32 keyLen × N | keys
const KEYS_AB = hex('02 00 00 00 | 01 00 00 00  02 00 00 00 | 61  62 63');
const ALLOC = Buffer.concat([hex(`01 | 00 | 0a 00 | 6d 65 64 69 75 6d 3d 68 62 6d | 02 00 00 00 |
  00 10 00 00 00 00 00 00 | 00 00 00 00 01 00 00 00`), KEYS_AB]);
const ALLOC_REQ = { keys: ['a', 'bc'], sizes: [4096, 2 ** 32], query: 'medium=hbm', batch: true };
// a batch is committed by its ALLOC's id (u32 after the flags), a single key by its key
const COMMIT = hex('01 00 00 00 | 02 00 00 00 | 01 00 | 07 00 00 00');
const COMMIT_REQ = { batch: true, id: 7, ok: [true, false] };
const KEY_A = hex('01 00 00 00 | 01 00 00 00 | 61');
const COMMIT_ONE = Buffer.concat([hex('00 00 00 00 | 01 00 00 00 | 00'), KEY_A]);
const COMMIT_ONE_REQ = { batch: false, keys: ['a'], ok: [false] };
const LOOKUP = Buffer.concat([hex('00 00 00 00 | 01 00 00 00 | 01 00 00 00 | 61')]);
const LOOKUP_REQ = { keys: ['a'], batch: false, unleased: false };
// a single lookup that keeps no lease (the flag after the batch flag)
const LOOKUP_UNLEASED = Buffer.concat([hex('00 01 00 00 | 01 00 00 00 | 01 00 00 00 | 61')]);
const LOOKUP_UNLEASED_REQ = { keys: ['a'], batch: false, unleased: true };

// placement: lease 7, items [ok 4096, absent, error 'E'], one group (rank 1, slot 0, '1.2:3',
// grant aa bb, items 0), the reason 'E'
const PLACEMENT = hex(`07 00 00 00 | 03 00 00 00 | 01 00 00 00 |
  00 00 00 00  00 10 00 00 00 00 00 00  00 00 |
  e2 f3 ff ff  00 00 00 00 00 00 00 00  00 00 |
  48 f4 ff ff  00 00 00 00 00 00 00 00  01 00 |
  01 00 | 00 | 00 | 05 00 | 02 00 00 00 | 01 00 00 00 | 00 00 |
  31 2e 32 3a 33 | aa bb | 00 00 00 00 |
  45`);
const PLACEMENT_OBJ = {
  lease: 7,
  items: [{ code: 0, size: 4096 }, { code: -3102, size: 0 }, { code: -3000, size: 0, reason: 'E' }],
  groups: [{ rank: 1, slot: 0, addr: '1.2:3', grant: hex('aa bb'), items: [0] }],
};

test('the control messages, pinned against hand-written bytes, read back whole and split', () => {
  assert.equal(encodeAlloc(ALLOC_REQ), ALLOC);
  assert.equal(encodeCommit(COMMIT_REQ), COMMIT);
  assert.equal(encodeCommit(COMMIT_ONE_REQ), COMMIT_ONE);
  assert.equal(encodeLookup(LOOKUP_REQ), LOOKUP);
  assert.equal(encodeLookup(LOOKUP_UNLEASED_REQ), LOOKUP_UNLEASED);
  assert.equal(encodeRelease(0x01020304), hex('04 03 02 01'));
  assert.equal(encodePlacement(PLACEMENT_OBJ), PLACEMENT);
  for (const c of splits(ALLOC)) assert.equal(decodeAlloc(c), ALLOC_REQ);
  for (const c of splits(COMMIT)) assert.equal(decodeCommit(c), COMMIT_REQ);
  for (const c of splits(COMMIT_ONE)) assert.equal(decodeCommit(c), COMMIT_ONE_REQ);
  for (const c of splits(LOOKUP)) assert.equal(decodeLookup(c), LOOKUP_REQ);
  for (const c of splits(LOOKUP_UNLEASED)) assert.equal(decodeLookup(c), LOOKUP_UNLEASED_REQ);
  assert.is(decodeRelease([hex('04 03 02 01')]), 0x01020304);
  for (const c of splits(PLACEMENT)) {
    const p = decodePlacement(c);
    assert.equal({ ...p, groups: p.groups.map((g) => ({ ...g, grant: Buffer.from(g.grant) })) }, PLACEMENT_OBJ);
  }
});

test('malformed control messages: a clear MMC_INVALID_PARAM naming the message', () => {
  const cases = [
    [() => decodeAlloc([ALLOC.subarray(0, ALLOC.length - 1)]), /bad alloc message/],
    [() => decodeAlloc([Buffer.concat([ALLOC, hex('00')])]), /bad alloc message/],
    [() => decodeAlloc([hex('02 00 00 00 00 00 00 00')]), /bad alloc message: a flag/],
    [() => decodeAlloc([encodeAlloc({ ...ALLOC_REQ, batch: false })]), /bad alloc message: 2 keys/],
    [() => decodeCommit([Buffer.concat([hex('00 00 00 00 | 03 00 00 00 | 01 00 01'), KEYS_AB])]), /bad commit message: 2 keys for 3 items/],
    [() => decodeCommit([Buffer.concat([hex('00 00 00 00 | 02 00 00 00 | 01 00'), KEYS_AB])]), /bad commit message: 2 keys/],
    [() => decodeCommit([COMMIT.subarray(0, COMMIT.length - 1)]), /bad commit message: truncated/],
    [() => decodeCommit([Buffer.concat([COMMIT, KEYS_AB])]), /bad commit message: bytes left over/],
    [() => decodeCommit([hex('01 00 00 00 | 01 00 00 00 | 01 | 00 00 00 00')]), /bad commit message: batch id 0/],
    [() => decodeCommit([hex('01 00 00 00 | 01 00 00 00 | 02 | 07 00 00 00')]), /bad commit message: a flag/],
    [() => decodeLookup([hex('00 00 00 00 | 01 00 00 00 | 01 00 00 00 | ff')]), /bad lookup message: a key is not UTF-8/],
    [() => decodeLookup([hex('00 02 00 00 | 01 00 00 00 | 01 00 00 00 | 61')]), /bad lookup message: a flag is not 0 or 1/],
    [() => decodeRelease([hex('01 00 00 00 00')]), /bad release message: bytes left over/],
    [() => decodePlacement([PLACEMENT.subarray(0, 30)]), /bad pool answer message: truncated/],
  ];
  for (const [f, re] of cases) assert.throws(f, (e) => e.code === -3000 && re.test(e.message), String(re));
});

test('round trips (property)', () => {
  const key = fc.string({ minLength: 1, maxLength: 40 });
  fc.assert(fc.property(fc.array(fc.tuple(key, fc.maxSafeNat(), fc.boolean()), { minLength: 1, maxLength: 20 }), fc.boolean(), (xs, batch) => {
    const keys = xs.map((x) => x[0]);
    const b = batch || keys.length !== 1;
    const a = { keys, sizes: xs.map((x) => x[1]), query: 'replicas=2', batch: b };
    assert.equal(decodeAlloc([encodeAlloc(a)]), a);
    const ok = xs.map((x) => x[2]);
    const c = b ? { batch: true, id: 1 + (xs[0][1] % 0xffffffff), ok } : { batch: false, keys, ok };
    assert.equal(decodeCommit([encodeCommit(c)]), c);
  }), { numRuns: 200 });
});

test('fuzz: garbage and mutated messages never decode to anything but an answer or MMC_INVALID_PARAM', () => {
  const decoders = [decodeAlloc, decodeCommit, decodeLookup, decodeRelease, decodePlacement];
  const seeds = [ALLOC, COMMIT, LOOKUP, hex('01 00 00 00'), PLACEMENT];
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.nat({ max: 4 }), (bytes, d) => {
    try { decoders[d]([Buffer.from(bytes)]); } catch (e) { assert.is(e.code, -3000, e.message); }
  }), { numRuns: 2000 });
  fc.assert(fc.property(fc.nat({ max: 4 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (d, at, flip) => {
    const m = Buffer.from(seeds[d]);
    m[at % m.length] ^= flip;
    try { decoders[d]([m]); } catch (e) { assert.is(e.code, -3000, e.message); }
  }), { numRuns: 2000 });
});

// grant block: op, 0, u16 rank, u32 incarnation, u32 view, u32 N | N × (u8 medium, 0, u16 0, u32 gen,
// u64 offset, u64 size) | u16 keyLen × N | keys | 16 bytes of HMAC-SHA256 over all before
const BLOCK = { op: GRANT_READ, rank: 0x0102, incarnation: 3, view: 0, items: [
  { key: 'a', medium: 'hbm', gen: 5, offset: 2 ** 32, size: 4096 },
  { key: 'é', medium: 'dram', gen: 6, offset: 0, size: 1 },
] };
const BLOCK_FIELDS = hex(`02 00 02 01 | 03 00 00 00 | 00 00 00 00 | 02 00 00 00 |
  01 00 00 00  05 00 00 00  00 00 00 00 01 00 00 00  00 10 00 00 00 00 00 00 |
  02 00 00 00  06 00 00 00  00 00 00 00 00 00 00 00  01 00 00 00 00 00 00 00 |
  01 00  02 00 | 61  c3 a9`);

test('a grant block, pinned against hand-written bytes; it reads back under its secret only', () => {
  const secret = new Uint8Array(32).fill(7);
  const b = signGrantBlock(secret, BLOCK);
  const mac = createHmac('sha256', secret).update(BLOCK_FIELDS).digest().subarray(0, 16);
  assert.equal(b, Buffer.concat([BLOCK_FIELDS, mac]));
  assert.equal(verifyGrantBlock(secret, b), BLOCK);
  assert.is(verifyGrantBlock(newGrantSecret(), b), undefined);
  assert.is(verifyGrantBlock(secret, b.subarray(0, b.length - 1)), undefined);
  assert.is(verifyGrantBlock(secret, Buffer.concat([b, hex('00')])), undefined);
  assert.ok(invalidParam(() => signGrantBlock(secret, { ...BLOCK, items: [] })));
  assert.ok(invalidParam(() => signGrantBlock(secret, { ...BLOCK, rank: 70000 })));
  assert.ok(invalidParam(() => signGrantBlock(secret, { ...BLOCK, items: [{ ...BLOCK.items[0], medium: 'ssd' }] })));
});

test('a grant block reads back to its items, ASCII keys or not (property)', () => {
  const secret = newGrantSecret();
  const item = fc.record({
    key: fc.oneof(fc.string({ minLength: 1, maxLength: 30 }), fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 })),
    medium: fc.constantFrom('hbm', 'dram'), gen: fc.nat({ max: 0xffffffff }), offset: fc.maxSafeNat(), size: fc.maxSafeNat(),
  });
  fc.assert(fc.property(fc.array(item, { minLength: 1, maxLength: 12 }), (items) => {
    const g = { op: GRANT_WRITE, rank: 3, incarnation: 9, view: 0, items: items.map((x) => ({ ...x })) };
    assert.equal(verifyGrantBlock(secret, signGrantBlock(secret, g)), g);
  }), { numRuns: 300 });
});

test('a grant block: any altered byte is refused; garbage never verifies (property)', () => {
  const secret = newGrantSecret();
  const b = signGrantBlock(secret, { ...BLOCK, op: GRANT_WRITE });
  fc.assert(fc.property(fc.nat({ max: b.length - 1 }), fc.integer({ min: 1, max: 255 }), (at, flip) => {
    const bad = Buffer.from(b);
    bad[at] ^= flip;
    assert.is(verifyGrantBlock(secret, bad), undefined);
  }), { numRuns: 500 });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
    assert.is(verifyGrantBlock(secret, bytes), undefined);
  }), { numRuns: 1000 });
});

test.run();
