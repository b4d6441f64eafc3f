// The pool's failures with real processes: an agent killed with kill -9 (detection time printed),
// its single-replica objects absent, replicated ones readable; a restarted agent registers again
// and takes puts; an agent started before the meta service registers when it comes; a checksummed
// put/get load while an agent dies never reads a wrong value.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash } from 'node:crypto';
import { MemCacheClient } from '../../dist/index.js';
import { freePort, segmentIds, startLocalProc, startMetaProc, stop, waitFor } from './_procs.js';

const procs = [];
const track = (p) => { procs.push(p); return p; };
test.after.each(async () => { for (const p of procs.splice(0)) await stop(p, 'SIGKILL'); });

/** A value that names its key and version and carries its own checksum. */
function valueOf(key, version, size) {
  const body = Buffer.alloc(size - 32, `${key}#${version}|`);
  return Buffer.concat([createHash('sha256').update(body).digest(), body]);
}
function intact(key, v) {
  const body = v.subarray(32);
  return createHash('sha256').update(body).digest().equals(v.subarray(0, 32)) && body.toString('latin1').startsWith(`${key}#`);
}

test('kill -9 of an agent: detected, its segments leave, its objects absent, replicated ones readable; a restart takes puts', async () => {
  const meta = track(await startMetaProc(await freePort()));
  const a0 = track(await startLocalProc(meta.url, 0));
  track(await startLocalProc(meta.url, 1));
  const c = await MemCacheClient.connect(meta.url);
  try {
    for (let i = 0; i < 20; i++) {
      await c.put(`one${i}`, valueOf(`one${i}`, 0, 4096), { preferredRank: 1 });
      await c.put(`zero${i}`, valueOf(`zero${i}`, 0, 4096), { preferredRank: 0 });
      await c.put(`two${i}`, valueOf(`two${i}`, 0, 4096), { replicas: 2 });
    }
    const a1 = procs[2];
    const t0 = Date.now();
    a1.p.kill('SIGKILL');
    await waitFor(async () => !(await segmentIds(meta.url)).some((s) => s.startsWith('rank-1-')), 15_000, 'rank 1 to leave');
    const detected = Date.now() - t0;
    console.log(`  kill -9 of rank 1 detected in ${detected} ms`);
    assert.ok(detected < 10_000, `${detected} ms`);
    for (let i = 0; i < 20; i++) {
      assert.is(await c.get(`one${i}`), undefined, `one${i}`);
      assert.ok(intact(`zero${i}`, await c.get(`zero${i}`)));
      assert.ok(intact(`two${i}`, await c.get(`two${i}`)), `two${i}`);
    }
    assert.equal(await c.batchGet(['one0', 'two0']).then((vs) => vs.map((v) => v !== undefined)), [false, true]);
    track(await startLocalProc(meta.url, 1));
    await c.put('after', valueOf('after', 1, 5000), { preferredRank: 1 });
    assert.equal((await c.query('after')).blobs.map((b) => b.rank), [1]);
    assert.ok(intact('after', await c.get('after')));
    assert.ok(a0.p.exitCode === null, 'rank 0 carried on');
  } finally {
    await c.close();
  }
});

test('an agent started before the meta service waits for it and registers when it comes', async () => {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const early = track(await startLocalProc(url, 3, [], false));
  await new Promise((r) => setTimeout(r, 700));
  assert.is(early.p.exitCode, null, 'the agent waits');
  const meta = track(await startMetaProc(port));
  await waitFor(async () => (await segmentIds(meta.url)).includes('rank-3-hbm'), 15_000, 'rank 3 to register');
  const c = await MemCacheClient.connect(meta.url);
  try {
    await c.put('late', valueOf('late', 0, 100));
    assert.ok(intact('late', await c.get('late')));
  } finally {
    await c.close();
  }
});

test('a checksummed put/get load while an agent is killed: nothing wrong is ever read', async () => {
  const meta = track(await startMetaProc(await freePort()));
  track(await startLocalProc(meta.url, 0));
  const victim = track(await startLocalProc(meta.url, 1));
  const c = await MemCacheClient.connect(meta.url);
  const stats = { puts: 0, putErrors: 0, reads: 0, absent: 0, wrong: 0, readErrors: 0 };
  let running = true;
  const worker = async (w) => {
    for (let n = 0; running; n++) {
      const key = `w${w}-${n % 50}`;
      try {
        await c.remove(key);
        await c.put(key, valueOf(key, n, 1024 + (n % 7) * 1000), { replicas: 1 + (n % 2) });
        stats.puts++;
      } catch { stats.putErrors++; }
      try {
        const v = await c.get(`w${w}-${(n * 7) % 50}`);
        stats.reads++;
        if (v === undefined) stats.absent++;
        else if (!intact(`w${w}-${(n * 7) % 50}`, v)) stats.wrong++;
      } catch { stats.readErrors++; }
    }
  };
  try {
    const workers = [0, 1, 2, 3].map(worker);
    await new Promise((r) => setTimeout(r, 800));
    victim.p.kill('SIGKILL');
    await waitFor(async () => !(await segmentIds(meta.url)).some((s) => s.startsWith('rank-1-')), 15_000, 'rank 1 to leave');
    await new Promise((r) => setTimeout(r, 500));
    running = false;
    await Promise.all(workers);
    console.log(`  load during kill -9: ${JSON.stringify(stats)}`);
    assert.is(stats.wrong, 0);
    assert.ok(stats.puts > 0 && stats.reads > 0);
  } finally {
    running = false;
    await c.close();
  }
});

test('a hung agent (SIGSTOP): reads fail over to another replica or read absent, a put to it fails cleanly and frees its space', async () => {
  // the hung agent stays registered throughout (mmc meta --agent-timeout): what is tested is the
  // client's side of a hang, not its detection
  const meta = track(await startMetaProc(await freePort(), ['--agent-timeout', '60000']));
  track(await startLocalProc(meta.url, 0));
  const hung = track(await startLocalProc(meta.url, 1));
  const c = await MemCacheClient.connect(meta.url);
  try {
    for (let i = 0; i < 10; i++) await c.put(`rep${i}`, valueOf(`rep${i}`, 0, 3000), { replicas: 2 });
    await c.put('only1', valueOf('only1', 0, 3000), { preferredRank: 1, medium: 'hbm' });
    const used0 = async () => (await c.segments()).find((s) => s.id === 'rank-0-hbm').usedBytes;
    const before = await used0();
    hung.p.kill('SIGSTOP');
    let t0 = Date.now();
    for (let i = 0; i < 10; i++) assert.ok(intact(`rep${i}`, await c.get(`rep${i}`)), `rep${i}`);
    console.log(`  10 replicated gets with rank 1 hung: ${Date.now() - t0} ms`);
    t0 = Date.now();
    const only = await c.get('only1');
    console.log(`  a get of an object only the hung rank holds: ${only === undefined ? 'absent' : 'found'} in ${Date.now() - t0} ms`);
    assert.ok(only === undefined || intact('only1', only));
    try {
      await c.put('torn', valueOf('torn', 0, 3000), { replicas: 2, medium: 'hbm' });
      assert.unreachable('a put to a hung agent succeeded');
    } catch (e) {
      assert.match(e.message, /write to rank 1/);
    }
    assert.is(await c.exists('torn'), false);
    assert.is(await used0(), before, 'the replica written on rank 0 was freed');
  } finally {
    hung.p.kill('SIGCONT');
    await c.close();
  }
});

test.run();
