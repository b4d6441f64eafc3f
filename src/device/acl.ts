/**
 * The ACL backend: segments in Ascend HBM (aclrtMalloc) and pinned host memory (aclrtMallocHost),
 * every byte moved by aclrtMemcpy, through the native addon build/Release/mmc_acl.node.
 *
 * The addon does not link against ACL: it dlopen()s libascendcl.so when a backend is created.
 * Option `aclLibrary` (a file, or a folder holding libascendcl.so) is the only place tried when
 * given: a library that cannot be loaded there fails naming that path, never falling back to
 * another one. Without it: env `MMC_ACL_LIBRARY`, the default linker path,
 * `$ASCEND_HOME_PATH/runtime/lib64`, `$ASCEND_TOOLKIT_HOME/runtime/lib64`,
 * `/usr/local/Ascend/ascend-toolkit/latest/runtime/lib64`.
 *
 * aclInit runs once per process (with the first backend) and aclFinalize after the last backend
 * closes. Rank N uses device N unless `devices` maps it (`devices[N]`). Copies of at least
 * `asyncThresholdBytes` (default 64 KiB) run on the libuv thread pool and return a Promise;
 * smaller ones run inline and return undefined. Every ACL failure is an MmcError whose `detail`
 * carries `aclError` (the ACL code), `aclFunction` and `aclMessage` (aclGetRecentErrMsg()).
 */
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MMC, MmcError, invalid } from '../errors.js';
import type { DeviceBackend, DeviceSegment, Medium } from './types.js';

export interface AclBackendOptions {
  /** Path of libascendcl.so (or of the folder holding it); searched first. */
  aclLibrary?: string;
  /** rank -> device id map; rank N uses device N where the map has no entry. */
  devices?: number[];
  /** Copies of at least this many bytes run off the event loop (default 64 KiB; 0: all). */
  asyncThresholdBytes?: number;
}

/** The addon's functions (native/acl_addon.cc). */
interface AclAddon {
  load(paths: string[]):
    | { ok: true; path: string; reused?: boolean }
    | { ok: false; kind: 'not-found'; errors: string[] }
    | { ok: false; kind: 'missing-symbol'; path: string; symbol: string; error: string };
  init(): void;
  finalize(): void;
  setDevice(device: number): void;
  resetDevice(device: number): void;
  malloc(device: number, hbm: boolean, bytes: number): number;
  free(id: number): void;
  write(id: number, offset: number, src: Uint8Array, async: boolean): Promise<void> | undefined;
  read(id: number, offset: number, dst: Uint8Array, async: boolean): Promise<void> | undefined;
  copy(srcId: number, srcOffset: number, dstId: number, dstOffset: number, bytes: number, async: boolean): Promise<void> | undefined;
  stats(): { library: string | null; initRefs: number; devices: number; allocations: number; bytes: number };
}

const LIBRARY = 'libascendcl.so';
const DEFAULT_TOOLKIT_LIB64 = '/usr/local/Ascend/ascend-toolkit/latest/runtime/lib64';
export const DEFAULT_ASYNC_THRESHOLD_BYTES = 64 * 1024;

const packageRoot = fileURLToPath(new URL('../../', import.meta.url));
const addonPath = join(packageRoot, 'build', 'Release', 'mmc_acl.node');
const reasonPath = join(packageRoot, 'build', 'mmc_acl.unavailable.txt');

let addonState: { addon: AclAddon } | { reason: string } | undefined;

function loadAddon(): { addon: AclAddon } | { reason: string } {
  if (addonState) return addonState;
  if (!existsSync(addonPath)) {
    let why = 'it was never built (run `node scripts/build-native.js`, which needs python3, make and a C++ compiler)';
    try {
      const first = readFileSync(reasonPath, 'utf8').split('\n')[0]?.trim();
      if (first) why = `its build failed: ${first}`;
    } catch {
      /* no recorded reason */
    }
    addonState = { reason: `the native ACL addon ${addonPath} is missing: ${why}` };
    return addonState;
  }
  try {
    const require = createRequire(import.meta.url);
    addonState = { addon: require(addonPath) as AclAddon };
  } catch (err) {
    addonState = { reason: `the native ACL addon ${addonPath} failed to load: ${(err as Error).message}` };
  }
  return addonState;
}

/** Why the 'acl' backend cannot be used here (the addon is missing or does not load), or undefined. */
export function aclUnavailableReason(): string | undefined {
  const s = loadAddon();
  return 'reason' in s ? s.reason : undefined;
}

interface Candidate {
  label: string;
  path?: string;
}

