// The ACL backend through the real native addon, against a stand-in libascendcl.so built from
// test/fixtures/ascendcl/standin.c (no Ascend hardware here). The stand-in's device pointers are
// non-canonical addresses whose bytes only its aclrtMemcpy reaches, and it refuses copies whose
// kind does not match where the pointers are, or that run on a thread without the device's
// context: a backend that touches device memory from the host, or picks the wrong kind, fails.
// Without the addon (no compiler at install time) these tests are skipped with one line, or fail
// when CI is set (test/helpers/tools.js).
import { test as uvuTest } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomFillSync } from 'node:crypto';
import { MmcError, MMC } from '../../dist/errors.js';
import { createAclBackend, aclUnavailableReason, aclAddonStats, aclLibraryCandidates } from '../../dist/device/acl.js';
import { needTool } from '../helpers/tools.js';

const FIXTURE = fileURLToPath(new URL('../fixtures/ascendcl/', import.meta.url));
const BUILT = join(FIXTURE, 'build');
const LIB = join(BUILT, 'full', 'libascendcl.so');
const LIB_NO_MEMCPY = join(BUILT, 'missing-symbol', 'libascendcl.so');
const MiB = 1024 * 1024;
const tmp = mkdtempSync(join(tmpdir(), 'mmc-acl-test-'));
const STANDIN_ENV = [
  'STANDIN_ACL_FAIL_MEMCPY_BYTES',
  'STANDIN_ACL_MEMCPY_SLEEP_MS',
  'STANDIN_ACL_HBM_BYTES',
  'STANDIN_ACL_DEVICE_COUNT',
  'STANDIN_ACL_REPORT',
];

const unavailable = aclUnavailableReason();
const test = needTool(uvuTest, 'the native ACL addon build/Release/mmc_acl.node',
  'npm install builds it where python3, make and a C++ compiler are installed', import.meta.url, !unavailable);

