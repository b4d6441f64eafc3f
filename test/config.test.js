import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSize, parseConf, loadConf, KNOWN_UNUSED_KEYS } from '../dist/config.js';
import { MMC, MmcError } from '../dist/errors.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;
const TiB = 1024 * GiB;

function throwsMmc(fn, re) {
  try {
    fn();
  } catch (err) {
    assert.instance(err, MmcError, `expected MmcError, got ${err}`);
    assert.is(err.code, MMC.MMC_INVALID_PARAM, err.message);
    if (re) assert.match(err.message, re);
    return err;
  }
  assert.unreachable('expected a throw');
}

test('parseSize: good sizes', () => {
  const cases = [
    ['128MB', 128 * MiB],
    ['2.5GB', 2.5 * GiB],
    ['1TB', TiB],
    ['4096', 4096],
    ['64KB', 64 * KiB],
    ['1GiB', GiB],
    ['7B', 7],
    ['7b', 7],
    ['200mb', 200 * MiB],
    ['64 KB', 64 * KiB],
    ['  1  tb  ', TiB],
    ['2048K', 2048 * KiB],
    ['200m', 200 * MiB],
    ['2.5G', 2.5 * GiB],
    ['3MiB', 3 * MiB],
    ['.5KB', 512],
    ['0.1KB', 102],
    ['1.5', 1],
    ['134217728', 134217728],
    [4096, 4096],
    [4096.9, 4096],
    [1, 1],
    ['8191TB', 8191 * TiB],
  ];
  for (const [input, want] of cases) assert.is(parseSize(input), want, `parseSize(${JSON.stringify(input)})`);
});

test('parseSize: bad sizes name the value', () => {
  const bad = ['', '   ', 'MB', 'B', '-1', '-1MB', '0', '0KB', '0.0001', '1XB', '1.2.3', '1e3', 'abc', '12 M B', '1PB', '0x10', '1,5GB', '8192TB', '1 .5KB'];
  for (const v of bad) {
    const err = throwsMmc(() => parseSize(v));
    assert.ok(err.message.includes(`'${v}'`), `message names ${JSON.stringify(v)}: ${err.message}`);
  }
  for (const v of [0, -5, 0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60]) {
    const err = throwsMmc(() => parseSize(v));
    assert.ok(err.message.includes(String(v)), err.message);
  }
  throwsMmc(() => parseSize(null));
  throwsMmc(() => parseSize(undefined));
});

test('parseConf: every field, comments, blanks, quotes, spacing', () => {
  const text = [
    '# a comment',
    '; another comment',
    '',
    '   ',
    'ock.mmc.meta_service.metrics_url = 127.0.0.1:8000',
    'ock.mmc.evict_threshold_high=85',
    'ock.mmc.evict_threshold_low   =   70   # trailing comment',
    'ock.mmc.local_service.dram.size = "2.5GB"',
    "ock.mmc.local_service.hbm.size = '64 MB'",
    '\tock.mmc.local_service.world_size = 8',
    'ock.mmc.log_level = WARN',
    'ock.mmc.meta.ha.enable = 1',
  ].join('\r\n');
  const { config, warnings } = parseConf(text, 'mmc-meta.conf');
  assert.equal(warnings, []);
  assert.equal(config, {
    listen: { host: '127.0.0.1', port: 8000 },
    evictThresholdHigh: 85,
    evictThresholdLow: 70,
    dramSize: 2.5 * GiB,
    hbmSize: 64 * MiB,
    worldSize: 8,
    logLevel: 'warn',
    haEnable: true,
  });
});

test('parseConf: empty text gives an empty config', () => {
  assert.equal(parseConf(''), { config: {}, warnings: [] });
  assert.equal(parseConf('# only\n; comments\n'), { config: {}, warnings: [] });
});

