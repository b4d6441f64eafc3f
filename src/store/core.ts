/**
 * The WASM core as the store sees it: loads build/core.wasm, keeps views on its memory fresh
 * (they go stale when the memory grows), and writes keys into the one scratch area.
 *
 * The layout and numbers both sides share (the ABI below) are checked against the core's
 * exported globals when it is first instantiated: a core built from other sources is refused
 * with an MmcError naming each mismatch instead of being misread.
 *
 * Every call into the core goes through a guard: a trap (a bug, or memory the core could not
 * get) may leave its metadata half updated, so after one the core refuses every further call
 * with the same MmcError instead of serving what it holds.
 */
import { readFileSync } from 'node:fs';
import { MMC, MmcError } from '../errors.js';

/** The core's exports (assembly/engine.ts); byte quantities are f64. */
export interface CoreExports {
  memory: WebAssembly.Memory;
  core_init(shift: number, leaseMs: number, allocTimeoutMs: number, high: number, low: number, metaLimit: number): number;
  out_ptr(): number;
  list_ptr(): number;
  stats_ptr(): number;
  stored_keys(): number;
  pending_count(): number;
  metadata_bytes(): number;
  metadata_limit(): number;
  core_trap(): void;
  live_records(): number;
  live_blobs(): number;
  count_op(op: number, code: number): void;
  count_batch(op: number, anyFailure: number, anyNotFound: number): void;
  seg_mount(rank: number, medium: number, bytes: number): number;
  seg_unmount(slot: number): number;
  seg_unmount_begin(slot: number): number;
  seg_unmount_step(slot: number, maxRecords: number): number;
  seg_unmount_end(slot: number): number;
  seg_used(slot: number): number;
  seg_total(slot: number): number;
  seg_largest_free(slot: number): number;
  medium_used(m: number): number;
  medium_total(m: number): number;
  obj_alloc(keyLen: number, size: number, medium: number, replicas: number, preferredRank: number, flags: number): number;
  obj_commit(id: number, gen: number, ok: number, t0: number, flags: number): number;
  obj_write_begin(id: number, gen: number): number;
  obj_pin(id: number, gen: number): void;
  obj_write_end(id: number, gen: number): void;
  obj_find_allocated(keyLen: number, flags: number): number;
  obj_handle_live(id: number, gen: number): number;
  obj_get(keyLen: number, flags: number): number;
  obj_get_end(id: number, gen: number, blob: number, code: number, t0: number, flags: number): number;
  obj_exists(keyLen: number, flags: number): number;
  obj_query(keyLen: number, flags: number): number;
  obj_remove(keyLen: number, flags: number): number;
  obj_remove_all(): number;
  keys_fill(cursor: number): number;
  over_low(m: number): number;
  evict_next(m: number): number;
  demote_end(id: number, gen: number, shadow: number, ok: number, t0: number): void;
  sweep(): number;
  core_hold_frees(on: number): void;
  seg_release(slot: number, node: number): number;
}

// Signals of the core (assembly/codes.ts) and alloc flags (assembly/engine.ts).
export const NEED_EVICT = 1;
export const DEMOTE = 2;
export const EVICTED = 3;
export const ALLOC_SKIP_WATERMARK = 1;
export const ALLOC_FINAL = 2;
/** Flag of a call made for an item of a batch: counted on the batch operation only. */
export const IN_BATCH = 4;

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

export const MAX_KEY_BYTES = 1024;
// The scratch area: key bytes, then OUT (f64 results of the last call), then the key listing.
const OUT_OFFSET = 2048;
const OUT_SLOTS = 256;
const LIST_OFFSET = 4096;
const SCRATCH_SIZE = 65536;
const LIST_AREA = SCRATCH_SIZE - LIST_OFFSET;
/** The OS page (corePopulate touches one byte of each). */
const PAGE_BYTES = 4096;