function buildStandin() {
  const fresh = (f) => existsSync(f) && statSync(f).mtimeMs >= statSync(join(FIXTURE, 'standin.c')).mtimeMs;
  if (fresh(LIB) && fresh(LIB_NO_MEMCPY)) return;
  execFileSync('sh', [join(FIXTURE, 'build.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
}

function bytes(n, seed = n) {
  const b = Buffer.alloc(n);
  randomFillSync(b);
  if (n > 0) b[0] = seed & 0xff;
  return b;
}

let reportSeq = 0;
/** Point the stand-in's finalize report at a fresh file; returns a reader (undefined if not written). */
function armReport() {
  const file = join(tmp, `report-${++reportSeq}.json`);
  process.env.STANDIN_ACL_REPORT = file;
  return () => (existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : undefined);
}

async function rejects(p, check) {
  try {
    await p;
  } catch (err) {
    check(err);
    return;
  }
  assert.unreachable('expected a rejection');
}

function throwsSync(fn, check) {
  try {
    fn();
  } catch (err) {
    check(err);
    return;
  }
  assert.unreachable('expected a throw');
}

test.before(() => {
  if (!unavailable) buildStandin();
});

test.after.each(() => {
  for (const k of STANDIN_ENV) delete process.env[k];
  delete process.env.MMC_ACL_LIBRARY;
});

test.after(() => {
  rmSync(tmp, { recursive: true, force: true });
});

if (unavailable) {
  // No addon (no compiler at install time): the backend says why instead of crashing.
  uvuTest('acl: without the addon, createAclBackend rejects and says why', async () => {
    await rejects(createAclBackend({}), (err) => {
      assert.instance(err, MmcError);
      assert.match(err.message, 'acl backend unavailable');
      assert.match(err.message, unavailable);
    });
  });
}
{
  test('acl: round trips on HBM and DRAM segments of several ranks', async () => {
    const read = armReport();
    const b = await createAclBackend({ aclLibrary: LIB });
    assert.is(b.name, 'acl');
    const segs = [];
    for (let rank = 0; rank < 4; rank++) {
      segs.push(b.open(rank, 'hbm', 8 * MiB));
      segs.push(b.open(rank, 'dram', 8 * MiB));
    }
    for (const s of segs) {
      assert.is(s.bytes, 8 * MiB);
      // sizes below and above the async threshold; odd offsets
      for (const [size, offset] of [[1, 0], [4096, 4096], [12345, 77777], [200_000, MiB + 3], [3 * MiB, 5 * MiB - 1]]) {
        const src = bytes(size, s.rank * 16 + size);
        const w = b.write(s, offset, src);
        if (size < 64 * 1024) assert.is(w, undefined, 'small writes complete inline');
        else assert.instance(w, Promise, 'big writes return a Promise');
        await w;
        const dst = Buffer.alloc(size);
        await b.read(s, offset, dst);
        assert.ok(dst.equals(src), `${s.rank}/${s.medium} ${size}@${offset}`);
      }
    }
    // a Uint8Array view into a bigger buffer (byteOffset != 0) round-trips too
    const backing = bytes(1000);
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 100, 500);
    b.write(segs[0], 10, view);
    const back = new Uint8Array(500);
    b.read(segs[0], 10, back);
    assert.equal(Buffer.from(back), Buffer.from(view));
    await b.close();
    const r = read();
    assert.ok(r, 'aclFinalize ran');
    assert.is(r.memcpyFailed, 0);
    assert.ok(r.memcpyKinds[0] > 0 && r.memcpyKinds[1] > 0 && r.memcpyKinds[2] > 0, 'H2H, H2D and D2H used');
  });

  test('acl: copies between segments (demotion, promotion, same and cross device)', async () => {
    const read = armReport();
    const b = await createAclBackend({ aclLibrary: LIB });
    const h0 = b.open(0, 'hbm', 4 * MiB);
    const h0b = b.open(0, 'hbm', 4 * MiB);
    const h0c = b.open(0, 'hbm', 4 * MiB);
    const h1 = b.open(1, 'hbm', 4 * MiB);
    const d0 = b.open(0, 'dram', 4 * MiB);
    const d1 = b.open(1, 'dram', 4 * MiB);
    for (const size of [100, 3 * MiB]) {
      const src = bytes(size);
      await b.write(h0, 1, src);
      const chain = [
        [h0, 1, d1, 7], // demotion HBM -> DRAM (another rank's DRAM)
        [d1, 7, d0, 9], // DRAM -> DRAM
        [d0, 9, h1, 11], // promotion DRAM -> HBM
        [h1, 11, h0b, 13], // HBM -> HBM across devices
        [h0b, 13, h0c, 200], // HBM -> HBM same device
      ];
      for (const [s, so, d, doff] of chain) {
        await b.copy(s, so, d, doff, size);
        const out = Buffer.alloc(size);
        await b.read(d, doff, out);
        assert.ok(out.equals(src), `copy ${s.rank}/${s.medium} -> ${d.rank}/${d.medium} (${size})`);
      }
    }
    await b.close();
    const r = read();
    assert.is(r.memcpyFailed, 0);
    assert.ok(r.memcpyKinds[3] > 0, 'device-to-device used within a device');
  });

  test('acl: devices maps ranks to device ids', async () => {
    process.env.STANDIN_ACL_DEVICE_COUNT = '4';
    const b = await createAclBackend({ aclLibrary: LIB, devices: [3, 2] });
    const s0 = b.open(0, 'hbm', MiB); // device 3
    const s1 = b.open(1, 'dram', MiB); // device 2
    const s3 = b.open(3, 'hbm', MiB); // no entry: device 3
    assert.is(s0.device, 3);
    assert.is(s1.device, 2);
    assert.is(s3.device, 3);
    const src = bytes(5000);
    b.write(s0, 0, src);
    b.copy(s0, 0, s1, 0, 5000);
    const out = Buffer.alloc(5000);
    b.read(s1, 0, out);
    assert.ok(out.equals(src));
    // rank 4 -> device 4 does not exist on this 4-device host: the ACL error surfaces
    throwsSync(
      () => b.open(4, 'hbm', MiB),
      (err) => {
        assert.instance(err, MmcError);
        assert.is(err.detail.aclFunction, 'aclrtSetDevice');
        assert.is(err.detail.aclError, 107001);
        assert.match(err.detail.aclMessage, 'invalid device id 4');
        assert.match(err.message, 'rank-4-hbm');
      },
    );
    await b.close();
    await rejects(createAclBackend({ aclLibrary: LIB, devices: [0, -1] }), (err) => {
      assert.is(err.code, MMC.MMC_INVALID_PARAM);
    });
  });

  test('acl: an injected copy failure is an MmcError with the ACL code and message; nothing changes', async () => {
    const read = armReport();
    const b = await createAclBackend({ aclLibrary: LIB });
    const h = b.open(0, 'hbm', 4 * MiB);
    const d = b.open(0, 'dram', 4 * MiB);
    const before = bytes(300_000);
    await b.write(h, 0, before);
    process.env.STANDIN_ACL_FAIL_MEMCPY_BYTES = '12345';
    // inline (small) write
    throwsSync(
      () => b.write(h, 0, bytes(12345)),
      (err) => {
        assert.instance(err, MmcError);
        assert.is(err.code, MMC.MMC_ERROR);
        assert.is(err.detail.aclError, 507899);
        assert.is(err.detail.aclFunction, 'aclrtMemcpy');
        assert.match(err.detail.aclMessage, 'injected failure');
        assert.match(err.message, '507899');
      },
    );
    // on the pool (big) write, read and copy
    process.env.STANDIN_ACL_FAIL_MEMCPY_BYTES = '200000';
    for (const op of [
      () => b.write(h, 0, bytes(200_000)),
      () => b.read(h, 0, Buffer.alloc(200_000)),
      () => b.copy(h, 0, d, 0, 200_000),
    ]) {
      const p = op();
      assert.instance(p, Promise);
      await rejects(p, (err) => {
        assert.instance(err, MmcError);
        assert.is(err.detail.aclError, 507899);
        assert.match(err.detail.aclMessage, 'injected failure');
      });
    }
    delete process.env.STANDIN_ACL_FAIL_MEMCPY_BYTES;
    const now = Buffer.alloc(300_000);
    await b.read(h, 0, now);
    assert.ok(now.equals(before), 'failed writes changed nothing');
    // the backend keeps working
    const again = bytes(200_000);
    await b.write(h, 0, again);
    await b.read(h, 0, now.subarray(0, 200_000));
    assert.ok(now.subarray(0, 200_000).equals(again));
    await b.close();
    assert.is(read().liveDeviceAllocs, 0);
  });

  test('acl: bad arguments are MMC_INVALID_PARAM', async () => {
    const b = await createAclBackend({ aclLibrary: LIB });
    const other = await createAclBackend({ aclLibrary: LIB });
    const s = b.open(0, 'hbm', MiB);
    const foreign = other.open(0, 'hbm', MiB);
    const bad = [
      () => b.open(-1, 'hbm', MiB),
      () => b.open(0, 'ssd', MiB),
      () => b.open(0, 'hbm', 0),
      () => b.open(0, 'hbm', 1.5),
      () => b.write(s, MiB - 10, Buffer.alloc(11)),
      () => b.write(s, -1, Buffer.alloc(1)),
      () => b.read(s, MiB, Buffer.alloc(1)),
      () => b.copy(s, 0, s, MiB - 1, 2),
      () => b.write(foreign, 0, Buffer.alloc(1)),
      () => b.write(s, 0, 'text'),
    ];
    for (const fn of bad) throwsSync(fn, (err) => assert.is(err.code, MMC.MMC_INVALID_PARAM, err.message));
    await b.release(s);
    throwsSync(() => b.read(s, 0, Buffer.alloc(1)), (err) => assert.match(err.message, 'released'));
    await b.close();
    await other.close();
    throwsSync(() => b.open(0, 'hbm', MiB), (err) => assert.is(err.code, MMC.MMC_NOT_INITIALIZED));
  });

  test('acl: out of HBM is MMC_MALLOC_FAILED with the ACL code', async () => {
    process.env.STANDIN_ACL_HBM_BYTES = String(16 * MiB);
    const b = await createAclBackend({ aclLibrary: LIB });
    b.open(0, 'hbm', 10 * MiB);
    throwsSync(
      () => b.open(0, 'hbm', 10 * MiB),
      (err) => {
        assert.is(err.code, MMC.MMC_MALLOC_FAILED);
        assert.is(err.detail.aclFunction, 'aclrtMalloc');
        assert.is(err.detail.aclError, 207001);
      },
    );
    b.open(1, 'hbm', 10 * MiB); // another device has its own HBM
    await b.close();
  });

  test('acl: a missing library rejects naming libascendcl.so and every place searched', async () => {
    const missing = join(tmp, 'nowhere', 'libascendcl.so');
    process.env.ASCEND_HOME_PATH_SAVED = process.env.ASCEND_HOME_PATH ?? '';
    process.env.ASCEND_HOME_PATH = join(tmp, 'no-ascend-home');
    process.env.MMC_ACL_LIBRARY = missing;
    try {
      await rejects(createAclBackend({}), (err) => {
        assert.instance(err, MmcError);
        assert.match(err.message, 'cannot load libascendcl.so');
        assert.match(err.message, missing);
        assert.match(err.message, 'default linker path');
        assert.match(err.message, join(tmp, 'no-ascend-home', 'runtime', 'lib64', 'libascendcl.so'));
        assert.match(err.message, '$ASCEND_TOOLKIT_HOME/runtime/lib64');
        assert.match(err.message, '/usr/local/Ascend/ascend-toolkit/latest/runtime/lib64');
        assert.is(err.detail.reason, 'library-not-found');
        assert.is(err.detail.searched.length, 5);
        assert.match(err.detail.searched[0], `env MMC_ACL_LIBRARY: ${missing}`);
      });
    } finally {
      if (process.env.ASCEND_HOME_PATH_SAVED) process.env.ASCEND_HOME_PATH = process.env.ASCEND_HOME_PATH_SAVED;
      else delete process.env.ASCEND_HOME_PATH;
      delete process.env.ASCEND_HOME_PATH_SAVED;
    }
    assert.is(aclAddonStats().initRefs, 0);
  });

  test('acl: the search order finds the library through MMC_ACL_LIBRARY and $ASCEND_HOME_PATH', async () => {
    process.env.MMC_ACL_LIBRARY = LIB;
    let b = await createAclBackend({});
    assert.is(b.library, LIB);
    await b.close();
    delete process.env.MMC_ACL_LIBRARY;
    const home = join(tmp, 'ascend-home');
    mkdirSync(join(home, 'runtime', 'lib64'), { recursive: true });
    symlinkSync(LIB, join(home, 'runtime', 'lib64', 'libascendcl.so'));
    const saved = process.env.ASCEND_HOME_PATH;
    process.env.ASCEND_HOME_PATH = home;
    try {
      b = await createAclBackend({});
      assert.is(b.library, join(home, 'runtime', 'lib64', 'libascendcl.so'));
      const s = b.open(0, 'dram', 4096);
      b.write(s, 0, Buffer.from('x'));
      await b.close();
    } finally {
      if (saved === undefined) delete process.env.ASCEND_HOME_PATH;
      else process.env.ASCEND_HOME_PATH = saved;
    }
    // a folder works as aclLibrary too
    b = await createAclBackend({ aclLibrary: join(BUILT, 'full') });
    assert.is(b.library, LIB);
    await b.close();
    const env = { MMC_ACL_LIBRARY: '/env/libascendcl.so', ASCEND_TOOLKIT_HOME: '/tk' };
    assert.equal(
      aclLibraryCandidates(undefined, env).map((c) => c.path),
      ['/env/libascendcl.so', 'libascendcl.so', undefined, '/tk/runtime/lib64/libascendcl.so', '/usr/local/Ascend/ascend-toolkit/latest/runtime/lib64/libascendcl.so'],
    );
    // an explicit aclLibrary is the only place tried
    assert.equal(aclLibraryCandidates('/opt/x/libascendcl.so', env).map((c) => c.path), ['/opt/x/libascendcl.so']);
  });

  // An explicit aclLibrary that cannot be loaded fails naming it, even when MMC_ACL_LIBRARY (or a
  // default place) holds a good library: another library must never be opened in its stead.
  const notALibrary = () => {
    const f = join(tmp, 'not-a-library.so');
    writeFileSync(f, 'this is text, not an ELF shared object\n');
    return f;
  };
  const badExplicit = () => [join(tmp, 'nowhere', 'libascendcl.so'), join(tmp, 'empty-dir'), notALibrary()];

  test('acl: an explicit aclLibrary that cannot be loaded fails naming it, whatever MMC_ACL_LIBRARY says', async () => {
    mkdirSync(join(tmp, 'empty-dir'), { recursive: true });
    process.env.MMC_ACL_LIBRARY = LIB; // good: the old search would have opened it
    const home = join(tmp, 'ascend-home-good');
    mkdirSync(join(home, 'runtime', 'lib64'), { recursive: true });
    symlinkSync(LIB, join(home, 'runtime', 'lib64', 'libascendcl.so'));
    const saved = process.env.ASCEND_HOME_PATH;
    process.env.ASCEND_HOME_PATH = home;
    try {
      for (const bad of badExplicit()) {
        const shown = bad.endsWith('empty-dir') ? join(bad, 'libascendcl.so') : bad;
        await rejects(createAclBackend({ aclLibrary: bad }), (err) => {
          assert.instance(err, MmcError);
          assert.is(err.code, MMC.MMC_ERROR);
          assert.match(err.message, `cannot load libascendcl.so from aclLibrary ${shown}`);
          assert.not.match(err.message, LIB, 'the good library is not mentioned');
          assert.not.match(err.message, home);
          assert.is(err.detail.reason, 'library-not-found');
          assert.is(err.detail.library, shown);
        });
        assert.is(aclAddonStats().initRefs, 0, 'nothing initialized');
        assert.is(aclAddonStats().library, null, `no library loaded in place of ${bad}`);
      }
      // the same env still serves a store that names no library
      const b = await createAclBackend({});
      assert.is(b.library, LIB);
      await b.close();
    } finally {
      if (saved === undefined) delete process.env.ASCEND_HOME_PATH;
      else process.env.ASCEND_HOME_PATH = saved;
    }
  });

  test('acl: a library missing a symbol rejects naming the symbol and the library', async () => {
    await rejects(createAclBackend({ aclLibrary: LIB_NO_MEMCPY }), (err) => {
      assert.instance(err, MmcError);
      assert.match(err.message, 'aclrtMemcpy');
      assert.match(err.message, LIB_NO_MEMCPY);
      assert.match(err.message, 'libascendcl.so');
      assert.is(err.detail.reason, 'missing-symbol');
      assert.is(err.detail.symbol, 'aclrtMemcpy');
    });
    // and the good one still loads afterwards
    const b = await createAclBackend({ aclLibrary: LIB });
    await b.close();
  });

  test('acl: close frees every allocation, resets devices, finalizes after the last backend', async () => {
    const read = armReport();
    const b1 = await createAclBackend({ aclLibrary: LIB });
    const b2 = await createAclBackend({ aclLibrary: LIB });
    for (let rank = 0; rank < 3; rank++) {
      b1.open(rank, 'hbm', 2 * MiB);
      b1.open(rank, 'dram', 3 * MiB);
    }
    const gone = b1.open(0, 'hbm', MiB);
    await b1.release(gone);
    b2.open(0, 'hbm', MiB);
    assert.is(b1.openSegments(), 6);
    assert.is(aclAddonStats().allocations, 7);
    await b1.close();
    assert.is(b1.openSegments(), 0);
    assert.is(aclAddonStats().allocations, 1);
    assert.is(read(), undefined, 'no aclFinalize while another backend is open');
    await b2.close();
    await b2.close(); // idempotent
    const r = read();
    assert.ok(r, 'aclFinalize after the last close');
    assert.is(r.init, r.finalize, 'one aclFinalize per aclInit (counted since the library loaded)');
    assert.is(r.liveDeviceAllocs, 0);
    assert.is(r.liveDeviceBytes, 0);
    assert.is(r.liveHostAllocs, 0);
    assert.is(r.openDevices, 0);
    assert.is(r.malloc, r.free);
    assert.is(r.mallocHost, r.freeHost);
    assert.is(r.setDevice, r.resetDevice);
    assert.equal(aclAddonStats().allocations, 0);
    assert.is(aclAddonStats().initRefs, 0);
  });

  test('acl: large copies run off the main thread; the event loop keeps answering a timer', async () => {
    const read = armReport();
    process.env.STANDIN_ACL_MEMCPY_SLEEP_MS = '300'; // a slow 300 ms DMA per copy of >= 1 MiB
    const b = await createAclBackend({ aclLibrary: LIB });
    const h = b.open(0, 'hbm', 8 * MiB);
    const src = bytes(4 * MiB);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 10);
    const t0 = Date.now();
    try {
      const p = b.write(h, 0, src);
      assert.instance(p, Promise);
      assert.is(ticks, 0);
      await p;
      const during = ticks;
      assert.ok(Date.now() - t0 >= 250, 'the copy did take its time');
      assert.ok(during >= 10, `timer ticked ${during} times during a 300 ms copy`);
      // a read and a copy of the same size likewise
      ticks = 0;
      const out = Buffer.alloc(4 * MiB);
      const d = b.open(0, 'dram', 8 * MiB);
      await Promise.all([b.read(h, 0, out), b.copy(h, 0, d, 0, 4 * MiB)]);
      assert.ok(ticks >= 10, `timer ticked ${ticks} times during concurrent copies`);
      assert.ok(out.equals(src));
      // close while a copy is in flight waits for it, then frees everything
      const late = b.write(h, 4 * MiB, src);
      const closing = b.close();
      assert.instance(closing, Promise);
      await late;
      await closing;
    } finally {
      clearInterval(timer);
    }
    const r = read();
    assert.ok(r.memcpyOffThread >= 4, `${r.memcpyOffThread} copies ran off the main thread`);
    assert.is(r.liveDeviceAllocs + r.liveHostAllocs, 0);
  });

  test('acl: release waits for copies in flight on the segment', async () => {
    process.env.STANDIN_ACL_MEMCPY_SLEEP_MS = '100';
    const b = await createAclBackend({ aclLibrary: LIB });
    const h = b.open(0, 'hbm', 2 * MiB);
    const w = b.write(h, 0, bytes(MiB));
    const rel = b.release(h);
    assert.instance(rel, Promise);
    await w;
    await rel;
    assert.is(b.openSegments(), 0);
    await b.close();
  });

  // ---------------------------------------------------------------------------------------------
  // Through the store: MemCache.open({ backend: 'acl' }).
  const { MemCache } = await import('../../dist/index.js');
  {
    test('acl store: open with a missing library rejects naming libascendcl.so and the places searched', async () => {
      const missing = join(tmp, 'nowhere', 'libascendcl.so');
      process.env.MMC_ACL_LIBRARY = missing;
      await rejects(MemCache.open({ backend: 'acl', segments: [{ rank: 0, medium: 'hbm', bytes: MiB }] }), (err) => {
        assert.instance(err, MmcError);
        assert.match(err.message, 'cannot load libascendcl.so');
        assert.match(err.message, missing);
        assert.match(err.message, '/usr/local/Ascend/ascend-toolkit/latest/runtime/lib64');
      });
      assert.is(aclAddonStats().initRefs, 0);
    });

    test('acl store: an explicit aclLibrary that cannot be loaded fails naming it; MMC_ACL_LIBRARY is not used', async () => {
      process.env.MMC_ACL_LIBRARY = LIB;
      for (const bad of badExplicit()) {
        const shown = bad.endsWith('empty-dir') ? join(bad, 'libascendcl.so') : bad;
        await rejects(MemCache.open({ backend: 'acl', aclLibrary: bad, segments: [{ rank: 0, medium: 'hbm', bytes: MiB }] }), (err) => {
          assert.instance(err, MmcError);
          assert.match(err.message, `aclLibrary ${shown}`);
          assert.not.match(err.message, LIB);
        });
        assert.is(aclAddonStats().initRefs, 0);
      }
    });

    test('acl serve: --acl-library that cannot be loaded fails naming it, exit code 1, MMC_ACL_LIBRARY set or not', async () => {
      const mmc = fileURLToPath(new URL('../../bin/mmc.js', import.meta.url));
      const bad = join(tmp, 'nowhere', 'libascendcl.so');
      for (const env of [{ MMC_ACL_LIBRARY: LIB }, {}]) {
        const out = await new Promise((resolve) => {
          const childEnv = { ...process.env, ...env };
          if (!env.MMC_ACL_LIBRARY) delete childEnv.MMC_ACL_LIBRARY;
          const p = spawn(process.execPath, [mmc, 'serve', '--backend', 'acl', '--acl-library', bad, '--hbm', '1MB', '--dram', '1MB', '--listen', '127.0.0.1:0'],
            { stdio: ['ignore', 'pipe', 'pipe'], env: childEnv });
          let err = '';
          p.stderr.on('data', (c) => { err += c; });
          // a server that did start (another library opened) is stopped, and the test fails
          const stop = setTimeout(() => p.kill('SIGKILL'), 10_000);
          p.once('exit', (code) => { clearTimeout(stop); resolve({ code, err }); });
        });
        assert.is(out.code, 1, out.err);
        assert.match(out.err, `cannot load libascendcl.so from aclLibrary ${bad}`);
        assert.not.match(out.err, 'serving on');
        assert.not.match(out.err, LIB, 'the good library is not mentioned');
      }
    });

    const used = (store, medium) =>
      store
        .segments()
        .filter((s) => s.medium === medium)
        .reduce((n, s) => n + s.usedBytes, 0);

    test('acl store: put/get round trips on HBM and DRAM of two ranks; segments report real sizes', async () => {
      const read = armReport();
      const store = await MemCache.open({
        backend: 'acl',
        aclLibrary: LIB,
        segments: [
          { rank: 0, medium: 'hbm', bytes: '16MB' },
          { rank: 0, medium: 'dram', bytes: '32MB' },
          { rank: 1, medium: 'hbm', bytes: 8 * MiB },
          { rank: 1, medium: 'dram', bytes: 8 * MiB },
        ],
      });
      try {
        const segs = store.segments();
        const total = (rank, medium) => segs.find((s) => s.rank === rank && s.medium === medium)?.totalBytes;
        assert.is(total(0, 'HBM'), 16 * MiB);
        assert.is(total(0, 'DRAM'), 32 * MiB);
        assert.is(total(1, 'HBM'), 8 * MiB);
        assert.is(total(1, 'DRAM'), 8 * MiB);
        const values = new Map();
        let i = 0;
        for (const size of [1, 100, 4096, 70_000, 300_000, 2 * MiB]) {
          for (const [medium, preferredRank] of [['hbm', 0], ['dram', 0], ['hbm', 1], ['dram', 1]]) {
            const key = `k-${i++}-${medium}-${preferredRank}-${size}`;
            const v = bytes(size, i);
            await store.put(key, v, { medium, preferredRank });
            values.set(key, v);
            const q = await store.query(key);
            assert.is(q.blobs[0].medium, medium.toUpperCase());
            assert.is(q.blobs[0].rank, preferredRank);
          }
        }
        for (const [key, v] of values) {
          const got = await store.get(key);
          assert.ok(got && Buffer.from(got).equals(v), key);
        }
        // replicas on both ranks
        const v = bytes(50_000);
        await store.put('replicated', v, { replicas: 2 });
        assert.is((await store.query('replicated')).numBlobs, 2);
        assert.ok(Buffer.from(await store.get('replicated')).equals(v));
      } finally {
        await store.close();
      }
      const r = read();
      assert.ok(r, 'aclFinalize after the store closed');
      assert.is(r.liveDeviceAllocs + r.liveHostAllocs, 0, 'close freed every segment');
      assert.is(r.memcpyFailed, 0);
    });

    test('acl store: HBM under pressure demotes to DRAM; every value reads back byte-exact', async () => {
      const read = armReport();
      const store = await MemCache.open({
        backend: 'acl',
        aclLibrary: LIB,
        segments: [
          { rank: 0, medium: 'hbm', bytes: 8 * MiB },
          { rank: 0, medium: 'dram', bytes: 64 * MiB },
        ],
      });
      const values = new Map();
      const media = [];
      try {
        for (let i = 0; i < 24; i++) {
          const v = bytes(MiB - 1000 * i, i);
          values.set(`block-${i}`, v);
          await store.put(`block-${i}`, v, { medium: 'hbm' }); // HBM asked: LRU victims are demoted
        }
        for (const [key, v] of values) {
          const q = await store.query(key);
          assert.ok(q, `${key} is still stored`);
          media.push(q.blobs[0].medium);
          const got = await store.get(key);
          assert.ok(got && Buffer.from(got).equals(v), `${key} byte-exact`);
        }
        assert.ok(media.includes('DRAM'), 'some values were demoted to DRAM');
        assert.ok(media.includes('HBM'), 'recent values stay in HBM');
        assert.ok(used(store, 'HBM') <= 8 * MiB);
      } finally {
        await store.close();
      }
      const r = read();
      // device-to-host copies = gets of HBM-resident values + demotions
      const inHbm = media.filter((m) => m === 'HBM').length;
      const inDram = media.length - inHbm;
      assert.ok(r.memcpyKinds[2] - inHbm >= inDram, `each of ${inDram} DRAM values was demoted device-to-host`);
      assert.is(r.liveDeviceAllocs + r.liveHostAllocs, 0);
    });

    test('acl store: an injected copy failure rejects put with MmcError; key absent, space freed', async () => {
      const store = await MemCache.open({
        backend: 'acl',
        aclLibrary: LIB,
        segments: [
          { rank: 0, medium: 'hbm', bytes: 8 * MiB },
          { rank: 0, medium: 'dram', bytes: 8 * MiB },
        ],
      });
      try {
        await store.put('keep', bytes(5000));
        for (const size of [12345, 300_000]) {
          const hbmBefore = used(store, 'HBM');
          const dramBefore = used(store, 'DRAM');
          process.env.STANDIN_ACL_FAIL_MEMCPY_BYTES = String(size);
          for (const medium of ['hbm', 'dram']) {
            const key = `bad-${size}-${medium}`;
            await rejects(Promise.resolve().then(() => store.put(key, bytes(size), { medium })), (err) => {
              assert.instance(err, MmcError);
              assert.is(err.detail?.aclError ?? err.cause?.detail?.aclError, 507899, err.message);
            });
            assert.is(await store.exists(key), false, `${key} absent`);
            assert.is(await store.get(key), undefined);
            assert.is(used(store, 'HBM'), hbmBefore, 'HBM space freed');
            assert.is(used(store, 'DRAM'), dramBefore, 'DRAM space freed');
          }
          delete process.env.STANDIN_ACL_FAIL_MEMCPY_BYTES;
          const v = bytes(size);
          await store.put(`bad-${size}-hbm`, v);
          assert.ok(Buffer.from(await store.get(`bad-${size}-hbm`)).equals(v), 'the key can be stored afterwards');
        }
        assert.is(await store.exists('keep'), true, 'the store is intact');
      } finally {
        await store.close();
      }
    });
  }
}

test.run();
