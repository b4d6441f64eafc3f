/**
 * The simulated device backend: segments are host memory, reserved lazily in chunks, so a
 * simulated 1 TiB segment costs nothing until bytes are written into it. Ranges never written
 * read as zeros. Every data call completes synchronously (returns undefined, never a Promise).
 *
 * Fault injection for tests: `failWrite: N` makes the N-th write call (1-based, counted since
 * creation) throw MmcError(MMC_ERROR); likewise `failRead`, `failCopy`; `injectFault(op, n)` arms
 * "fail the n-th call of op from now". An injected failure leaves the segment untouched.
 */
import { MMC, MmcError, invalid } from '../errors.js';
import type { DeviceBackend, DeviceSegment, Medium } from './types.js';
import { checkOpen, checkRange, liveSegment, ownedBy } from './checks.js';

export interface SimBackendOptions {
  /** Fail the N-th write call (1-based, since creation). */
  failWrite?: number;
  /** Fail the N-th read call (1-based, since creation). */
  failRead?: number;
  /** Fail the N-th copy call (1-based, since creation). */
  failCopy?: number;
  /** Bytes per lazily reserved chunk (default 64 MiB). The last chunk of a segment is only as big as needed. */
  chunkBytes?: number;
  /**
   * Reserve and touch every chunk of a segment when it is opened (default false: lazily, on first
   * write). Device memory is all there from the mount on; host memory first touched under a put
   * costs that put the page faults, on some VMs milliseconds for one page.
   */
  populate?: boolean;
}

export type SimOp = 'write' | 'read' | 'copy';

export interface SimBackend extends DeviceBackend {
  readonly name: 'sim';
  open(rank: number, medium: Medium, bytes: number): DeviceSegment;
  write(seg: DeviceSegment, offset: number, src: Uint8Array): void;
  read(seg: DeviceSegment, offset: number, dst: Uint8Array): void;
  copy(src: DeviceSegment, srcOffset: number, dst: DeviceSegment, dstOffset: number, bytes: number): void;
  release(seg: DeviceSegment): void;
  close(): void;
  /** Arm "fail the n-th call of `op` from now" (n = 1: the next one). */
  injectFault(op: SimOp, n: number): void;
  /** Bytes of chunks actually reserved, over all open segments. */
  residentBytes(): number;
  /** Segments opened and not yet released. */
  openSegments(): number;
  /** Data calls made since creation (failed ones included). */
  calls(): { write: number; read: number; copy: number };
}

export const DEFAULT_CHUNK_BYTES = 64 * 1024 * 1024;

/** Above this many chunks per segment the chunk table is a Map instead of a dense array. */
const DENSE_TABLE_MAX = 1 << 16;

function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
}

class SimSegment implements DeviceSegment {
  readonly rank: number;
  readonly medium: Medium;
  readonly bytes: number;
  readonly chunkBytes: number;
  /** Dense chunk table (small chunk counts) or null. */
  dense: (Uint8Array | undefined)[] | null;
  /** Sparse chunk table (huge chunk counts) or null. */
  sparse: Map<number, Uint8Array> | null;
  released = false;
  resident = 0;
  readonly owner: Sim;

  constructor(owner: Sim, rank: number, medium: Medium, bytes: number, chunkBytes: number) {
    this.owner = owner;
    this.rank = rank;
    this.medium = medium;
    this.bytes = bytes;
    this.chunkBytes = chunkBytes;
    const count = Math.ceil(bytes / chunkBytes);
    if (count <= DENSE_TABLE_MAX) {
      this.dense = new Array<Uint8Array | undefined>(count).fill(undefined);
      this.sparse = null;
    } else {
      this.dense = null;
      this.sparse = new Map();
    }
  }

  /** The chunk `i` if reserved, else undefined. */
  peek(i: number): Uint8Array | undefined {
    return this.dense !== null ? this.dense[i] : this.sparse!.get(i);
  }

  /** The chunk `i`, reserved (zero-filled) on first use. */
  chunk(i: number): Uint8Array {
    const have = this.dense !== null ? this.dense[i] : this.sparse!.get(i);
    if (have !== undefined) return have;
    const start = i * this.chunkBytes;
    const size = Math.min(this.chunkBytes, this.bytes - start);
    const c = new Uint8Array(size);
    if (this.dense !== null) this.dense[i] = c;
    else this.sparse!.set(i, c);
    this.resident += size;
    this.owner.resident += size;
    return c;
  }

  get label(): string {
    return `rank-${this.rank}-${this.medium}`;
  }

