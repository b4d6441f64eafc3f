import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { createSimBackend } from '../../dist/device/sim.js';
import { createBackend } from '../../dist/device/index.js';
import { aclUnavailableReason } from '../../dist/device/acl.js';
import { MMC, MmcError } from '../../dist/errors.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const TiB = 1024 * 1024 * MiB;

function pattern(n, seed = 1) {
  const a = new Uint8Array(n);
  for (let i = 0; i < n; i++) a[i] = (i * 31 + seed * 7 + 1) & 0xff;
  return a;
}

function throwsMmc(fn, code, re) {
  try {
    fn();
  } catch (err) {
    assert.instance(err, MmcError, `expected MmcError, got ${err}`);
    assert.is(err.code, code, `code of: ${err.message}`);
    if (re) assert.match(err.message, re);
    return err;
  }
  assert.unreachable('expected a throw');
}

test('name, open and segment fields', () => {
  const b = createSimBackend();
  assert.is(b.name, 'sim');
  const s = b.open(3, 'dram', 10000);
  assert.is(s.rank, 3);
  assert.is(s.medium, 'dram');
  assert.is(s.bytes, 10000);
  assert.is(b.openSegments(), 1);
  assert.is(b.residentBytes(), 0);
  b.close();
});

test('open refuses bad arguments', () => {
  const b = createSimBackend();
  throwsMmc(() => b.open(-1, 'hbm', 10), MMC.MMC_INVALID_PARAM, /rank/);
  throwsMmc(() => b.open(0, 'ssd', 10), MMC.MMC_INVALID_PARAM, /medium/);
  throwsMmc(() => b.open(0, 'hbm', 0), MMC.MMC_INVALID_PARAM, /bytes/);
  throwsMmc(() => b.open(0, 'hbm', 1.5), MMC.MMC_INVALID_PARAM, /bytes/);
  throwsMmc(() => createSimBackend({ chunkBytes: 0 }), MMC.MMC_INVALID_PARAM, /chunkBytes/);
  throwsMmc(() => createSimBackend({ failWrite: 0 }), MMC.MMC_INVALID_PARAM, /failWrite/);
});

test('data calls are synchronous (return undefined)', () => {
  const b = createSimBackend();
  const s = b.open(0, 'hbm', MiB);
  const d = b.open(0, 'dram', MiB);
  assert.is(b.write(s, 0, pattern(4096)), undefined);
  assert.is(b.read(s, 0, new Uint8Array(4096)), undefined);
  assert.is(b.copy(s, 0, d, 0, 4096), undefined);
  assert.is(b.release(d), undefined);
  assert.is(b.close(), undefined);
});

test('4 KiB round trip within one chunk', () => {
  const b = createSimBackend();
  const s = b.open(0, 'hbm', 16 * MiB);
  const src = pattern(4096, 5);
  b.write(s, 8192, src);
  const dst = new Uint8Array(4096);
  b.read(s, 8192, dst);
  assert.equal(dst, src);
  // A Buffer works as src/dst too.
  const buf = Buffer.alloc(4096);
  b.read(s, 8192, buf);
  assert.ok(buf.equals(Buffer.from(src)));
});

test('ranges spanning chunk boundaries', () => {
  const b = createSimBackend({ chunkBytes: 1000 });
  const s = b.open(0, 'dram', 10000);
  const src = pattern(3500, 9);
  b.write(s, 950, src); // chunks 0..4
  const dst = new Uint8Array(3500);
  b.read(s, 950, dst);
  assert.equal(dst, src);
  // A read straddling written and unwritten bytes.
  const wide = new Uint8Array(5000);
  b.read(s, 0, wide);
  assert.equal(wide.subarray(0, 950), new Uint8Array(950));
  assert.equal(wide.subarray(950, 4450), src);
  assert.equal(wide.subarray(4450), new Uint8Array(550));
  // The whole segment, last byte included.
  b.write(s, 9999, Uint8Array.of(42));
  const last = new Uint8Array(1);
  b.read(s, 9999, last);
  assert.is(last[0], 42);
});

test('unwritten ranges read as zeros, also over stale dst bytes', () => {
  const b = createSimBackend({ chunkBytes: 4096 });
  const s = b.open(0, 'hbm', 1 << 20);
  const dst = new Uint8Array(10000).fill(0xee);
  b.read(s, 12345, dst);
  assert.equal(dst, new Uint8Array(10000));
  assert.is(b.residentBytes(), 0, 'reads reserve nothing');
});

