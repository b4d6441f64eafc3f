// Keys the contract cannot carry are refused with MMC_INVALID_PARAM: a line break (keys are
// listed one a line) and text that is not well-formed Unicode (a lone surrogate would encode as
// U+FFFD and alias another key). Single and batch calls alike; a batch's bad item is its own
// -3000 and the others go ahead.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { openSmall, pattern, equalBytes, rejectsWith } from '../helpers/store.js';

const BAD = [
  ['a line feed', 'line\nbreak'],
  ['a carriage return', 'cr\rkey'],
  ['a line break in a long key', `${'x'.repeat(100)}\n`],
  ['a line break after non-ASCII', 'é\n'],
  ['a lone high surrogate', 'lone\ud800'],
  ['a lone low surrogate', '\udc00tail'],
  ['a lone surrogate in a long key', `${'y'.repeat(200)}\ud83d`],
];

test('single calls refuse keys with line breaks or lone surrogates and change nothing', async () => {
  const mc = await openSmall();
  await mc.put('\ufffd', pattern(1, 10)); // the replacement character itself is a fine key
  for (const [what, key] of BAD) {
    await rejectsWith(mc.put(key, pattern(2, 10)), 'MMC_INVALID_PARAM', /line break|well-formed/);
    await rejectsWith(mc.get(key), 'MMC_INVALID_PARAM');
    await rejectsWith(mc.exists(key), 'MMC_INVALID_PARAM');
    await rejectsWith(mc.remove(key), 'MMC_INVALID_PARAM');
    await rejectsWith(mc.query(key), 'MMC_INVALID_PARAM');
    await rejectsWith(mc.alloc(key, 10), 'MMC_INVALID_PARAM');
    assert.equal(await mc.keys(), ['\ufffd'], what);
  }
  assert.ok(equalBytes(await mc.get('\ufffd'), pattern(1, 10)), 'no bad key aliased U+FFFD');
  // well-formed pairs and other control characters are fine
  for (const key of ['😀', 'tab\tkey', 'nul\u0000key']) {
    await mc.put(key, pattern(3, 10));
    assert.ok(equalBytes(await mc.get(key), pattern(3, 10)), JSON.stringify(key));
  }
  await mc.close();
});

test('batch calls: each bad key is its own MMC_INVALID_PARAM, the other items go ahead', async () => {
  const mc = await openSmall();
  const bad = BAD.map(([, k]) => k);
  assert.equal(await mc.batchPut([['ok1', pattern(1, 5)], [bad[0], pattern(2, 5)], ['ok2', pattern(3, 5)], [bad[4], pattern(4, 5)]]),
    [0, -3000, 0, -3000]);
  assert.equal((await mc.keys()).sort(), ['ok1', 'ok2']);
  const { codes, values } = await mc.batchGetCodes(['ok1', bad[1], 'ok2', bad[5]]);
  assert.equal(codes, [0, -3000, 0, -3000]);
  assert.ok(equalBytes(values[0], pattern(1, 5)) && equalBytes(values[2], pattern(3, 5)));
  assert.equal(await mc.batchExists([bad[2], 'ok1']), [false, true]);
  assert.equal((await mc.batchQuery([bad[3], 'ok2'])).map((q) => q.valid), [false, true]);
  assert.equal(await mc.batchRemove([bad[6], 'ok1']), [-3000, 0]);
  const writers = await mc.batchAlloc([[bad[0], 5], ['w', 5]]);
  assert.is(writers[0].code, -3000);
  await writers[1].write(pattern(5, 5));
  assert.equal(await mc.batchUpdateState([bad[4], 'w'], 'write_ok'), [-3000, 0]);
  assert.equal((await mc.keys()).sort(), ['ok2', 'w']);
  await mc.close();
});

test.run();