  drop(): void {
    this.owner.resident -= this.resident;
    this.resident = 0;
    this.dense = null;
    this.sparse = null;
    this.released = true;
  }
}

function takeFault(armed: number[], n: number): boolean {
  const at = armed.indexOf(n);
  if (at < 0) return false;
  armed.splice(at, 1);
  return true;
}

class Sim implements SimBackend {
  readonly name = 'sim' as const;
  resident = 0;
  private readonly chunkBytes: number;
  private readonly populate: boolean;
  private readonly segments = new Set<SimSegment>();
  private closed = false;
  private writes = 0;
  private reads = 0;
  private copies = 0;
  /** Call numbers (absolute, 1-based) that must fail, per op. */
  private readonly failWrites: number[] = [];
  private readonly failReads: number[] = [];
  private readonly failCopies: number[] = [];

  constructor(options: SimBackendOptions) {
    const chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    if (!isPositiveInt(chunkBytes)) throw invalid(`sim: chunkBytes must be a positive integer, got ${String(chunkBytes)}`);
    this.chunkBytes = chunkBytes;
    if (options.populate !== undefined && typeof options.populate !== 'boolean') throw invalid(`sim: populate must be true or false, got ${String(options.populate)}`);
    this.populate = options.populate === true;
    for (const [key, list] of [
      ['failWrite', this.failWrites],
      ['failRead', this.failReads],
      ['failCopy', this.failCopies],
    ] as const) {
      const v = options[key];
      if (v === undefined) continue;
      if (!isPositiveInt(v)) throw invalid(`sim: ${key} must be a positive integer (1-based call number), got ${String(v)}`);
      list.push(v);
    }
  }

  open(rank: number, medium: Medium, bytes: number): DeviceSegment {
    if (this.closed) throw new MmcError(MMC.MMC_NOT_INITIALIZED, 'sim: backend is closed');
    checkOpen('sim', rank, medium, bytes);
    const seg = new SimSegment(this, rank, medium, bytes, this.chunkBytes);
    // writing the zeros faults every page in now (a fresh chunk's pages are mapped on first write)
    if (this.populate) for (let i = 0; i * this.chunkBytes < bytes; i++) seg.chunk(i).fill(0);
    this.segments.add(seg);
    return seg;
  }

  /** The live SimSegment behind `seg`, with [offset, offset + length) checked against it. */
  private check(seg: DeviceSegment, offset: number, length: number, op: string): SimSegment {
    const s = liveSegment('sim', op, seg, SimSegment, this);
    checkRange('sim', op, s, offset, length);
    return s;
  }

  write(seg: DeviceSegment, offset: number, src: Uint8Array): void {
    const n = ++this.writes;
    if (this.failWrites.length !== 0 && takeFault(this.failWrites, n)) {
      throw new MmcError(MMC.MMC_ERROR, 'sim: injected write failure', { call: n });
    }
    if (!(src instanceof Uint8Array)) throw invalid('sim: write: src must be a Uint8Array');
    let len = src.length;
    const s = this.check(seg, offset, len, 'write');
    if (len === 0) return;
    const cb = s.chunkBytes;
    let i = Math.floor(offset / cb);
    let local = offset - i * cb;
    if (local + len <= cb) {
      // Hot path: one chunk, one copy, no allocation once the chunk exists.
      s.chunk(i).set(src, local);
      return;
    }
    let pos = 0;
    while (len > 0) {
      const n2 = Math.min(cb - local, len);
      s.chunk(i).set(src.subarray(pos, pos + n2), local);
      pos += n2;
      len -= n2;
      i++;
      local = 0;
    }
  }

  read(seg: DeviceSegment, offset: number, dst: Uint8Array): void {
    const n = ++this.reads;
    if (this.failReads.length !== 0 && takeFault(this.failReads, n)) {
      throw new MmcError(MMC.MMC_ERROR, 'sim: injected read failure', { call: n });
    }
    if (!(dst instanceof Uint8Array)) throw invalid('sim: read: dst must be a Uint8Array');
    let len = dst.length;
    const s = this.check(seg, offset, len, 'read');
    if (len === 0) return;
    const cb = s.chunkBytes;
    let i = Math.floor(offset / cb);
    let local = offset - i * cb;
    if (local + len <= cb) {
      const c = s.peek(i);
      if (c === undefined) dst.fill(0);
      else dst.set(c.subarray(local, local + len));
      return;
    }
    let pos = 0;
    while (len > 0) {
      const n2 = Math.min(cb - local, len);
      const c = s.peek(i);
      if (c === undefined) dst.fill(0, pos, pos + n2);
      else dst.set(c.subarray(local, local + n2), pos);
      pos += n2;
      len -= n2;
      i++;
      local = 0;
    }
  }