test('populate: every chunk reserved and touched at open; writes after it fault no page in', () => {
  throwsMmc(() => createSimBackend({ populate: 'yes' }), MMC.MMC_INVALID_PARAM, /populate must be true or false/);
  // chunks over glibc's largest mmap threshold (32 MiB): each is fresh memory from the kernel, never
  // heap memory an earlier test freed (already resident: the lazy side then faulted ~1,100 pages
  // of 4,096 in the full suite)
  const chunkBytes = 64 * MiB;
  const bytes = chunkBytes + 123;
  const written = 16 * MiB;
  const b = createSimBackend({ chunkBytes, populate: true });
  const s = b.open(0, 'dram', bytes);
  assert.is(b.residentBytes(), bytes);
  const lazy = createSimBackend({ chunkBytes });
  const l = lazy.open(0, 'dram', bytes);
  const v = pattern(4 * KiB);
  const faults = (be, seg) => {
    const f0 = process.resourceUsage().minorPageFault;
    for (let off = 0; off + v.length <= written; off += v.length) be.write(seg, off, v);
    return process.resourceUsage().minorPageFault - f0;
  };
  const lazyFaults = faults(lazy, l);
  const populatedFaults = faults(b, s);
  // the lazy segment faults in the 4,096 pages of its first 16 MiB as they are written; the
  // populated one already has them. The counter is the whole process's (GC and JIT threads fault
  // pages too: a few hundred under a busy suite), so the populated side is held to under a quarter.
  assert.ok(lazyFaults >= 2000, `lazy: ${lazyFaults} faults`);
  assert.ok(populatedFaults < 1024, `populated: ${populatedFaults} faults (lazy: ${lazyFaults})`);
  const back = new Uint8Array(v.length);
  b.read(s, 8 * MiB, back);
  assert.equal(back, v);
  b.close();
  lazy.close();
});

test('lazy residency: a 1 TiB segment costs nothing until written', () => {
  const chunk = 1 * MiB;
  const b = createSimBackend({ chunkBytes: chunk });
  const s = b.open(0, 'dram', TiB);
  assert.is(s.bytes, TiB);
  assert.is(b.residentBytes(), 0);
  const dst = new Uint8Array(4096);
  b.read(s, TiB - 4096, dst);
  assert.is(b.residentBytes(), 0);
  b.write(s, 512 * 1024 * MiB, pattern(4096));
  assert.is(b.residentBytes(), chunk, 'one chunk after one write');
  b.write(s, 512 * 1024 * MiB + 8192, pattern(4096));
  assert.is(b.residentBytes(), chunk, 'same chunk again: no growth');
  b.write(s, TiB - 10, pattern(10));
  assert.is(b.residentBytes(), 2 * chunk);
  b.read(s, 512 * 1024 * MiB, dst);
  assert.equal(dst, pattern(4096));
  b.release(s);
  assert.is(b.residentBytes(), 0);
});

test('lazy residency with the default chunk size and a huge chunk table', () => {
  const b = createSimBackend();
  const s = b.open(0, 'hbm', TiB);
  b.write(s, 0, pattern(4096));
  assert.is(b.residentBytes(), 64 * MiB);
  // 2^28 chunks of 4 KiB: the sparse table path.
  const b2 = createSimBackend({ chunkBytes: 4096 });
  const s2 = b2.open(0, 'hbm', TiB);
  b2.write(s2, TiB / 2 - 100, pattern(200));
  assert.is(b2.residentBytes(), 8192);
  const dst = new Uint8Array(200);
  b2.read(s2, TiB / 2 - 100, dst);
  assert.equal(dst, pattern(200));
});

test('a small segment reserves only its own size', () => {
  const b = createSimBackend();
  const s = b.open(0, 'hbm', 10000);
  b.write(s, 0, pattern(1));
  assert.is(b.residentBytes(), 10000);
  const b2 = createSimBackend({ chunkBytes: 4096 });
  const s2 = b2.open(0, 'hbm', 10000);
  b2.write(s2, 9000, pattern(1000)); // last, partial chunk: 10000 - 8192
  assert.is(b2.residentBytes(), 10000 - 8192);
});

