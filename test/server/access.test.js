// Access: the bearer token in front of every door (fast paths and Koa routes), TLS and mutual TLS
// over a real HTTPS server, refusing to start when asked-for access cannot be set up, and errors
// that never carry a stack or a path.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import https from 'node:https';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemCacheClient, MmcError } from '../../dist/index.js';
import { createServer } from '../../dist/server/index.js';
import { planServe, serve } from '../../dist/server/serve.js';
import { encodeBatchPut, encodeKeyList } from '../../dist/protocol/framing.js';
import { startServer, req, isErrorBody } from './_helpers.js';
import { opensslRuns, opensslTest, makeCerts } from '../helpers/tls.js';

const TOKEN = 'tok-3f9a.b_c~d+e/f=';

/** `p` rejects with an error whose message matches `re`. */
async function rejects(p, re) {
  let err;
  try { await p; } catch (e) { err = e; }
  assert.ok(err !== undefined, `expected a rejection matching ${re}`);
  if (re) assert.match(String(err?.message ?? err), re);
  return err;
}
const dir = mkdtempSync(join(tmpdir(), 'mmc-access-'));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const keyList = encodeKeyList(['a', 'b']);
const batchPut = Buffer.concat(encodeBatchPut([['bp', Buffer.from('v')]]).chunks);

/** Reads of the admin API: open with a token set. */
const OPEN = [
  ['GET', '/health'], ['HEAD', '/health'], ['GET', '/role'], ['GET', '/ha_status'], ['GET', '/leader'],
  ['GET', '/metrics'], ['GET', '/metrics/summary'], ['GET', '/metrics/ptracer'], ['GET', '/api/v1/analysis/alloc_free_latency'],
  ['GET', '/metadata?key=m'], ['GET', '/query_key?key=k'], ['GET', '/batch_query_keys?keys=k'], ['GET', '/get_all_keys'],
  ['GET', '/get_all_segments'], ['GET', '/query_segment?segment=rank-0-hbm'], ['GET', '/api/v1/segments/status?segment=rank-0-hbm'],
  ['GET', '/api/v1/capacity/usage'], ['GET', '/api/v1/capacity/segment_remaining'], ['GET', '/api/v1/drain_jobs/query?id=1'],
  ['HEAD', '/get_all_keys'],
];
/** Every mutating admin endpoint and the whole data plane (reads included), plus odd spellings. */
const GUARDED = [
  ['PUT', '/metadata?key=m', 'v'], ['DELETE', '/metadata?key=m'], ['DELETE', '/key?key=k'], ['DELETE', '/all_keys'],
  ['POST', '/api/v1/drain_jobs', '{}'], ['POST', '/api/v1/drain_jobs/cancel', '{}'],
  ['PUT', '/api/v1/objects?key=k', 'value'], ['GET', '/api/v1/objects?key=k'], ['HEAD', '/api/v1/objects?key=k'],
  ['DELETE', '/api/v1/objects?key=k'], ['GET', '/api/v1/objects/keys'], ['GET', '/api/v1/objects/stats'],
  ['POST', '/api/v1/objects/remove_all'], ['POST', '/api/v1/objects/batch_put', batchPut],
  ['POST', '/api/v1/objects/batch_get', keyList], ['POST', '/api/v1/objects/batch_exists', keyList],
  ['POST', '/api/v1/objects/batch_remove', keyList], ['POST', '/api/v1/objects/batch_query', keyList],
  ['GET', '/api/v1/objects/batch_get'], ['POST', '/health'], ['OPTIONS', '/health'], ['GET', '/nope'],
  ['GET', '/api/v1/%6fbjects?key=k'], ['GET', '//api/v1/objects?key=k'], ['GET', '/health/../api/v1/objects?key=k'],
  ['GET', 'http://127.0.0.1/api/v1/objects?key=k'], ['GET', 'http://127.0.0.1/health'],
];

