// A rank agent reads its sockets through a ReadSlab and a WRITE's value straight into its session's
// value buffers (256 KiB each, reused once the device has the chunk): values that span many of
// them, several in flight on one connection, arrive intact; a device write failing mid-value
// leaves nothing readable and the connection carries on.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemCacheClient, MmcError } from '../../dist/index.js';
import { startMeta } from '../../dist/pool/meta.js';
import { startAgent } from '../../dist/pool/agent.js';
import { createSimBackend } from '../../dist/device/sim.js';

const MiB = 1 << 20;

/** `n` bytes no two of which repeat with a short period (a misplaced chunk shows). */
function pattern(n, seed) {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) { x ^= x << 13; x ^= x >>> 17; x ^= x << 5; b[i] = x & 0xff; }
  return b;
}

async function onePool(backend) {
  const meta = await startMeta();
  let registered;
  const ready = new Promise((resolve) => { registered = resolve; });
  const agent = await startAgent({ meta: meta.url, rank: 0, hbm: 32 * MiB, backend, inProcess: false, onRegistered: () => registered() });
  await ready;
  const c = await MemCacheClient.connect(meta.url);
  return { c, async close() { await c.close(); await agent.close(); await meta.close(); } };
}

test('values spanning many value buffers, several in flight on one connection, read back intact', async () => {
  const { c, close } = await onePool();
  try {
    const sizes = [MiB + 12_345, 3 * MiB - 7, 256 * 1024, 256 * 1024 + 1, 65_536 + 3, 5];
    const vals = sizes.map((n, i) => pattern(n, i + 1));
    await Promise.all(vals.map((v, i) => c.put(`v${i}`, v)));
    for (let i = 0; i < vals.length; i++) assert.ok((await c.get(`v${i}`)).equals(vals[i]), `v${i}`);
    // and one after the other, each on a connection whose buffers served the ones before
    for (let i = 0; i < vals.length; i++) await c.put(`w${i}`, vals[vals.length - 1 - i]);
    for (let i = 0; i < vals.length; i++) assert.ok((await c.get(`w${i}`)).equals(vals[vals.length - 1 - i]), `w${i}`);
  } finally {
    await close();
  }
});

test('a device write failing mid-value: the put fails, nothing is readable, the next put on the connection works', async () => {
  const sim = createSimBackend();
  const { c, close } = await onePool(sim);
  try {
    const v = pattern(2 * MiB, 9);
    sim.injectFault('write', 3); // the third chunk of the value
    const e = await c.put('broken', v).then(() => undefined, (x) => x);
    assert.ok(e instanceof MmcError, String(e));
    assert.is(await c.get('broken'), undefined);
    await c.put('after', v);
    assert.ok((await c.get('after')).equals(v));
    // the failed put left nothing behind: its key can be put again
    await c.put('broken', v);
    assert.ok((await c.get('broken')).equals(v));
  } finally {
    await close();
  }
});

test.run();
