// Freed ranges under random puts and removes (property style, seeded): whenever the FREE notices
// are acknowledged, nothing is held, each agent's journal lists exactly the live blobs, the
// segments' usage is exactly what the live objects take, and every live value reads back intact.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MemCacheClient } from '../../dist/index.js';
import { startMeta } from '../../dist/pool/meta.js';
import { startAgent } from '../../dist/pool/agent.js';
import { waitFor } from './_procs.js';

const ALIGN = 64;
const KEYS = 40;
const CASES = 6;
const OPS = 240;

function prng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const valueOf = (key, size, round) => Buffer.alloc(size, `${key}:${round}|`);

async function checkAll(meta, agents, c, model, what) {
  await waitFor(() => meta.frees.pending().ranges === 0, 15_000, `${what}: FREE notices acknowledged`);
  let blobs = 0;
  let bytes = 0;
  for (const [key, { value, replicas }] of model) {
    const got = await c.get(key);
    assert.ok(got && Buffer.from(got).equals(value), `${what}: ${key} reads back`);
    const q = await c.query(key);
    assert.is(q.numBlobs, replicas, `${what}: ${key} has its replicas`);
    blobs += replicas;
    bytes += Math.ceil(value.length / ALIGN) * ALIGN * replicas;
  }
  const journal = agents.reduce((n, a) => n + a.blobs().dram, 0);
  assert.is(journal, blobs, `${what}: the agents' journals list exactly the live blobs`);
  const used = (await c.segments()).reduce((n, s) => n + s.usedBytes, 0);
  assert.is(used, bytes, `${what}: usage is what the live objects take`);
  assert.is((await c.stats()).keys, model.size, `${what}: keys`);
}

async function runCase(seed, meta, agents, c) {
  const rnd = prng(seed);
  const pick = (n) => Math.floor(rnd() * n);
  const model = new Map();
  for (let op = 0; op < OPS; op++) {
    const key = `r${pick(KEYS)}`;
    const r = rnd();
    if (r < 0.45) {
      if (model.has(key)) { assert.ok(await c.remove(key)); model.delete(key); }
      const replicas = 1 + pick(2);
      const value = valueOf(key, 1 + pick(8000), op);
      await c.put(key, value, { replicas, preferredRank: pick(2) });
      model.set(key, { value, replicas });
    } else if (r < 0.75) {
      assert.is(await c.remove(key), model.delete(key), `seed ${seed} op ${op}: remove ${key}`);
    } else if (r < 0.9) {
      const keys = [...new Set(Array.from({ length: 1 + pick(6) }, () => `r${pick(KEYS)}`))];
      const codes = await c.batchRemove(keys);
      keys.forEach((k, i) => assert.is(codes[i] === 0, model.delete(k), `seed ${seed} op ${op}: batch remove ${k}`));
    } else {
      const keys = [...new Set(Array.from({ length: 1 + pick(8) }, () => `r${pick(KEYS)}`))].filter((k) => !model.has(k));
      const entries = keys.map((k) => [k, valueOf(k, 1 + pick(3000), op)]);
      const codes = await c.batchPut(entries);
      entries.forEach(([k, value], i) => {
        assert.is(codes[i], 0, `seed ${seed} op ${op}: batch put ${k}`);
        model.set(k, { value, replicas: 1 });
      });
    }
    if (op % 60 === 59) await checkAll(meta, agents, c, model, `seed ${seed} op ${op}`);
  }
  assert.equal(await c.batchRemove([...model.keys()]), [...model.keys()].map(() => 0));
  model.clear();
  await checkAll(meta, agents, c, model, `seed ${seed} end`);
}

test(`random puts and removes (${CASES} cases of ${OPS} ops): held, journal and usage add up`, async () => {
  const meta = await startMeta({ store: { alignment: ALIGN } });
  const agents = [];
  const regs = [];
  for (let rank = 0; rank < 2; rank++) {
    let done;
    regs.push(new Promise((r) => { done = r; }));
    agents.push(await startAgent({ meta: meta.url, rank, hbm: 0, dram: 1 << 20, onRegistered: () => done() }));
  }
  await Promise.all(regs);
  const c = await MemCacheClient.connect(meta.url);
  const base = (Date.now() & 0xffff) * 1000;
  try {
    for (let i = 0; i < CASES; i++) {
      const seed = base + i;
      try {
        await runCase(seed, meta, agents, c);
      } catch (e) {
        e.message = `seed ${seed}: ${e.message}`;
        throw e;
      }
    }
  } finally {
    await c.close();
    for (const a of agents) await a.close();
    await meta.close();
  }
});

test.run();
