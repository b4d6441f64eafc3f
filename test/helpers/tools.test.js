// The skip path of test/helpers/tools.js, for real: test files run in a child process without the
// tool (promtool or openssl off PATH; the ACL addon absent from a copy of the package) print one
// skip line and pass when CI is unset, and fail when CI is set; `npm test`'s closing line counts
// the skipped.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onPath, ciRequired } from './tools.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'mmc-tools-test-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

/** Run `args` under node in `cwd` with `env` (CI removed unless given); its output without colours. */
function run(args, { cwd = ROOT, env = {} } = {}) {
  const childEnv = { ...process.env, ...env };
  if (!('CI' in env)) delete childEnv.CI;
  const r = spawnSync(process.execPath, args, { cwd, env: childEnv, encoding: 'utf8', timeout: 120_000 });
  const plain = (t) => t.replace(/\x1b\[[0-9;]*m/g, '');
  return { status: r.status, out: plain(r.stdout + r.stderr), stdout: plain(r.stdout) };
}

const count = (out, what) => Number(new RegExp(`^\\s*${what}:\\s+(\\d+)\\s*$`, 'm').exec(out)?.[1]);

test('ciRequired: CI set to anything but empty, 0 or false', () => {
  assert.is(ciRequired({}), false);
  for (const v of ['', '0', 'false', 'FALSE']) assert.is(ciRequired({ CI: v }), false, v);
  for (const v of ['1', 'true', 'yes']) assert.is(ciRequired({ CI: v }), true, v);
});

test('promtool missing: one skip line and exit 0; with CI=1 the test fails', () => {
  // PATH without any folder that holds promtool (node is started by its full path)
  const path = (process.env.PATH ?? '').split(delimiter).filter((d) => d && !onPath('promtool', { PATH: d })).join(delimiter);
  assert.is(onPath('promtool', { PATH: path }), undefined);
  const file = 'test/server/promtool.test.js';
  let r = run([file], { env: { PATH: path } });
  assert.is(r.status, 0, r.out);
  const skips = r.out.split('\n').filter((l) => l.startsWith('skip: '));
  assert.equal(skips, [`skip: ${file}: promtool is missing (Debian package prometheus); its tests are skipped (required when CI is set)`], r.out);
  assert.is(count(r.out, 'Skipped'), 1, r.out);
  assert.is(count(r.out, 'Total'), 0, r.out);
  r = run([file], { env: { PATH: path, CI: '1' } });
  assert.is(r.status, 1, r.out);
  assert.match(r.out, 'promtool is missing (Debian package prometheus); required because CI is set');
  assert.not.match(r.out, 'skip: ');
  assert.is(count(r.out, 'Skipped'), 0, r.out);
  assert.is(count(r.out, 'Passed'), 0, r.out);
});

test('openssl missing: the TLS tests of a file are skipped with one line, the others run; with CI=1 they fail', () => {
  // no PATH at all: the server access tests need nothing else from it
  const file = 'test/server/access.test.js';
  let r = run([file], { env: { PATH: '' } });
  assert.is(r.status, 0, r.out);
  const skips = r.out.split('\n').filter((l) => l.startsWith('skip: '));
  assert.equal(skips, [`skip: ${file}: openssl is missing (Debian package openssl); its tests are skipped (required when CI is set)`], r.out);
  const skipped = count(r.out, 'Skipped');
  assert.ok(skipped >= 1, r.out);
  assert.is(count(r.out, 'Passed'), count(r.out, 'Total'), r.out);
  r = run([file], { env: { PATH: '', CI: '1' } });
  assert.is(r.status, 1, r.out);
  assert.match(r.out, 'openssl is missing (Debian package openssl); required because CI is set');
  assert.is(count(r.out, 'Total') - count(r.out, 'Passed'), skipped, r.out);
});

test('ACL addon missing: one skip line, the without-addon test passes; with CI=1 every ACL test fails', () => {
  // a copy of the package whose build/ has the WASM core but no build/Release/mmc_acl.node
  const pkg = join(tmp, 'pkg');
  mkdirSync(join(pkg, 'build'), { recursive: true });
  for (const f of readdirSync(join(ROOT, 'build'))) if (f.endsWith('.wasm')) cpSync(join(ROOT, 'build', f), join(pkg, 'build', f));
  for (const d of ['dist', 'bin', 'test/device', 'test/helpers', 'test/fixtures']) cpSync(join(ROOT, d), join(pkg, d), { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(pkg, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
  const file = 'test/device/acl.test.js';
  let r = run([file], { cwd: pkg });
  assert.is(r.status, 0, r.out);
  const skips = r.out.split('\n').filter((l) => l.startsWith('skip: '));
  assert.is(skips.length, 1, r.out);
  assert.match(skips[0], `skip: ${file}: the native ACL addon build/Release/mmc_acl.node is missing`);
  assert.is(count(r.out, 'Passed'), 1, r.out); // acl: without the addon, createAclBackend rejects and says why
  assert.is(count(r.out, 'Total'), 1, r.out);
  const skipped = count(r.out, 'Skipped');
  assert.ok(skipped >= 10, r.out);
  r = run([file], { cwd: pkg, env: { CI: 'true' } });
  assert.is(r.status, 1, r.out);
  assert.match(r.out, 'required because CI is set');
  assert.is(count(r.out, 'Skipped'), 0, r.out);
  assert.is(count(r.out, 'Passed'), 1, r.out);
  assert.is(count(r.out, 'Total'), 1 + skipped, r.out);
});

test('npm test closing line: N passed, M failed, K skipped; with CI=1 the missing tool fails', () => {
  // scripts/test.js in a tree of its own (its own coverage folder), over one file with a passing
  // test and one that needs a tool nobody has
  const tree = join(tmp, 'tree');
  mkdirSync(join(tree, 'scripts'), { recursive: true });
  mkdirSync(join(tree, 'test', 'helpers'), { recursive: true });
  cpSync(join(ROOT, 'scripts', 'test.js'), join(tree, 'scripts', 'test.js'));
  cpSync(join(ROOT, 'test', 'helpers', 'tools.js'), join(tree, 'test', 'helpers', 'tools.js'));
  cpSync(join(ROOT, 'package.json'), join(tree, 'package.json'));
  symlinkSync(join(ROOT, 'node_modules'), join(tree, 'node_modules'));
  writeFileSync(join(tree, 'test', 'needs.test.js'), [
    "import { test } from 'uvu';",
    "import { needTool } from './helpers/tools.js';",
    "test('plain', () => {});",
    "const t = needTool(test, 'mmc-no-such-tool', 'nowhere to get it', import.meta.url);",
    "t('needs the tool', () => {});",
    't.run();',
    '',
  ].join('\n'));
  let r = run(['scripts/test.js'], { cwd: tree });
  assert.is(r.status, 0, r.out);
  assert.match(r.out, 'skip: test/needs.test.js: mmc-no-such-tool is missing (nowhere to get it)');
  assert.is(r.stdout.trim().split('\n').at(-1), '1 passed, 0 failed, 1 skipped', r.out);
  r = run(['scripts/test.js'], { cwd: tree, env: { CI: '1' } });
  assert.is(r.status, 1, r.out);
  assert.is(r.stdout.trim().split('\n').at(-1), '1 passed, 1 failed, 0 skipped', r.out);
});

test.run();
