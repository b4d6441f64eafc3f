/**
 * The WASM core as the store sees it: loads build/core.wasm, keeps views on its memory fresh
 * (they go stale when the memory grows), and writes keys into the one scratch area.
 */
import { readFileSync } from 'node:fs';
import { MMC, MmcError } from '../errors.js';

/** The core's exports (assembly/engine.ts); byte quantities are f64. */
export interface CoreExports {
  memory: WebAssembly.Memory;
  core_init(shift: number, leaseMs: number, allocTimeoutMs: number, high: number, low: number): number;
  set_thresholds(high: number, low: number): void;
  out_ptr(): number;
  list_ptr(): number;
  stats_ptr(): number;
  stored_keys(): number;
  index_keys(): number;
  pending_count(): number;
  lru_length(m: number): number;
  metadata_bytes(): number;
  live_records(): number;
  live_blobs(): number;
  count_op(op: number, code: number): void;
  count_batch(op: number, anyFailure: number, anyNotFound: number): void;
  seg_mount(rank: number, medium: number, bytes: number): number;
  seg_unmount(slot: number): number;
  seg_used(slot: number): number;
  seg_total(slot: number): number;
  seg_largest_free(slot: number): number;
  medium_used(m: number): number;
  medium_total(m: number): number;
  medium_ranks(m: number): number;
  obj_alloc(keyLen: number, size: number, medium: number, replicas: number, preferredRank: number, flags: number): number;
  obj_commit(id: number, gen: number, ok: number, t0: number): number;
  obj_find_allocated(keyLen: number): number;
  obj_handle_live(id: number, gen: number): number;
  obj_get(keyLen: number): number;
  obj_get_end(blob: number, code: number, t0: number): void;
  obj_exists(keyLen: number): number;
  obj_query(keyLen: number): number;
  obj_remove(keyLen: number): number;
  obj_remove_all(): number;
  keys_fill(cursor: number): number;
  over_low(m: number): number;
  evict_next(m: number): number;
  demote_end(id: number, gen: number, shadow: number, ok: number, t0: number): void;
  sweep(): number;
}

// Signals of the core (assembly/codes.ts) and alloc flags (assembly/engine.ts).
export const NEED_EVICT = 1;
export const DEMOTE = 2;
export const EVICTED = 3;
export const ALLOC_SKIP_WATERMARK = 1;
export const ALLOC_FINAL = 2;

export const MEDIUM_HBM = 0;
export const MEDIUM_DRAM = 1;

/** Operation numbers of the counters (assembly/stats.ts), in the contract's order. */
export const OPS = [
  'alloc', 'batch_alloc', 'get', 'batch_get', 'remove', 'batch_remove', 'remove_all',
  'update_state', 'batch_update_state', 'query', 'batch_query', 'get_all_keys', 'exist_key',
  'batch_exist_key', 'mount', 'unmount',
] as const;
export type OpName = (typeof OPS)[number];
export const OP = Object.fromEntries(OPS.map((name, i) => [name, i])) as Record<OpName, number>;
/** The operations that have a not_found counter. */
export const OPS_WITH_NOT_FOUND = new Set<OpName>([
  'get', 'batch_get', 'remove', 'batch_remove', 'update_state', 'batch_update_state', 'query',
  'batch_query', 'exist_key', 'batch_exist_key',
]);
export const TRACEPOINTS = [
  'TP_MMC_META_PUT', 'TP_MMC_META_GET', 'TP_MMC_META_ALLOC', 'TP_MMC_META_REMOVE',
  'TP_MMC_META_UPDATE_STATE', 'TP_MMC_META_QUERY', 'TP_MMC_META_EVICT',
] as const;
const STATS_SLOTS = OPS.length * 4 + 1 + TRACEPOINTS.length * 6;

export const MAX_KEY_BYTES = 1024;
const KEY_AREA = 2048; // bytes before OUT in the scratch area
const LIST_AREA = 65536 - 4096;

const modules = new Map<string, WebAssembly.Module>();

function compiled(debug: boolean): WebAssembly.Module {
  const file = debug ? 'core.debug.wasm' : 'core.wasm';
  let m = modules.get(file);
  if (!m) {
    const url = new URL(`../../build/${file}`, import.meta.url);
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(url);
    } catch (e) {
      throw new MmcError(MMC.MMC_NOT_INITIALIZED, `cannot read the WASM core ${url.pathname} (run npm run build): ${(e as Error).message}`);
    }
    m = new WebAssembly.Module(bytes);
    modules.set(file, m);
  }
  return m;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8');

