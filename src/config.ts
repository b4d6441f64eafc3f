/**
 * The reference system's `key = value` conf files (`ock.mmc.*`).
 *
 * Keys we use are parsed and validated (a bad value is refused, naming the key and line); keys the
 * reference defines but we do not use are accepted silently; any other key gives a warning.
 */
import { readFileSync, statSync } from 'node:fs';
import { MMC, MmcError } from './errors.js';
import { BadAddress, parseAddress, type ListenAddress } from './address.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface ConfConfig {
  /** From ock.mmc.meta_service.metrics_url (`host:port` or `http://host:port`). */
  listen?: ListenAddress;
  /** ock.mmc.evict_threshold_high, percent 1..99. */
  evictThresholdHigh?: number;
  /** ock.mmc.evict_threshold_low, percent 1..99, below the high mark. */
  evictThresholdLow?: number;
  /** ock.mmc.local_service.dram.size in bytes (0 = no DRAM segment). */
  dramSize?: number;
  /** ock.mmc.local_service.hbm.size in bytes (0 = no HBM segment). */
  hbmSize?: number;
  /** ock.mmc.local_service.world_size, 1..1024. */
  worldSize?: number;
  /** ock.mmc.log_level, lower case. */
  logLevel?: LogLevel;
  /** ock.mmc.meta.ha.enable. */
  haEnable?: boolean;
  /** The ock.mmc.tls.* keys, as written (paths not yet resolved or read). */
  tls?: ConfTls;
  /** ock.mmc.auth.token.path: the file holding the bearer token (ours, not the reference's). */
  tokenPath?: string;
  /** ock.mmc.data_path.listen: the binary data path's `host:port`, or 'off' (ours). */
  dataListen?: ListenAddress | 'off';
  /** ock.mmc.meta_service_url: the meta service a rank agent (mmc local) registers at, as `http://host:port`. */
  metaServiceUrl?: string;
}

/** The reference's ock.mmc.tls.* keys. Empty values count as unset. */
export interface ConfTls {
  /** ock.mmc.tls.enable. */
  enable?: boolean;
  /** ock.mmc.tls.top.path: the directory relative paths below are resolved against. */
  topPath?: string;
  /** ock.mmc.tls.ca.path: CA certificate(s), PEM; clients must present a certificate it signed. */
  caPath?: string;
  /** ock.mmc.tls.ca.crl.path: certificate revocation list, PEM. */
  crlPath?: string;
  /** ock.mmc.tls.cert.path: the server certificate (chain), PEM. */
  certPath?: string;
  /** ock.mmc.tls.key.path: its private key, PEM. */
  keyPath?: string;
  /** ock.mmc.tls.key.pass.path: a file holding the key's passphrase (plain text). */
  keyPassPath?: string;
  /** ock.mmc.tls.decrypter.path: the reference's passphrase decrypter library (not supported). */
  decrypterPath?: string;
}

export interface ConfResult {
  config: ConfConfig;
  warnings: string[];
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1024 ** 4,
  tib: 1024 ** 4,
};

const SIZE_RE = /^(\d+)?(?:\.(\d+))?\s*([a-z]*)$/i;

function badSize(v: unknown, why: string): MmcError {
  const shown = typeof v === 'string' ? `'${v}'` : String(v);
  return new MmcError(MMC.MMC_INVALID_PARAM, `invalid size ${shown}: ${why}`, { why });
}

/** Bytes, >= 0, exact (floor of fractional bytes); throws on anything not a size. */
function sizeBytes(v: string | number): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) throw badSize(v, 'expected a non-negative number of bytes');
    const n = Math.floor(v);
    if (!Number.isSafeInteger(n)) throw badSize(v, 'too large');
    return n;
  }
  if (typeof v !== 'string') throw badSize(v, 'expected a number or a string like 128MB');
  const m = SIZE_RE.exec(v.trim());
  if (m === null || (m[1] === undefined && m[2] === undefined)) {
    throw badSize(v, 'expected a number with an optional unit B, KB, MB, GB, TB (binary; K/M/G/T and KiB.. also accepted)');
  }
  const unit = UNITS[m[3]!.toLowerCase()];
  if (unit === undefined) throw badSize(v, 'unknown unit (B, KB, MB, GB, TB)');
  const intPart = m[1] ?? '0';
  const frac = m[2] ?? '';
  // Exact decimal arithmetic: digits * unit / 10^fracLen, floored.
  const bytes = (BigInt(intPart + frac) * BigInt(unit)) / 10n ** BigInt(frac.length);
  if (bytes > BigInt(Number.MAX_SAFE_INTEGER)) throw badSize(v, 'too large');
  return Number(bytes);
}

/**
 * Bytes from a number or a string like '128MB', '2.5GB', '1TB', '4096', '64 KB', '1GiB'.
 * Units are binary (1 KB = 1024) and case-insensitive. The result is a positive safe integer
 * (fractional bytes are floored); anything else throws MmcError(MMC_INVALID_PARAM).
 */
export function parseSize(v: string | number): number {
  const n = sizeBytes(v);
  if (n < 1) throw badSize(v, 'must be at least 1 byte');
  return n;
}