  copy(src: DeviceSegment, srcOffset: number, dst: DeviceSegment, dstOffset: number, bytes: number): void {
    const n = ++this.copies;
    if (this.failCopies.length !== 0 && takeFault(this.failCopies, n)) {
      throw new MmcError(MMC.MMC_ERROR, 'sim: injected copy failure', { call: n });
    }
    const s = this.check(src, srcOffset, bytes, 'copy (source)');
    const d = this.check(dst, dstOffset, bytes, 'copy (destination)');
    if (bytes === 0) return;
    if (s === d && srcOffset < dstOffset + bytes && dstOffset < srcOffset + bytes) {
      if (srcOffset === dstOffset) return;
      // Overlapping ranges in one segment: memmove semantics through a temporary.
      const tmp = new Uint8Array(bytes);
      this.readRaw(s, srcOffset, tmp);
      this.writeRaw(d, dstOffset, tmp);
      return;
    }
    let left = bytes;
    let so = srcOffset;
    let doff = dstOffset;
    const scb = s.chunkBytes;
    const dcb = d.chunkBytes;
    while (left > 0) {
      const si = Math.floor(so / scb);
      const sl = so - si * scb;
      const di = Math.floor(doff / dcb);
      const dl = doff - di * dcb;
      const n2 = Math.min(scb - sl, dcb - dl, left);
      const sc = s.peek(si);
      if (sc !== undefined) {
        d.chunk(di).set(sc.subarray(sl, sl + n2), dl);
      } else {
        // Source never written: zeros. Only an already reserved destination chunk needs clearing.
        const dc = d.peek(di);
        if (dc !== undefined) dc.fill(0, dl, dl + n2);
      }
      so += n2;
      doff += n2;
      left -= n2;
    }
  }

  /** read without counting or fault injection (internal). */
  private readRaw(s: SimSegment, offset: number, dst: Uint8Array): void {
    const cb = s.chunkBytes;
    let pos = 0;
    let off = offset;
    while (pos < dst.length) {
      const i = Math.floor(off / cb);
      const l = off - i * cb;
      const n2 = Math.min(cb - l, dst.length - pos);
      const c = s.peek(i);
      if (c === undefined) dst.fill(0, pos, pos + n2);
      else dst.set(c.subarray(l, l + n2), pos);
      pos += n2;
      off += n2;
    }
  }

  /** write without counting or fault injection (internal). */
  private writeRaw(s: SimSegment, offset: number, src: Uint8Array): void {
    const cb = s.chunkBytes;
    let pos = 0;
    let off = offset;
    while (pos < src.length) {
      const i = Math.floor(off / cb);
      const l = off - i * cb;
      const n2 = Math.min(cb - l, src.length - pos);
      s.chunk(i).set(src.subarray(pos, pos + n2), l);
      pos += n2;
      off += n2;
    }
  }

  /** Releasing an already released segment is a no-op; any other use of it throws. */
  release(seg: DeviceSegment): void {
    if (!ownedBy(seg, SimSegment, this)) throw invalid('sim: release: not a segment of this sim backend');
    if (seg.released) return;
    seg.drop();
    this.segments.delete(seg);
  }

  close(): void {
    for (const seg of this.segments) seg.drop();
    this.segments.clear();
    this.resident = 0;
    this.closed = true;
  }

  injectFault(op: SimOp, n: number): void {
    if (!isPositiveInt(n)) throw invalid(`sim: injectFault: n must be a positive integer, got ${String(n)}`);
    switch (op) {
      case 'write':
        this.failWrites.push(this.writes + n);
        break;
      case 'read':
        this.failReads.push(this.reads + n);
        break;
      case 'copy':
        this.failCopies.push(this.copies + n);
        break;
      default:
        throw invalid(`sim: injectFault: op must be 'write', 'read' or 'copy', got '${String(op)}'`);
    }
  }

  residentBytes(): number {
    return this.resident;
  }

  openSegments(): number {
    return this.segments.size;
  }

  calls(): { write: number; read: number; copy: number } {
    return { write: this.writes, read: this.reads, copy: this.copies };
  }
}

/** A simulated backend: host memory, lazy chunks, synchronous calls, optional fault injection. */
export function createSimBackend(options: SimBackendOptions = {}): SimBackend {
  return new Sim(options);
}
