/**
 * What the parts of the store (write.ts, read.ts, evict.ts, segments.ts) share: the core, the
 * backend, the mounted segments, the two-phase puts in flight, and whether the store is open.
 * MemCache (memcache.ts) holds one and hands it to each part.
 */
import { MMC, MmcError } from '../errors.js';
import type { DeviceBackend } from '../device/types.js';
import type { Core } from './core.js';
import type { MountedSegment, PutWriter, WriterHost } from './writer.js';

export class StoreState {
  /** Mounted segments by core slot (undefined once unmounted) and by id ('rank-1-dram'). */
  readonly bySlot: (MountedSegment | undefined)[] = [];
  readonly byId = new Map<string, MountedSegment>();
  /** Two-phase puts waiting for updateState by key (in flight only, never one per stored key). */
  readonly pendingPuts = new Map<string, PutWriter>();
  closed = false;

  constructor(
    readonly core: Core,
    readonly backend: DeviceBackend,
    readonly alignment: number,
    /** What the writers made here write and commit through (the MemCache). */
    readonly host: WriterHost,
  ) {}

  /** Throws unless the store is open and its core sound (a trapped core refuses every call). */
  check(): void {
    if (this.closed) throw new MmcError(MMC.MMC_NOT_INITIALIZED, 'the store is closed');
    if (this.core.failed) throw this.core.failed;
  }
}
