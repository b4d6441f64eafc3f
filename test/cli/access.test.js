// The real `mmc` binary and access: bearer token and TLS on both sides, refusals at start naming
// the flag or key and path, conf files never echoed, and one line (never a stack) on any failure.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, execFile } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { opensslTest, makeCerts } from '../helpers/tls.js';

const MMC = fileURLToPath(new URL('../../bin/mmc.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'mmc-cli-access-'));
const TOKEN = 'cli-token-7e1f';
const tokenFile = join(dir, 'token');
writeFileSync(tokenFile, `${TOKEN}\n`);
const { MMC_TOKEN: _t, MMC_SERVER: _s, ...BASE_ENV } = process.env;

/** Run mmc to completion: { code, out, stderr }. */
function run(args, { input, env = {} } = {}) {
  return new Promise((resolve) => {
    const p = execFile(process.execPath, [MMC, ...args], { encoding: 'buffer', env: { ...BASE_ENV, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? err.code : 0, out: stdout.toString(), stderr: stderr.toString() });
    });
    if (input !== undefined) p.stdin.end(input); else p.stdin.end();
  });
}

/** Start `mmc serve`; resolves when it logs `serving on URL`. */
function serve(args, env = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [MMC, 'serve', '--listen', '127.0.0.1:0', '--hbm', '8MB', '--dram', '8MB', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...BASE_ENV, ...env },
    });
    let err = '';
    p.stderr.on('data', (c) => {
      err += c;
      const m = /serving on (https?:\/\/[0-9.]+:\d+)/.exec(err);
      if (m) resolve({ p, url: m[1], stderr: () => err, exited: new Promise((r) => p.once('exit', (code) => r(code))) });
    });
    p.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
  });
}

async function stop(S) {
  if (S.p.exitCode === null) { S.p.kill('SIGTERM'); assert.is(await S.exited, 0); }
}

/** One line on stderr, exit code 1, matching `re`; no stack trace. */
function oneLine(r, re, what) {
  assert.is(r.code, 1, `${what}: ${r.stderr}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.is(lines.length, 1, `${what}: ${r.stderr}`);
  if (re instanceof RegExp) assert.match(lines[0], re, what);
  else assert.is(lines[0], re, what);
  assert.not.match(r.stderr, /\n\s+at |node:internal|mmc\.js:\d/, what);
}

test.after(() => rmSync(dir, { recursive: true, force: true }));

test('serve --config with a password file: names file and line, never the content', async () => {
  const hash = '$6$rounds=5000$Zx9aQ1$kq0V1yQ8tTnmGvJ9N0ZcQh3p7m0Rz6fQ2eY1';
  const shadow = join(dir, 'shadow');
  writeFileSync(shadow, `root:${hash}:19700:0:99999:7:::\n`);
  const r = await run(['serve', '--config', shadow]);
  oneLine(r, `mmc: ${shadow}:1: expected 'key = value' (a key is letters, digits, '.', '_' and '-')`, 'shadow');
  assert.not.match(r.stderr, /root|Zx9aQ1|rounds/);
  writeFileSync(shadow, `root:x:0:0:root:/root:/bin/bash\nuser:${hash}\n`);
  oneLine(await run(['serve', '--config', shadow]), `mmc: ${shadow}:1: expected 'key = value' (no '=' on the line)`, 'passwd');
});

test('serve: token and TLS that cannot be set up refuse start, one line naming the flag or key and path', async () => {
  const missing = join(dir, 'missing');
  const empty = join(dir, 'empty');
  writeFileSync(empty, '\n');
  const conf = join(dir, 'tls.conf');
  writeFileSync(conf, `ock.mmc.tls.enable = true\nock.mmc.tls.cert.path = ${missing}/server.pem\nock.mmc.tls.key.path = ${missing}/server.key\n`);
  const tokenConf = join(dir, 'token.conf');
  writeFileSync(tokenConf, `ock.mmc.auth.token.path = ${empty}\n`);
  for (const [args, env, line] of [
    [['--token-file', missing], {}, `mmc: --token-file: ${missing}: no such file`],
    [['--token-file', empty], {}, `mmc: --token-file: ${empty}: empty token`],
    [['--config', tokenConf], {}, `mmc: ock.mmc.auth.token.path: ${empty}: empty token`],
    [[], { MMC_TOKEN: '' }, 'mmc: MMC_TOKEN: empty'],
    [['--config', conf], {}, `mmc: ock.mmc.tls.cert.path: ${missing}/server.pem: no such file`],
    [['--tls-cert', `${missing}.pem`, '--tls-key', `${missing}.key`], {}, `mmc: --tls-cert: ${missing}.pem: no such file`],
    [['--tls-key', empty], {}, 'mmc: --tls-cert and --tls-key go together (--tls-ca needs both)'],
  ]) {
    oneLine(await run(['serve', ...args], { env }), line, args.join(' ') || JSON.stringify(env));
  }
});

test('token: mmc serve with $MMC_TOKEN; client commands send --token-file or $MMC_TOKEN', async () => {
  const S = await serve([], { MMC_TOKEN: TOKEN });
  try {
    assert.match(S.stderr(), /bearer token required/);
    oneLine(await run(['put', '-s', S.url, 'k'], { input: 'v' }), 'mmc: Unauthorized: bearer token required', 'no token');
    oneLine(await run(['put', '-s', S.url, 'k'], { input: 'v', env: { MMC_TOKEN: 'wrong' } }), 'mmc: Forbidden: wrong bearer token', 'wrong');
    let r = await run(['put', '-s', S.url, '--token-file', tokenFile, 'k'], { input: 'v' });
    assert.is(r.code, 0, r.stderr);
    oneLine(await run(['get', '-s', S.url, 'k']), 'mmc: Unauthorized: bearer token required', 'get without token');
    r = await run(['get', '-s', S.url, 'k'], { env: { MMC_TOKEN: TOKEN } });
    assert.is(r.out, 'v');
    r = await run(['keys', '-s', S.url]);
    assert.is(r.out, 'k\n', 'reads of the admin API stay open');
    oneLine(await run(['rm', '-s', S.url, 'k']), 'mmc: Unauthorized: bearer token required', 'rm without token');
    oneLine(await run(['rm', '-s', S.url, '--token-file', join(dir, 'nope'), 'k']), `mmc: --token-file: ${join(dir, 'nope')}: no such file`, 'bad file');
    r = await run(['rm', '-s', S.url, 'k'], { env: { MMC_TOKEN: TOKEN } });
    assert.is(r.out, 'removed k\n');
  } finally { await stop(S); }
});

test('client commands: an unexpected failure is one line, never a stack trace', async () => {
  const fake = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('not json at all');
  });
  await new Promise((r) => fake.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${fake.address().port}`;
    oneLine(await run(['segments', '-s', url]), /^mmc: /, 'segments');
    oneLine(await run(['query', '-s', url, 'k']), /^mmc: /, 'query');
  } finally { fake.close(); }
});