/** Where libascendcl.so is looked for, in order: an explicit `aclLibrary` alone, else the search path. */
export function aclLibraryCandidates(aclLibrary?: string, env: NodeJS.ProcessEnv = process.env): Candidate[] {
  const asFile = (p: string): string => {
    try {
      if (statSync(p).isDirectory()) return join(p, LIBRARY);
    } catch {
      /* let dlopen report it */
    }
    return p;
  };
  // An explicit path is what the caller asked for: loading another library would hide the mistake.
  if (aclLibrary) return [{ label: 'option aclLibrary', path: asFile(aclLibrary) }];
  const list: Candidate[] = [];
  if (env.MMC_ACL_LIBRARY) list.push({ label: 'env MMC_ACL_LIBRARY', path: asFile(env.MMC_ACL_LIBRARY) });
  list.push({ label: 'default linker path', path: LIBRARY });
  for (const v of ['ASCEND_HOME_PATH', 'ASCEND_TOOLKIT_HOME']) {
    const home = env[v];
    list.push(home ? { label: `$${v}/runtime/lib64`, path: join(home, 'runtime', 'lib64', LIBRARY) } : { label: `$${v}/runtime/lib64 ($${v} unset)` });
  }
  list.push({ label: 'CANN default install', path: join(DEFAULT_TOOLKIT_LIB64, LIBRARY) });
  return list;
}

interface NativeError {
  message: string;
  aclError?: number;
  aclFunction?: string;
  aclMessage?: string;
}

function wrap(err: unknown, what: string): MmcError {
  if (err instanceof MmcError) return err;
  const e = err as NativeError;
  if (e && typeof e.aclError === 'number') {
    const code = e.aclFunction === 'aclrtMalloc' || e.aclFunction === 'aclrtMallocHost' ? MMC.MMC_MALLOC_FAILED : MMC.MMC_ERROR;
    return new MmcError(code, `acl: ${what}: ${e.message}`, {
      aclError: e.aclError,
      aclFunction: e.aclFunction,
      aclMessage: e.aclMessage ?? '',
    });
  }
  const code = err instanceof RangeError || err instanceof TypeError ? MMC.MMC_INVALID_PARAM : MMC.MMC_ERROR;
  return new MmcError(code, `acl: ${what}: ${e?.message ?? String(err)}`);
}

function isNonNegInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

class AclSegment implements DeviceSegment {
  readonly rank: number;
  readonly medium: Medium;
  readonly bytes: number;
  /** ACL device id behind this rank. */
  readonly device: number;
  readonly id: number;
  readonly owner: AclBackend;
  released = false;
  /** Copies in flight on this segment. */
  readonly inflight = new Set<Promise<void>>();

  constructor(owner: AclBackend, rank: number, medium: Medium, bytes: number, device: number, id: number) {
    this.owner = owner;
    this.rank = rank;
    this.medium = medium;
    this.bytes = bytes;
    this.device = device;
    this.id = id;
  }

  get label(): string {
    return `rank-${this.rank}-${this.medium} (device ${this.device})`;
  }
}

export interface AclBackend extends DeviceBackend {
  readonly name: 'acl';
  /** The libascendcl.so actually loaded. */
  readonly library: string;
  /** Segments opened and not yet released. */
  openSegments(): number;
}

class AclBackendImpl implements AclBackend {
  readonly name = 'acl' as const;
  readonly library: string;
  private readonly addon: AclAddon;
  private readonly devices: readonly number[];
  private readonly asyncThreshold: number;
  private readonly segments = new Set<AclSegment>();
  /** Devices this backend called aclrtSetDevice on. */
  private readonly devicesSet = new Set<number>();
  private closed = false;
  private closing: Promise<void> | undefined;

  constructor(addon: AclAddon, library: string, devices: readonly number[], asyncThreshold: number) {
    this.addon = addon;
    this.library = library;
    this.devices = devices;
    this.asyncThreshold = asyncThreshold;
  }

  openSegments(): number {
    return this.segments.size;
  }

  private alive(): void {
    if (this.closed) throw new MmcError(MMC.MMC_NOT_INITIALIZED, 'acl: backend is closed');
  }

  private seg(s: DeviceSegment, what: string): AclSegment {
    if (!(s instanceof AclSegment) || s.owner !== (this as unknown)) throw invalid(`acl: ${what}: not a segment of this backend`);
    if (s.released) throw invalid(`acl: ${what}: segment ${s.label} was released`);
    return s;
  }

  private range(s: AclSegment, offset: number, len: number, what: string): void {
    if (!isNonNegInt(offset) || !isNonNegInt(len) || offset + len > s.bytes) {
      throw invalid(`acl: ${what}: range [${offset}, +${len}) is outside ${s.label} of ${s.bytes} bytes`);
    }
  }

