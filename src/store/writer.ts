/** The writer of a two-phase put (alloc, write..., update_state). */
import { MMC, MmcError } from '../errors.js';
import type { DeviceSegment } from '../device/types.js';

/** What a PutWriter needs of its store. */
export interface WriterHost {
  _write(w: PutWriter, at: number, chunk: Uint8Array): Promise<void>;
  _commit(w: PutWriter, ok: boolean): void;
}

/** A mounted segment as the store keeps it: its core slot and its device segment. */
export interface MountedSegment {
  id: string;
  slot: number;
  rank: number;
  medium: number;
  device: DeviceSegment;
}

/** A reservation made by alloc: write its bytes, then commit (write_ok) or abort (write_fail). */
export class PutWriter {
  private written = 0;
  private settled = false;

  /** @internal */
  constructor(
    private readonly mc: WriterHost,
    readonly key: string,
    readonly size: number,
    /** Where the replicas lie: segment id, byte offset. */
    readonly blobs: ReadonlyArray<{ segment: string; rank: number; medium: 'HBM' | 'DRAM'; offset: number }>,
    /** @internal */ readonly handle: { id: number; gen: number; t0: number; targets: MountedSegment[]; offsets: number[] },
  ) {}

  /** Bytes written so far. */
  get bytesWritten(): number {
    return this.written;
  }

  /**
   * Writes the next chunk to every replica. A failed or overrunning write ends the put, and so
   * does one whose allocation expired (allocTimeoutMs) or was removed: it writes nothing.
   */
  async write(chunk: Uint8Array): Promise<void> {
    if (this.settled) throw new MmcError(MMC.MMC_UNMATCHED_STATE, `put of '${this.key}' has ended`);
    try {
      if (!(chunk instanceof Uint8Array)) throw new MmcError(MMC.MMC_INVALID_PARAM, 'chunk must be a Uint8Array');
      if (this.written + chunk.length > this.size) {
        throw new MmcError(MMC.MMC_INVALID_PARAM, `chunk overruns the object: ${this.written + chunk.length} > ${this.size} bytes`);
      }
      await this.mc._write(this, this.written, chunk);
    } catch (err) {
      await this.abort();
      throw err;
    }
    this.written += chunk.length;
  }

  /** update_state(write_ok): the object becomes visible. All `size` bytes must have been written. */
  async commit(): Promise<void> {
    if (this.settled) throw new MmcError(MMC.MMC_UNMATCHED_STATE, `put of '${this.key}' is already ended`);
    if (this.written !== this.size) {
      await this.abort();
      throw new MmcError(MMC.MMC_INVALID_PARAM, `only ${this.written} of ${this.size} bytes were written`);
    }
    this.settled = true;
    this.mc._commit(this, true);
  }

  /** @internal The put was ended by updateState. */
  _settle(): void {
    this.settled = true;
  }

  /** update_state(write_fail): the key is absent and its space free again. */
  async abort(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    this.mc._commit(this, false);
  }
}

