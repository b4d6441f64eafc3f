// The package's entries (package.json "exports"): the main entry loads no HTTP framework and no
// metrics library. A child process imports each entry by its package name with a resolve hook
// recording every URL the ESM loader resolves, plus require's cache for CommonJS loads.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const HEAVY = /node_modules[\\/](koa|@koa|prom-client|undici)[\\/]/;

/** Import `spec` in a fresh node; { ms, exports, loaded: every resolved URL and CJS path }. */
function importIn(spec, record = true) {
  const dir = mkdtempSync(join(tmpdir(), 'mmc-loads-'));
  const log = join(dir, 'loads.txt');
  try {
    const args = [...(record ? ['--import', './test/exports/record-loads.mjs'] : []), './test/exports/import-entry.mjs', spec];
    const out = execFileSync(process.execPath, args, {
      cwd: root, encoding: 'utf8', env: { ...process.env, MMC_LOAD_LOG: log }, timeout: 60_000,
    });
    const r = JSON.parse(out.trim().split('\n').pop());
    const urls = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
    return { ms: r.ms, exports: r.exports, loaded: [...urls, ...r.cjs] };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const heavy = (loaded) => loaded.filter((u) => HEAVY.test(u));

test('memcache-hybrid: the store, errors, sizes, backends and the client; no Koa, router, prom-client or undici', () => {
  const r = importIn('memcache-hybrid');
  for (const name of ['MemCache', 'PutWriter', 'MmcError', 'MMC', 'codeName', 'createBackend', 'createSimBackend', 'parseSize', 'parseConf', 'loadConf', 'MemCacheClient']) {
    assert.ok(r.exports.includes(name), name);
  }
  assert.not.ok(r.exports.includes('createServer'));
  assert.ok(r.loaded.some((u) => u.endsWith('/dist/store/memcache.js')), 'the hook sees the package modules');
  assert.equal(heavy(r.loaded), []);
  assert.equal(r.loaded.filter((u) => /\/dist\/server\/(index|app|state|listen|metrics)\.js$/.test(u)), [], 'no server module');
  const plain = importIn('memcache-hybrid', false);
  console.log(`  import 'memcache-hybrid': ${plain.ms.toFixed(1)} ms (${r.loaded.length} modules resolved)`);
});

test('memcache-hybrid/server loads Koa, the router and prom-client (the check sees them)', () => {
  const r = importIn('memcache-hybrid/server');
  assert.ok(r.exports.includes('createServer'));
  for (const pkg of ['koa', '@koa', 'prom-client']) {
    assert.ok(r.loaded.some((u) => u.includes(`/node_modules/${pkg}/`)), pkg);
  }
  const plain = importIn('memcache-hybrid/server', false);
  console.log(`  import 'memcache-hybrid/server': ${plain.ms.toFixed(1)} ms`);
});

test('memcache-hybrid/client and memcache-hybrid/acl load no server', () => {
  const client = importIn('memcache-hybrid/client');
  assert.ok(client.exports.includes('MemCacheClient'));
  assert.equal(heavy(client.loaded), []);
  assert.ok(client.loaded.some((u) => u.endsWith('/dist/protocol/framing.js')), 'the hook sees the protocol modules');
  assert.equal(client.loaded.filter((u) => u.includes('/dist/server/')), [], 'no module under dist/server');
  const acl = importIn('memcache-hybrid/acl');
  assert.ok(acl.exports.includes('createAclBackend'));
  assert.ok(acl.exports.includes('aclUnavailableReason'));
  assert.equal(heavy(acl.loaded), []);
});

/** The package modules `file` imports (static and dynamic, relative specifiers), as paths. */
function importsOf(file) {
  const src = readFileSync(file, 'utf8');
  const specs = [...src.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s*)['"]([^'"]+)['"]/gm)].map((m) => m[1]);
  return specs.filter((s) => s.startsWith('.')).map((s) => join(dirname(file), s));
}

test('no module of dist/client imports anything under dist/server, directly or through others', () => {
  const dist = join(root, 'dist');
  const clientFiles = readdirSync(join(dist, 'client')).filter((f) => f.endsWith('.js')).map((f) => join(dist, 'client', f));
  assert.ok(clientFiles.length > 0);
  const seen = new Set();
  const back = [];
  const walk = (file, from) => {
    if (seen.has(file)) return;
    seen.add(file);
    if (relative(dist, file).split(/[\\/]/)[0] === 'server') { back.push(`${relative(dist, from)} -> ${relative(dist, file)}`); return; }
    for (const dep of importsOf(file)) walk(dep, file);
  };
  for (const f of clientFiles) walk(f, f);
  assert.ok(seen.has(join(dist, 'protocol', 'framing.js')), 'the scan follows imports');
  assert.equal(back, []);
});

test('each entry\'s types resolve by package name (tsc, node16 resolution)', () => {
  const tsc = join(root, 'node_modules/typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext',
    '--target', 'es2022', '--skipLibCheck', 'test/exports/types-check.ts'], { cwd: root, encoding: 'utf8', timeout: 120_000 });
});

test('every entry of package.json "exports" has its code and its types', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  assert.equal(Object.keys(pkg.exports), ['.', './client', './server', './acl', './package.json']);
  for (const [name, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') continue;
    assert.ok(existsSync(join(root, target.default)), `${name}: ${target.default}`);
    assert.ok(existsSync(join(root, target.types)), `${name}: ${target.types}`);
  }
});

test.run();
