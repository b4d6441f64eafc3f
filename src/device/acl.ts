/**
 * The ACL backend: segments in Ascend HBM (aclrtMalloc) and pinned host memory (aclrtMallocHost),
 * every byte moved by aclrtMemcpy, through the native addon build/Release/mmc_acl.node.
 *
 * Where the addon and libascendcl.so are looked for is acl-addon.ts.
 *
 * aclInit runs once per process (with the first backend) and aclFinalize after the last backend
 * closes. Rank N uses device N unless `devices` maps it (`devices[N]`). Copies of at least
 * `asyncThresholdBytes` (default 64 KiB) run on the libuv thread pool and return a Promise;
 * smaller ones run inline and return undefined. Every ACL failure is an MmcError whose `detail`
 * carries `aclError` (the ACL code), `aclFunction` and `aclMessage` (aclGetRecentErrMsg()).
 */
import { MMC, MmcError, invalid } from '../errors.js';
import type { DeviceBackend, DeviceSegment, Medium } from './types.js';
import { checkOpen, checkRange, isNonNegInt, liveSegment } from './checks.js';
import { loadAddon, loadLibrary, type AclAddon } from './acl-addon.js';

export { aclUnavailableReason, aclLibraryCandidates, aclAddonStats } from './acl-addon.js';

export interface AclBackendOptions {
  /** Path of libascendcl.so (or of the folder holding it); searched first. */
  aclLibrary?: string;
  /** rank -> device id map; rank N uses device N where the map has no entry. */
  devices?: number[];
  /** Copies of at least this many bytes run off the event loop (default 64 KiB; 0: all). */
  asyncThresholdBytes?: number;
}

export const DEFAULT_ASYNC_THRESHOLD_BYTES = 64 * 1024;

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
    return liveSegment('acl', what, s, AclSegment, this);
  }

  private range(s: AclSegment, offset: number, len: number, what: string): void {
    checkRange('acl', what, s, offset, len);
  }

  open(rank: number, medium: Medium, bytes: number): DeviceSegment {
    this.alive();
    checkOpen('acl', rank, medium, bytes);
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
  const library = loadLibrary(addon, aclLibrary);
  try {
    addon.init();
  } catch (err) {
    throw wrap(err, `aclInit (${library})`);
  }
  return new AclBackendImpl(addon, library, devices, asyncThresholdBytes);
}
