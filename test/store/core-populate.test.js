// corePopulate: the core's linear memory is resident from open on (no put takes a first-touch page
// fault of a metadata page), and the store works as without it. Measured in a child process of its
// own, so that the suite's other stores do not move its RSS.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { MemCache, MmcError } from '../../dist/index.js';

const DIST = new URL('../../dist/index.js', import.meta.url).href;

/** RSS growth over MemCache.open (after a full GC) and the core's memory size, in a fresh process. */
function openIn(child) {
  const script = `
    const { MemCache } = await import(${JSON.stringify(DIST)});
    gc();
    const before = process.memoryUsage().rss;
    const mc = await MemCache.open({ segments: [{ rank: 0, medium: 'dram', bytes: 1 << 20 }], ${child} });
    gc();
    const grew = process.memoryUsage().rss - before;
    await mc.put('k', Buffer.from('value of k'));
    const back = Buffer.from(await mc.get('k')).toString();
    console.log(JSON.stringify({ grew, memory: mc.internals().wasmMemoryBytes, back }));
    await mc.close();`;
  const r = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

test('corePopulate: the whole core memory is resident after open, and the store works', () => {
  const p = openIn('corePopulate: true');
  const lazy = openIn('corePopulate: false');
  console.log(`  open's RSS growth: populated ${(p.grew / 2 ** 20).toFixed(0)} MiB, lazy ${(lazy.grew / 2 ** 20).toFixed(0)} MiB, of ${(p.memory / 2 ** 20).toFixed(0)} MiB core memory`);
  assert.ok(p.grew >= 0.9 * p.memory, `populated: RSS grew ${p.grew} bytes for a ${p.memory}-byte core memory`);
  assert.ok(lazy.grew < 0.25 * lazy.memory, `lazy: RSS grew ${lazy.grew} bytes for a ${lazy.memory}-byte core memory`);
  assert.is(p.back, 'value of k');
  assert.is(lazy.back, 'value of k');
});

test('corePopulate: anything but true or false is refused, naming the option', async () => {
  for (const bad of ['yes', 1, {}]) {
    try {
      await MemCache.open({ segments: [{ rank: 0, medium: 'dram', bytes: 1 << 20 }], corePopulate: bad });
      assert.unreachable(`corePopulate ${String(bad)} was taken`);
    } catch (e) {
      assert.instance(e, MmcError);
      assert.is(e.codeName, 'MMC_INVALID_PARAM');
      assert.match(e.message, /corePopulate/);
    }
  }
});

test.run();