for (const fastPath of [true, false]) {
  test(`token (fastPath ${fastPath}): reads of the admin API open; everything else 401 without, 403 wrong, served right`, async () => {
    const S = await startServer({ server: { token: TOKEN, fastPath } });
    try {
      await S.mc.put('k', Buffer.from('kept'));
      for (const [method, path] of OPEN) {
        const r = await req(S.url, method, path);
        assert.ok(r.status !== 401 && r.status !== 403, `${method} ${path}: ${r.status}`);
      }
      for (const [method, path, body] of GUARDED) {
        const what = `${method} ${path}`;
        let r = await req(S.url, method, path, body);
        assert.is(r.status, 401, what);
        assert.is(r.headers['www-authenticate'], 'Bearer realm="memcache-hybrid"', what);
        if (method !== 'HEAD') assert.ok(isErrorBody(r, 'Unauthorized: bearer token required'), what);
        for (const auth of ['Basic dXNlcjpwYXNz', 'Bearer', 'Bearer ', `Token ${TOKEN}`, `Bearer ${TOKEN} extra`]) {
          assert.is((await req(S.url, method, path, body, { authorization: auth })).status, 401, `${what} with ${auth}`);
        }
        for (const wrong of [`${TOKEN}x`, TOKEN.slice(1), 'x', TOKEN.toUpperCase()]) {
          r = await req(S.url, method, path, body, { authorization: `Bearer ${wrong}` });
          assert.is(r.status, 403, `${what} with a wrong token`);
          assert.is(r.headers['www-authenticate'], undefined);
          if (method !== 'HEAD') assert.ok(isErrorBody(r, 'Forbidden: wrong bearer token'), what);
        }
      }
      // Nothing refused reached the store.
      assert.equal(Buffer.from(await S.mc.get('k')).toString(), 'kept');
      assert.equal(await S.mc.keys(), ['k']);
      assert.is(S.mc.stats().remove_all_req, 0);
      // With the token (scheme in any case), the same requests are served.
      const ok = { authorization: `Bearer ${TOKEN}` };
      let r = await req(S.url, 'GET', '/api/v1/objects?key=k', undefined, { authorization: `bearer ${TOKEN}` });
      assert.is(r.status, 200);
      assert.is(r.text, 'kept');
      r = await req(S.url, 'PUT', '/api/v1/objects?key=n', 'new', ok);
      assert.is(r.status, 200, r.text);
      r = await req(S.url, 'POST', '/api/v1/objects/batch_put', batchPut, { ...ok, 'content-length': String(batchPut.length) });
      assert.is(r.status, 200);
      r = await req(S.url, 'PUT', '/metadata?key=m', 'meta', ok);
      assert.is(r.text, 'metadata updated');
      assert.is((await req(S.url, 'GET', '/metadata?key=m')).text, 'meta', 'metadata reads stay open');
      r = await req(S.url, 'DELETE', '/all_keys', undefined, ok);
      assert.is(r.status, 200);
      assert.equal(await S.mc.keys(), []);
    } finally { await S.close(); }
  });
}

test('token: a refused request with a body leaves its keep-alive connection usable', async () => {
  const S = await startServer({ server: { token: TOKEN } });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const sockets = new Set();
  const one = (method, path, body, headers) => new Promise((resolve, reject) => {
    const u = new URL(S.url);
    const q = http.request({ host: u.hostname, port: u.port, method, path, headers, agent }, (res) => {
      sockets.add(res.socket);
      const c = [];
      res.on('data', (d) => c.push(d));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(c).toString() }));
    });
    q.on('error', reject);
    q.end(body);
  });
  try {
    const big = Buffer.alloc(1 << 20, 7);
    assert.is((await one('PUT', '/api/v1/objects?key=big', big)).status, 401);
    assert.is((await one('GET', '/health')).status, 200);
    const c = await one('PUT', '/api/v1/objects?key=big', big, { authorization: `Bearer ${TOKEN}` });
    assert.is(c.status, 200, c.text);
    assert.is(sockets.size, 1, 'one connection throughout');
    assert.is((await S.mc.get('big')).length, big.length);
  } finally { agent.destroy(); await S.close(); }
});

test('token: createServer refuses a token that cannot travel in a header', async () => {
  for (const bad of ['', 'two words', 'line\nbreak', 'caf\u00e9']) {
    const s = createServer({ ready: false }, { token: bad });
    assert.throws(() => s.listen('127.0.0.1', 0), (e) => e instanceof MmcError && /^MMC_INVALID_PARAM: token: /.test(e.message) && !e.message.includes(bad || '\u0000'));
  }
});