/** The counters block (f64 slots): per operation STATS_OP_STRIDE counters, then evictions, then per tracepoint STATS_TP_FIELDS. */
export const STATS_OP_STRIDE = 4;
export const STATS_EVICTS = OPS.length * STATS_OP_STRIDE;
export const STATS_TP_BASE = STATS_EVICTS + 1;
export const STATS_TP_FIELDS = 6;
const STATS_SLOTS = STATS_TP_BASE + TRACEPOINTS.length * STATS_TP_FIELDS;

/**
 * The ABI as this side reads it, by the name of the core's exported global (assembly/abi.ts,
 * assembly/codes.ts, assembly/engine.ts). The MMC codes are checked apart: every MMC_* global
 * of the core must be the code of that name in MMC.
 */
export const ABI: Readonly<Record<string, number>> = Object.freeze({
  ABI_MAX_KEY_BYTES: MAX_KEY_BYTES,
  ABI_OUT_OFFSET: OUT_OFFSET,
  ABI_OUT_SLOTS: OUT_SLOTS,
  ABI_LIST_OFFSET: LIST_OFFSET,
  ABI_SCRATCH_SIZE: SCRATCH_SIZE,
  ABI_STATS_OPS: OPS.length,
  ABI_STATS_OP_STRIDE: STATS_OP_STRIDE,
  ABI_STATS_EVICTS: STATS_EVICTS,
  ABI_STATS_TP_BASE: STATS_TP_BASE,
  ABI_STATS_TPS: TRACEPOINTS.length,
  ABI_STATS_TP_FIELDS: STATS_TP_FIELDS,
  ABI_STATS_SLOTS: STATS_SLOTS,
  NEED_EVICT, DEMOTE, EVICTED, ALLOC_SKIP_WATERMARK, ALLOC_FINAL, IN_BATCH, MEDIUM_HBM, MEDIUM_DRAM,
  ...Object.fromEntries(OPS.map((name, i) => [`OP_${name.toUpperCase()}`, i])),
  ...Object.fromEntries(TRACEPOINTS.map((name, i) => [name.replace('MMC_META_', ''), i])),
  MMC_OK: MMC.MMC_OK, // at least the success code: the core must export its codes
});

/**
 * The functions of CoreExports, checked as the constants are: a core built before one of them
 * (e.g. the sliced unmount's seg_unmount_begin/step/end) is refused at instantiation rather than
 * failing at its first call.
 */
export const CORE_FUNCTIONS = Object.freeze([
  'core_init', 'out_ptr', 'list_ptr', 'stats_ptr', 'stored_keys', 'pending_count', 'metadata_bytes',
  'metadata_limit', 'core_trap', 'live_records', 'live_blobs', 'count_op', 'count_batch', 'seg_mount',
  'seg_unmount', 'seg_unmount_begin', 'seg_unmount_step', 'seg_unmount_end', 'seg_used', 'seg_total',
  'seg_largest_free', 'medium_used', 'medium_total', 'obj_alloc', 'obj_commit', 'obj_write_begin', 'obj_pin',
  'obj_write_end', 'obj_find_allocated', 'obj_handle_live', 'obj_get', 'obj_get_end', 'obj_exists',
  'obj_query', 'obj_remove', 'obj_remove_all', 'keys_fill', 'over_low', 'evict_next', 'demote_end', 'sweep',
  'core_hold_frees', 'seg_release',
] as const satisfies readonly (keyof CoreExports)[]);
// every function of CoreExports is in the list (a compile error names the one left out)
const everyFunction: Exclude<keyof CoreExports, 'memory' | (typeof CORE_FUNCTIONS)[number]> extends never ? true : never = true;
void everyFunction;

/**
 * Throws MMC_NOT_INITIALIZED naming every constant of `expected` that the core's `exports`
 * lack or give another value, every MMC_* code of the core that MMC does not have, and every
 * function of `functions` it does not export.
 */