test('bounds errors', () => {
  const b = createSimBackend({ chunkBytes: 4096 });
  const s = b.open(1, 'hbm', 10000);
  throwsMmc(() => b.write(s, 9000, new Uint8Array(1001)), MMC.MMC_INVALID_PARAM, /outside segment rank-1-hbm of 10000 bytes/);
  throwsMmc(() => b.write(s, -1, new Uint8Array(1)), MMC.MMC_INVALID_PARAM, /outside/);
  throwsMmc(() => b.write(s, 1.5, new Uint8Array(1)), MMC.MMC_INVALID_PARAM, /outside/);
  throwsMmc(() => b.read(s, 10000, new Uint8Array(1)), MMC.MMC_INVALID_PARAM, /outside/);
  throwsMmc(() => b.read(s, Number.NaN, new Uint8Array(1)), MMC.MMC_INVALID_PARAM, /outside/);
  const d = b.open(1, 'dram', 100);
  throwsMmc(() => b.copy(s, 0, d, 50, 51), MMC.MMC_INVALID_PARAM, /destination/);
  throwsMmc(() => b.copy(s, 9990, d, 0, 11), MMC.MMC_INVALID_PARAM, /source/);
  throwsMmc(() => b.copy(s, 0, d, 0, -1), MMC.MMC_INVALID_PARAM, /outside/);
  // Edges are fine; zero-length calls are fine.
  b.write(s, 10000, new Uint8Array(0));
  b.read(s, 0, new Uint8Array(10000));
  b.copy(s, 0, d, 0, 0);
  assert.is(b.residentBytes(), 0, 'failed and empty calls reserve nothing');
  // A segment of another backend.
  const other = createSimBackend().open(0, 'hbm', 100);
  throwsMmc(() => b.write(other, 0, new Uint8Array(1)), MMC.MMC_INVALID_PARAM, /not a segment/);
  throwsMmc(() => b.read({ rank: 0, medium: 'hbm', bytes: 100 }, 0, new Uint8Array(1)), MMC.MMC_INVALID_PARAM, /not a segment/);
});

test('copy between segments, across chunk boundaries, from unwritten ranges', () => {
  const b = createSimBackend({ chunkBytes: 1000 });
  const h = b.open(0, 'hbm', 10000);
  const d = b.open(0, 'dram', 10000);
  const src = pattern(2500, 3);
  b.write(h, 700, src);
  b.copy(h, 700, d, 1950, 2500);
  const dst = new Uint8Array(2500);
  b.read(d, 1950, dst);
  assert.equal(dst, src);
  // Copying never-written bytes over written ones clears them, and reserves nothing new.
  const before = b.residentBytes();
  b.copy(h, 5000, d, 1950, 2500);
  assert.is(b.residentBytes(), before);
  b.read(d, 1950, dst);
  assert.equal(dst, new Uint8Array(2500));
});

test('copy within one segment, overlapping both ways (memmove)', () => {
  const b = createSimBackend({ chunkBytes: 64 });
  const model = new Uint8Array(1000);
  const s = b.open(0, 'hbm', 1000);
  const p = pattern(300, 11);
  b.write(s, 100, p);
  model.set(p, 100);
  b.copy(s, 100, s, 150, 300); // forward overlap
  model.copyWithin(150, 100, 400);
  b.copy(s, 150, s, 120, 300); // backward overlap
  model.copyWithin(120, 150, 450);
  b.copy(s, 0, s, 700, 200); // disjoint
  model.copyWithin(700, 0, 200);
  const out = new Uint8Array(1000);
  b.read(s, 0, out);
  assert.equal(out, model);
});