test('client: sends the token; a missing or wrong one fails at connect with status 401 / 403', async () => {
  const S = await startServer({ server: { token: TOKEN } });
  try {
    const c = await MemCacheClient.connect(S.url, { token: TOKEN });
    await c.put('x', Buffer.from('1'));
    assert.equal(Buffer.from(await c.get('x')).toString(), '1');
    assert.equal(await c.batchGet(['x', 'y']), [Buffer.from('1'), undefined]);
    assert.is(await c.remove('x'), true);
    await c.putMetadata('m', 'v');
    assert.is(await c.deleteMetadata('m'), true);
    await c.close();
    for (const [opts, status, re] of [[{}, 401, /Unauthorized: bearer token required/], [{ token: 'nope' }, 403, /Forbidden: wrong bearer token/]]) {
      try {
        await MemCacheClient.connect(S.url, opts);
        assert.unreachable('connect must fail');
      } catch (e) {
        assert.instance(e, MmcError);
        assert.is(e.detail?.status, status);
        assert.match(e.message, re);
      }
    }
    await rejects(MemCacheClient.connect(S.url, { token: 'a b' }), /MMC_INVALID_PARAM: token: must be one word/);
  } finally { await S.close(); }
});

// ---- unexpected errors: a generic reason, no stack, no path ----

const SECRET_PATH = '/var/lib/mmc/secret/segment-0.bin';
function boom() { throw new Error(`EACCES: permission denied, open '${SECRET_PATH}'`); }
const failingStore = {
  ready: true, put: boom, get: boom, exists: boom, query: boom, remove: boom, removeAll: boom, keys: boom,
  batchPut: boom, batchGet: boom, batchGetCodes: boom, batchExists: boom, batchRemove: boom, batchQuery: boom,
  beginPut: boom, segments: () => [], stats: boom, close() {},
  sizeOf: () => { throw `${SECRET_PATH} (a thrown string)`; }, // eslint-disable-line no-throw-literal
};

function noLeak(r, what) {
  assert.is(r.status, 500, what);
  assert.ok(isErrorBody(r, 'Internal server error'), what);
  assert.not.match(r.text, /\/var\/lib|EACCES|segment-0|\n\s+at /, what);
}

for (const fastPath of [true, false]) {
  test(`an unexpected error in a route (fastPath ${fastPath}): 500, a generic reason, no stack, no path`, async () => {
    const s = createServer(failingStore, { fastPath });
    const r = await s.listen('127.0.0.1', 0);
    try {
      for (const [method, path, body] of [
        ['GET', '/api/v1/objects?key=k'], ['PUT', '/api/v1/objects?key=k', 'v'], ['DELETE', '/api/v1/objects?key=k'],
        ['POST', '/api/v1/objects/batch_get', keyList], ['POST', '/api/v1/objects/batch_put', batchPut],
        ['POST', '/api/v1/objects/batch_exists', keyList], ['GET', '/api/v1/objects/keys'], ['GET', '/api/v1/objects/stats'],
        ['GET', '/query_key?key=k'], ['DELETE', '/key?key=k'], ['DELETE', '/all_keys'], ['GET', '/get_all_keys'],
        ['GET', '/metrics/summary'],
      ]) {
        const headers = body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {};
        noLeak(await req(r.url, method, path, body, headers), `${method} ${path}`);
      }
      const h = await req(r.url, 'HEAD', '/api/v1/objects?key=k');
      assert.is(h.status, 500);
    } finally { await r.close(); }
  });
}

test('mmc serve: an unexpected error is logged, one line, to the log (stderr); the answer stays generic', async () => {
  const lines = [];
  const plan = planServe({ listen: '127.0.0.1:0', hbm: '1MB', dram: '1MB' }, {});
  const serving = await serve(plan, async () => failingStore, (l) => lines.push(l));
  try {
    noLeak(await req(serving.running.url, 'GET', '/query_key?key=k'), 'query_key');
    noLeak(await req(serving.running.url, 'GET', '/api/v1/objects?key=k'), 'fast get');
    const logged = lines.filter((l) => l.startsWith('mmc: internal error: '));
    assert.is(logged.length, 2, lines.join('\n'));
    for (const l of logged) assert.is(l, `mmc: internal error: EACCES: permission denied, open '${SECRET_PATH}'`);
  } finally { await serving.stop(); }
});

