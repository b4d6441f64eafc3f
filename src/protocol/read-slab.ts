/**
 * Where a data-path connection's plain TCP reads land, on both sides (net's `onread`): slices of
 * a slab rather than a fresh buffer per read, and, where the connection says so, straight into the
 * memory a payload goes to. Going through `onread` also skips the Readable stream's per-read work
 * (push, 'data', read-ahead scheduling), which a 4 KiB get at concurrency 1 pays on each side.
 */
import net from 'node:net';

/** Bytes of a slab that reads are carved from, and the most one read into it may take. */
const SLAB_BYTES = 256 * 1024;
const READ_BYTES = 64 * 1024;
/**
 * With `small` (a client reading many small answers): the least a read into what is left of a
 * slab may take before a new slab is begun, the rest of a slab read into rather than left unused
 * (what does not fit comes with the next read). Each small value is a view of a slab, so the
 * slabs are a client's memory churn at many small gets, and V8 answers churn that outgrows its
 * young-generation collections with full ones. A server reading large bodies keeps whole reads.
 */
export const SMALL_MIN_READ = 8 * 1024;

/** The connection a ReadSlab reads for. */
export interface SlabOwner {
  /** Where the next read may go instead of the slab (it holds only the payload being read), else undefined. */
  direct(): Uint8Array | undefined;
  /** `n` bytes were read into the memory direct() gave. */
  onDirect(n: number, into: Uint8Array): void;
  /** Bytes read into the slab: a view that stays intact (a slab is never written twice). */
  push(b: Buffer): void;
}

/**
 * Consecutive slices of a slab, never reused: a view of a read stays intact for as long as anyone
 * holds it (and keeps its slab alive, as a view of a socket read always did). One allocation per
 * slab rather than one per read: a run of small requests or answers shares one in fifty.
 */
export class ReadSlab {
  private slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
  private at = 0;
  /** The connection, once there is one (nothing is read before). */
  owner: SlabOwner | undefined;
  /** `minRead`: what is left of a slab below this begins a new one (SMALL_MIN_READ, or whole reads). */
  constructor(private readonly minRead = READ_BYTES) {}
  /** The memory of the read in progress when it went straight (SlabOwner.direct). */
  private straight: Uint8Array | undefined;

  readonly next = (): Uint8Array => {
    const d = this.owner?.direct();
    this.straight = d;
    if (d) return d;
    if (SLAB_BYTES - this.at < this.minRead) { this.slab = Buffer.allocUnsafeSlow(SLAB_BYTES); this.at = 0; }
    return this.slab.subarray(this.at, Math.min(this.at + READ_BYTES, SLAB_BYTES));
  };

  readonly read = (n: number, b: Uint8Array): boolean => {
    const d = this.straight;
    if (d) { this.straight = undefined; this.owner?.onDirect(n, d); return true; }
    this.at += (n + 7) & ~7; // the next read starts 8-byte aligned, for typed-array views on values
    this.owner?.push(b.subarray(0, n) as Buffer);
    return true;
  };

  /** net's `onread` option for this slab. */
  get onread(): net.OnReadOpts {
    return { buffer: this.next, callback: this.read };
  }
}

/**
 * An accepted plain TCP socket (its server made with `pauseOnConnect`) as a socket whose reads
 * go through `slab`, or undefined where that cannot be done (the caller resumes the socket it has
 * and reads its 'data'). net.Server offers no `onread` for the sockets it accepts: the connection
 * is handed to a new Socket made with one, and the accepted one, now without a connection, is
 * destroyed (the server stops counting it; the data path keeps its own set of sockets).
 */
export function withSlab(accepted: net.Socket, slab: ReadSlab): net.Socket | undefined {
  const a = accepted as net.Socket & { _handle?: { readStart?: unknown; fd?: number } | null };
  const handle = a._handle;
  if (!handle || typeof handle.readStart !== 'function') return undefined;
  a._handle = null;
  const s = new net.Socket({ handle, readable: true, writable: true, onread: slab.onread } as net.SocketConstructorOpts);
  accepted.destroy();
  return s;
}
