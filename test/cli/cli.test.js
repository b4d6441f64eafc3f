// The real `mmc` binary: serve, client commands, errors, shutdown.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const MMC = fileURLToPath(new URL('../../bin/mmc.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mmc-cli-'));

/** Run mmc to completion: { code, stdout (Buffer), stderr }. */
function run(args, input) {
  return new Promise((resolve) => {
    const p = execFile(process.execPath, [MMC, ...args], { encoding: 'buffer', maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, stdout, out: stdout.toString(), stderr: stderr.toString() });
    });
    if (input !== undefined) p.stdin.end(input); else p.stdin.end();
  });
}

/** Start `mmc serve`; resolves when it logs `serving on URL`. */
function serve(args) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [MMC, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    p.stderr.on('data', (c) => {
      err += c;
      const m = /serving on (http:\/\/[0-9.]+:\d+)/.exec(err);
      if (m) resolve({ p, url: m[1], stderr: () => err, exited: new Promise((r) => p.once('exit', (code, sig) => r({ code, sig }))) });
    });
    p.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

let S;
test.before(async () => { S = await serve(['--listen', '127.0.0.1:0', '--ranks', '2', '--hbm', '32MB', '--dram', '16MB']); });
test.after(async () => {
  if (S.p.exitCode === null) { S.p.kill('SIGTERM'); await S.exited; }
  rmSync(dir, { recursive: true, force: true });
});

test('--help everywhere', async () => {
  for (const c of [[], ['serve'], ['put'], ['get'], ['rm'], ['keys'], ['query'], ['segments'], ['stats']]) {
    const r = await run([...c, '--help']);
    assert.is(r.code, 0, c.join(' '));
    assert.match(r.out, /^Usage: mmc/);
  }
  const serveHelp = (await run(['serve', '--help'])).out;
  for (const o of ['--config', '--listen', '--ranks', '--hbm', '--dram', '--backend']) assert.ok(serveHelp.includes(o), o);
});

test('put FILE / put - / get / get -o / keys / query / segments / stats / rm', async () => {
  const big = Buffer.alloc(5 << 20);
  for (let i = 0; i < big.length; i += 997) big[i] = i & 0xff;
  const file = join(dir, 'big.bin');
  writeFileSync(file, big);
  let r = await run(['put', '-s', S.url, 'big key', file]);
  assert.is(r.code, 0, r.stderr);
  assert.is(r.out, `stored big key (${big.length} bytes)\n`);
  r = await run(['put', '--server', S.url, 'small', '-'], 'line1\nline2\n');
  assert.is(r.code, 0, r.stderr);
  r = await run(['put', '--server', S.url, '--medium', 'dram', '--replicas', '2', 'stdin-default'], 'x');
  assert.is(r.code, 0, r.stderr);
  r = await run(['get', '-s', S.url, 'big key']);
  assert.is(r.code, 0);
  assert.ok(r.stdout.equals(big));
  const out = join(dir, 'out.bin');
  r = await run(['get', '-s', S.url, 'big key', '-o', out, '--progress']);
  assert.is(r.code, 0);
  assert.ok(readFileSync(out).equals(big));
  assert.match(r.stderr, /get big key \[#+\] 100%/, 'progress bar');
  r = await run(['get', '-s', S.url, 'small']);
  assert.is(r.out, 'line1\nline2\n');
  r = await run(['keys', '-s', S.url]);
  assert.equal(r.out.split('\n').filter(Boolean).sort(), ['big key', 'small', 'stdin-default']);
  r = await run(['query', '-s', S.url, 'stdin-default']);
  assert.equal(JSON.parse(r.out), { key: 'stdin-default', size: 1, prot: 0, numBlobs: 2, valid: true, blobs: [{ rank: 0, medium: 'DRAM' }, { rank: 1, medium: 'DRAM' }] });
  r = await run(['segments', '-s', S.url]);
  assert.equal(r.out.split('\n').filter(Boolean).map((l) => l.split(/\s+/)[0]), ['SEGMENT', 'rank-0-hbm', 'rank-1-hbm', 'rank-0-dram', 'rank-1-dram']);
  r = await run(['stats', '-s', S.url]);
  assert.match(r.out, /^keys +3\n/);
  assert.match(r.out, /\nTIME +NAME +BEGIN/);
  r = await run(['stats', '-s', S.url, '--summary']);
  assert.is(r.out.trim().split(' ').length, 62);
  r = await run(['rm', '-s', S.url, 'small']);
  assert.is(r.code, 0);
  assert.is(r.out, 'removed small\n');
});

test('client errors: one line, exit code 1', async () => {
  for (const [args, msg] of [
    [['get', '-s', S.url, 'absent'], 'mmc: Key not found\n'],
    [['rm', '-s', S.url, 'absent'], 'mmc: Key not found\n'],
    [['query', '-s', S.url, 'absent'], 'mmc: Key not found\n'],
    [['put', '-s', S.url, 'k', join(dir, 'missing.bin')], `mmc: ${join(dir, 'missing.bin')}: no such file\n`],
    [['put', '-s', S.url, 'k', '-'], 'mmc: MMC_INVALID_PARAM: empty value\n'],
    [['keys', '-s', 'http://127.0.0.1:1'], 'mmc: cannot reach http://127.0.0.1:1: ECONNREFUSED\n'],
    [['get', '-s', 'http://127.0.0.1:1', 'k'], 'mmc: cannot reach http://127.0.0.1:1: ECONNREFUSED\n'],
  ]) {
    const r = await run(args, args.includes('-') ? '' : undefined);
    assert.is(r.code, 1, args.join(' '));
    assert.is(r.stderr, msg, args.join(' '));
  }
  let r = await run(['put', '-s', S.url, 'k', join(dir, 'x'), '--medium', 'ssd']);
  assert.is(r.code, 1);
  assert.is(r.stderr.trim().split('\n').length, 1);
  r = await run(['put', '-s', S.url, 'dup'], 'a');
  r = await run(['put', '-s', S.url, 'dup'], 'b');
  assert.is(r.code, 1);
  assert.match(r.stderr, /^mmc: MMC_DUPLICATED_OBJECT: .*\n$/);
});

test('serve: bad options, port in use: one clear line, exit code 1', async () => {
  const port = new URL(S.url).port;
  for (const [args, re] of [
    [['--hbm', '12XB'], /^mmc: --hbm: invalid size '12XB'/],
    [['--ranks', '0'], /^mmc: --ranks: expected 1\.\.1024, got '0'/],
    [['--listen', 'nohost'], /^mmc: --listen: expected HOST:PORT/],
    [['--backend', 'gpu'], /^error: option '--backend <name>' argument 'gpu' is invalid/],
    [['--bogus'], /^error: unknown option '--bogus'/],
    [['--config', join(dir, 'nope.conf')], /^mmc: config file not found: /],
    [['--listen', `127.0.0.1:${port}`, '-q'], new RegExp(`^mmc: cannot listen on 127\\.0\\.0\\.1:${port}: address already in use$`)],
  ]) {
    const r = await run(['serve', ...args]);
    assert.is(r.code, 1, args.join(' '));
    const lines = r.stderr.trim().split('\n');
    assert.is(lines.length, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(lines[0], re);
  }
  const conf = join(dir, 'bad.conf');
  writeFileSync(conf, 'ock.mmc.evict_threshold_high = 200\n');
  const r = await run(['serve', '--config', conf]);
  assert.is(r.code, 1);
  assert.match(r.stderr, /ock\.mmc\.evict_threshold_high/);
  assert.is((await run(['keys', '-s', S.url])).code, 0, 'the running server is unharmed');
});

test('serve --config: metrics_url sets the listen address, sizes and ranks from the file; SIGINT exits 0', async () => {
  const port = await freePort();
  const conf = join(dir, 'mmc-meta.conf');
  writeFileSync(conf, [
    '# reference conf',
    `ock.mmc.meta_service.metrics_url = http://127.0.0.1:${port}`,
    'ock.mmc.local_service.world_size = 3',
    'ock.mmc.local_service.hbm.size = 8MB',
    'ock.mmc.local_service.dram.size = 0',
    'ock.mmc.evict_threshold_high = 95',
    'ock.mmc.evict_threshold_low = 85',
    'ock.mmc.some_unknown_key = 1',
  ].join('\n'));
  const T = await serve(['--config', conf]);
  try {
    assert.is(T.url, `http://127.0.0.1:${port}`);
    const r = await run(['segments', '-s', T.url]);
    assert.equal(r.out.split('\n').filter(Boolean).slice(1).map((l) => l.split(/\s+/)[0]), ['rank-0-hbm', 'rank-1-hbm', 'rank-2-hbm']);
    assert.match(T.stderr(), /warning: .*some_unknown_key/);
  } finally {
    T.p.kill('SIGINT');
    const { code } = await T.exited;
    assert.is(code, 0);
  }
});

test('SIGTERM: clean shutdown, exit code 0, port released', async () => {
  const T = await serve(['--listen', '127.0.0.1:0']);
  const port = new URL(T.url).port;
  T.p.kill('SIGTERM');
  const { code } = await T.exited;
  assert.is(code, 0);
  await new Promise((resolve, reject) => {
    const s = net.createServer().once('error', reject).listen(Number(port), '127.0.0.1', () => s.close(resolve));
  });
});

test.run();
