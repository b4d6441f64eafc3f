/**
 * /metadata: the contract's own string store (not the object index), bounded in key count and in
 * total bytes (keys plus values). A value is copied into a buffer of its own, exactly its size, so
 * that a delete gives the memory back (never a view that keeps a large socket read alive).
 */
import { utf8Length } from '../protocol/key.js';
import type { CodedReason } from '../protocol/reasons.js';

export const DEFAULT_METADATA_TOTAL_LIMIT = 64 * 1024 * 1024;
export const DEFAULT_METADATA_KEY_LIMIT = 65536;

export class MetadataStore {
  private readonly values = new Map<string, Buffer>();
  private bytes = 0;

  constructor(readonly totalLimit: number, readonly keyLimit: number) {}

  get size(): number { return this.values.size; }
  get totalBytes(): number { return this.bytes; }

  get(key: string): Buffer | undefined {
    return this.values.get(key);
  }

  /**
   * Why a value of `length` bytes under `key` would not fit, or undefined if it fits (checked
   * before the body is read, when its length is declared, and again before storing it).
   */
  refusal(key: string, length: number): CodedReason | undefined {
    const old = this.values.get(key);
    if (old === undefined && this.values.size >= this.keyLimit) {
      return `MMC_NOT_ENOUGH_MEMORY: metadata is full (limit ${this.keyLimit} keys)`;
    }
    const after = this.bytes - (old === undefined ? 0 : utf8Length(key) + old.length) + utf8Length(key) + length;
    if (after > this.totalLimit) return `MMC_NOT_ENOUGH_MEMORY: metadata is full (limit ${this.totalLimit} bytes)`;
    return undefined;
  }

  /** Stores a copy of the chunks (call refusal first). */
  set(key: string, chunks: readonly Uint8Array[], length: number): void {
    const value = Buffer.allocUnsafeSlow(length);
    let off = 0;
    for (const c of chunks) { value.set(c, off); off += c.byteLength; }
    this.delete(key);
    this.values.set(key, value);
    this.bytes += utf8Length(key) + length;
  }

  delete(key: string): boolean {
    const old = this.values.get(key);
    if (old === undefined) return false;
    this.values.delete(key);
    this.bytes -= utf8Length(key) + old.length;
    return true;
  }
}
