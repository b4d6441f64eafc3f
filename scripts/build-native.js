#!/usr/bin/env node
// Builds the optional ACL addon (build/Release/mmc_acl.node) with node-gyp.
//
// Run as the package's `install` script. The addon is optional: when it cannot be built (no
// compiler, no node-gyp, no Node headers) this prints one warning line, records the reason in
// build/mmc_acl.unavailable.txt for `aclUnavailableReason()`, and exits 0, so `npm install`
// never fails for it and the sim backend works as before.
//
// It runs `node-gyp configure` + `node-gyp build`, not `rebuild`: rebuild starts with `clean`,
// which deletes the whole build/ folder, and build/ also holds the WebAssembly core.
//
// node-gyp is taken from, in order: $npm_config_node_gyp (set by npm for install scripts: its
// bundled copy), a local node_modules/node-gyp, the copy bundled with the npm that runs this
// (beside $npm_execpath, or beside the node binary), `node-gyp` on PATH.
// Node headers: npm's `nodedir` config when set; else the headers installed beside the node
// binary (<prefix>/include/node) when present, so no download is needed; else node-gyp's default.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = join(root, 'build');
const reasonFile = join(buildDir, 'mmc_acl.unavailable.txt');
const addon = join(buildDir, 'Release', 'mmc_acl.node');
let attempted = false;
const quiet = process.argv.includes('--quiet') || process.env.MMC_NATIVE_QUIET === '1';

function findNodeGyp() {
  const candidates = [];
  if (process.env.npm_config_node_gyp) candidates.push(process.env.npm_config_node_gyp);
  try {
    candidates.push(createRequire(join(root, 'package.json')).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    /* not installed locally */
  }
  if (process.env.npm_execpath) {
    candidates.push(join(dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  }
  const prefix = resolve(dirname(process.execPath), '..');
  candidates.push(join(prefix, 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  candidates.push(join(dirname(process.execPath), 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  for (const c of candidates) {
    if (c && existsSync(c)) return { cmd: process.execPath, args: [c] };
  }
  const which = spawnSync('node-gyp', ['--version'], { stdio: 'ignore' });
  if (which.status === 0) return { cmd: 'node-gyp', args: [] };
  return undefined;
}

function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = resolve(dirname(process.execPath), '..');
  if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) return [`--nodedir=${prefix}`];
  return [];
}

// The most telling line of a failed node-gyp run.
function summarize(r, log, step) {
  if (r.error) return r.error.message;
  const lines = log.split('\n').map((l) => l.trim()).filter(Boolean);
  const pick =
    lines.find((l) => /could not find any python|You need to install the latest version of Python/i.test(l)) ??
    lines.find((l) => /command not found|not found|No such file|FileNotFoundError|fatal error|error:/i.test(l)) ??
    lines.find((l) => /^gyp ERR!/.test(l) && !/ (stack|System|command|cwd|node -v|node-gyp -v|not ok)\b/.test(l)) ??
    `node-gyp ${step} exited with ${r.status}`;
  return pick.replace(/^gyp ERR! /, '').slice(0, 300);
}

function fail(reason, log) {
  if (attempted) rmSync(addon, { force: true }); // never leave a stale addon beside a failure
  try {
    mkdirSync(buildDir, { recursive: true });
    writeFileSync(reasonFile, `${reason}\n${log ? `\n${log}` : ''}`);
  } catch {
    /* best effort */
  }
  console.warn(`memcache-hybrid: ACL addon not built (${reason}); the 'acl' backend is unavailable, 'sim' works.`);
  process.exit(0);
}

if (process.env.MMC_SKIP_NATIVE === '1') fail('MMC_SKIP_NATIVE=1');

const gyp = findNodeGyp();
if (!gyp) fail('node-gyp not found');

const common = [...nodedirArgs()];
attempted = true;
for (const step of [['configure', ...common], ['build', ...common]]) {
  const r = spawnSync(gyp.cmd, [...gyp.args, ...step], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    env: process.env,
  });
  const log = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.error || r.status !== 0) fail(`node-gyp ${step[0]} failed: ${summarize(r, log, step[0])}`, log.slice(-8000));
}
if (!existsSync(addon)) fail(`node-gyp finished but ${addon} is missing`);
rmSync(reasonFile, { force: true });
if (!quiet) console.log(`memcache-hybrid: built ${addon}`);