for (const op of ['write', 'read', 'copy']) {
  const opt = { write: 'failWrite', read: 'failRead', copy: 'failCopy' }[op];
  const call = (b, s, d) => {
    if (op === 'write') b.write(s, 0, pattern(16, 2));
    else if (op === 'read') b.read(s, 0, new Uint8Array(16));
    else b.copy(s, 0, d, 0, 16);
  };

  test(`fault injection: ${opt} fails exactly the N-th ${op} call`, () => {
    const b = createSimBackend({ [opt]: 3 });
    const s = b.open(0, 'hbm', 4096);
    const d = b.open(0, 'dram', 4096);
    call(b, s, d);
    call(b, s, d);
    const err = throwsMmc(() => call(b, s, d), MMC.MMC_ERROR, new RegExp(`sim: injected ${op} failure`));
    assert.is(err.codeName, 'MMC_ERROR');
    call(b, s, d);
    call(b, s, d);
    assert.is(b.calls()[op], 5);
  });

  test(`fault injection: injectFault('${op}', n) counts from now`, () => {
    const b = createSimBackend();
    const s = b.open(0, 'hbm', 4096);
    const d = b.open(0, 'dram', 4096);
    call(b, s, d);
    call(b, s, d);
    b.injectFault(op, 1);
    throwsMmc(() => call(b, s, d), MMC.MMC_ERROR, /injected/);
    call(b, s, d);
    b.injectFault(op, 2);
    call(b, s, d);
    throwsMmc(() => call(b, s, d), MMC.MMC_ERROR, /injected/);
    call(b, s, d);
    // Other ops are unaffected by this op's faults.
    b.injectFault(op, 1);
    for (const other of ['write', 'read', 'copy'].filter((o) => o !== op)) {
      if (other === 'write') b.write(s, 0, pattern(16));
      else if (other === 'read') b.read(s, 0, new Uint8Array(16));
      else b.copy(s, 0, d, 0, 16);
    }
    throwsMmc(() => call(b, s, d), MMC.MMC_ERROR, /injected/);
  });
}

test('an injected failure leaves the segment untouched and reserves nothing', () => {
  const b = createSimBackend({ chunkBytes: 4096 });
  const s = b.open(0, 'hbm', 8192);
  const d = b.open(0, 'dram', 8192);
  b.write(s, 0, pattern(100, 1));
  assert.is(b.residentBytes(), 4096);
  b.injectFault('write', 1);
  throwsMmc(() => b.write(s, 0, pattern(100, 2)), MMC.MMC_ERROR, /injected write/);
  b.injectFault('write', 1);
  throwsMmc(() => b.write(s, 5000, pattern(100, 2)), MMC.MMC_ERROR, /injected write/);
  b.injectFault('copy', 1);
  throwsMmc(() => b.copy(s, 0, d, 0, 100), MMC.MMC_ERROR, /injected copy/);
  assert.is(b.residentBytes(), 4096);
  const dst = new Uint8Array(100).fill(9);
  b.injectFault('read', 1);
  throwsMmc(() => b.read(s, 0, dst), MMC.MMC_ERROR, /injected read/);
  assert.equal(dst, new Uint8Array(100).fill(9), 'dst untouched by a failed read');
  b.read(s, 0, dst);
  assert.equal(dst, pattern(100, 1));
});

test('injectFault refuses bad arguments', () => {
  const b = createSimBackend();
  throwsMmc(() => b.injectFault('write', 0), MMC.MMC_INVALID_PARAM);
  throwsMmc(() => b.injectFault('erase', 1), MMC.MMC_INVALID_PARAM, /op/);
});

test('release drops chunks; a released segment cannot be used', () => {
  const b = createSimBackend({ chunkBytes: 4096 });
  const s = b.open(0, 'hbm', 1 << 20);
  const d = b.open(1, 'hbm', 1 << 20);
  b.write(s, 0, pattern(10000));
  b.write(d, 0, pattern(10));
  assert.is(b.residentBytes(), 3 * 4096 + 4096);
  assert.is(b.openSegments(), 2);
  b.release(s);
  assert.is(b.residentBytes(), 4096);
  assert.is(b.openSegments(), 1);
  throwsMmc(() => b.write(s, 0, pattern(1)), MMC.MMC_INVALID_PARAM, /released/);
  throwsMmc(() => b.read(s, 0, new Uint8Array(1)), MMC.MMC_INVALID_PARAM, /released/);
  throwsMmc(() => b.copy(s, 0, d, 0, 1), MMC.MMC_INVALID_PARAM, /released/);
  throwsMmc(() => b.copy(d, 0, s, 0, 1), MMC.MMC_INVALID_PARAM, /released/);
  b.release(s); // idempotent
  assert.is(b.openSegments(), 1);
  // A new segment for the same rank/medium starts zeroed.
  const s2 = b.open(0, 'hbm', 1 << 20);
  const dst = new Uint8Array(100);
  b.read(s2, 0, dst);
  assert.equal(dst, new Uint8Array(100));
});