test('parseConf: both metrics_url forms, and IPv6', () => {
  const url = (v) => parseConf(`ock.mmc.meta_service.metrics_url = ${v}`).config.listen;
  assert.equal(url('127.0.0.1:8000'), { host: '127.0.0.1', port: 8000 });
  assert.equal(url('http://0.0.0.0:9100'), { host: '0.0.0.0', port: 9100 });
  assert.equal(url('HTTP://localhost:9100/'), { host: 'localhost', port: 9100 });
  assert.equal(url('"http://mmc-meta.svc.local:8080"'), { host: 'mmc-meta.svc.local', port: 8080 });
  assert.equal(url('[::1]:8000'), { host: '::1', port: 8000 });
  assert.equal(url('http://[::]:0'), { host: '::', port: 0 });
  for (const bad of ['127.0.0.1', ':8000', '127.0.0.1:', '127.0.0.1:65536', 'tcp://127.0.0.1:8000', 'http://a b:80', 'host:80/metrics', 'https://h:1']) {
    throwsMmc(
      () => parseConf(`ock.mmc.meta_service.metrics_url = ${bad}`, 'x.conf'),
      /^MMC_INVALID_PARAM: x\.conf:1: bad value for ock\.mmc\.meta_service\.metrics_url: /,
    );
  }
});

test('parseConf: booleans, log levels, case-insensitive', () => {
  const ha = (v) => parseConf(`ock.mmc.meta.ha.enable = ${v}`).config.haEnable;
  assert.is(ha('true'), true);
  assert.is(ha('TRUE'), true);
  assert.is(ha('1'), true);
  assert.is(ha('false'), false);
  assert.is(ha('False'), false);
  assert.is(ha('0'), false);
  for (const bad of ['yes', '2', '', 'on']) throwsMmc(() => ha(bad), /bad value for ock\.mmc\.meta\.ha\.enable/);
  for (const l of ['debug', 'info', 'warn', 'error']) {
    assert.is(parseConf(`ock.mmc.log_level = ${l.toUpperCase()}`).config.logLevel, l);
  }
  const err = throwsMmc(() => parseConf('ock.mmc.log_level = verbose'), /bad value for ock\.mmc\.log_level: expected debug, info, warn or error$/);
  assert.not.match(err.message, /verbose/, 'the value is not echoed');
});

test('parseConf: integer ranges', () => {
  const cases = [
    ['ock.mmc.evict_threshold_high', ['1', '99', '+50'], ['0', '100', '-1', '70.5', 'seventy', '', '1e1']],
    ['ock.mmc.evict_threshold_low', ['1', '99'], ['0', '100']],
    ['ock.mmc.local_service.world_size', ['1', '16', '1024'], ['0', '1025', '2.0']],
  ];
  for (const [key, good, bad] of cases) {
    for (const g of good) parseConf(`${key} = ${g}`);
    for (const b of bad) {
      throwsMmc(() => parseConf(`# header\n${key} = ${b}`, 'f.conf'), new RegExp(`f\\.conf:2: bad value for ${key.replace(/\./g, '\\.')}`));
    }
  }
});

test('parseConf: low must be below high', () => {
  throwsMmc(
    () => parseConf('ock.mmc.evict_threshold_low = 80\nock.mmc.evict_threshold_high = 80', 'c.conf'),
    /c\.conf:1: bad value for ock\.mmc\.evict_threshold_low: 80 must be below ock\.mmc\.evict_threshold_high \(80\)/,
  );
  const { config } = parseConf('ock.mmc.evict_threshold_low = 60\nock.mmc.evict_threshold_high = 70');
  assert.is(config.evictThresholdLow, 60);
  assert.is(config.evictThresholdHigh, 70);
});

test('parseConf: sizes, 0 allowed in the conf (reference default hbm.size = 0)', () => {
  const { config } = parseConf('ock.mmc.local_service.hbm.size = 0\nock.mmc.local_service.dram.size = 1TB');
  assert.is(config.hbmSize, 0);
  assert.is(config.dramSize, TiB);
  const err = throwsMmc(
    () => parseConf('\n\n\nock.mmc.local_service.dram.size = 12QB', 'local.conf'),
    /^MMC_INVALID_PARAM: local\.conf:4: bad value for ock\.mmc\.local_service\.dram\.size: unknown unit/,
  );
  assert.not.match(err.message, /12|QB/, 'the value is not echoed');
  throwsMmc(() => parseConf('ock.mmc.local_service.hbm.size = -1'), /bad value for ock\.mmc\.local_service\.hbm\.size/);
});

