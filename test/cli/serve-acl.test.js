// `mmc serve --backend acl --devices ...` through the real binary, the real addon and the
// stand-in libascendcl.so of test/fixtures/ascendcl (no Ascend hardware here).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { aclUnavailableReason } from '../../dist/device/acl.js';
import { needTool } from '../helpers/tools.js';

const MMC = fileURLToPath(new URL('../../bin/mmc.js', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/ascendcl/', import.meta.url));
const LIB = join(FIXTURE, 'build/full/libascendcl.so');
const unavailable = aclUnavailableReason();
// without the addon: skipped with one line, or failing when CI is set
const aclTest = needTool(test, 'the native ACL addon build/Release/mmc_acl.node',
  'npm install builds it where python3, make and a C++ compiler are installed', import.meta.url, !unavailable);

function serve(args, env = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [MMC, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let err = '';
    p.stderr.on('data', (c) => {
      err += c;
      const m = /serving on (http:\/\/[0-9.]+:\d+)/.exec(err);
      if (m) resolve({ p, url: m[1], log: () => err, exited: new Promise((r) => p.once('exit', (code) => r(code))) });
    });
    p.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

test.before(() => {
  if (!unavailable && !existsSync(LIB)) execFileSync('sh', [join(FIXTURE, 'build.sh')], { stdio: ['ignore', 'ignore', 'inherit'] });
});

aclTest('serve --backend acl --devices 1,0: real segment sizes, round trip, every allocation freed at shutdown', async () => {
  const report = join(mkdtempSync(join(tmpdir(), 'mmc-acl-')), 'report.json');
  const s = await serve(
    ['--listen', '127.0.0.1:0', '--backend', 'acl', '--acl-library', LIB, '--devices', '1,0', '--ranks', '2', '--hbm', '8MB', '--dram', '4MB'],
    { STANDIN_ACL_REPORT: report, STANDIN_ACL_DEVICE_COUNT: '2' },
  );
  try {
    const seg = await (await fetch(`${s.url}/query_segment?segment=rank-1-hbm`)).json();
    assert.equal([seg.segment, seg.medium, seg.total_bytes, seg.used_bytes], ['rank-1-hbm', 'HBM', 8 << 20, 0]);
    const cap = await (await fetch(`${s.url}/api/v1/capacity/usage`)).json();
    assert.equal([cap.npu.total_bytes, cap.cpu.total_bytes], [16 << 20, 8 << 20]);
    const value = new Uint8Array(300_000).map((_, i) => (i * 13) & 255);
    let r = await fetch(`${s.url}/api/v1/objects?key=acl-key&medium=hbm&replicas=2`, { method: 'PUT', body: value });
    assert.is(r.status, 200, await r.clone().text());
    r = await fetch(`${s.url}/api/v1/objects?key=acl-key`);
    assert.ok(Buffer.from(await r.arrayBuffer()).equals(Buffer.from(value)));
  } finally {
    s.p.kill('SIGTERM');
    assert.is(await s.exited, 0);
  }
  const stats = JSON.parse(readFileSync(report, 'utf8'));
  // 2 HBM segments by aclrtMalloc, 2 DRAM by aclrtMallocHost: all freed, ACL finalized
  assert.equal([stats.malloc, stats.mallocHost, stats.liveDeviceAllocs, stats.liveHostAllocs, stats.finalize], [2, 2, 0, 0, 1], JSON.stringify(stats));
});

test('serve --devices: bad lists are one clear line and exit code 1', async () => {
  for (const [devices, re] of [['0,x', /--devices: expected device ids/], ['0', /1 device ids for 2 ranks/]]) {
    const out = await new Promise((resolve) => {
      const p = spawn(process.execPath, [MMC, 'serve', '--backend', 'acl', '--ranks', '2', '--devices', devices, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      p.stderr.on('data', (c) => { err += c; });
      p.once('exit', (code) => resolve({ code, err }));
    });
    assert.is(out.code, 1);
    assert.match(out.err, re);
    assert.is(out.err.trim().split('\n').length, 1, out.err);
  }
});

test.run();
