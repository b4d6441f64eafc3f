// Liveness at the meta service (src/pool/registry.ts): a silent agent is dropped, but the meta
// service's own stall (a long synchronous stretch, a starved CPU) is not taken for its agents'
// silence: the heartbeats that waited unread in the sockets are read before anyone is judged.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemCacheClient } from '../../dist/index.js';
import { startMeta } from '../../dist/pool/meta.js';
import { SILENT_MS, HEARTBEAT_MS } from '../../dist/pool/registry.js';
import { freePort, spawnMmc, startLocalProc, stop, waitFor } from './_procs.js';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
/**
 * Blocks this process's event loop for `ms` (the meta service runs in it). From setImmediate: the
 * loop's next turn runs its timers (the silence check) before it reads its sockets.
 */
const stall = (ms) => new Promise((r) => setImmediate(() => { const end = Date.now() + ms; while (Date.now() < end); r(); }));

test('a dead agent is detected within 3 s by design: silence plus a heartbeat period plus a check is under it', () => {
  assert.ok(SILENT_MS + HEARTBEAT_MS < 3000, `${SILENT_MS} + ${HEARTBEAT_MS} ms`);
});

test('the meta service standing still longer than the silence limit drops no live agent', async () => {
  const silentMs = 1000;
  const meta = await startMeta({ silentMs });
  let proc;
  let c;
  try {
    proc = await startLocalProc(meta.url, 0, ['--hbm', '1MB', '--dram', '0']);
    await waitFor(() => meta.registry.list().length === 1, 15_000, 'the agent registered');
    const agent = meta.registry.list()[0];
    c = await MemCacheClient.connect(meta.url);
    const v = Buffer.alloc(3000, 'v');
    await c.put('kept', v);
    await stall(2 * silentMs);
    await sleep(300); // the waiting heartbeat read, a few checks run
    // the same registration (a drop would unmount its segments: the agent registers again, empty)
    assert.ok(meta.registry.list()[0] === agent, 'the agent was dropped after the stall');
    assert.ok(Buffer.from(await c.get('kept')).equals(v), 'its object is gone');
    // and silence is still noticed: the agent stopped for real is dropped
    proc.p.kill('SIGSTOP');
    const t0 = Date.now();
    await waitFor(() => meta.registry.list().length === 0, 15_000, 'the stopped agent dropped');
    // printed, not asserted: when depends on when its last heartbeat came before the stop
    console.log(`  SIGSTOP of the agent: dropped after ${Date.now() - t0} ms (silence limit ${silentMs} ms)`);
  } finally {
    await c?.close();
    if (proc) { proc.p.kill('SIGCONT'); await stop(proc); }
    await meta.close();
  }
});

test('mmc meta --agent-timeout: anything but a whole number of ms from two heartbeats up fails to start, naming the flag', async () => {
  for (const [bad, why] of [['0', /expected a positive integer/], ['-5', /expected a positive integer/], ['2s', /expected a positive integer/], ['', /expected a positive integer/], ['999', /at least 1000 ms/]]) {
    let err;
    try {
      const p = await spawnMmc(['meta', '--listen', `127.0.0.1:${await freePort()}`, '--agent-timeout', bad], /listening on/, 20_000);
      await stop(p);
    } catch (e) {
      err = e;
    }
    assert.ok(err, `--agent-timeout '${bad}' was taken`);
    assert.match(err.message, /exited 1: mmc: --agent-timeout: /);
    assert.match(err.message, why);
  }
});

test.run();