/** Keys the reference defines that we accept and do not use. */
export const KNOWN_UNUSED_KEYS: ReadonlySet<string> = new Set([
  'ock.mmc.meta_service.config_store_url',
  'ock.mmc.meta_service.discovery_url',
  'ock.mmc.meta_service.world_size',
  'ock.mmc.meta.ha.meta_rebuild',
  'ock.mmc.log_path',
  'ock.mmc.log_rotation_file_size',
  'ock.mmc.log_rotation_file_count',
  'ock.mmc.tls.package.path',
  'ock.mmc.config_store.tls.enable',
  'ock.mmc.config_store.tls.ca.path',
  'ock.mmc.config_store.tls.ca.crl.path',
  'ock.mmc.config_store.tls.cert.path',
  'ock.mmc.config_store.tls.key.path',
  'ock.mmc.config_store.tls.key.pass.path',
  'ock.mmc.config_store.tls.package.path',
  'ock.mmc.config_store.tls.decrypter.path',
  'ock.mmc.local_service.config_store_url',
  'ock.mmc.local_service.hcom_url',
  'ock.mmc.local_service.protocol',
  'ock.mmc.local_service.max.dram.size',
  'ock.mmc.local_service.max.hbm.size',
  'ock.mmc.local_service.hcom.tls.enable',
  'ock.mmc.local_service.hcom.tls.ca.path',
  'ock.mmc.local_service.hcom.tls.ca.crl.path',
  'ock.mmc.local_service.hcom.tls.cert.path',
  'ock.mmc.local_service.hcom.tls.key.path',
  'ock.mmc.local_service.hcom.tls.key.pass.path',
  'ock.mmc.local_service.hcom.tls.decrypter.path',
  'ock.mmc.client.retry_milliseconds',
  'ock.mmc.client.timeout.seconds',
  'ock.mmc.client.read_thread_pool.size',
  'ock.mmc.client.write_thread_pool.size',
  'ock.mmc.client.aggregate.io',
  'ock.mmc.client.aggregate.num',
]);

/**
 * Thrown from a value parser; parseConf turns it into the `source:line: bad value for key` error.
 * Its message says what is wrong and never repeats the value: a file given as --config may be one
 * that must not be echoed (a password file), so errors name file, line and key only.
 */
class BadValue extends Error {}

function intIn(v: string, min: number, max: number): number {
  if (!/^\+?\d+$/.test(v)) throw new BadValue(`expected an integer ${min}..${max}`);
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new BadValue(`expected an integer ${min}..${max}`);
  return n;
}

function listenAddress(v: string): ListenAddress {
  try {
    return parseAddress(v);
  } catch (err) {
    throw err instanceof BadAddress ? new BadValue(err.message) : err;
  }
}

function confSize(v: string): number {
  try {
    return sizeBytes(v);
  } catch (err) {
    const why = err instanceof MmcError ? err.detail?.why : undefined;
    throw new BadValue(typeof why === 'string' ? why : 'expected a size like 128MB');
  }
}

const BOOLS: Record<string, boolean> = { true: true, false: false, '1': true, '0': false };

function bool(v: string): boolean {
  const b = BOOLS[v.toLowerCase()];
  if (b === undefined) throw new BadValue('expected true, false, 1 or 0');
  return b;
}


function tlsKey(field: keyof ConfTls): Setter {
  return (c, v) => {
    const tls = (c.tls ??= {});
    if (field === 'enable') tls.enable = bool(v);
    else if (v === '') delete tls[field];
    else tls[field] = v;
  };
}

type Setter = (config: ConfConfig, value: string) => void;

