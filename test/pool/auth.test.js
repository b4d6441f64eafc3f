// A token on the pool: `mmc meta` takes mmc serve's token options (--token-file, $MMC_TOKEN,
// ock.mmc.auth.token.path); agents and clients without it are refused with a clear error, and
// `mmc local` presents it (--token-file or $MMC_TOKEN).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemCacheClient, MmcError } from '../../dist/index.js';
import { freePort, spawnMmc, stop, waitFor } from './_procs.js';

const TOKEN = 'pool-secret-token';

test('mmc meta with a token: agents and clients without it are refused; with it they work', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mmc-auth-'));
  const tokenFile = join(dir, 'token');
  const wrongFile = join(dir, 'wrong');
  writeFileSync(tokenFile, `${TOKEN}\n`);
  writeFileSync(wrongFile, 'not-the-token\n');
  const port = await freePort();
  const procs = [];
  let c;
  try {
    const meta = await spawnMmc(['meta', '--listen', `127.0.0.1:${port}`, '--token-file', tokenFile], /listening on (http:\/\/[0-9.]+:\d+)/, 20_000, { MMC_TOKEN: undefined });
    procs.push(meta);
    const url = meta.m[1];
    const local = (rank, extra, env, ready) => spawnMmc(['local', '--meta', url, '--rank', String(rank), '--hbm', '4MB', '--dram', '4MB', ...extra], ready, 20_000, env);
    // no token, a wrong one: the agent says why it cannot register, and keeps trying
    const bare = await local(0, [], { MMC_TOKEN: undefined }, /meta service .*bearer token/);
    procs.push(bare);
    assert.match(bare.log(), /token/);
    const wrong = await local(1, ['--token-file', wrongFile], {}, /meta service .*wrong bearer token/);
    procs.push(wrong);
    assert.is((await (await fetch(`${url}/get_all_segments`)).text()).trim(), '', 'no agent registered without the token');
    await stop(bare);
    await stop(wrong);
    // the token from $MMC_TOKEN, and from --token-file
    procs.push(await local(0, [], { MMC_TOKEN: TOKEN }, /registered at/));
    procs.push(await local(1, ['--token-file', tokenFile], { MMC_TOKEN: undefined }, /registered at/));
    let refused;
    try {
      const noToken = await MemCacheClient.connect(url);
      await noToken.put('k', Buffer.from('v'));
      await noToken.close();
    } catch (e) {
      refused = e;
    }
    assert.ok(refused instanceof MmcError, 'a client without the token is refused');
    assert.match(refused.message, /token/);
    c = await MemCacheClient.connect(url, { token: TOKEN });
    await waitFor(async () => (await c.segments()).length === 4, 15_000, 'both agents');
    await c.put('k', Buffer.from('through the pool'), { replicas: 2 });
    assert.is(Buffer.from(await c.get('k')).toString(), 'through the pool');
  } finally {
    await c?.close();
    for (const p of procs.reverse()) await stop(p);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('mmc meta --token-file naming a missing file fails to start with one line naming it', async () => {
  const port = await freePort();
  let err;
  try {
    await spawnMmc(['meta', '--listen', `127.0.0.1:${port}`, '--token-file', '/nonexistent/token'], /listening on/, 20_000);
  } catch (e) {
    err = e;
  }
  assert.ok(err);
  assert.match(err.message, /exited 1: .*--token-file: \/nonexistent\/token/);
});

test.run();