  open(rank: number, medium: Medium, bytes: number): DeviceSegment {
    this.alive();
    if (!isNonNegInt(rank)) throw invalid(`acl: open: rank must be a non-negative integer, got ${String(rank)}`);
    if (medium !== 'hbm' && medium !== 'dram') throw invalid(`acl: open: medium must be 'hbm' or 'dram', got ${String(medium)}`);
    if (!isNonNegInt(bytes) || bytes === 0) throw invalid(`acl: open: bytes must be a positive integer, got ${String(bytes)}`);
    const device = this.devices[rank] ?? rank;
    const what = `open rank-${rank}-${medium} (device ${device}, ${bytes} bytes)`;
    if (!this.devicesSet.has(device)) {
      try {
        this.addon.setDevice(device);
      } catch (err) {
        throw wrap(err, what);
      }
      this.devicesSet.add(device);
    }
    let id: number;
    try {
      id = this.addon.malloc(device, medium === 'hbm', bytes);
    } catch (err) {
      throw wrap(err, what);
    }
    const seg = new AclSegment(this, rank, medium, bytes, device, id);
    this.segments.add(seg);
    return seg;
  }

  /** Run one addon copy: inline when small, on the pool when big; track it for release/close. */
  private run(
    segs: AclSegment[],
    bytes: number,
    what: string,
    call: (async: boolean) => Promise<void> | undefined,
  ): void | Promise<void> {
    const async = bytes >= this.asyncThreshold && bytes > 0;
    let r: Promise<void> | undefined;
    try {
      r = call(async);
    } catch (err) {
      throw wrap(err, what);
    }
    if (!r) return undefined;
    const p = r.then(undefined, (err: unknown) => {
      throw wrap(err, what);
    });
    // Tracked for release/close: settles either way and never rejects.
    const tracked: Promise<void> = p.then(
      () => undefined,
      () => undefined,
    );
    for (const s of segs) s.inflight.add(tracked);
    void tracked.then(() => {
      for (const s of segs) s.inflight.delete(tracked);
    });
    return p;
  }

  write(seg: DeviceSegment, offset: number, src: Uint8Array): void | Promise<void> {
    this.alive();
    const s = this.seg(seg, 'write');
    if (!(src instanceof Uint8Array)) throw invalid('acl: write: src must be a Uint8Array');
    this.range(s, offset, src.byteLength, 'write');
    return this.run([s], src.byteLength, `write ${src.byteLength} bytes to ${s.label} at ${offset}`, (async) =>
      this.addon.write(s.id, offset, src, async),
    );
  }

  read(seg: DeviceSegment, offset: number, dst: Uint8Array): void | Promise<void> {
    this.alive();
    const s = this.seg(seg, 'read');
    if (!(dst instanceof Uint8Array)) throw invalid('acl: read: dst must be a Uint8Array');
    this.range(s, offset, dst.byteLength, 'read');
    return this.run([s], dst.byteLength, `read ${dst.byteLength} bytes from ${s.label} at ${offset}`, (async) =>
      this.addon.read(s.id, offset, dst, async),
    );
  }

  copy(src: DeviceSegment, srcOffset: number, dst: DeviceSegment, dstOffset: number, bytes: number): void | Promise<void> {
    this.alive();
    const s = this.seg(src, 'copy');
    const d = this.seg(dst, 'copy');
    this.range(s, srcOffset, bytes, 'copy source');
    this.range(d, dstOffset, bytes, 'copy destination');
    return this.run(
      s === d ? [s] : [s, d],
      bytes,
      `copy ${bytes} bytes from ${s.label} at ${srcOffset} to ${d.label} at ${dstOffset}`,
      (async) => this.addon.copy(s.id, srcOffset, d.id, dstOffset, bytes, async),
    );
  }

  private free(s: AclSegment): void {
    this.segments.delete(s);
    try {
      this.addon.free(s.id);
    } catch (err) {
      throw wrap(err, `release ${s.label}`);
    }
  }

  release(seg: DeviceSegment): void | Promise<void> {
    this.alive();
    const s = this.seg(seg, 'release');
    s.released = true; // no new copies from here on
    if (s.inflight.size === 0) return this.free(s);
    return Promise.allSettled([...s.inflight]).then(() => this.free(s));
  }

  close(): void | Promise<void> {
    if (this.closing) return this.closing;
    if (this.closed) return undefined;
    this.closed = true;
    const inflight = [...this.segments].flatMap((s) => [...s.inflight]);
    if (inflight.length === 0) return this.teardown();
    this.closing = Promise.allSettled(inflight).then(() => this.teardown());
    return this.closing;
  }

