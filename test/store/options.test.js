// One options resolver: the embedded store (MemCache.open) and `mmc serve` (planServe) get the
// same segments, in the same order, and the same watermarks from the same conf file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemCache } from '../../dist/index.js';
import { resolveOptions } from '../../dist/store/options.js';
import { planServe } from '../../dist/server/serve.js';

const dir = mkdtempSync(join(tmpdir(), 'mmc-options-'));

function conf(name, lines) {
  const f = join(dir, name);
  writeFileSync(f, `${lines.join('\n')}\n`);
  return f;
}

const CONFS = [
  ['two ranks, both media, watermarks', [
    'ock.mmc.local_service.world_size = 2', 'ock.mmc.local_service.hbm.size = 8MB', 'ock.mmc.local_service.dram.size = 4MB',
    'ock.mmc.evict_threshold_high = 70', 'ock.mmc.evict_threshold_low = 55',
  ]],
  ['three ranks, no DRAM', ['ock.mmc.local_service.world_size = 3', 'ock.mmc.local_service.hbm.size = 2MB', 'ock.mmc.local_service.dram.size = 0']],
  ['one rank, no HBM, default watermarks', ['ock.mmc.local_service.hbm.size = 0', 'ock.mmc.local_service.dram.size = 1MB']],
];

const shape = (s) => ({ high: s.high, low: s.low, segments: s.segments });

for (const [name, lines] of CONFS) {
  test(`the same conf, both ways: ${name}`, async () => {
    const f = conf(`${name.replace(/\W+/g, '-')}.conf`, lines);
    const embedded = resolveOptions({ config: f });
    const plan = planServe({ config: f }, {});
    const served = resolveOptions(plan.store);
    assert.equal(shape(served), shape(embedded));
    assert.ok(embedded.segments.length > 0);
    // HBM first, then DRAM, each by rank: the order segments() lists them in
    const order = embedded.segments.map((s) => [s.medium, s.rank]);
    assert.equal(order, [...order].sort((a, b) => a[0] - b[0] || a[1] - b[1]));
    // and opened for real: the same segments mounted
    const a = await MemCache.open({ config: f });
    const b = await MemCache.open(plan.store);
    try {
      assert.equal(b.segments(), a.segments());
      assert.equal(a.segments().map((s) => s.id), embedded.segments.map((s) => s.id));
    } finally {
      await a.close();
      await b.close();
    }
  });
}

test('no conf: 1 GiB HBM and 1 GiB DRAM on one rank, watermarks 90 / 80, both ways', () => {
  const embedded = resolveOptions({});
  assert.equal(shape(resolveOptions(planServe({}, {}).store)), shape(embedded));
  assert.equal(shape(embedded), {
    high: 90, low: 80,
    segments: [{ id: 'rank-0-hbm', rank: 0, medium: 0, bytes: 2 ** 30 }, { id: 'rank-0-dram', rank: 0, medium: 1, bytes: 2 ** 30 }],
  });
});

test('explicit options win over the conf file', () => {
  const f = conf('win.conf', ['ock.mmc.evict_threshold_high = 70', 'ock.mmc.evict_threshold_low = 55', 'ock.mmc.local_service.hbm.size = 0']);
  const s = resolveOptions({ config: f, evictThresholdHigh: 95, segments: [{ rank: 1, medium: 'DRAM', bytes: '1MB' }] });
  assert.equal(shape(s), { high: 95, low: 55, segments: [{ id: 'rank-1-dram', rank: 1, medium: 1, bytes: 1 << 20 }] });
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
