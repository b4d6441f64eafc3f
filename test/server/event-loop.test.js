// No request holds the event loop for long: batch calls are bounded in keys (a clear error
// beyond), key listings are built in slices. Another socket polls /health meanwhile; the largest
// gap between its answers is printed (speed is the bench's business: the bound here is generous).
// The server runs in a process of its own, so the gaps are its event loop's, not this test's.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { encodeKeyList, decodeKeyList } from '../../dist/protocol/framing.js';
import { startServer, req, isErrorBody, keyFrame, putFrame } from './_helpers.js';

/** A server in a child process: { url, stop() }. */
async function childServer(config) {
  const child = fork(fileURLToPath(new URL('./fixtures/serve-child.js', import.meta.url)), [JSON.stringify(config)], { stdio: 'inherit' });
  const { port } = await new Promise((resolve, reject) => { child.once('message', resolve); child.once('exit', (c) => reject(new Error(`server exited ${c}`))); });
  return { url: `http://127.0.0.1:${port}`, stop: () => new Promise((r) => { child.once('exit', r); child.disconnect(); }) };
}

/** Polls /health on its own connection until stopped; the largest gap between answers, ms. */
function pollHealth(url) {
  let stop = false;
  let maxGap = 0;
  let answers = 0;
  const done = (async () => {
    let last = performance.now();
    while (!stop) {
      const r = await req(url, 'GET', '/health');
      assert.is(r.status, 200);
      answers++;
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }
  })();
  return async () => { stop = true; await done; return { maxGap, answers }; };
}

test('batch calls over the key limit are refused before reaching the store', async () => {
  const T = await childServer({ segments: [{ rank: 0, medium: 'dram', bytes: '64MB' }] });
  try {
    const n = 100_000; // a 1 MiB query string
    const keys = Array.from({ length: n }, (_, i) => `k${i}`);
    const bodies = [`/batch_query_keys?keys=${keys.join(',')}`, encodeKeyList(keys), putFrame(keys.map((k) => [Buffer.from(k), Buffer.from('v')]))];
    const before = (await req(T.url, 'GET', '/api/v1/objects/stats')).json();
    const stop = pollHealth(T.url);
    const result = [
      await req(T.url, 'GET', bodies[0]),
      await req(T.url, 'POST', '/api/v1/objects/batch_get', bodies[1]),
      await req(T.url, 'POST', '/api/v1/objects/batch_query', bodies[1]),
      await req(T.url, 'POST', '/api/v1/objects/batch_put', bodies[2]),
    ];
    const { maxGap, answers } = await stop();
    console.log(`  batch calls of ${n} keys: /health answered ${answers} times, largest gap ${maxGap.toFixed(1)} ms`);
    isErrorBody(result[0], `MMC_INVALID_PARAM: ${n} keys in one batch (limit 16384)`);
    assert.is(result[0].status, 200);
    for (const r of result.slice(1)) {
      assert.is(r.status, 400);
      isErrorBody(r, `MMC_INVALID_PARAM: ${n} keys in one batch (limit 16384)`);
    }
    assert.equal((await req(T.url, 'GET', '/api/v1/objects/stats')).json(), before, 'nothing reached the store');
    assert.ok(maxGap < 1000, `largest /health gap ${maxGap} ms`);
    // at the limit, a call goes through
    const ok = await req(T.url, 'GET', `/batch_query_keys?keys=${keys.slice(0, 16384).join(',')}`);
    assert.is(ok.json().data.length, 16384);
  } finally { await T.stop(); }
});

test('the limit is an option; a well-formed frame over it is refused, a malformed one still says malformed', async () => {
  const T = await startServer({ server: { batchKeyLimit: 3 } });
  try {
    const four = keyFrame(['a', 'b', 'c', 'd'].map((k) => Buffer.from(k)));
    isErrorBody(await req(T.url, 'POST', '/api/v1/objects/batch_exists', four), 'MMC_INVALID_PARAM: 4 keys in one batch (limit 3)');
    isErrorBody(await req(T.url, 'POST', '/api/v1/objects/batch_exists', four.subarray(0, 10)), 'MMC_INVALID_PARAM: malformed batch frame');
    isErrorBody(await req(T.url, 'GET', '/batch_query_keys?keys=a,b,c,d'), 'MMC_INVALID_PARAM: 4 keys in one batch (limit 3)');
    assert.is((await req(T.url, 'GET', '/batch_query_keys?keys=a,b,c')).json().data.length, 3);
  } finally { await T.close(); }
});

test('key listings of many keys are built in slices: /health keeps answering', async () => {
  const n = 100_000;
  const T = await childServer({ segments: [{ rank: 0, medium: 'dram', bytes: '2GB' }], fill: n });
  try {
    const stop = pollHealth(T.url);
    const lines = await req(T.url, 'GET', '/get_all_keys');
    const frame = await req(T.url, 'GET', '/api/v1/objects/keys');
    const { maxGap, answers } = await stop();
    console.log(`  listings of ${n} keys: /health answered ${answers} times, largest gap ${maxGap.toFixed(1)} ms`);
    const keys = Array.from({ length: n }, (_, i) => `key/${i}/${'p'.repeat(40)}`).sort();
    assert.equal(lines.text.split('\n').slice(0, -1).sort(), keys);
    assert.ok(lines.text.endsWith('\n'));
    const listed = decodeKeyList(frame.body).keys;
    assert.equal([...listed].sort(), keys);
    assert.ok(frame.body.equals(encodeKeyList(listed)), 'the sliced frame is the frame');
    assert.is(lines.text, listed.join('\n') + '\n', 'both listings in the same order');
    assert.ok(maxGap < 1000, `largest /health gap ${maxGap} ms`);
  } finally { await T.stop(); }
});

test.run();