// ---- mmc serve: token sources, refusals naming flag/key and path ----

test('planServe: token from --token-file, $MMC_TOKEN, ock.mmc.auth.token.path, in that order', () => {
  const f = join(dir, 'token');
  writeFileSync(f, `  ${TOKEN}\n`);
  const g = join(dir, 'token2');
  writeFileSync(g, 'from-conf\n');
  const conf = join(dir, 'auth.conf');
  writeFileSync(conf, `ock.mmc.auth.token.path = ${g}\n`);
  assert.is(planServe({}, {}).token, undefined);
  assert.is(planServe({ tokenFile: f }, { MMC_TOKEN: 'env' }).token, TOKEN);
  assert.is(planServe({ config: conf }, { MMC_TOKEN: 'env' }).token, 'env');
  assert.is(planServe({ config: conf }, {}).token, 'from-conf');
});

test('planServe: a token file missing, empty or not one word refuses start naming flag/key and path', () => {
  const missing = join(dir, 'no-token');
  const empty = join(dir, 'empty-token');
  writeFileSync(empty, ' \n');
  const words = join(dir, 'words-token');
  writeFileSync(words, 'two words\n');
  const conf = join(dir, 'auth-missing.conf');
  writeFileSync(conf, `ock.mmc.auth.token.path = ${missing}\n`);
  for (const [flags, env, msg] of [
    [{ tokenFile: missing }, {}, `MMC_INVALID_PARAM: --token-file: ${missing}: no such file`],
    [{ tokenFile: dir }, {}, `MMC_INVALID_PARAM: --token-file: ${dir}: is a directory`],
    [{ tokenFile: empty }, {}, `MMC_INVALID_PARAM: --token-file: ${empty}: empty token`],
    [{ tokenFile: words }, {}, `MMC_INVALID_PARAM: --token-file: ${words}: must be one word of printable ASCII (no spaces or line breaks)`],
    [{ config: conf }, {}, `MMC_INVALID_PARAM: ock.mmc.auth.token.path: ${missing}: no such file`],
    [{}, { MMC_TOKEN: '' }, 'MMC_INVALID_PARAM: MMC_TOKEN: empty'],
  ]) {
    assert.throws(() => planServe(flags, env), (e) => e instanceof MmcError && e.message === msg, msg);
  }
});

test('planServe: ock.mmc.tls.enable = true that cannot be set up refuses start naming key and path (no openssl needed)', () => {
  const nope = join(dir, 'nope');
  const junk = join(dir, 'junk.pem');
  writeFileSync(junk, 'not a certificate\n');
  const cases = [
    [['ock.mmc.tls.enable = true'], 'ock.mmc.tls.enable is true but ock.mmc.tls.cert.path is not set'],
    [['ock.mmc.tls.enable = true', `ock.mmc.tls.cert.path = ${junk}`], 'ock.mmc.tls.enable is true but ock.mmc.tls.key.path is not set'],
    [['ock.mmc.tls.enable = true', `ock.mmc.tls.cert.path = ${nope}/server.pem`, `ock.mmc.tls.key.path = ${nope}/server.key`],
      `ock.mmc.tls.cert.path: ${nope}/server.pem: no such file`],
    [['ock.mmc.tls.enable = 1', `ock.mmc.tls.top.path = ${nope}`, 'ock.mmc.tls.cert.path = certs/s.pem', 'ock.mmc.tls.key.path = certs/s.key'],
      `ock.mmc.tls.cert.path: ${nope}/certs/s.pem: no such file`],
    [['ock.mmc.tls.enable = true', `ock.mmc.tls.cert.path = ${junk}`, `ock.mmc.tls.key.path = ${junk}`],
      `ock.mmc.tls.cert.path: ${junk}: not a PEM certificate`],
  ];
  for (const [lines, msg] of cases) {
    const conf = join(dir, 'tls.conf');
    writeFileSync(conf, lines.join('\n') + '\n');
    assert.throws(() => planServe({ config: conf }, {}), (e) => e instanceof MmcError && e.message === `MMC_INVALID_PARAM: ${msg}`, msg);
  }
  // Disabled: the paths are not looked at (the reference's sample conf lists them with enable = false).
  const conf = join(dir, 'off.conf');
  writeFileSync(conf, `ock.mmc.tls.enable = false\nock.mmc.tls.cert.path = ${nope}\n`);
  assert.is(planServe({ config: conf }, {}).tls, undefined);
  for (const [flags, msg] of [
    [{ tlsCert: `${nope}.pem`, tlsKey: `${nope}.key` }, `--tls-cert: ${nope}.pem: no such file`],
    [{ tlsCert: junk }, '--tls-cert and --tls-key go together (--tls-ca needs both)'],
    [{ tlsCa: junk }, '--tls-cert and --tls-key go together (--tls-ca needs both)'],
  ]) {
    assert.throws(() => planServe(flags, {}), (e) => e instanceof MmcError && e.message === `MMC_INVALID_PARAM: ${msg}`, msg);
  }
});

