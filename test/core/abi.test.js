// The ABI shared by the store and the core (assembly/abi.ts): the loader's table against both
// builds, and a table or a core that disagree refused with an error naming the mismatch.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadCore } from '../helpers/core.js';
import { ABI, checkAbi, OPS, TRACEPOINTS, STATS_TP_BASE, STATS_TP_FIELDS } from '../../dist/store/core.js';
import { MMC, MmcError } from '../../dist/errors.js';

const builds = { debug: loadCore('debug'), release: loadCore('release') };

/** The exported globals of a core, name -> value. */
function globals(x) {
  return Object.fromEntries(
    Object.entries(x).filter(([, v]) => typeof v === 'object' && v !== null && typeof v.value === 'number').map(([k, v]) => [k, v.value]),
  );
}

function refusal(f) {
  try {
    f();
  } catch (e) {
    assert.instance(e, MmcError);
    assert.is(e.code, MMC.MMC_NOT_INITIALIZED);
    return e.message;
  }
  assert.unreachable('the ABI check passed');
}

for (const [which, x] of Object.entries(builds)) {
  test(`${which} build: matches the loader's ABI`, () => {
    checkAbi(x);
  });

  test(`${which} build: every constant it exports is checked by the loader`, () => {
    const unchecked = Object.keys(globals(x)).filter((n) => !(n in ABI) && !n.startsWith('MMC_') && n !== 'RA_NONE');
    assert.equal(unchecked, []);
    for (const [name, value] of Object.entries(globals(x))) {
      if (name.startsWith('MMC_')) assert.is(value, MMC[name], name);
    }
  });

  test(`${which} build: OUT and the list area lie where the ABI says`, () => {
    const scratch = x.core_init(12, 2000, 30000, 90, 80, 0);
    assert.is(x.out_ptr() - scratch, ABI.ABI_OUT_OFFSET);
    assert.is(x.list_ptr() - scratch, ABI.ABI_LIST_OFFSET);
    assert.is(ABI.ABI_OUT_SLOTS * 8, ABI.ABI_LIST_OFFSET - ABI.ABI_OUT_OFFSET);
  });
}

test('the op and tracepoint numbers follow the contract order of OPS and TRACEPOINTS', () => {
  const g = globals(builds.release);
  assert.is(g.OP_ALLOC, OPS.indexOf('alloc'));
  assert.is(g.OP_BATCH_EXIST_KEY, OPS.indexOf('batch_exist_key'));
  assert.is(g.TP_EVICT, TRACEPOINTS.indexOf('TP_MMC_META_EVICT'));
  assert.is(g.ABI_STATS_TP_BASE, STATS_TP_BASE);
  assert.is(g.ABI_STATS_TP_FIELDS, STATS_TP_FIELDS);
});

test('a wrong expectation of a layout constant is refused, naming it and both values', () => {
  const msg = refusal(() => checkAbi(builds.release, { ...ABI, ABI_STATS_TP_FIELDS: 7 }));
  assert.match(msg, 'ABI_STATS_TP_FIELDS is 6 in the core, 7 here');
  assert.match(msg, 'npm run build');
  assert.not.match(msg, 'ABI_OUT_SLOTS');
});

test('a constant the core does not export is refused as missing', () => {
  const msg = refusal(() => checkAbi(builds.debug, { ...ABI, OP_FLUSH: 16 }));
  assert.match(msg, 'OP_FLUSH is missing in the core, 16 here');
});

test('every mismatch is named, not only the first', () => {
  const msg = refusal(() => checkAbi(builds.release, { ...ABI, ABI_MAX_KEY_BYTES: 2048, IN_BATCH: 8 }));
  assert.match(msg, 'ABI_MAX_KEY_BYTES is 1024 in the core, 2048 here');
  assert.match(msg, 'IN_BATCH is 4 in the core, 8 here');
});

test('a core whose MMC code differs from errors.ts, or that has one errors.ts lacks, is refused', () => {
  const tampered = { ...builds.release, MMC_TIMEOUT: { value: -3005 } };
  assert.match(refusal(() => checkAbi(tampered)), 'MMC_TIMEOUT is -3005 in the core, -3004 here');
  const extra = { ...builds.release, MMC_NEW_CODE: { value: -3999 } };
  assert.match(refusal(() => checkAbi(extra)), 'MMC_NEW_CODE is -3999 in the core, unknown here');
});

test('a core with a renumbered op is refused', () => {
  const tampered = { ...builds.release, OP_GET: { value: 3 } };
  assert.match(refusal(() => checkAbi(tampered)), 'OP_GET is 3 in the core, 2 here');
});

test.run();