test('close releases everything; the backend refuses new segments', () => {
  const b = createSimBackend({ chunkBytes: 4096 });
  const segs = [b.open(0, 'hbm', 65536), b.open(0, 'dram', 65536), b.open(1, 'hbm', 65536)];
  for (const s of segs) b.write(s, 100, pattern(5000));
  assert.is(b.openSegments(), 3);
  assert.ok(b.residentBytes() > 0);
  b.close();
  assert.is(b.openSegments(), 0);
  assert.is(b.residentBytes(), 0);
  throwsMmc(() => b.read(segs[0], 0, new Uint8Array(1)), MMC.MMC_INVALID_PARAM, /released/);
  throwsMmc(() => b.open(0, 'hbm', 10), MMC.MMC_NOT_INITIALIZED, /closed/);
  b.close(); // idempotent
});

test('property: read-after-write matches a plain Uint8Array model', () => {
  const SIZE = 5000;
  const op = fc.oneof(
    fc.record({
      kind: fc.constant('write'),
      offset: fc.integer({ min: 0, max: SIZE }),
      data: fc.uint8Array({ minLength: 0, maxLength: 700 }),
    }),
    fc.record({
      kind: fc.constant('read'),
      offset: fc.integer({ min: 0, max: SIZE }),
      length: fc.integer({ min: 0, max: 700 }),
    }),
    fc.record({
      kind: fc.constant('copy'),
      from: fc.integer({ min: 0, max: SIZE }),
      to: fc.integer({ min: 0, max: SIZE }),
      length: fc.integer({ min: 0, max: 700 }),
      cross: fc.boolean(),
    }),
  );
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 300 }), fc.array(op, { maxLength: 40 }), (chunkBytes, ops) => {
      const b = createSimBackend({ chunkBytes });
      const segs = [b.open(0, 'hbm', SIZE), b.open(0, 'dram', SIZE)];
      const models = [new Uint8Array(SIZE), new Uint8Array(SIZE)];
      for (const o of ops) {
        if (o.kind === 'write') {
          const data = o.data.subarray(0, SIZE - o.offset);
          b.write(segs[0], o.offset, data);
          models[0].set(data, o.offset);
        } else if (o.kind === 'read') {
          const len = Math.min(o.length, SIZE - o.offset);
          const dst = new Uint8Array(len).fill(0xa5);
          b.read(segs[0], o.offset, dst);
          assert.equal(dst, models[0].subarray(o.offset, o.offset + len));
        } else {
          const len = Math.min(o.length, SIZE - o.from, SIZE - o.to);
          const di = o.cross ? 1 : 0;
          b.copy(segs[0], o.from, segs[di], o.to, len);
          models[di].set(models[0].slice(o.from, o.from + len), o.to);
        }
      }
      for (let k = 0; k < 2; k++) {
        const all = new Uint8Array(SIZE);
        b.read(segs[k], 0, all);
        assert.equal(all, models[k]);
      }
      assert.ok(b.residentBytes() <= 2 * SIZE);
      b.close();
    }),
    { numRuns: 300 },
  );
});

test('createBackend: sim, unknown name, acl loaded on demand', async () => {
  const sim = await createBackend('sim', { sim: { failRead: 1, chunkBytes: 4096 } });
  assert.is(sim.name, 'sim');
  const s = await sim.open(0, 'hbm', 8192);
  throwsMmc(() => sim.read(s, 0, new Uint8Array(1)), MMC.MMC_ERROR, /injected read/);
  await sim.close();
  const plain = await createBackend('sim');
  assert.is(plain.name, 'sim');
  const rejection = async (p) => {
    try {
      await p;
    } catch (err) {
      return err;
    }
    return assert.unreachable('expected a rejection');
  };
  let err = await rejection(createBackend('tpu', {}));
  assert.instance(err, MmcError);
  assert.is(err.code, MMC.MMC_INVALID_PARAM);
  assert.match(err.message, /unknown backend 'tpu' \(sim or acl\)/);
  // acl, loaded on demand: an explicit library that does not exist is refused naming it, or,
  // where the native addon was not built, the backend says why; an MmcError either way
  err = await rejection(createBackend('acl', { aclLibrary: '/nonexistent/libascendcl.so', devices: [0] }));
  assert.instance(err, MmcError);
  assert.is(err.code, MMC.MMC_ERROR);
  const unavailable = aclUnavailableReason();
  if (unavailable) assert.match(err.message, `acl backend unavailable: ${unavailable}`);
  else assert.match(err.message, 'acl backend unavailable: cannot load libascendcl.so from aclLibrary /nonexistent/libascendcl.so');
});

test.run();