export function checkAbi(
  exports: Record<string, unknown>, expected: Readonly<Record<string, number>> = ABI, functions: readonly string[] = CORE_FUNCTIONS,
): void {
  const wrong: string[] = [];
  for (const name of functions) if (typeof exports[name] !== 'function') wrong.push(`function ${name} is missing in the core`);
  const valueOf = (name: string): number | undefined => {
    const g = exports[name] as { value?: unknown } | null | undefined;
    return typeof g === 'object' && g !== null && typeof g.value === 'number' ? g.value : undefined;
  };
  for (const [name, want] of Object.entries(expected)) {
    const got = valueOf(name);
    if (got !== want) wrong.push(`${name} is ${got ?? 'missing'} in the core, ${want} here`);
  }
  for (const name of Object.keys(exports)) {
    if (!name.startsWith('MMC_') || name in expected) continue;
    const want = (MMC as Record<string, number>)[name];
    const got = valueOf(name);
    if (got !== want) wrong.push(`${name} is ${got} in the core, ${want ?? 'unknown'} here`);
  }
  if (wrong.length > 0) {
    throw new MmcError(MMC.MMC_NOT_INITIALIZED, `the WASM core does not match this store's ABI (rebuild it: npm run build): ${wrong.join('; ')}`);
  }
}