const KEYS: Record<string, Setter> = {
  'ock.mmc.meta_service.metrics_url': (c, v) => {
    c.listen = listenAddress(v);
  },
  'ock.mmc.evict_threshold_high': (c, v) => {
    c.evictThresholdHigh = intIn(v, 1, 99);
  },
  'ock.mmc.evict_threshold_low': (c, v) => {
    c.evictThresholdLow = intIn(v, 1, 99);
  },
  'ock.mmc.local_service.dram.size': (c, v) => {
    c.dramSize = confSize(v);
  },
  'ock.mmc.local_service.hbm.size': (c, v) => {
    c.hbmSize = confSize(v);
  },
  'ock.mmc.local_service.world_size': (c, v) => {
    c.worldSize = intIn(v, 1, 1024);
  },
  'ock.mmc.log_level': (c, v) => {
    const l = v.toLowerCase();
    if (l !== 'debug' && l !== 'info' && l !== 'warn' && l !== 'error') {
      throw new BadValue('expected debug, info, warn or error');
    }
    c.logLevel = l;
  },
  'ock.mmc.meta_service_url': (c, v) => {
    const a = listenAddress(v.replace(/^tcp:\/\//i, ''));
    c.metaServiceUrl = `http://${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;
  },
  'ock.mmc.meta.ha.enable': (c, v) => {
    c.haEnable = bool(v);
  },
  'ock.mmc.tls.enable': tlsKey('enable'),
  'ock.mmc.tls.top.path': tlsKey('topPath'),
  'ock.mmc.tls.ca.path': tlsKey('caPath'),
  'ock.mmc.tls.ca.crl.path': tlsKey('crlPath'),
  'ock.mmc.tls.cert.path': tlsKey('certPath'),
  'ock.mmc.tls.key.path': tlsKey('keyPath'),
  'ock.mmc.tls.key.pass.path': tlsKey('keyPassPath'),
  'ock.mmc.tls.decrypter.path': tlsKey('decrypterPath'),
  'ock.mmc.auth.token.path': (c, v) => {
    if (v === '') delete c.tokenPath;
    else c.tokenPath = v;
  },
  'ock.mmc.data_path.listen': (c, v) => {
    if (v === '') delete c.dataListen;
    else c.dataListen = v.toLowerCase() === 'off' ? 'off' : listenAddress(v);
  },
};

/** What a key may look like; anything else is not a `key = value` line (and is never echoed). */
const KEY_RE = /^[A-Za-z0-9_.-]+$/;

function confError(where: string, message: string): MmcError {
  return new MmcError(MMC.MMC_INVALID_PARAM, `${where}: ${message}`);
}

/** The value part of a line: unquoted, trailing ` # comment` / ` ; comment` removed when unquoted. */
function unquote(raw: string, where: string, key: string): string {
  const q = raw[0];
  if (q === '"' || q === "'") {
    const end = raw.indexOf(q, 1);
    if (end < 0) throw confError(where, `bad value for ${key}: unterminated quote`);
    const rest = raw.slice(end + 1).trim();
    if (rest !== '' && rest[0] !== '#' && rest[0] !== ';') {
      throw confError(where, `bad value for ${key}: unexpected text after the closing quote`);
    }
    return raw.slice(1, end);
  }
  const m = /\s[#;]/.exec(raw);
  return (m === null ? raw : raw.slice(0, m.index)).trim();
}

/**
 * Parse the text of a conf file. `source` names it in messages (default 'conf').
 * Unknown keys give warnings; malformed lines and bad values throw MmcError(MMC_INVALID_PARAM)
 * as `${source}:${line}: bad value for ${key}: ...`.
 */
export function parseConf(text: string, source = 'conf'): ConfResult {
  const config: ConfConfig = {};
  const warnings: string[] = [];
  const seen = new Map<string, number>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    const where = `${source}:${lineNo}`;
    const line = lines[i]!.trim();
    if (line === '' || line[0] === '#' || line[0] === ';') continue;
    const eq = line.indexOf('=');
    // The line's text is never part of a message: only its number, and the key once it is one.
    if (eq < 0) throw confError(where, `expected 'key = value' (no '=' on the line)`);
    const key = line.slice(0, eq).trim();
    if (key === '') throw confError(where, `missing key before '='`);
    if (!KEY_RE.test(key)) throw confError(where, `expected 'key = value' (a key is letters, digits, '.', '_' and '-')`);
    const value = unquote(line.slice(eq + 1).trim(), where, key);
    const prev = seen.get(key);
    if (prev !== undefined) warnings.push(`${where}: duplicate key '${key}' (line ${prev}), the later value wins`);
    seen.set(key, lineNo);
    const setter = KEYS[key];
    if (setter !== undefined) {
      try {
        setter(config, value);
      } catch (err) {
        if (err instanceof BadValue) throw confError(where, `bad value for ${key}: ${err.message}`);
        throw err;
      }
    } else if (!KNOWN_UNUSED_KEYS.has(key)) {
      warnings.push(`${where}: unknown key '${key}' (ignored)`);
    }
  }
  const { evictThresholdHigh: high, evictThresholdLow: low } = config;
  if (high !== undefined && low !== undefined && low >= high) {
    const key = 'ock.mmc.evict_threshold_low';
    throw confError(
      `${source}:${seen.get(key)}`,
      `bad value for ${key}: ${low} must be below ock.mmc.evict_threshold_high (${high})`,
    );
  }
  return { config, warnings };
}

/** Largest conf file read (the reference's are a few KiB). */
export const CONF_FILE_LIMIT = 1024 * 1024;

/** Why a file could not be read, without the system's message (which repeats the path). */
export function readFailure(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return typeof code === 'string' ? code : 'unreadable';
}

/**
 * Read and parse a conf file; a missing, unreadable, non-regular or over-1-MiB file throws
 * MmcError naming the path.
 */
export function loadConf(path: string): ConfResult {
  let text: string;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new MmcError(MMC.MMC_INVALID_PARAM, `config file ${path}: not a regular file`, { path });
    if (st.size > CONF_FILE_LIMIT) throw new MmcError(MMC.MMC_INVALID_PARAM, `config file ${path}: larger than ${CONF_FILE_LIMIT} bytes`, { path });
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if (err instanceof MmcError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new MmcError(MMC.MMC_INVALID_PARAM, `config file not found: ${path}`, { path });
    throw new MmcError(MMC.MMC_INVALID_PARAM, `cannot read config file ${path}: ${readFailure(err)}`, { path, code });
  }
  return parseConf(text, path);
}