export class Core {
  readonly x: CoreExports;
  private readonly scratch: number;
  private readonly outPtr: number;
  private readonly listPtr: number;
  private readonly statsPtr: number;
  private buffer!: ArrayBuffer;
  private keyView!: Uint8Array;
  private outView!: Float64Array;

  constructor(opts: { debug: boolean; alignShift: number; leaseMs: number; allocTimeoutMs: number; high: number; low: number }) {
    let memory: WebAssembly.Memory | undefined;
    const instance = new WebAssembly.Instance(compiled(opts.debug), {
      env: {
        clock: () => performance.now(),
        abort: (msg: number, file: number, line: number, col: number) => {
          const text = memory ? `${readAsString(memory, msg)} at ${readAsString(memory, file)}:${line}:${col}` : 'abort';
          throw new MmcError(MMC.MMC_ERROR, `WASM core assertion failed: ${text}`);
        },
      },
    });
    this.x = instance.exports as unknown as CoreExports;
    memory = this.x.memory;
    this.scratch = this.x.core_init(opts.alignShift, opts.leaseMs, opts.allocTimeoutMs, opts.high, opts.low);
    this.outPtr = this.x.out_ptr();
    this.listPtr = this.x.list_ptr();
    this.statsPtr = this.x.stats_ptr();
    this.refresh();
  }

  private refresh(): void {
    this.buffer = this.x.memory.buffer;
    this.keyView = new Uint8Array(this.buffer, this.scratch, KEY_AREA);
    this.outView = new Float64Array(this.buffer, this.outPtr, 256);
  }

  /** OUT of the last call; valid until the next call into the core. */
  get out(): Float64Array {
    // growth detaches the old buffer, and views on it read as empty
    if (this.outView.length === 0) this.refresh();
    return this.outView;
  }

  /**
   * Writes the key's UTF-8 bytes into the scratch area; their count. Throws MMC_INVALID_PARAM
   * for a non-string, an empty key or one over 1024 bytes.
   */
  setKey(key: string): number {
    if (this.keyView.length === 0) this.refresh();
    if (typeof key !== 'string') throw new MmcError(MMC.MMC_INVALID_PARAM, 'key must be a string');
    const n = key.length;
    const view = this.keyView;
    if (n > 0 && n <= 64) {
      // short ASCII keys: a plain loop beats encodeInto's call overhead
      let i = 0;
      for (; i < n; i++) {
        const c = key.charCodeAt(i);
        if (c >= 0x80) break;
        view[i] = c;
      }
      if (i === n) return n;
    }
    if (n === 0) throw new MmcError(MMC.MMC_INVALID_PARAM, 'key is empty');
    if (n > MAX_KEY_BYTES) throw new MmcError(MMC.MMC_INVALID_PARAM, 'key too long');
    const { read, written } = encoder.encodeInto(key, view);
    if (read < n || written > MAX_KEY_BYTES) throw new MmcError(MMC.MMC_INVALID_PARAM, 'key too long');
    return written;
  }

  /** The counters block as f64s (a fresh copy). */
  statsBlock(): Float64Array {
    return new Float64Array(this.x.memory.buffer, this.statsPtr, STATS_SLOTS).slice();
  }

  /** All READABLE keys. */
  keys(): string[] {
    const keys: string[] = [];
    let cursor = 1;
    do {
      cursor = this.x.keys_fill(cursor);
      const n = this.out[0];
      const bytes = new Uint8Array(this.x.memory.buffer, this.listPtr, LIST_AREA);
      let p = 0;
      for (let i = 0; i < n; i++) {
        const len = bytes[p] | (bytes[p + 1] << 8);
        keys.push(decoder.decode(bytes.subarray(p + 2, p + 2 + len)));
        p += 2 + len;
      }
    } while (cursor !== 0);
    return keys;
  }
}

function readAsString(memory: WebAssembly.Memory, ptr: number): string {
  if (!ptr) return '';
  const len = new Uint32Array(memory.buffer)[(ptr - 4) >>> 2] >>> 1;
  return String.fromCharCode(...new Uint16Array(memory.buffer, ptr, len));
}
