/**
 * The device host adapter: what a backend does for the store. The store never touches segment
 * memory itself; every byte moves through these calls.
 *
 * Each data call may complete synchronously (return undefined) or asynchronously (return a
 * Promise). The store awaits only when it is given a Promise, so the simulated backend costs no
 * microtask per call, and a native backend can move big copies off the event loop.
 * Failures are thrown (or rejected) as MmcError.
 */
export type Medium = 'hbm' | 'dram';

/** One opened segment: the memory one rank contributes on one medium. */
export interface DeviceSegment {
  readonly rank: number;
  readonly medium: Medium;
  /** Usable bytes, exactly as requested at open. */
  readonly bytes: number;
}

export type MaybePromise<T> = T | Promise<T>;

export interface DeviceBackend {
  /** 'sim', 'acl', ... */
  readonly name: string;
  /** Reserve a segment of `bytes` on `medium` of device `rank`. */
  open(rank: number, medium: Medium, bytes: number): MaybePromise<DeviceSegment>;
  /** Copy `src` into the segment at `offset`. */
  write(seg: DeviceSegment, offset: number, src: Uint8Array): MaybePromise<void>;
  /** Fill `dst` (its whole length) from the segment at `offset`. */
  read(seg: DeviceSegment, offset: number, dst: Uint8Array): MaybePromise<void>;
  /** Copy `bytes` between two segments (demotion HBM -> DRAM, replication). */
  copy(src: DeviceSegment, srcOffset: number, dst: DeviceSegment, dstOffset: number, bytes: number): MaybePromise<void>;
  /** Release one segment; its memory is gone afterwards. */
  release(seg: DeviceSegment): MaybePromise<void>;
  /** Release everything still open and the backend itself. */
  close(): MaybePromise<void>;
}
