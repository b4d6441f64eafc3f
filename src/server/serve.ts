/**
 * `mmc serve`: the embedded store plus the server, from CLI flags and an `ock.mmc.*` conf file.
 * The server listens first (ha_state `starting`), then the store opens (`serving`).
 */
import { isAbsolute, join } from 'node:path';
import { loadConf, parseSize, type ConfConfig } from '../config.js';
import { MMC, MmcError, invalid } from '../errors.js';
import { BadAddress, parseAddress, type ListenAddress } from '../address.js';
import { DEFAULT_SEGMENT_BYTES, confSegments, thresholds } from '../store/options.js';
import type { MemCacheOptions } from '../store/types.js';
import { createServer, type RunningServer, type ServerOptions } from './index.js';
import type { StoreLike } from './store-api.js';
import { checkToken } from '../protocol/token.js';
import { loadTls, readNamed, type NamedPath, type TlsOptions } from './tls.js';

export interface ServeFlags {
  config?: string;
  listen?: string;
  ranks?: string | number;
  hbm?: string;
  dram?: string;
  backend?: string;
  /** ACL backend: rank -> device ids, '0,1,...'. */
  devices?: string;
  /** ACL backend: path of libascendcl.so. */
  aclLibrary?: string;
  valueLimit?: string;
  metadataLimit?: string;
  /** A file holding the bearer token (wins over $MMC_TOKEN and ock.mmc.auth.token.path). */
  tokenFile?: string;
  /** Serve HTTPS with this certificate and --tls-key (replaces the conf file's ock.mmc.tls.*). */
  tlsCert?: string;
  tlsKey?: string;
  /** Require client certificates signed by this CA (mutual TLS). */
  tlsCa?: string;
  bodyTimeout?: string;
  putInFlightLimit?: string;
  bodyMemoryLimit?: string;
  batchKeyLimit?: string;
  metadataTotalLimit?: string;
  metadataKeyLimit?: string;
  /** The binary data path: HOST:PORT or off (default the HTTP port + 1). */
  dataListen?: string;
}

export interface ServePlan {
  host: string;
  port: number;
  store: MemCacheOptions;
  valueLimit?: number;
  metadataLimit?: number;
  /** The bearer token, when access is restricted. */
  token?: string;
  /** PEM contents, when serving HTTPS. */
  tls?: TlsOptions;
  /** The binary data path's address, 'off', or undefined for the default. */
  dataListen?: ListenAddress | 'off';
  /** The server's limits from the flags (undefined: its defaults). */
  limits: Pick<ServerOptions, 'bodyTimeoutMs' | 'putInFlightLimit' | 'bodyMemoryLimit' | 'batchKeyLimit' | 'metadataTotalLimit' | 'metadataKeyLimit'>;
  warnings: string[];
}

/** The conf file's watermarks (or the defaults), as the store's options. */
function storeThresholds(c: ConfConfig): Pick<MemCacheOptions, 'evictThresholdHigh' | 'evictThresholdLow'> {
  const { high, low } = thresholds({}, c);
  return { evictThresholdHigh: high, evictThresholdLow: low };
}

/** `host:port`, `http://host:port`, `[::1]:port`, or `:port` (127.0.0.1). */
export function parseListen(v: string, what = '--listen'): ListenAddress {
  try {
    return parseAddress(v, { emptyHost: '127.0.0.1', lenient: true });
  } catch (err) {
    if (!(err instanceof BadAddress)) throw err;
    throw invalid(err.port !== undefined ? `${what}: port ${err.port} out of range` : `${what}: expected HOST:PORT, got '${v}'`);
  }
}

function size(v: string, what: string, allowZero = true): number {
  if (allowZero && /^\s*0+\s*[a-z]*\s*$/i.test(v)) return 0;
  try {
    return parseSize(v);
  } catch (e) {
    throw invalid(`${what}: ${(e as Error).message.replace(/^MMC_[A-Z_]+: /, '')}`);
  }
}

/** A positive whole number given as a flag's text, or MMC_INVALID_PARAM naming the flag. */
export function count(v: string, what: string): number {
  if (!/^\s*[0-9]+\s*$/.test(v) || Number(v) < 1 || !Number.isSafeInteger(Number(v))) throw invalid(`${what}: expected a positive integer, got '${v}'`);
  return Number(v);
}

/**
 * The bearer token: --token-file, else $MMC_TOKEN, else ock.mmc.auth.token.path; undefined when
 * none is set. A file that is missing, unreadable or empty, or an empty $MMC_TOKEN, throws
 * naming the flag, variable or key (and the path).
 */
