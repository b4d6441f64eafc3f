// A writer whose allocation was reclaimed (allocTimeoutMs, remove, write_fail) never writes
// another byte: its space may already be another object's.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemCache } from '../../dist/index.js';
import { pattern, equalBytes, heldBackend, sleep, rejectsWith } from '../helpers/store.js';

const KiB = 1024;

/** One HBM segment of `bytes` over `backend`; writers expire after `allocTimeoutMs`. */
function open(backend, bytes, allocTimeoutMs = 40) {
  return MemCache.open({ backend, segments: [{ rank: 0, medium: 'hbm', bytes }], allocTimeoutMs, debug: true });
}

test('sync backend: a writer reclaimed by the sweep fails at its next write and the victim in its space stays intact', async () => {
  const held = heldBackend();
  const mc = await open(held.backend, 64 * KiB); // room for exactly one 64 KiB object
  const w = await mc.alloc('slow', 64 * KiB);
  await w.write(pattern(1, 16 * KiB));
  await sleep(60);
  assert.is(mc.sweep(), 1);
  await mc.put('victim', pattern(2, 64 * KiB)); // only fits where 'slow' was
  await rejectsWith(w.write(pattern(3, 16 * KiB)), 'MMC_UNMATCHED_KEY', /expired or was removed while being written/);
  await rejectsWith(w.commit(), 'MMC_UNMATCHED_STATE');
  assert.ok(equalBytes(await mc.get('victim'), pattern(2, 64 * KiB)), 'the victim reads back intact');
  assert.is(mc.segments()[0].usedBytes, 64 * KiB);
  await mc.close();
});

test('a writer past its deadline is refused before the sweep has run, and its space is free at once', async () => {
  const mc = await open('sim', 64 * KiB);
  const w = await mc.alloc('late', 64 * KiB);
  await sleep(60);
  await rejectsWith(w.write(pattern(1, 100)), 'MMC_UNMATCHED_KEY', /expired/);
  assert.is(mc.segments()[0].usedBytes, 0);
  assert.is(await mc.query('late'), undefined);
  await mc.put('late', pattern(2, 64 * KiB)); // the key and the space are free again
  assert.ok(equalBytes(await mc.get('late'), pattern(2, 64 * KiB)));
  await mc.close();
});

test('a removed key\'s writer writes nothing more; the new object under the same key is intact', async () => {
  const mc = await open('sim', 64 * KiB, 60_000);
  const w = await mc.alloc('k', 64 * KiB);
  await w.write(pattern(1, 1000));
  assert.ok(await mc.remove('k'));
  assert.is(mc.segments()[0].usedBytes, 0); // no write in flight: freed at once
  await mc.put('k', pattern(2, 64 * KiB));
  await rejectsWith(w.write(pattern(3, 1000)), 'MMC_UNMATCHED_KEY', /removed/);
  assert.ok(equalBytes(await mc.get('k'), pattern(2, 64 * KiB)));
  await mc.close();
});

test('async backend: a write in flight holds its blobs through the sweep; the key is free, the victim lands elsewhere, both intact', async () => {
  const held = heldBackend();
  const mc = await open(held.backend, 256 * KiB); // 3 objects stay under the eviction watermark
  const w = await mc.alloc('slow', 64 * KiB);
  held.holdWrites = true;
  const inFlight = w.write(pattern(1, 32 * KiB));
  assert.is(held.writesHeld, 1);
  await sleep(60);
  assert.is(mc.sweep(), 1); // the key is reclaimed, its blobs stay (pinned)
  assert.is(await mc.query('slow'), undefined);
  assert.is(mc.segments()[0].usedBytes, 64 * KiB);
  held.holdWrites = false;
  await mc.put('victim', pattern(2, 64 * KiB));
  await mc.put('slow', pattern(3, 64 * KiB)); // the key can be put again
  assert.is(mc.segments()[0].usedBytes, 192 * KiB);
  held.releaseWrites(); // lands in the zombie's own blobs
  await inFlight;
  assert.is(mc.segments()[0].usedBytes, 128 * KiB); // freed when the last write ended
  await rejectsWith(w.write(pattern(4, 32 * KiB)), 'MMC_UNMATCHED_KEY', /expired or was removed/);
  assert.ok(equalBytes(await mc.get('victim'), pattern(2, 64 * KiB)));
  assert.ok(equalBytes(await mc.get('slow'), pattern(3, 64 * KiB)));
  assert.is(mc.internals().pending, 0);
  await mc.close();
});

test('async backend: a put whose write outlives allocTimeoutMs fails; the victim put meanwhile keeps its bytes', async () => {
  const held = heldBackend();
  const mc = await open(held.backend, 128 * KiB);
  held.holdWrites = true;
  const slow = mc.put('slow', pattern(1, 64 * KiB));
  await sleep(60);
  assert.is(mc.sweep(), 1);
  held.holdWrites = false;
  await mc.put('victim', pattern(2, 64 * KiB));
  assert.is(mc.segments()[0].usedBytes, 128 * KiB); // the pinned blobs were not handed out
  held.releaseWrites();
  await rejectsWith(slow, 'MMC_UNMATCHED_KEY', /removed or expired while being written/);
  assert.is(mc.segments()[0].usedBytes, 64 * KiB);
  assert.ok(equalBytes(await mc.get('victim'), pattern(2, 64 * KiB)));
  await mc.close();
});

test('async backend: remove and write_fail during a write in flight free the space when it lands; write_ok waits for it', async () => {
  const held = heldBackend();
  const mc = await open(held.backend, 128 * KiB, 60_000);
  const w = await mc.alloc('a', 64 * KiB);
  held.holdWrites = true;
  let inFlight = w.write(pattern(1, 64 * KiB));
  await rejectsWith(mc.updateState('a', 'write_ok'), 'MMC_UNMATCHED_STATE', /write in flight/);
  assert.ok(await mc.remove('a'));
  assert.is(mc.segments()[0].usedBytes, 64 * KiB);
  held.releaseWrites();
  await inFlight;
  assert.is(mc.segments()[0].usedBytes, 0);

  const w2 = await mc.alloc('b', 64 * KiB);
  inFlight = w2.write(pattern(2, 64 * KiB));
  await mc.updateState('b', 'write_fail');
  assert.is(await mc.query('b'), undefined);
  assert.is(mc.segments()[0].usedBytes, 64 * KiB);
  held.releaseWrites();
  await inFlight;
  assert.is(mc.segments()[0].usedBytes, 0);
  assert.is(mc.internals().pending, 0);
  await mc.close();
});

test('unmounting a segment under a writer: its next write fails, the other replica\'s space is freed', async () => {
  const mc = await MemCache.open({
    segments: [{ rank: 0, medium: 'hbm', bytes: 128 * KiB }, { rank: 1, medium: 'hbm', bytes: 128 * KiB }], debug: true,
  });
  const w = await mc.alloc('two', 64 * KiB, { replicas: 2 });
  await w.write(pattern(1, 1000));
  await mc.unmount('rank-1-hbm');
  assert.is(await mc.query('two'), undefined);
  assert.is(mc.segments()[0].usedBytes, 0);
  await rejectsWith(w.write(pattern(2, 1000)), 'MMC_UNMATCHED_KEY', /expired or was removed/);
  await mc.put('after', pattern(3, 64 * KiB));
  assert.ok(equalBytes(await mc.get('after'), pattern(3, 64 * KiB)));
  await mc.close();
});

test.run();
