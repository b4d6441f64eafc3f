// Where a ReadSlab puts socket reads: consecutive 8-byte aligned slices of one slab, never written
// twice (a view of an earlier read keeps its bytes); a client's slab (SMALL_MIN_READ) is read into
// down to its last few KiB rather than left unused, a server's takes whole reads only.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ReadSlab, SMALL_MIN_READ } from '../../dist/protocol/read-slab.js';

const KiB = 1024;

/** One read of `n` bytes of `fill` through the slab: the view its owner was given. */
function read(slab, n, fill) {
  const into = slab.next();
  into.fill(fill, 0, n);
  let pushed;
  slab.owner = { direct: () => undefined, onDirect() {}, push: (b) => { pushed = b; } };
  slab.read(n, into);
  return { into, pushed };
}

test('reads are consecutive slices of one slab, each left intact by the reads after it', () => {
  const slab = new ReadSlab();
  slab.owner = { direct: () => undefined, onDirect() {}, push() {} };
  const views = [];
  for (let i = 0; i < 6; i++) views.push(read(slab, 33 * KiB + 3, i + 1));
  const first = views[0].pushed;
  for (const [i, v] of views.entries()) {
    assert.is(v.pushed.byteLength, 33 * KiB + 3);
    assert.is(v.pushed.buffer, first.buffer, `read ${i} in the first slab`);
    assert.is((v.pushed.byteOffset - first.byteOffset) % 8, 0, 'aligned');
    assert.ok(v.pushed.every((x) => x === i + 1), `read ${i} intact`);
  }
});

/** A slab with 24 KiB left of its first 256 KiB: [slab, the first slab's memory]. */
function nearlyFull(minRead) {
  const slab = new ReadSlab(minRead);
  slab.owner = { direct: () => undefined, onDirect() {}, push() {} };
  const first = read(slab, 64 * KiB, 1).pushed.buffer;
  read(slab, 64 * KiB, 2);
  read(slab, 64 * KiB, 3);
  read(slab, 40 * KiB, 4);
  return [slab, first];
}

test('SMALL_MIN_READ: the rest of a slab is read into (a read may take less there); a new slab only below a few KiB', () => {
  const [slab, first] = nearlyFull(SMALL_MIN_READ);
  const rest = slab.next();
  assert.is(rest.buffer, first, 'the rest of the same slab');
  assert.is(rest.byteLength, 24 * KiB);
  slab.read(20 * KiB, rest); // 4 KiB left: too little for a read
  const next = slab.next();
  assert.is.not(next.buffer, first, 'a new slab');
  assert.is(next.byteLength, 64 * KiB);
});

test('by default every read may take 64 KiB: less than that left begins a new slab', () => {
  const [slab, first] = nearlyFull();
  const next = slab.next();
  assert.is.not(next.buffer, first);
  assert.is(next.byteLength, 64 * KiB);
});

test.run();