test('parseConf: unknown keys warn with source and line; known reference keys are silent', () => {
  const text = [
    'ock.mmc.meta_service_url = tcp://127.0.0.1:5000',
    'ock.mmc.meta_service.config_store_url = tcp://127.0.0.1:6000',
    'ock.mmc.tls.enable = false',
    'ock.mmc.tls.decrypter.path =',
    'ock.mmc.local_service.protocol = host_rdma',
    'ock.mmc.local_service.config_store_url = tcp://127.0.0.1:6000',
    'ock.mmc.client.timeout.seconds = 60',
    'ock.mmc.evict_treshold_high = 70',
    'some.other.key = x',
  ].join('\n');
  const { config, warnings } = parseConf(text, 'mmc-local.conf');
  assert.equal(config, { metaServiceUrl: 'http://127.0.0.1:5000', tls: { enable: false } });
  assert.is(warnings.length, 2);
  assert.match(warnings[0], /mmc-local\.conf:8: unknown key 'ock\.mmc\.evict_treshold_high'/);
  assert.match(warnings[1], /mmc-local\.conf:9: unknown key 'some\.other\.key'/);
  assert.not.ok(KNOWN_UNUSED_KEYS.has('ock.mmc.meta_service_url'), 'read: where mmc local finds the meta service');
});

test('parseConf: duplicate keys warn, the later value wins', () => {
  const { config, warnings } = parseConf('ock.mmc.log_level = info\nock.mmc.log_level = debug', 'd.conf');
  assert.is(config.logLevel, 'debug');
  assert.is(warnings.length, 1);
  assert.match(warnings[0], /d\.conf:2: duplicate key 'ock\.mmc\.log_level' \(line 1\)/);
});

test('parseConf: malformed lines and quotes', () => {
  throwsMmc(() => parseConf('ock.mmc.log_level info', 'm.conf'), /m\.conf:1: expected 'key = value' \(no '=' on the line\)$/);
  throwsMmc(() => parseConf('\n= 5', 'm.conf'), /m\.conf:2: missing key/);
  throwsMmc(() => parseConf('ock.mmc.log_level = "info', 'm.conf'), /m\.conf:1: bad value for ock\.mmc\.log_level: unterminated quote/);
  throwsMmc(() => parseConf('ock.mmc.log_level = "info" x', 'm.conf'), /m\.conf:1: bad value for ock\.mmc\.log_level/);
  // A quoted value keeps '#' and ';' and may be followed by a comment.
  const { config } = parseConf('ock.mmc.log_level = "error" # the quietest');
  assert.is(config.logLevel, 'error');
  // Default source name.
  throwsMmc(() => parseConf('ock.mmc.local_service.world_size = 0'), /^MMC_INVALID_PARAM: conf:1: bad value for ock\.mmc\.local_service\.world_size/);
});