export function planToken(flags: Pick<ServeFlags, 'tokenFile'>, c: ConfConfig, env: NodeJS.ProcessEnv): string | undefined {
  let file: NamedPath | undefined;
  if (flags.tokenFile !== undefined) file = { what: '--token-file', path: flags.tokenFile };
  else if (env.MMC_TOKEN !== undefined) return checkToken(env.MMC_TOKEN, 'MMC_TOKEN');
  else if (c.tokenPath !== undefined) file = { what: 'ock.mmc.auth.token.path', path: c.tokenPath };
  if (file === undefined) return undefined;
  const text = readNamed(file).toString('utf8').trim();
  if (text === '') throw invalid(`${file.what}: ${file.path}: empty token`);
  return checkToken(text, `${file.what}: ${file.path}`);
}

/**
 * TLS: from --tls-cert/--tls-key[/--tls-ca] when any is given, else from the conf file's
 * ock.mmc.tls.* when ock.mmc.tls.enable is true (relative paths under ock.mmc.tls.top.path);
 * undefined for plain HTTP. Files are read and checked now: TLS asked for that cannot be set up
 * throws naming the flag or key and the path.
 */
function planTls(flags: ServeFlags, c: ConfConfig, warnings: string[]): TlsOptions | undefined {
  if (flags.tlsCert !== undefined || flags.tlsKey !== undefined || flags.tlsCa !== undefined) {
    if (flags.tlsCert === undefined || flags.tlsKey === undefined) throw invalid('--tls-cert and --tls-key go together (--tls-ca needs both)');
    return loadTls({
      cert: { what: '--tls-cert', path: flags.tlsCert },
      key: { what: '--tls-key', path: flags.tlsKey },
      ...(flags.tlsCa !== undefined ? { ca: { what: '--tls-ca', path: flags.tlsCa } } : {}),
    });
  }
  const t = c.tls;
  if (t?.enable !== true) return undefined;
  const named = (key: string, p: string | undefined): NamedPath | undefined =>
    p === undefined ? undefined : { what: key, path: t.topPath !== undefined && !isAbsolute(p) ? join(t.topPath, p) : p };
  const cert = named('ock.mmc.tls.cert.path', t.certPath);
  const key = named('ock.mmc.tls.key.path', t.keyPath);
  if (cert === undefined) throw invalid('ock.mmc.tls.enable is true but ock.mmc.tls.cert.path is not set');
  if (key === undefined) throw invalid('ock.mmc.tls.enable is true but ock.mmc.tls.key.path is not set');
  if (t.decrypterPath !== undefined) {
    warnings.push('ock.mmc.tls.decrypter.path is ignored: the file of ock.mmc.tls.key.pass.path is read as plain text');
  }
  const ca = named('ock.mmc.tls.ca.path', t.caPath);
  const crl = named('ock.mmc.tls.ca.crl.path', t.crlPath);
  const pass = named('ock.mmc.tls.key.pass.path', t.keyPassPath);
  return loadTls({ cert, key, ...(ca ? { ca } : {}), ...(crl ? { crl } : {}), ...(pass ? { pass } : {}) });
}

/**
 * Flags, conf file and environment ($MMC_TOKEN) → what to open and where to listen. Throws
 * MmcError naming the bad option.
 */
