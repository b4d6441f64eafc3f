// The reasons of the error body: each fixed reason is what the real server answers, and the
// client reads it (and coded reasons, and missing parameters) as the MMC code of the table.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REASON, missingParameter, readReason } from '../../dist/protocol/reasons.js';
import { dataPlaneStatus } from '../../dist/protocol/status.js';
import { errorFromReason } from '../../dist/client/index.js';
import { MMC } from '../../dist/index.js';
import { startServer, req, isErrorBody } from '../server/_helpers.js';

const CODE = {
  KEY_NOT_FOUND: MMC.MMC_UNMATCHED_KEY, METADATA_KEY_NOT_FOUND: MMC.MMC_UNMATCHED_KEY, SEGMENT_NOT_FOUND: MMC.MMC_INVALID_PARAM,
  NOT_SUPPORTED: MMC.MMC_ERROR, INTERNAL_ERROR: MMC.MMC_ERROR, NOT_FOUND: MMC.MMC_ERROR, METHOD_NOT_ALLOWED: MMC.MMC_ERROR,
  NO_TOKEN: MMC.MMC_ERROR, WRONG_TOKEN: MMC.MMC_ERROR,
};

test('readReason: coded, fixed, missing parameter, anything else', () => {
  assert.equal(readReason('MMC_DUPLICATED_OBJECT: key already exists'), { code: MMC.MMC_DUPLICATED_OBJECT, message: 'key already exists' });
  assert.equal(readReason('MMC_TIMEOUT: a\nb'), { code: MMC.MMC_TIMEOUT, message: 'a\nb' });
  assert.equal(readReason('MMC_NO_SUCH_CODE: x'), { code: MMC.MMC_ERROR, message: 'MMC_NO_SUCH_CODE: x' });
  assert.equal(Object.keys(REASON).sort(), Object.keys(CODE).sort());
  for (const [name, reason] of Object.entries(REASON)) assert.equal(readReason(reason), { code: CODE[name], message: reason }, name);
  assert.is(missingParameter('key'), "Missing 'key' parameter");
  assert.equal(readReason(missingParameter('segment')), { code: MMC.MMC_INVALID_PARAM, message: "Missing 'segment' parameter" });
  assert.equal(readReason('Something else'), { code: MMC.MMC_ERROR, message: 'Something else' });
  const e = errorFromReason(REASON.KEY_NOT_FOUND, 404);
  assert.equal([e.code, e.message, e.detail], [MMC.MMC_UNMATCHED_KEY, `MMC_UNMATCHED_KEY: ${REASON.KEY_NOT_FOUND}`, { status: 404 }]);
});

test('the data-plane status table', () => {
  assert.equal([MMC.MMC_INVALID_PARAM, MMC.MMC_UNMATCHED_KEY, MMC.MMC_OBJECT_NOT_EXISTS, MMC.MMC_DUPLICATED_OBJECT, MMC.MMC_NOT_ENOUGH_MEMORY,
    MMC.MMC_EXCEED_CAPACITY, MMC.MMC_NOT_INITIALIZED, MMC.MMC_NOT_STARTED, MMC.MMC_ERROR, MMC.MMC_TIMEOUT].map(dataPlaneStatus),
  [400, 404, 404, 409, 507, 507, 503, 503, 500, 500]);
});

test('the server answers with the table\'s reasons, and the client reads them as its codes', async () => {
  const S = await startServer({ server: { token: 'secret-token' } });
  const auth = { authorization: 'Bearer secret-token' };
  try {
    const cases = [
      ['KEY_NOT_FOUND', 'GET', '/query_key?key=absent', auth],
      ['KEY_NOT_FOUND', 'GET', '/api/v1/objects?key=absent', auth],
      ['METADATA_KEY_NOT_FOUND', 'GET', '/metadata?key=absent', auth],
      ['SEGMENT_NOT_FOUND', 'GET', '/query_segment?segment=rank-9-hbm', auth],
      ['NOT_SUPPORTED', 'POST', '/api/v1/drain_jobs', auth],
      ['NOT_FOUND', 'GET', '/no/such/path', auth],
      ['METHOD_NOT_ALLOWED', 'POST', '/health', auth],
      ['NO_TOKEN', 'GET', '/api/v1/objects?key=a', {}],
      ['WRONG_TOKEN', 'GET', '/api/v1/objects?key=a', { authorization: 'Bearer wrong-token' }],
    ];
    for (const [name, method, path, headers] of cases) {
      const r = await req(S.url, method, path, undefined, headers);
      assert.ok(isErrorBody(r, REASON[name]), `${method} ${path}`);
      assert.is(errorFromReason(r.json().error_message).code, CODE[name], name);
    }
    const r = await req(S.url, 'GET', '/query_key', undefined, auth);
    assert.ok(isErrorBody(r, missingParameter('key')));
    assert.is(errorFromReason(r.json().error_message).code, MMC.MMC_INVALID_PARAM);
  } finally {
    await S.close();
  }
});

test.run();