test('conf errors name file, line and key, never the line: a password file given as --config', () => {
  const hash = '$6$Zx9aQ1$kq0V1yQ8tTnmGvJ9N0ZcQh3p7m0Rz6fQ2eY1';
  const shadow = `root:${hash}:19700:0:99999:7:::\ndaemon:*:19700:0:99999:7:::\n`;
  let err = throwsMmc(() => parseConf(shadow, '/etc/shadow'));
  assert.is(err.message, "MMC_INVALID_PARAM: /etc/shadow:1: expected 'key = value' (no '=' on the line)");
  // An '=' inside the secret: the part before it is no key either, and is not echoed.
  err = throwsMmc(() => parseConf(`# users\nroot:${hash}=x:19700\n`, 'p'));
  assert.is(err.message, "MMC_INVALID_PARAM: p:2: expected 'key = value' (a key is letters, digits, '.', '_' and '-')");
  // A known key with a secret-looking value: the key is named, the value is not.
  for (const [line, what] of [
    ['ock.mmc.evict_threshold_high = s3cr3t-value', 'expected an integer 1..99'],
    ['ock.mmc.meta_service.metrics_url = s3cr3t-value', 'expected host:port or http://host:port'],
    ['ock.mmc.meta_service.metrics_url = s3cr3t:99999', 'port must be 0..65535'],
    ['ock.mmc.local_service.hbm.size = 12s3cr3t', 'expected a number with an optional unit B, KB, MB, GB, TB (binary; K/M/G/T and KiB.. also accepted)'],
    ['ock.mmc.local_service.hbm.size = 12sekret', 'unknown unit (B, KB, MB, GB, TB)'],
    ['ock.mmc.tls.enable = s3cr3t', 'expected true, false, 1 or 0'],
    ['ock.mmc.log_level = "s3cr3t', 'unterminated quote'],
  ]) {
    err = throwsMmc(() => parseConf(line, 'c.conf'));
    const key = line.split(' = ')[0];
    assert.is(err.message, `MMC_INVALID_PARAM: c.conf:1: bad value for ${key}: ${what}`);
    assert.not.match(err.message, /s3cr3t|sekret/);
  }
  // Unknown keys: named in a warning (the value never is).
  const { warnings } = parseConf('API_KEY = s3cr3t');
  assert.equal(warnings, ["conf:1: unknown key 'API_KEY' (ignored)"]);
});

test('loadConf: a file that is not a regular file, or too large, is refused naming it', () => {
  const d = mkdtempSync(join(tmpdir(), 'mmc-conf-'));
  try {
    throwsMmc(() => loadConf(d), new RegExp(`^MMC_INVALID_PARAM: config file ${d}: not a regular file$`));
    const big = join(d, 'big.conf');
    writeFileSync(big, '#'.repeat(1024 * 1024 + 1));
    throwsMmc(() => loadConf(big), /larger than 1048576 bytes$/);
    const shadow = join(d, 'shadow');
    writeFileSync(shadow, 'root:$6$secrethash:1:0:::\n');
    const err = throwsMmc(() => loadConf(shadow));
    assert.is(err.message, `MMC_INVALID_PARAM: ${shadow}:1: expected 'key = value' (no '=' on the line)`);
  } finally { rmSync(d, { recursive: true, force: true }); }
});

test('parseConf: ock.mmc.tls.* and ock.mmc.auth.token.path', () => {
  const { config, warnings } = parseConf([
    'ock.mmc.tls.enable = true',
    'ock.mmc.tls.top.path = /opt/ock/security/',
    'ock.mmc.tls.ca.path = certs/ca.cert.pem',
    'ock.mmc.tls.ca.crl.path =',
    'ock.mmc.tls.cert.path = certs/server.cert.pem',
    'ock.mmc.tls.key.path = certs/server.private.key.pem',
    'ock.mmc.tls.key.pass.path = certs/server.passphrase',
    'ock.mmc.tls.package.path = /opt/ock/security/libs/',
    'ock.mmc.auth.token.path = /etc/mmc/token',
  ].join('\n'));
  assert.equal(warnings, []);
  assert.equal(config, {
    tls: {
      enable: true, topPath: '/opt/ock/security/', caPath: 'certs/ca.cert.pem',
      certPath: 'certs/server.cert.pem', keyPath: 'certs/server.private.key.pem', keyPassPath: 'certs/server.passphrase',
    },
    tokenPath: '/etc/mmc/token',
  });
});