const modules = new Map<string, WebAssembly.Module>();
/** The modules whose ABI has been checked (once, at their first instantiation). */
const checked = new WeakSet<WebAssembly.Module>();

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

  /** Told of each range the core holds back (core_hold_frees: the pool's meta service, store/held.ts). */
  onHeld: ((slot: number, node: number, offset: number, size: number, gen: number) => void) | undefined;

  /** Set by the first trap: every later call throws it. */
  private failure: MmcError | undefined;

  /** Bytes of the memory touched so far (corePopulate; 0: not populated). */
  private populated = 0;
  private readonly populate: boolean;

  constructor(opts: { debug: boolean; alignShift: number; leaseMs: number; allocTimeoutMs: number; high: number; low: number; metaLimit: number; populate?: boolean }) {
    let memory: WebAssembly.Memory | undefined;
    const module = compiled(opts.debug);
    const instance = new WebAssembly.Instance(module, {
      env: {
        clock: () => performance.now(),
        held: (slot: number, node: number, offset: number, size: number, gen: number) => this.onHeld?.(slot, node >>> 0, offset, size, gen >>> 0),
        abort: (msg: number, file: number, line: number, col: number) => {
          const text = memory ? `${readAsString(memory, msg)} at ${readAsString(memory, file)}:${line}:${col}` : 'abort';
          throw new MmcError(MMC.MMC_ERROR, `WASM core assertion failed: ${text}`);
        },
      },
    });
    if (!checked.has(module)) {
      checkAbi(instance.exports);
      checked.add(module);
    }
    this.x = this.guard(instance.exports as Record<string, unknown>);
    memory = this.x.memory;
    this.scratch = this.x.core_init(opts.alignShift, opts.leaseMs, opts.allocTimeoutMs, opts.high, opts.low, opts.metaLimit);
    this.outPtr = this.x.out_ptr();
    this.listPtr = this.x.list_ptr();
    this.statsPtr = this.x.stats_ptr();
    this.populate = opts.populate === true;
    this.refresh();
  }

  /** The error every call throws since the core trapped; undefined while it is sound. */
  get failed(): MmcError | undefined {
    return this.failure;
  }

  /** The exports, each function wrapped so that a trap poisons the core (see above). */
  private guard(exports: Record<string, unknown>): CoreExports {
    const x: Record<string, unknown> = {};
    for (const [name, f] of Object.entries(exports)) {
      if (typeof f !== 'function') {
        x[name] = f;
        continue;
      }
      const fn = f as (...a: unknown[]) => unknown;
      // fixed arity (the most any export takes): no rest arguments on the hot path
      x[name] = (a: unknown, b: unknown, c: unknown, d: unknown, e: unknown, g: unknown) => {
        if (this.failure) throw this.failure;
        try {
          return fn(a, b, c, d, e, g);
        } catch (err) {
          this.failure = new MmcError(MMC.MMC_ERROR, `the core failed: ${(err as Error)?.message ?? String(err)}; the store must be reopened`);
          throw this.failure;
        }
      };
    }
    return x as unknown as CoreExports;
  }

  private refresh(): void {
    this.buffer = this.x.memory.buffer;
    this.keyView = new Uint8Array(this.buffer, this.scratch, OUT_OFFSET);
    this.outView = new Float64Array(this.buffer, this.outPtr, OUT_SLOTS);
    if (this.populate) this.touch();
  }

  /**
   * Faults in the pages not touched yet (corePopulate): each page's first byte written back as it
   * is, which changes nothing but makes the OS map a page of its own (a read would map the shared
   * zero page). Run at open and after a growth, so later calls find every page there.
   */
  private touch(): void {
    const all = new Uint8Array(this.buffer);
    for (let at = this.populated; at < all.length; at += PAGE_BYTES) all[at] = all[at];
    this.populated = all.length;
  }

  /** OUT of the last call; valid until the next call into the core. */
  get out(): Float64Array {
    // growth detaches the old buffer, and views on it read as empty
    if (this.outView.length === 0) this.refresh();
    return this.outView;
  }

  /**
   * Writes the key's UTF-8 bytes into the scratch area; their count. Throws MMC_INVALID_PARAM
   * for a non-string, an empty key, one over 1024 bytes, one with a line break (keys are listed
   * one a line) and one that is not well-formed Unicode (a lone surrogate would encode as U+FFFD
   * and alias another key). The one place where keys are encoded.
   */
  setKey(key: string): number {
    if (this.keyView.length === 0) this.refresh();
    if (typeof key !== 'string') throw new MmcError(MMC.MMC_INVALID_PARAM, 'key must be a string');
    const n = key.length;
    const view = this.keyView;
    if (n > 0 && n <= 64) {
      // short ASCII keys: a plain loop beats encodeInto's call overhead; it checks as it copies
      let i = 0;
      for (; i < n; i++) {
        const c = key.charCodeAt(i);
        if (c >= 0x80 || c === 0x0a || c === 0x0d) break;
        view[i] = c;
      }
      if (i === n) return n;
    }
    if (n === 0) throw new MmcError(MMC.MMC_INVALID_PARAM, 'key is empty');
    if (n > MAX_KEY_BYTES) throw new MmcError(MMC.MMC_INVALID_PARAM, 'key too long');
    if (key.indexOf('\n') >= 0 || key.indexOf('\r') >= 0) throw new MmcError(MMC.MMC_INVALID_PARAM, 'key contains a line break');
    if (!(key as unknown as { isWellFormed(): boolean }).isWellFormed()) {
      throw new MmcError(MMC.MMC_INVALID_PARAM, 'key is not well-formed Unicode (a lone surrogate)');
    }
    const { read, written } = encoder.encodeInto(key, view);
    if (read < n || written > MAX_KEY_BYTES) throw new MmcError(MMC.MMC_INVALID_PARAM, 'key too long');
    return written;
  }

  /** The counters block as f64s (a fresh copy). */
  statsBlock(): Float64Array {
    return new Float64Array(this.x.memory.buffer, this.statsPtr, STATS_SLOTS).slice();
  }

  /**
   * Appends the READABLE keys from record id `cursor` on (start at 1) to `keys`, one page of the
   * list area; the cursor to continue from, 0 when done. The first page counts get_all_keys.
   */
  keysPage(cursor: number, keys: string[]): number {
    const next = this.x.keys_fill(cursor);
    const n = this.out[0];
    const bytes = new Uint8Array(this.x.memory.buffer, this.listPtr, LIST_AREA);
    let p = 0;
    for (let i = 0; i < n; i++) {
      const len = bytes[p] | (bytes[p + 1] << 8);
      keys.push(decoder.decode(bytes.subarray(p + 2, p + 2 + len)));
      p += 2 + len;
    }
    return next;
  }
}

function readAsString(memory: WebAssembly.Memory, ptr: number): string {
  if (!ptr) return '';
  const len = new Uint32Array(memory.buffer)[(ptr - 4) >>> 2] >>> 1;
  return String.fromCharCode(...new Uint16Array(memory.buffer, ptr, len));
}