// ---- TLS over a real HTTPS server (throwaway certificates from openssl) ----

{
  const tlsTest = opensslTest(test, import.meta.url);
  let C;
  test.before(() => { if (opensslRuns()) C = makeCerts(); });
  test.after(() => { if (C) rmSync(C.dir, { recursive: true, force: true }); });
  const pem = (f) => readFileSync(f);

  /** One HTTPS exchange; rejects on a handshake failure. */
  const httpsGet = (url, path, opts = {}) => new Promise((resolve, reject) => {
    const r = https.request(`${url}${path}`, { ...opts, agent: false }, (res) => {
      const c = [];
      res.on('data', (d) => c.push(d));
      res.on('end', () => resolve({ status: res.statusCode, text: Buffer.concat(c).toString() }));
      res.on('error', reject);
    });
    r.on('error', reject);
    r.end();
  });

  tlsTest('TLS: HTTPS with the same handler; the client verifies with ca; plain HTTP and unverified clients fail', async () => {
    const S = await startServer({ server: { tls: { cert: pem(C.serverCert), key: pem(C.serverKey) } } });
    try {
      assert.match(S.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const c = await MemCacheClient.connect(S.url, { ca: pem(C.ca) });
      await c.put('t', Buffer.from('over tls'));
      assert.is(Buffer.from(await c.get('t')).toString(), 'over tls');
      assert.equal(await c.batchGet(['t']), [Buffer.from('over tls')]);
      await c.close();
      assert.is((await httpsGet(S.url, '/health', { ca: pem(C.ca) })).status, 200);
      await rejects(MemCacheClient.connect(S.url), /unable to verify the first certificate/);
      await rejects(MemCacheClient.connect(S.url, { ca: pem(C.otherCa) }), /self-signed|unable to verify|SELF_SIGNED/i);
      await rejects(req(S.url.replace('https:', 'http:'), 'GET', '/health'), /socket hang up|ECONNRESET|Parse Error/);
      await rejects(MemCacheClient.connect(S.url.replace('https:', 'http:'), { ca: pem(C.ca) }), /^MMC_INVALID_PARAM: ca, cert and key need an https:\/\/ URL/);
    } finally { await S.close(); }
  });

  tlsTest('TLS with a CA: client certificates required (mutual TLS); token and TLS together', async () => {
    const S = await startServer({ server: { token: TOKEN, tls: { cert: pem(C.serverCert), key: pem(C.serverKey), ca: pem(C.ca) } } });
    try {
      const c = await MemCacheClient.connect(S.url, { ca: pem(C.ca), cert: pem(C.clientCert), key: pem(C.clientKey), token: TOKEN });
      await c.put('m', Buffer.from('mutual'));
      assert.is(Buffer.from(await c.get('m')).toString(), 'mutual');
      await c.close();
      await rejects(MemCacheClient.connect(S.url, { ca: pem(C.ca), token: TOKEN }), /other side closed|certificate required|ECONNRESET|socket/i);
      await rejects(MemCacheClient.connect(S.url, { ca: pem(C.ca), cert: pem(C.strangerCert), key: pem(C.strangerKey), token: TOKEN }),
        /other side closed|unknown ca|ECONNRESET|socket|alert/i);
      await rejects(MemCacheClient.connect(S.url, { ca: pem(C.ca), cert: pem(C.clientCert), key: pem(C.clientKey) }), /Unauthorized/);
    } finally { await S.close(); }
  });

  tlsTest('planServe: TLS from the flags and from ock.mmc.tls.* (top.path, mutual with ca); bad files name key and path', async () => {
    let plan = planServe({ listen: '127.0.0.1:0', hbm: '1MB', dram: '1MB', tlsCert: C.serverCert, tlsKey: C.serverKey }, {});
    assert.ok(plan.tls.cert.equals(pem(C.serverCert)));
    assert.is(plan.tls.ca, undefined);
    const conf = join(dir, 'tls-ok.conf');
    writeFileSync(conf, [
      'ock.mmc.meta_service.metrics_url = 127.0.0.1:0',
      'ock.mmc.local_service.hbm.size = 1MB', 'ock.mmc.local_service.dram.size = 1MB',
      'ock.mmc.tls.enable = true', `ock.mmc.tls.top.path = ${C.dir}`,
      'ock.mmc.tls.cert.path = server.pem', 'ock.mmc.tls.key.path = server.key', `ock.mmc.tls.ca.path = ${C.ca}`,
      'ock.mmc.tls.package.path = /opt/ock/security/libs/',
    ].join('\n'));
    plan = planServe({ config: conf }, {});
    assert.ok(plan.tls.ca.equals(pem(C.ca)));
    const lines = [];
    const { MemCache } = await import('../../dist/index.js');
    const serving = await serve(plan, (o) => MemCache.open(o), (l) => lines.push(l));
    try {
      assert.match(serving.running.url, /^https:/);
      assert.match(lines.at(-1), /^mmc: serving on https:\/\/127\.0\.0\.1:\d+: .*, client certificates required$/);
      const ok = await httpsGet(serving.running.url, '/health', { ca: pem(C.ca), cert: pem(C.clientCert), key: pem(C.clientKey) });
      assert.is(ok.status, 200);
      await rejects(httpsGet(serving.running.url, '/health', { ca: pem(C.ca) }));
    } finally { await serving.stop(); }
    const enc = join(dir, 'enc.key');
    const pass = join(dir, 'pass');
    const { createPrivateKey } = await import('node:crypto');
    writeFileSync(enc, createPrivateKey(pem(C.serverKey)).export({ type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pw' }));
    writeFileSync(pass, 'pw\n');
    const confOf = (extra) => {
      const f = join(dir, 'tls-x.conf');
      writeFileSync(f, ['ock.mmc.tls.enable = true', `ock.mmc.tls.cert.path = ${C.serverCert}`, ...extra].join('\n'));
      return f;
    };
    plan = planServe({ config: confOf([`ock.mmc.tls.key.path = ${enc}`, `ock.mmc.tls.key.pass.path = ${pass}`]) }, {});
    assert.is(plan.tls.passphrase, 'pw');
    const empty = join(dir, 'empty.pem');
    writeFileSync(empty, '');
    for (const [extra, msg] of [
      [[`ock.mmc.tls.key.path = ${C.clientKey}`], `ock.mmc.tls.key.path: ${C.clientKey}: not the key of the certificate in ${C.serverCert}`],
      [[`ock.mmc.tls.key.path = ${enc}`], `ock.mmc.tls.key.path: ${enc}: not a PEM private key (or one that needs a passphrase)`],
      [[`ock.mmc.tls.key.path = ${enc}`, `ock.mmc.tls.key.pass.path = ${C.ca}`], `ock.mmc.tls.key.path: ${enc}: not a PEM private key, or the passphrase does not open it`],
      [[`ock.mmc.tls.key.path = ${C.serverKey}`, `ock.mmc.tls.ca.path = ${empty}`], `ock.mmc.tls.ca.path: ${empty}: empty file`],
      [[`ock.mmc.tls.key.path = ${C.serverKey}`, `ock.mmc.tls.ca.path = ${C.serverKey}`], `ock.mmc.tls.ca.path: ${C.serverKey}: not a PEM certificate`],
      [[`ock.mmc.tls.key.path = ${C.serverKey}`, `ock.mmc.tls.ca.crl.path = ${C.ca}`], `ock.mmc.tls.ca.crl.path: ${C.ca}: not a PEM certificate revocation list`],
    ]) {
      assert.throws(() => planServe({ config: confOf(extra) }, {}), (e) => e instanceof MmcError && e.message === `MMC_INVALID_PARAM: ${msg}`, msg);
    }
  });
}

test.run();