test('parseConf: the reference meta and local conf files load without warnings', () => {
  const meta = `# Meta service start-up url
ock.mmc.meta_service_url = tcp://127.0.0.1:5000
ock.mmc.meta_service.config_store_url = tcp://127.0.0.1:6000
ock.mmc.meta_service.metrics_url = 127.0.0.1:8000
ock.mmc.meta.ha.enable = false
ock.mmc.log_level = info
ock.mmc.log_path = /var/log/memcache_hybrid
ock.mmc.log_rotation_file_size = 20
ock.mmc.log_rotation_file_count = 50
ock.mmc.evict_threshold_high = 70
ock.mmc.evict_threshold_low = 60
ock.mmc.tls.enable = false
ock.mmc.tls.ca.path = /opt/ock/security/certs/ca.cert.pem
ock.mmc.tls.ca.crl.path = /opt/ock/security/certs/ca.crl.pem
ock.mmc.tls.cert.path = /opt/ock/security/certs/server.cert.pem
ock.mmc.tls.key.path = /opt/ock/security/certs/server.private.key.pem
ock.mmc.tls.key.pass.path = /opt/ock/security/certs/server.passphrase
ock.mmc.tls.package.path = /opt/ock/security/libs/
ock.mmc.tls.decrypter.path =
ock.mmc.config_store.tls.enable = false
ock.mmc.config_store.tls.package.path = /opt/ock/security/libs/
`;
  const m = parseConf(meta, 'mmc-meta.conf');
  assert.equal(m.warnings, []);
  assert.equal(m.config, {
    metaServiceUrl: 'http://127.0.0.1:5000',
    listen: { host: '127.0.0.1', port: 8000 },
    haEnable: false,
    logLevel: 'info',
    evictThresholdHigh: 70,
    evictThresholdLow: 60,
    tls: {
      enable: false,
      caPath: '/opt/ock/security/certs/ca.cert.pem',
      crlPath: '/opt/ock/security/certs/ca.crl.pem',
      certPath: '/opt/ock/security/certs/server.cert.pem',
      keyPath: '/opt/ock/security/certs/server.private.key.pem',
      keyPassPath: '/opt/ock/security/certs/server.passphrase',
    },
  });
  const local = `ock.mmc.meta_service_url = tcp://127.0.0.1:5000
ock.mmc.log_level = info
ock.mmc.local_service.world_size = 16
ock.mmc.local_service.config_store_url = tcp://127.0.0.1:6000
ock.mmc.local_service.protocol = host_rdma
ock.mmc.local_service.dram.size = 128MB
ock.mmc.local_service.hbm.size = 0
ock.mmc.local_service.hcom_url = tcp://127.0.0.1:7000
ock.mmc.local_service.hcom.tls.enable = true
ock.mmc.client.retry_milliseconds = 0
ock.mmc.client.timeout.seconds = 60
ock.mmc.client.read_thread_pool.size = 32
ock.mmc.client.aggregate.io = false
ock.mmc.client.write_thread_pool.size = 4
`;
  const l = parseConf(local, 'mmc-local.conf');
  assert.equal(l.warnings, []);
  assert.equal(l.config, { metaServiceUrl: 'http://127.0.0.1:5000', logLevel: 'info', worldSize: 16, dramSize: 128 * MiB, hbmSize: 0 });
});

test('loadConf: reads a file, names it in messages; missing file names the path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mmc-conf-'));
  try {
    const path = join(dir, 'mmc.conf');
    writeFileSync(path, '\uFEFF# bom and comment\nock.mmc.evict_threshold_high = 95\nock.mmc.bogus = 1\n');
    const { config, warnings } = loadConf(path);
    assert.is(config.evictThresholdHigh, 95);
    assert.is(warnings.length, 1);
    assert.ok(warnings[0].startsWith(`${path}:3: unknown key 'ock.mmc.bogus'`), warnings[0]);
    writeFileSync(path, 'ock.mmc.evict_threshold_high = 100\n');
    throwsMmc(() => loadConf(path), new RegExp(`${path.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:1: bad value for ock\\.mmc\\.evict_threshold_high`));
    const missing = join(dir, 'nope.conf');
    const err = throwsMmc(() => loadConf(missing), /config file not found/);
    assert.ok(err.message.includes(missing));
    throwsMmc(() => loadConf(dir), /: not a regular file$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
