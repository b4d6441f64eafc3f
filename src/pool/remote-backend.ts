/**
 * The meta service's device backend: its segments are the agents' (DESIGN.md "The pool"). It holds
 * no byte: open only names a segment an agent registered, write and read are refused (the meta
 * service never touches a value byte), copy (a demotion HBM -> DRAM within one rank) is a command
 * to that rank's agent.
 *
 * A lookup needs the blob the core chose and a read lease on it, which MemCache.get takes before it
 * calls read: while `capture` is set, read records the range and returns a promise that the lookup
 * settles when the client releases it, so the lease lasts exactly as long as the client's read.
 */
import { MMC, MmcError } from '../errors.js';
import type { DeviceBackend, DeviceSegment, Medium } from '../device/types.js';

/** A lookup's hook: the blob the core leased; the lease ends when the returned promise settles. */
export type ReadCapture = (seg: DeviceSegment, offset: number, size: number) => Promise<void>;
/** A demotion: copy `bytes` between two segments of one rank, by its agent. */
export type CopyCommand = (src: DeviceSegment, srcOffset: number, dst: DeviceSegment, dstOffset: number, bytes: number) => Promise<void>;

function noBytes(what: string): MmcError {
  return new MmcError(MMC.MMC_ERROR, `the meta service holds no value bytes: ${what} goes to the rank agents (MemCacheClient.connect does it)`);
}

export class RemoteBackend implements DeviceBackend {
  readonly name = 'remote';
  /** Set around a lookup's MemCache.get only. */
  capture: ReadCapture | undefined;
  onCopy: CopyCommand | undefined;

  open(rank: number, medium: Medium, bytes: number): DeviceSegment {
    return { rank, medium, bytes };
  }

  write(): never {
    throw noBytes('a write');
  }

  read(seg: DeviceSegment, offset: number, dst: Uint8Array): Promise<void> {
    const c = this.capture;
    if (c === undefined) throw noBytes('a read');
    return c(seg, offset, dst.byteLength);
  }

  copy(src: DeviceSegment, srcOffset: number, dst: DeviceSegment, dstOffset: number, bytes: number): Promise<void> {
    if (this.onCopy === undefined || src.rank !== dst.rank) throw new MmcError(MMC.MMC_ERROR, 'a copy between ranks is not done by the pool');
    return this.onCopy(src, srcOffset, dst, dstOffset, bytes);
  }

  release(): void {}
  close(): void {}
}
