/**
 * `mmc serve`: the embedded store plus the server, from CLI flags and an `ock.mmc.*` conf file.
 * The server listens first (ha_state `starting`), then the store opens (`serving`).
 */
import { loadConf, parseSize } from '../config.js';
import { MMC, MmcError } from '../errors.js';
import type { MemCacheOptions, SegmentSpec } from '../store/types.js';
import { createServer, type RunningServer } from './index.js';
import type { StoreLike } from './store-api.js';

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
}

export interface ServePlan {
  host: string;
  port: number;
  store: MemCacheOptions;
  valueLimit?: number;
  metadataLimit?: number;
  warnings: string[];
}

const GiB = 1024 ** 3;

function bad(msg: string): MmcError {
  return new MmcError(MMC.MMC_INVALID_PARAM, msg);
}

/** `host:port`, `http://host:port`, `[::1]:port`, or `:port`. */
export function parseListen(v: string, what = '--listen'): { host: string; port: number } {
  const s = v.trim().replace(/^https?:\/\//i, '').replace(/\/+$/, '');
  const m = /^(?:\[([^\]]+)\]|([^:\[\]]*)):(\d{1,5})$/.exec(s);
  if (!m) throw bad(`${what}: expected HOST:PORT, got '${v}'`);
  const port = Number(m[3]);
  if (port > 65535) throw bad(`${what}: port ${port} out of range`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port };
}

function size(v: string, what: string, allowZero = true): number {
  if (allowZero && /^\s*0+\s*[a-z]*\s*$/i.test(v)) return 0;
  try {
    return parseSize(v);
  } catch (e) {
    throw bad(`${what}: ${(e as Error).message.replace(/^MMC_[A-Z_]+: /, '')}`);
  }
}

/** Flags and conf file → what to open and where to listen. Throws MmcError naming the bad option. */
export function planServe(flags: ServeFlags): ServePlan {
  const conf = flags.config ? loadConf(flags.config) : { config: {}, warnings: [] };
  const c = conf.config as import('../config.js').ConfConfig;
  const listen = flags.listen !== undefined ? parseListen(flags.listen) : (c.listen ?? { host: '127.0.0.1', port: 8000 });
  let ranks = c.worldSize ?? 1;
  if (flags.ranks !== undefined) {
    const r = String(flags.ranks);
    if (!/^[0-9]+$/.test(r) || Number(r) < 1 || Number(r) > 1024) throw bad(`--ranks: expected 1..1024, got '${r}'`);
    ranks = Number(r);
  }
  const hbm = flags.hbm !== undefined ? size(flags.hbm, '--hbm') : (c.hbmSize ?? GiB);
  const dram = flags.dram !== undefined ? size(flags.dram, '--dram') : (c.dramSize ?? GiB);
  if (hbm === 0 && dram === 0) throw bad('--hbm and --dram are both 0: nothing to store into');
  const backend = flags.backend ?? 'sim';
  if (backend !== 'sim' && backend !== 'acl') throw bad(`--backend: expected sim or acl, got '${backend}'`);
  let devices: number[] | undefined;
  if (flags.devices !== undefined) {
    if (!/^\s*\d+\s*(,\s*\d+\s*)*$/.test(flags.devices)) throw bad(`--devices: expected device ids like 0,1,2, got '${flags.devices}'`);
    devices = flags.devices.split(',').map((d) => Number(d.trim()));
    if (devices.length < ranks) throw bad(`--devices: ${devices.length} device ids for ${ranks} ranks`);
  }
  const segments: SegmentSpec[] = [];
  for (let r = 0; r < ranks; r++) if (hbm > 0) segments.push({ rank: r, medium: 'hbm', bytes: hbm });
  for (let r = 0; r < ranks; r++) if (dram > 0) segments.push({ rank: r, medium: 'dram', bytes: dram });
  return {
    host: listen.host,
    port: listen.port,
    store: {
      segments,
      backend,
      ...(devices ? { devices } : {}),
      ...(flags.aclLibrary ? { aclLibrary: flags.aclLibrary } : {}),
      evictThresholdHigh: c.evictThresholdHigh ?? 90,
      evictThresholdLow: c.evictThresholdLow ?? 80,
    },
    valueLimit: flags.valueLimit !== undefined ? size(flags.valueLimit, '--value-limit', false) : undefined,
    metadataLimit: flags.metadataLimit !== undefined ? size(flags.metadataLimit, '--metadata-limit', false) : undefined,
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
  const server = createServer(pending, { valueLimit: plan.valueLimit, metadataLimit: plan.metadataLimit });
  let running: RunningServer;
  try {
    running = await server.listen(plan.host, plan.port);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const where = `${plan.host}:${plan.port}`;
    if (err.code === 'EADDRINUSE') throw new MmcError(MMC.MMC_ERROR, `cannot listen on ${where}: address already in use`);
    if (err.code === 'EACCES') throw new MmcError(MMC.MMC_ERROR, `cannot listen on ${where}: permission denied`);
    if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') throw new MmcError(MMC.MMC_ERROR, `cannot listen on ${where}: address not available`);
    throw new MmcError(MMC.MMC_ERROR, `cannot listen on ${where}: ${err.message}`);
  }
  log(`mmc: listening on ${running.url} (starting)`);
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
  log(`mmc: serving on ${running.url}: ${segs.length} segments (${segs.map((s) => s.id).join(', ')}), backend ${plan.store.backend}`);
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
