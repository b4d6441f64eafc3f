// Keys that are not valid UTF-8 are refused (MMC_INVALID_PARAM), never replaced by U+FFFD: `%ff`,
// `%fe`, `%80` and a real `%EF%BF%BD` must not name one object. Query strings of every route
// that takes a key (Koa routes and fast path alike) and keys in batch frames (that item's -3000).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { MMC } from '../../dist/index.js';
import { decodeBatchGet, decodeCodes } from '../../dist/protocol/framing.js';
import { startServer, req, isErrorBody, delta, keyFrame, putFrame } from './_helpers.js';

const BAD = ['%ff', '%fe', '%80', '%ED%A0%80', 'a%C3', '%C3%28'];
const REAL = '%EF%BF%BD'; // U+FFFD itself: a valid key
const reason = "MMC_INVALID_PARAM: 'key' is not valid UTF-8";

for (const fastPath of [true, false]) {
  test(`query strings: invalid UTF-8 refused on every keyed route, nothing reaches the store (fastPath ${fastPath})`, async () => {
    const T = await startServer({ server: { fastPath } });
    try {
      assert.is((await req(T.url, 'PUT', `/api/v1/objects?key=${REAL}`, 'real')).status, 200);
      assert.is((await req(T.url, 'PUT', '/api/v1/objects?key=other', 'other')).status, 200);
      assert.is((await req(T.url, 'PUT', `/metadata?key=${REAL}`, 'meta')).text, 'metadata updated');
      for (const k of BAD) {
        const { d } = await delta(T.mc, async () => {
          for (const m of ['GET', 'PUT', 'DELETE']) {
            const r = await req(T.url, m, `/api/v1/objects?key=${k}`, m === 'PUT' ? 'x' : undefined);
            assert.is(r.status, 400, `${m} ${k}`);
            isErrorBody(r, reason);
          }
          assert.is((await req(T.url, 'HEAD', `/api/v1/objects?key=${k}`)).status, 400);
          for (const [m, p] of [['GET', '/query_key'], ['DELETE', '/key'], ['GET', '/metadata'], ['PUT', '/metadata'], ['DELETE', '/metadata']]) {
            const r = await req(T.url, m, `${p}?key=${k}`, m === 'PUT' ? 'x' : undefined);
            assert.is(r.status, 200, `${m} ${p}`);
            isErrorBody(r, reason);
          }
          isErrorBody(await req(T.url, 'GET', `/batch_query_keys?keys=other,${k}`), "MMC_INVALID_PARAM: 'keys' is not valid UTF-8");
          const bp = await req(T.url, 'POST', `/api/v1/objects/batch_put?medium=${k}`, putFrame([[Buffer.from('z'), Buffer.from('z')]]));
          assert.is(bp.status, 400);
          isErrorBody(bp, "MMC_INVALID_PARAM: 'medium' is not valid UTF-8");
        });
        assert.equal(d, {}, `nothing counted for ${k}`);
      }
      const r = await req(T.url, 'GET', `/api/v1/objects?key=${REAL}`);
      assert.is(r.text, 'real');
      assert.is((await req(T.url, 'GET', `/metadata?key=${REAL}`)).text, 'meta');
      assert.is((await req(T.url, 'GET', '/api/v1/objects?key=other')).text, 'other');
      assert.equal((await T.mc.keys()).sort(), ['other', '\uFFFD']);
    } finally { await T.close(); }
  });
}

test('batch frames: a key that is not UTF-8 is that item\'s -3000, the others go ahead', async () => {
  const T = await startServer();
  try {
    const bad = [Buffer.from([0xff]), Buffer.from([0x80]), Buffer.from([0xed, 0xa0, 0x80])];
    const real = Buffer.from('\uFFFD', 'utf8');
    const put = await req(T.url, 'POST', '/api/v1/objects/batch_put',
      putFrame([[Buffer.from('ok1'), Buffer.from('v1')], [bad[0], Buffer.from('x')], [real, Buffer.from('real')], [bad[1], Buffer.from('y')], [Buffer.from('ok2'), Buffer.from('v2')]]));
    assert.is(put.status, 200);
    assert.equal(decodeCodes(put.body), [0, MMC.MMC_INVALID_PARAM, 0, MMC.MMC_INVALID_PARAM, 0]);
    assert.equal((await T.mc.keys()).sort(), ['ok1', 'ok2', '\uFFFD']);
    const get = await req(T.url, 'POST', '/api/v1/objects/batch_get', keyFrame([bad[2], Buffer.from('ok1'), bad[0], real, Buffer.from('nope')]));
    const g = decodeBatchGet(get.body);
    assert.equal(g.codes, [MMC.MMC_INVALID_PARAM, 0, MMC.MMC_INVALID_PARAM, 0, MMC.MMC_UNMATCHED_KEY]);
    assert.is(Buffer.from(g.values[1]).toString(), 'v1');
    assert.is(Buffer.from(g.values[3]).toString(), 'real');
    const ex = await req(T.url, 'POST', '/api/v1/objects/batch_exists', keyFrame([bad[0], real, Buffer.from('ok2')]));
    assert.equal(decodeCodes(ex.body), [MMC.MMC_INVALID_PARAM, 0, 0]);
    const rm = await req(T.url, 'POST', '/api/v1/objects/batch_remove', keyFrame([bad[0], bad[1], Buffer.from('ok2')]));
    assert.equal(decodeCodes(rm.body), [MMC.MMC_INVALID_PARAM, MMC.MMC_INVALID_PARAM, 0]);
    const q = await req(T.url, 'POST', '/api/v1/objects/batch_query', keyFrame([Buffer.from('ok1'), bad[0]]));
    assert.is(q.status, 400);
    isErrorBody(q, 'MMC_INVALID_PARAM: key is not valid UTF-8');
    // the U+FFFD object was never touched by the invalid keys
    assert.is((await req(T.url, 'GET', `/api/v1/objects?key=${REAL}`)).text, 'real');
    assert.equal((await T.mc.keys()).sort(), ['ok1', '\uFFFD']);
  } finally { await T.close(); }
});

test.run();
