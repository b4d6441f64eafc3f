// The meta service coming back, and the agents' conf file: agents re-register at a restarted meta
// service (a fresh pool: the objects of the old one are gone) and take puts; `mmc local --config`
// reads ock.mmc.meta_service_url and the local_service sizes.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemCacheClient } from '../../dist/index.js';
import { freePort, segmentIds, spawnMmc, startLocalProc, startMetaProc, stop, waitFor } from './_procs.js';

test('a restarted meta service: the agents register again, the pool takes puts', async () => {
  const port = await freePort();
  let meta = await startMetaProc(port);
  const a0 = await startLocalProc(meta.url, 0);
  try {
    let c = await MemCacheClient.connect(meta.url);
    await c.put('before', Buffer.from('old pool'));
    await c.close();
    await stop(meta, 'SIGKILL');
    meta = await startMetaProc(port);
    await waitFor(async () => (await segmentIds(meta.url)).includes('rank-0-hbm'), 15_000, 'rank 0 to register again');
    c = await MemCacheClient.connect(meta.url);
    try {
      assert.is(await c.get('before'), undefined, 'a fresh meta service knows no object of the old one');
      await c.put('after', Buffer.from('new pool'));
      assert.is(Buffer.from(await c.get('after')).toString(), 'new pool');
    } finally {
      await c.close();
    }
  } finally {
    await stop(a0);
    await stop(meta);
  }
});

test('mmc local --config: ock.mmc.meta_service_url and ock.mmc.local_service.{hbm,dram}.size', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mmc-local-'));
  const meta = await startMetaProc(await freePort());
  let agent;
  try {
    const conf = join(dir, 'mmc-local.conf');
    writeFileSync(conf, `ock.mmc.meta_service_url = tcp://${meta.url.replace('http://', '')}\nock.mmc.local_service.hbm.size = 2MB\nock.mmc.local_service.dram.size = 0\n`);
    agent = await spawnMmc(['local', '--config', conf, '--rank', '4'], /registered at/);
    const c = await MemCacheClient.connect(meta.url);
    try {
      const segs = await c.segments();
      assert.equal(segs.map((s) => [s.id, s.totalBytes]), [['rank-4-hbm', 2 << 20]]);
    } finally {
      await c.close();
    }
    const bad = await spawnMmc(['local', '--rank', 'x', '--meta', meta.url], /--rank must be/).catch((e) => e);
    assert.match(String(bad.message ?? bad.log?.()), /--rank must be an integer/);
  } finally {
    await stop(agent);
    await stop(meta);
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
