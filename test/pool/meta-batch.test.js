// The batches the meta service allocated and not yet committed (src/pool/meta-batch.ts): ids are
// never 0 and never one still kept, a committed id is gone, and a batch no COMMIT came for is
// forgotten once its time is up.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PendingBatches } from '../../dist/pool/meta-batch.js';

test('ids: never 0, never one in use (across the u32 wrap); expiry forgets, delete forgets', () => {
  const p = new PendingBatches(1000);
  const a = { n: 1 };
  const b = { n: 2 };
  const ia = p.add(a, 0);
  const ib = p.add(b, 500);
  assert.ok(ia !== 0 && ib !== 0 && ia !== ib);
  assert.is(p.get(ia), a);
  p.expire(1000);
  assert.is(p.get(ia), undefined, 'expired');
  assert.is(p.get(ib), b);
  p.delete(ib);
  assert.is(p.get(ib), undefined);
  // at the wrap: 0 is skipped, and so is an id still kept
  const w = new PendingBatches(1000);
  w.next = 0xffffffff;
  const last = w.add(a, 0);
  assert.is(last, 0xffffffff);
  const first = w.add(b, 0);
  assert.is(first, 1);
  w.next = 0xffffffff;
  const again = w.add(a, 0);
  assert.ok(again !== last && again !== first && again !== 0);
  p.clear();
});

test.run();
