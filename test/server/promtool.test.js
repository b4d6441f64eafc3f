// /metrics must pass `promtool check metrics` (Debian package `prometheus`). Without promtool on
// PATH the test is skipped with one line, or fails when CI is set (test/helpers/tools.js).
import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { startServer, req } from './_helpers.js';
import { needTool } from '../helpers/tools.js';

const test = needTool(uvuTest, 'promtool', 'Debian package prometheus', import.meta.url);

function promtool(text) {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (r.error) throw r.error;
  return r;
}

test('promtool check metrics: empty store, busy store, 1,000 segments', async () => {
  const S = await startServer();
  try {
    let r = promtool((await req(S.url, 'GET', '/metrics')).text);
    assert.is(r.status, 0, r.stdout + r.stderr);
    await S.mc.put('a', Buffer.alloc(10));
    await S.mc.get('a');
    await S.mc.get('b');
    await S.mc.batchGet(['a', 'b']);
    await S.mc.batchPut([['a', Buffer.alloc(1)], ['c', Buffer.alloc(5)]]);
    await S.mc.query('zz');
    r = promtool((await req(S.url, 'GET', '/metrics')).text);
    assert.is(r.status, 0, r.stdout + r.stderr);
    assert.is(r.stdout + r.stderr, '', 'no lint findings');
  } finally { await S.close(); }
  const segments = [];
  for (let rank = 0; rank < 500; rank++) {
    segments.push({ rank, medium: 'hbm', bytes: '1MB' }, { rank, medium: 'dram', bytes: '1MB' });
  }
  const T = await startServer({ store: { segments } });
  try {
    const text = (await req(T.url, 'GET', '/metrics')).text;
    assert.is(text.split('\n').filter((l) => l.startsWith('memcache_segment_capacity_bytes{')).length, 1000);
    const r = promtool(text);
    assert.is(r.status, 0, r.stdout + r.stderr);
  } finally { await T.close(); }
});

test.run();
