// `mmc local --backend acl` through the real addon and the stand-in libascendcl.so of
// test/fixtures/ascendcl (no Ascend hardware here): a rank agent on device memory, a round trip
// through the pool, every allocation freed when it stops.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { aclUnavailableReason } from '../../dist/device/acl.js';
import { MemCacheClient } from '../../dist/index.js';
import { needTool } from '../helpers/tools.js';
import { freePort, spawnMmc, startMetaProc, stop } from './_procs.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/ascendcl/', import.meta.url));
const LIB = join(FIXTURE, 'build/full/libascendcl.so');
const unavailable = aclUnavailableReason();
const aclTest = needTool(test, 'the native ACL addon build/Release/mmc_acl.node',
  'npm install builds it where python3, make and a C++ compiler are installed', import.meta.url, !unavailable);

test.before(() => {
  if (!unavailable && !existsSync(LIB)) execFileSync('sh', [join(FIXTURE, 'build.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
});

aclTest('mmc local --backend acl --devices 1 --rank 1: device segments in the pool, a round trip, all freed at shutdown', async () => {
  const report = join(mkdtempSync(join(tmpdir(), 'mmc-acl-')), 'report.json');
  const meta = await startMetaProc(await freePort());
  const env = { STANDIN_ACL_REPORT: report, STANDIN_ACL_DEVICE_COUNT: '2' };
  const args = ['local', '--meta', meta.url, '--rank', '1', '--backend', 'acl', '--acl-library', LIB, '--devices', '1', '--hbm', '8MB', '--dram', '4MB'];
  const agent = await spawnMmc(args, /registered at/, 20_000, env);
  try {
    const c = await MemCacheClient.connect(meta.url);
    try {
      const value = new Uint8Array(300_000).map((_, i) => (i * 13) & 255);
      await c.put('acl-key', value, { medium: 'hbm' });
      assert.ok(Buffer.from(await c.get('acl-key')).equals(Buffer.from(value)));
      assert.equal((await c.segments()).map((s) => [s.id, s.totalBytes]), [['rank-1-hbm', 8 << 20], ['rank-1-dram', 4 << 20]]);
    } finally {
      await c.close();
    }
  } finally {
    await stop(agent);
    await stop(meta);
  }
  assert.is(agent.p.exitCode, 0);
  const stats = JSON.parse(readFileSync(report, 'utf8'));
  assert.equal([stats.malloc, stats.mallocHost, stats.liveDeviceAllocs, stats.liveHostAllocs, stats.finalize], [1, 1, 0, 0, 1], JSON.stringify(stats));
});

test.run();