export function planServe(flags: ServeFlags, env: NodeJS.ProcessEnv = process.env): ServePlan {
  const conf = flags.config ? loadConf(flags.config) : { config: {}, warnings: [] };
  const c: ConfConfig = conf.config;
  const listen = flags.listen !== undefined ? parseListen(flags.listen) : (c.listen ?? { host: '127.0.0.1', port: 8000 });
  let ranks = c.worldSize ?? 1;
  if (flags.ranks !== undefined) {
    const r = String(flags.ranks);
    if (!/^[0-9]+$/.test(r) || Number(r) < 1 || Number(r) > 1024) throw invalid(`--ranks: expected 1..1024, got '${r}'`);
    ranks = Number(r);
  }
  const hbm = flags.hbm !== undefined ? size(flags.hbm, '--hbm') : (c.hbmSize ?? DEFAULT_SEGMENT_BYTES);
  const dram = flags.dram !== undefined ? size(flags.dram, '--dram') : (c.dramSize ?? DEFAULT_SEGMENT_BYTES);
  if (hbm === 0 && dram === 0) throw invalid('--hbm and --dram are both 0: nothing to store into');
  const backend = flags.backend ?? 'sim';
  if (backend !== 'sim' && backend !== 'acl') throw invalid(`--backend: expected sim or acl, got '${backend}'`);
  let devices: number[] | undefined;
  if (flags.devices !== undefined) {
    if (!/^\s*\d+\s*(,\s*\d+\s*)*$/.test(flags.devices)) throw invalid(`--devices: expected device ids like 0,1,2, got '${flags.devices}'`);
    devices = flags.devices.split(',').map((d) => Number(d.trim()));
    if (devices.length < ranks) throw invalid(`--devices: ${devices.length} device ids for ${ranks} ranks`);
  }
  return {
    host: listen.host,
    port: listen.port,
    store: {
      segments: confSegments({ worldSize: ranks, hbmSize: hbm, dramSize: dram }),
      backend,
      ...(devices ? { devices } : {}),
      ...(flags.aclLibrary ? { aclLibrary: flags.aclLibrary } : {}),
      ...storeThresholds(c),
    },
    valueLimit: flags.valueLimit !== undefined ? size(flags.valueLimit, '--value-limit', false) : undefined,
    metadataLimit: flags.metadataLimit !== undefined ? size(flags.metadataLimit, '--metadata-limit', false) : undefined,
    token: planToken(flags, c, env),
    dataListen: flags.dataListen === undefined ? c.dataListen
      : flags.dataListen.trim().toLowerCase() === 'off' ? 'off' : parseListen(flags.dataListen, '--data-listen'),
    tls: planTls(flags, c, conf.warnings),
    limits: {
      bodyTimeoutMs: flags.bodyTimeout !== undefined ? count(flags.bodyTimeout, '--body-timeout') : undefined,
      putInFlightLimit: flags.putInFlightLimit !== undefined ? size(flags.putInFlightLimit, '--put-in-flight-limit', false) : undefined,
      bodyMemoryLimit: flags.bodyMemoryLimit !== undefined ? size(flags.bodyMemoryLimit, '--body-memory-limit', false) : undefined,
      batchKeyLimit: flags.batchKeyLimit !== undefined ? count(flags.batchKeyLimit, '--batch-key-limit') : undefined,
      metadataTotalLimit: flags.metadataTotalLimit !== undefined ? size(flags.metadataTotalLimit, '--metadata-total-limit', false) : undefined,
      metadataKeyLimit: flags.metadataKeyLimit !== undefined ? count(flags.metadataKeyLimit, '--metadata-key-limit') : undefined,
    },
    warnings: conf.warnings,
  };
}

export interface Serving {
  running: RunningServer;
  store: StoreLike;
  /** Stop listening, then close the store. */
  stop(): Promise<void>;
}

/**
 * Listen, then open the store with `open` (MemCache.open). A listen failure (port in use) or a
 * failed open throws; nothing is left running.
 */
export async function serve(
  plan: ServePlan,
  open: (opts: MemCacheOptions) => Promise<StoreLike>,
  log: (line: string) => void = () => {},
): Promise<Serving> {
  let resolveStore!: (s: StoreLike) => void;
  let rejectStore!: (e: unknown) => void;
  const pending = new Promise<StoreLike>((res, rej) => { resolveStore = res; rejectStore = rej; });
  pending.catch(() => {});
  const server = createServer(pending, {
    valueLimit: plan.valueLimit, metadataLimit: plan.metadataLimit, token: plan.token, tls: plan.tls, ...plan.limits,
    dataListen: plan.dataListen,
  });
  // Unexpected failures answer a generic reason; the detail goes to the log (stderr), one line.
  server.app.on('error', (e: unknown) => log(`mmc: internal error: ${e instanceof Error ? e.message : String(e)}`.split('\n')[0]!));
  let running: RunningServer;
  try {
    running = await server.listen(plan.host, plan.port);
  } catch (e) {
    if (e instanceof MmcError) throw e; // the data path's, naming its address
    const err = e as NodeJS.ErrnoException;
    const where = `${plan.host}:${plan.port}`;
    if (err.code === 'EADDRINUSE') throw new MmcError(MMC.MMC_ERROR, `cannot listen on ${where}: address already in use`);
    if (err.code === 'EACCES') throw new MmcError(MMC.MMC_ERROR, `cannot listen on ${where}: permission denied`);
    if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') throw new MmcError(MMC.MMC_ERROR, `cannot listen on ${where}: address not available`);
    throw new MmcError(MMC.MMC_ERROR, `cannot listen on ${where}: ${err.message}`);
  }
  const dp = running.dataPath;
  log(`mmc: listening on ${running.url}${dp ? `, binary data path on ${dp.host.includes(':') ? `[${dp.host}]` : dp.host}:${dp.port}` : ''} (starting)`);
  let store: StoreLike;
  try {
    store = await open(plan.store);
  } catch (e) {
    rejectStore(e);
    await running.close();
    throw e;
  }
  resolveStore(store);
  await pending;
  const segs = store.segments();
  const access = `${plan.token !== undefined ? ', bearer token required' : ''}${plan.tls?.ca !== undefined ? ', client certificates required' : ''}`;
  log(`mmc: serving on ${running.url}: ${segs.length} segments (${segs.map((s) => s.id).join(', ')}), backend ${plan.store.backend}${access}`);
  let stopping: Promise<void> | undefined;
  return {
    running,
    store,
    stop() {
      stopping ??= (async () => {
        await running.close();
        await store.close();
      })();
      return stopping;
    },
  };
}
