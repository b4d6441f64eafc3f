/**
 * A device backend whose asynchronous reads, writes and copies are followed per segment until they
 * end, so a caller can wait for what is in flight on a segment (settled). Why: a rank agent
 * acknowledges a FREE, and the meta service hands the freed range out again at once; a write of
 * the old allocation still landing (acl: the device copy runs on a worker thread) would then
 * overwrite the new key's bytes, and a read still running would hand them back as the old key's.
 * Synchronous operations (the sim backend's) cost nothing here: there is nothing to follow.
 */
import type { DeviceBackend, DeviceSegment, MaybePromise, Medium } from './types.js';

export class InflightBackend implements DeviceBackend {
  readonly name: string;
  private readonly pending = new Map<DeviceSegment, Set<Promise<void>>>();

  constructor(readonly inner: DeviceBackend) {
    this.name = inner.name;
  }

  open(rank: number, medium: Medium, bytes: number): MaybePromise<DeviceSegment> {
    return this.inner.open(rank, medium, bytes);
  }

  write(seg: DeviceSegment, offset: number, src: Uint8Array): MaybePromise<void> {
    return this.follow(seg, this.inner.write(seg, offset, src));
  }

  read(seg: DeviceSegment, offset: number, dst: Uint8Array): MaybePromise<void> {
    return this.follow(seg, this.inner.read(seg, offset, dst));
  }

  copy(src: DeviceSegment, srcOffset: number, dst: DeviceSegment, dstOffset: number, bytes: number): MaybePromise<void> {
    return this.follow(dst, this.follow(src, this.inner.copy(src, srcOffset, dst, dstOffset, bytes)));
  }

  release(seg: DeviceSegment): MaybePromise<void> {
    this.pending.delete(seg);
    return this.inner.release(seg);
  }

  close(): MaybePromise<void> {
    this.pending.clear();
    return this.inner.close();
  }

  /** How many operations on `seg` have not ended yet. */
  inflight(seg: DeviceSegment): number {
    return this.pending.get(seg)?.size ?? 0;
  }

  /**
   * Resolves once every operation in flight on `seg` at the call has ended, failed ones included
   * (their callers see the failure; here only the end counts). Operations begun later are not
   * waited for, so a steady stream of new ones cannot hold it up.
   */
  async settled(seg: DeviceSegment): Promise<void> {
    const set = this.pending.get(seg);
    if (set === undefined || set.size === 0) return;
    await Promise.allSettled([...set]);
  }

  private follow(seg: DeviceSegment, r: MaybePromise<void>): MaybePromise<void> {
    if (!r) return r;
    let set = this.pending.get(seg);
    if (set === undefined) this.pending.set(seg, (set = new Set()));
    const p = r;
    set.add(p);
    const done = () => { set.delete(p); };
    p.then(done, done);
    return p;
  }
}
