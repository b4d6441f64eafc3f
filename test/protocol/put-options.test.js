// The put-option codec: what the client and the CLI write, the server reads back as the same
// options; malformed options are MMC_INVALID_PARAM with the server's reasons.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { decodePutOptions, encodePutOptions } from '../../dist/protocol/put-options.js';
import { Query } from '../../dist/server/query.js';
import { MMC, MmcError } from '../../dist/index.js';

const decode = (qs) => decodePutOptions(new Query(qs));

test('written as a query string in a fixed order, nothing for no options', () => {
  assert.is(encodePutOptions(undefined), '');
  assert.is(encodePutOptions({}), '');
  assert.is(encodePutOptions({ medium: 'HBM', replicas: 2, preferredRank: 0 }), 'medium=hbm&replicas=2&preferred_rank=0');
  assert.is(encodePutOptions({ preferredRank: 7 }), 'preferred_rank=7');
  assert.is(encodePutOptions({ replicas: 'a&b' }), 'replicas=a%26b', 'a value (the CLI passes text) cannot add a parameter');
});

test('every option written is read back the same (property)', () => {
  const opts = fc.record({
    medium: fc.constantFrom('hbm', 'dram', 'HBM', 'DRAM'),
    replicas: fc.integer({ min: 1, max: 8 }),
    preferredRank: fc.integer({ min: 0, max: 1 << 20 }),
  }, { requiredKeys: [] });
  fc.assert(fc.property(opts, (o) => {
    const want = { ...o };
    if (o.medium !== undefined) want.medium = o.medium.toLowerCase();
    assert.equal(decode(encodePutOptions(o)), want);
  }), { numRuns: 2000 });
});

test('malformed options are MMC_INVALID_PARAM with the reason the server answers', () => {
  const cases = [
    ['medium=ssd', 'medium must be hbm or dram'],
    ['replicas=0', 'replicas must be 1..8'],
    ['replicas=9', 'replicas must be 1..8'],
    ['replicas=1x', 'replicas must be 1..8'],
    ['preferred_rank=-1', 'preferred_rank must be a rank number'],
    [`preferred_rank=${(1 << 20) + 1}`, 'preferred_rank must be a rank number'],
  ];
  for (const [qs, why] of cases) {
    try {
      decode(qs);
      assert.unreachable(qs);
    } catch (e) {
      assert.instance(e, MmcError, qs);
      assert.is(e.code, MMC.MMC_INVALID_PARAM, qs);
      assert.is(e.message, `MMC_INVALID_PARAM: ${why}`, qs);
    }
  }
  assert.equal(decode('medium=&replicas='), {}, 'an empty value counts as missing');
});

test.run();