  private teardown(): void {
    let first: MmcError | undefined;
    for (const s of [...this.segments]) {
      s.released = true;
      try {
        this.free(s);
      } catch (err) {
        first ??= wrap(err, `close: free ${s.label}`);
      }
    }
    for (const device of this.devicesSet) {
      try {
        this.addon.resetDevice(device);
      } catch (err) {
        first ??= wrap(err, `close: reset device ${device}`);
      }
    }
    this.devicesSet.clear();
    try {
      this.addon.finalize();
    } catch (err) {
      first ??= wrap(err, 'close: finalize');
    }
    if (first) throw first;
  }
}

function samePath(a: string, b: string): boolean {
  const real = (p: string): string => {
    try {
      return realpathSync(p);
    } catch {
      return p;
    }
  };
  return real(a) === real(b);
}

/**
 * Load libascendcl.so (once per process), aclInit (once per process), and return a backend whose
 * segments live in HBM and pinned host memory. Rejects with an MmcError naming libascendcl.so and
 * every place searched when the library or one of its symbols is missing, or saying why the
 * native addon is unavailable.
 */
export async function createAclBackend(options: AclBackendOptions = {}): Promise<DeviceBackend> {
  const { aclLibrary, devices = [], asyncThresholdBytes = DEFAULT_ASYNC_THRESHOLD_BYTES } = options;
  if (aclLibrary !== undefined && (typeof aclLibrary !== 'string' || aclLibrary === '')) {
    throw invalid('acl: aclLibrary must be a non-empty path');
  }
  if (!Array.isArray(devices) || !devices.every((d) => isNonNegInt(d) && d <= 0x7fffffff)) {
    throw invalid(`acl: devices must be an array of device ids (non-negative integers), got ${JSON.stringify(devices)}`);
  }
  if (!isNonNegInt(asyncThresholdBytes)) throw invalid('acl: asyncThresholdBytes must be a non-negative integer');

  const state = loadAddon();
  if ('reason' in state) {
    throw new MmcError(MMC.MMC_ERROR, `acl backend unavailable: ${state.reason}`, { reason: 'addon-unavailable' });
  }
  const addon = state.addon;

  const candidates = aclLibraryCandidates(aclLibrary);
  const tried = candidates.filter((c): c is Required<Candidate> => c.path !== undefined);
  const loaded = addon.load(tried.map((c) => c.path));
  if (!loaded.ok) {
    if (loaded.kind === 'missing-symbol') {
      throw new MmcError(
        MMC.MMC_ERROR,
        `acl backend unavailable: ${loaded.path} is not a usable ${LIBRARY}: symbol ${loaded.symbol} is missing (${loaded.error})`,
        { reason: 'missing-symbol', library: loaded.path, symbol: loaded.symbol },
      );
    }
    if (aclLibrary) {
      throw new MmcError(
        MMC.MMC_ERROR,
        `acl backend unavailable: cannot load ${LIBRARY} from aclLibrary ${tried[0].path}: ${loaded.errors[0] ?? 'not loaded'}`,
        { reason: 'library-not-found', library: tried[0].path, searched: [`${tried[0].label}: ${tried[0].path} (${loaded.errors[0] ?? 'not loaded'})`] },
      );
    }
    let i = 0;
    const searched = candidates.map((c) => (c.path === undefined ? c.label : `${c.label}: ${c.path} (${loaded.errors[i++] ?? 'not loaded'})`));
    throw new MmcError(
      MMC.MMC_ERROR,
      `acl backend unavailable: cannot load ${LIBRARY}; searched ${searched.join('; ')}. ` +
        `Install the CANN toolkit, or set option aclLibrary or env MMC_ACL_LIBRARY to the library's path.`,
      { reason: 'library-not-found', searched },
    );
  }
  const explicit = tried[0] && tried[0].label !== 'default linker path' ? tried[0].path : undefined;
  if (loaded.reused && explicit && !samePath(explicit, loaded.path)) {
    throw new MmcError(
      MMC.MMC_ERROR,
      `acl backend unavailable: this process already uses ${loaded.path}; close every ACL store before switching to ${explicit}`,
      { reason: 'library-in-use', library: loaded.path },
    );
  }
  try {
    addon.init();
  } catch (err) {
    throw wrap(err, `aclInit (${loaded.path})`);
  }
  return new AclBackendImpl(addon, loaded.path, devices, asyncThresholdBytes);
}

/** Counters of the native addon, for tests and diagnostics. */
export function aclAddonStats(): ReturnType<AclAddon['stats']> | undefined {
  const s = loadAddon();
  return 'addon' in s ? s.addon.stats() : undefined;
}