{
  const tlsTest = opensslTest(test, import.meta.url);
  tlsTest('TLS: mmc serve --tls-cert/--tls-key/--tls-ca (mutual); client commands with --tls-ca/--tls-cert/--tls-key', async () => {
    const C = makeCerts();
    const S = await serve(['--tls-cert', C.serverCert, '--tls-key', C.serverKey, '--tls-ca', C.ca, '--token-file', tokenFile]);
    try {
      assert.match(S.url, /^https:/);
      assert.match(S.stderr(), /bearer token required, client certificates required/);
      const tls = ['--tls-ca', C.ca, '--tls-cert', C.clientCert, '--tls-key', C.clientKey];
      let r = await run(['put', '-s', S.url, ...tls, 'secure'], { input: 'over tls', env: { MMC_TOKEN: TOKEN } });
      assert.is(r.code, 0, r.stderr);
      r = await run(['get', '-s', S.url, ...tls, 'secure'], { env: { MMC_TOKEN: TOKEN } });
      assert.is(r.out, 'over tls');
      r = await run(['segments', '-s', S.url, ...tls]);
      assert.is(r.code, 0, r.stderr);
      oneLine(await run(['keys', '-s', S.url, '--tls-ca', C.ca]), /^mmc: cannot reach https:\/\/127\.0\.0\.1:\d+: /, 'no client certificate');
      oneLine(await run(['keys', '-s', S.url]), /^mmc: cannot reach https:\/\/127\.0\.0\.1:\d+: SELF_SIGNED_CERT_IN_CHAIN$/, 'no ca');
      oneLine(await run(['keys', '-s', S.url.replace('https:', 'http:')]), /^mmc: cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNRESET$/, 'plain http');
      oneLine(await run(['keys', '-s', S.url.replace('https:', 'http:'), ...tls]), /^mmc: --tls-ca, --tls-cert and --tls-key need an https:\/\/ server/, 'tls flags on http');
      oneLine(await run(['keys', '-s', S.url, '--tls-ca', C.ca, '--tls-cert', C.clientCert]), 'mmc: --tls-cert and --tls-key go together', 'cert without key');
    } finally {
      await stop(S);
      rmSync(C.dir, { recursive: true, force: true });
    }
  });
}

test.run();
