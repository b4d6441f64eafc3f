// Segment ids: built in one place, parsed back to the rank and medium they name.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { parseSegmentId, segmentId } from '../../dist/protocol/segment.js';
import { MemCache } from '../../dist/index.js';

test('an id names its rank and medium, and reads back to them (property)', () => {
  assert.is(segmentId(1, 'dram'), 'rank-1-dram');
  fc.assert(fc.property(fc.integer({ min: 0, max: 65535 }), fc.constantFrom('hbm', 'dram'), (rank, medium) => {
    assert.equal(parseSegmentId(segmentId(rank, medium)), { rank, medium });
  }), { numRuns: 2000 });
});

test('what is not an id is undefined', () => {
  for (const s of ['', 'rank-1', 'rank--1-hbm', 'rank-01-hbm', 'rank-65536-hbm', 'rank-1-ssd', 'rank-1-HBM', 'rank-1-hbm ', 'x-rank-1-hbm']) {
    assert.is(parseSegmentId(s), undefined, JSON.stringify(s));
  }
});

test('the store names its segments with these ids', async () => {
  const mc = await MemCache.open({ segments: [{ rank: 3, medium: 'dram', bytes: '1MB' }, { rank: 0, medium: 'hbm', bytes: '1MB' }] });
  try {
    assert.equal(mc.segments().map((s) => [s.id, parseSegmentId(s.id)]), [
      ['rank-0-hbm', { rank: 0, medium: 'hbm' }], ['rank-3-dram', { rank: 3, medium: 'dram' }],
    ]);
  } finally {
    await mc.close();
  }
});

test.run();
