// Read leases: counted without a cap that wraps, released by the (record, generation) they
// were taken on, and a read whose lease was lost fails instead of returning bytes that may be
// another object's.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemCache } from '../../dist/index.js';
import { pattern, equalBytes, heldBackend, sleep, rejectsWith } from '../helpers/store.js';

function open(backend, leaseMs = 60_000) {
  return MemCache.open({ backend, segments: [{ rank: 0, medium: 'hbm', bytes: 1 << 20 }], alignment: 64, leaseMs, debug: true });
}

test('300 concurrent readers: after 299 are done a remove still keeps the space for the last', async () => {
  const held = heldBackend();
  const mc = await open(held.backend);
  await mc.put('hot', pattern(1, 4096));
  held.holdReads = true;
  const reads = [];
  for (let i = 0; i < 300; i++) reads.push(mc.get('hot'));
  assert.is(held.readsHeld, 300);
  held.releaseReads(299);
  for (const r of reads.slice(0, 299)) assert.ok(equalBytes(await r, pattern(1, 4096)));
  assert.ok(await mc.remove('hot'));
  assert.is(mc.segments()[0].usedBytes, 4096, 'the last reader still holds its blob');
  await mc.put('other', pattern(2, 4096)); // lands elsewhere
  held.holdReads = false;
  held.releaseReads();
  assert.ok(equalBytes(await reads[299], pattern(1, 4096)));
  assert.is(mc.sweep(), 1);
  assert.is(mc.segments()[0].usedBytes, 4096);
  assert.ok(equalBytes(await mc.get('other'), pattern(2, 4096)));
  await mc.close();
});

test('beyond 16383 readers of one replica a get is refused (MMC_EXCEED_CAPACITY), never wrapped', async () => {
  const held = heldBackend();
  const mc = await open(held.backend);
  await mc.put('hot', pattern(3, 64));
  held.holdReads = true;
  const reads = [];
  for (let i = 0; i < 16383; i++) reads.push(mc.get('hot'));
  const s0 = mc.stats();
  await rejectsWith(mc.get('hot'), 'MMC_EXCEED_CAPACITY', /readers/);
  assert.is(mc.stats().get_fail - s0.get_fail, 1);
  held.releaseReads(1);
  await reads[0];
  const again = mc.get('hot'); // one lease was given back: room for one more
  held.releaseReads();
  await Promise.all(reads);
  assert.ok(equalBytes(await again, pattern(3, 64)));
  assert.ok(await mc.remove('hot'));
  assert.is(mc.segments()[0].usedBytes, 0, 'every lease was released: freed at once');
  await mc.close();
});

test('a late reader whose lease expired cannot release the lease of a newer object on the same ids, and its get fails', async () => {
  const held = heldBackend();
  const mc = await open(held.backend, 100);
  await mc.put('a', pattern(4, 4096));
  held.holdReads = true;
  const late = mc.get('a');
  await sleep(150); // its lease expires
  assert.ok(await mc.remove('a'));
  assert.is(mc.segments()[0].usedBytes, 0, 'an expired lease holds nothing');
  await mc.put('b', pattern(5, 4096)); // takes the freed record and blob ids
  const reader = mc.get('b'); // leases 'b'
  held.releaseReads(1); // the late reader ends first
  await rejectsWith(late, 'MMC_TIMEOUT', /lost its lease/);
  assert.ok(await mc.remove('b'));
  assert.is(mc.segments()[0].usedBytes, 4096, 'b is still leased by its own reader');
  held.releaseReads();
  assert.ok(equalBytes(await reader, pattern(5, 4096)));
  assert.is(mc.sweep(), 1);
  assert.is(mc.segments()[0].usedBytes, 0);
  const s = mc.stats();
  assert.equal([s.get_req, s.get_success, s.get_fail], [2, 1, 1]);
  await mc.close();
});

test('a read that outlives its lease while its blob stays in place still succeeds', async () => {
  const held = heldBackend();
  const mc = await open(held.backend, 50);
  await mc.put('a', pattern(6, 4096));
  held.holdReads = true;
  const slow = mc.get('a');
  await sleep(80);
  held.releaseReads();
  assert.ok(equalBytes(await slow, pattern(6, 4096)));
  await mc.close();
});

test('batchGet: an item whose lease was lost is that item\'s MMC_TIMEOUT; the others are read', async () => {
  const held = heldBackend();
  const mc = await open(held.backend, 100);
  await mc.put('x', pattern(7, 4096));
  await mc.put('y', pattern(8, 4096));
  held.holdReads = true;
  const batch = mc.batchGetCodes(['x', 'y']);
  await sleep(150);
  assert.ok(await mc.remove('x'));
  await mc.put('z', pattern(9, 4096)); // reuses x's ids
  held.releaseReads();
  const { values, codes } = await batch;
  assert.equal(codes, [-3004, 0]);
  assert.is(values[0], undefined);
  assert.ok(equalBytes(values[1], pattern(8, 4096)));
  held.holdReads = false;
  assert.ok(equalBytes(await mc.get('z'), pattern(9, 4096)));
  await mc.close();
});

test('a reader that takes a lease while its object is being demoted keeps it in HBM, and its read succeeds', async () => {
  const held = heldBackend();
  const mc = await MemCache.open({
    backend: held.backend, debug: true,
    segments: [{ rank: 0, medium: 'hbm', bytes: 16 * 1024 }, { rank: 0, medium: 'dram', bytes: 64 * 1024 }],
  });
  for (const [i, k] of ['a', 'b', 'c'].entries()) await mc.put(k, pattern(10 + i, 4096));
  held.holdCopies = true;
  const put = mc.put('d', pattern(13, 4096)); // evicts 'a', the LRU tail: a demotion to DRAM
  await sleep(5);
  assert.is(held.copiesHeld, 1);
  held.holdReads = true;
  const reading = mc.get('a'); // a lease on the HBM blob being copied
  held.holdCopies = false;
  held.releaseCopies();
  await put;
  assert.equal((await mc.query('a')).blobs, [{ rank: 0, medium: 'HBM' }], 'the demotion was called off');
  assert.is(mc.segments()[1].usedBytes, 0, 'the DRAM copy was dropped');
  held.releaseReads();
  held.holdReads = false;
  assert.ok(equalBytes(await reading, pattern(10, 4096)));
  for (const [i, k] of ['a', 'b', 'c', 'd'].entries()) assert.ok(equalBytes(await mc.get(k), pattern(10 + i, 4096)), k);
  await mc.close();
});

test.run();
