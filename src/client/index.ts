/**
 * The remote client: the operations of the embedded MemCache against a standalone server, over
 * keep-alive HTTP connections (undici Pool). Errors are MmcError with the server's MMC code.
 *
 *   const mc = await MemCacheClient.connect('http://127.0.0.1:8000');   // instead of MemCache.open(...)
 *
 * segments() and stats() return Promises here (the embedded store answers them synchronously);
 * `await` works on both.
 */
import type { Pool } from 'undici';
import { MMC, MmcError } from '../errors.js';
import type { LayerCalls, PutOptions, QueryResult, SegmentInfo, Stats } from '../store/types.js';
import {
  decodeBatchGetChunks, decodeCodes, decodeKeyList, encodeBatchPut, encodeKeyList,
} from '../protocol/framing.js';
import { encodeKey } from '../protocol/key.js';
import { OP } from '../protocol/data-frames.js';
import { REASON, errorFromReason } from '../protocol/reasons.js';
import { checkToken } from '../protocol/token.js';
import { invalid, checkKeys } from '../store/validate.js';
import { checkKey, keyRefusal, putQuery } from './checks.js';
import { checkDataPathOptions, openDataPath } from './data-select.js';
import type { ClientOptions } from './options.js';
import type { DataPlane } from './pool-transport.js';
import { BinaryLayers } from './data-layers.js';
import * as layers from './layers.js';

const OCTET = 'application/octet-stream';
/** The server's default batchKeyLimit: keys in one batch request. */
const DEFAULT_BATCH_KEYS = 16384;

export type { ClientOptions } from './options.js';
export type { DataPathMode } from './data-select.js';

export { encodeKey, errorFromReason };

interface Reply { status: number; body: Buffer; json: boolean }
/** A reply as the chunks it arrived in (batch responses are decoded from them in place). */
interface ChunkReply { status: number; chunks: Buffer[]; length: number; json: boolean; contentLength: number }

export class MemCacheClient implements LayerCalls {
  readonly url: string;
  private readonly pool: Pool;
  /** Headers of a request without / with a body. */
  private readonly headers: Record<string, string> | undefined;
  private readonly bodyHeaders: Record<string, string>;
  private readonly batchKeyLimit: number;
  private closed = false;
  /** The binary data path when in use: every put/get/exists/remove/query goes over it. */
  private data: DataPlane | undefined;

  /** The transport of the data operations: 'binary' (the data path) or 'http'. */
  get transport(): 'binary' | 'http' {
    return this.data ? 'binary' : 'http';
  }

  private constructor(url: string, opts: ClientOptions, PoolClass: typeof Pool) {
    this.url = url;
    this.batchKeyLimit = opts.batchKeyLimit ?? DEFAULT_BATCH_KEYS;
    if (!Number.isInteger(this.batchKeyLimit) || this.batchKeyLimit < 1) throw invalid(`batchKeyLimit must be a positive integer, got ${String(opts.batchKeyLimit)}`);
    const { ca, cert, key, passphrase } = opts;
    const tls = ca !== undefined || cert !== undefined || key !== undefined;
    this.pool = new PoolClass(url, {
      connections: opts.connections ?? 8,
      headersTimeout: opts.timeoutMs ?? 60_000,
      bodyTimeout: opts.timeoutMs ?? 60_000,
      keepAliveTimeout: 60_000,
      ...(tls ? { connect: { ca, cert, key, passphrase } } : {}),
    });
    const auth = opts.token !== undefined ? { authorization: `Bearer ${opts.token}` } : undefined;
    this.headers = auth;
    this.bodyHeaders = { 'content-type': OCTET, ...auth };
  }

  /**
   * Connect to a server: checked with GET /health, then GET /api/v1/objects/stats (which needs
   * the token where one is required), so a missing or wrong token fails here, as an MmcError
   * with `detail.status` 401 or 403.
   */
  static async connect(url = 'http://127.0.0.1:8000', opts: ClientOptions = {}): Promise<MemCacheClient> {
    const u = new URL(/^[a-z]+:\/\//i.test(url) ? url : `http://${url}`);
    if (opts.token !== undefined) checkToken(opts.token);
    checkDataPathOptions(opts);
    if (u.protocol !== 'https:' && (opts.ca !== undefined || opts.cert !== undefined || opts.key !== undefined)) {
      throw new MmcError(MMC.MMC_INVALID_PARAM, `ca, cert and key need an https:// URL, got ${u.origin}`);
    }
    // undici loads on the first connect, not with the package's main entry (which re-exports
    // this class next to the embedded store).
    const { Pool: PoolClass } = await import('undici');
    const c = new MemCacheClient(u.origin, opts, PoolClass);
    try {
      const r = await c.request('GET', '/health');
      if (r.status !== 200) throw new MmcError(MMC.MMC_ERROR, `${u.origin} is not a memcache server (GET /health: HTTP ${r.status})`);
      const s = opts.verifyToken === false ? undefined : await c.request('GET', '/api/v1/objects/stats');
      if (s && (s.status === 401 || s.status === 403)) throw c.fail(s);
      if (opts.verifyToken !== false) c.data = await openDataPath(u, opts, () => c.request('GET', '/api/v1/data_path'));
    } catch (e) {
      await c.pool.destroy().catch(() => {});
      throw e;
    }
    return c;
  }

  private async request(method: string, path: string, body?: Uint8Array | Uint8Array[], length?: number): Promise<Reply> {
    const r = await this.requestChunks(method, path, body, length);
    return { status: r.status, body: r.chunks.length === 1 ? r.chunks[0] : Buffer.concat(r.chunks, r.length), json: r.json };
  }

  /**
   * One exchange; a body given as chunks goes out as one buffer (one copy, one writev: undici
   * writes an iterable body a chunk per socket write, measured no faster and more client CPU on
   * 256 x 4 KiB batches); the reply comes back as the chunks undici read (views of the socket
   * reads, never concatenated here).
   */
  private async requestChunks(method: string, path: string, body?: Uint8Array | Uint8Array[], length?: number): Promise<ChunkReply> {
    if (this.closed) throw new MmcError(MMC.MMC_NOT_INITIALIZED, 'client is closed');
    let payload: Uint8Array | undefined;
    if (Array.isArray(body)) payload = body.length === 1 ? body[0] : Buffer.concat(body, length);
    else payload = body;
    try {
      const res = await this.pool.request({
        method: method as 'GET', path, body: payload,
        headers: payload !== undefined ? this.bodyHeaders : this.headers,
      });
      const chunks: Buffer[] = [];
      let total = 0;
      for await (const c of res.body as AsyncIterable<Buffer>) { chunks.push(c); total += c.length; }
      const ct = res.headers['content-type'];
      return {
        status: res.statusCode, chunks, length: total, json: typeof ct === 'string' && ct.startsWith('application/json'),
        contentLength: Number(res.headers['content-length']),
      };
    } catch (e) {
      if (e instanceof MmcError) throw e;
      throw new MmcError(MMC.MMC_ERROR, `request to ${this.url} failed: ${(e as Error).message}`, { cause: e });
    }
  }

  private alive(): void {
    if (this.closed) throw new MmcError(MMC.MMC_NOT_INITIALIZED, 'client is closed');
  }

  /**
   * A batch's keys for the wire: a key the store would refuse goes as the empty key, which the
   * server's store refuses as that item's MMC_INVALID_PARAM, counted in the batch as embedded.
   */
  private wireKeys(keys: readonly string[]): string[] {
    this.alive();
    checkKeys(keys);
    return keys.map((k) => (keyRefusal(k) ? '' : k));
  }

  /** An error reply (non-2xx, or a `success:false` body on the contract endpoints) as MmcError. */
  private fail(r: Reply): MmcError {
    try {
      const j = JSON.parse(r.body.toString('utf8')) as { error_message?: string };
      if (typeof j.error_message === 'string') return errorFromReason(j.error_message, r.status);
    } catch { /* not JSON */ }
    return new MmcError(MMC.MMC_ERROR, `unexpected reply: HTTP ${r.status}`, { status: r.status });
  }

  private ok(r: Reply): Reply {
    if (r.status !== 200) throw this.fail(r);
    return r;
  }

  async put(key: string, bytes: Uint8Array, opts?: PutOptions): Promise<void> {
    this.alive();
    if (!(bytes instanceof Uint8Array)) throw invalid('value must be a Uint8Array');
    checkKey(key);
    if (bytes.length === 0) throw invalid('size must be a positive integer, got 0');
    const q = putQuery(opts);
    if (this.data) return this.data.put(key, bytes, q);
    this.ok(await this.request('PUT', `/api/v1/objects?key=${encodeKey(key)}${q ? '&' + q : ''}`, bytes));
  }

  get(key: string): Promise<Uint8Array | undefined> {
    try { return this.data && !this.closed ? this.data.get(checkKey(key)) : this.httpGet(key); } catch (e) { return Promise.reject(e); }
  }

  private async httpGet(key: string): Promise<Uint8Array | undefined> {
    this.alive();
    const r = await this.request('GET', `/api/v1/objects?key=${encodeKey(checkKey(key))}`);
    if (r.status === 404) return this.absent(r);
    return this.ok(r).body;
  }

  /** A 404 of GET: undefined when absent; being written: the store's MMC_OBJECT_NOT_EXISTS, as embedded. */
  private absent(r: Reply): undefined {
    const err = this.fail(r);
    if (err.code === MMC.MMC_OBJECT_NOT_EXISTS) throw err;
    return undefined;
  }

  /**
   * get into the caller's buffer: the value's length, or undefined when absent (as
   * MemCache.getInto). The server is told the buffer's size (max_size), so a longer value is the
   * store's MMC_INVALID_PARAM and a failed get there, as embedded.
   */
  async getInto(key: string, dst: Uint8Array): Promise<number | undefined> {
    if (!(dst instanceof Uint8Array)) throw invalid('dst must be a Uint8Array');
    this.alive();
    if (this.data) return this.data.getInto(checkKey(key), dst);
    const r = await this.requestChunks('GET', `/api/v1/objects?key=${encodeKey(checkKey(key))}&max_size=${dst.length}`);
    if (r.status !== 200) {
      const reply = { status: r.status, body: Buffer.concat(r.chunks, r.length), json: r.json };
      if (r.status === 404) return this.absent(reply);
      throw this.fail(reply);
    }
    if (r.length > dst.length) throw invalid(`dst holds ${dst.length} bytes, the value of '${key}' has ${r.length}`);
    let at = 0;
    for (const c of r.chunks) { dst.set(c, at); at += c.length; }
    return r.length;
  }

  async exists(key: string): Promise<boolean> {
    return (await this.sizeOf(key)) !== undefined;
  }

  /** exist_key that also tells the size: the object's length in bytes, or undefined when absent (as MemCache.sizeOf). */
  async sizeOf(key: string): Promise<number | undefined> {
    this.alive();
    if (this.data) return this.data.sizeOf(checkKey(key));
    const r = await this.requestChunks('HEAD', `/api/v1/objects?key=${encodeKey(checkKey(key))}`);
    if (r.status === 404) return undefined;
    if (r.status === 200) return r.contentLength;
    throw new MmcError(r.status === 400 ? MMC.MMC_INVALID_PARAM : MMC.MMC_ERROR, `exists: HTTP ${r.status}`, { status: r.status });
  }

  async query(key: string): Promise<QueryResult | undefined> {
    this.alive();
    if (this.data) return this.data.query(checkKey(key));
    const r = this.ok(await this.request('GET', `/query_key?key=${encodeKey(checkKey(key))}`));
    const j = JSON.parse(r.body.toString('utf8'));
    if (j.success === false) {
      if (j.error_message === REASON.KEY_NOT_FOUND) return undefined;
      throw errorFromReason(j.error_message);
    }
    return j as QueryResult;
  }

  async remove(key: string): Promise<boolean> {
    this.alive();
    if (this.data) return this.data.remove(checkKey(key));
    const r = await this.request('DELETE', `/api/v1/objects?key=${encodeKey(checkKey(key))}`);
    if (r.status === 404) return false;
    this.ok(r);
    return true;
  }

  async removeAll(): Promise<number> {
    const r = this.ok(await this.request('POST', '/api/v1/objects/remove_all'));
    return (JSON.parse(r.body.toString('utf8')) as { removed: number }).removed;
  }

  async keys(): Promise<string[]> {
    return decodeKeyList(this.ok(await this.request('GET', '/api/v1/objects/keys')).body).keys;
  }

  /**
   * Per-item codes as MemCache.batchPut. Every batch goes to the server, an empty one too (it is
   * counted there as embedded). An entry that is not [key, Uint8Array] is that item's
   * MMC_INVALID_PARAM and is not sent (the store never counts it); a key the store refuses goes
   * as the empty key, refused and counted there as embedded.
   */
  async batchPut(entries: ReadonlyArray<readonly [string, Uint8Array]>, opts?: PutOptions): Promise<number[]> {
    this.alive();
    if (!Array.isArray(entries)) throw invalid('entries must be an array of [key, value]');
    if (entries.length > this.batchKeyLimit) return this.sliced(entries, (part) => this.batchPut(part, opts));
    const sent: [string, Uint8Array][] = [];
    const bad = new Set<number>();
    entries.forEach((e, i) => {
      if (!Array.isArray(e) || !(e[1] instanceof Uint8Array)) bad.add(i);
      else sent.push([keyRefusal(e[0]) ? '' : e[0], e[1]]);
    });
    const q = putQuery(opts);
    const codes = this.data ? await this.data.batchPut(sent, q) : await this.httpBatchPut(sent, q);
    if (bad.size === 0) return codes;
    let j = 0;
    return entries.map((_, i) => (bad.has(i) ? MMC.MMC_INVALID_PARAM : codes[j++]));
  }

  private async httpBatchPut(sent: [string, Uint8Array][], q: string): Promise<number[]> {
    const { chunks, length } = encodeBatchPut(sent);
    return decodeCodes(this.ok(await this.request('POST', `/api/v1/objects/batch_put${q ? '?' + q : ''}`, chunks, length)).body);
  }

  async batchGet(keys: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    if (keys?.length > this.batchKeyLimit) return this.sliced(keys, (part) => this.batchGet(part));
    if (this.data) return this.data.batchGet(this.wireKeys(keys));
    const r = await this.requestChunks('POST', '/api/v1/objects/batch_get', encodeKeyList(this.wireKeys(keys)));
    if (r.status !== 200) throw this.fail({ status: r.status, body: Buffer.concat(r.chunks, r.length), json: r.json });
    const { values } = decodeBatchGetChunks(r.chunks, r.length);
    const out = new Array<Uint8Array | undefined>(values.length);
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      out[i] = v ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : undefined;
    }
    return out;
  }

  async batchExists(keys: readonly string[]): Promise<boolean[]> {
    if (keys?.length > this.batchKeyLimit) return this.sliced(keys, (part) => this.batchExists(part));
    if (this.data) return (await this.data.batchCodes(OP.BATCH_EXISTS, this.wireKeys(keys))).map((c) => c === 0);
    const r = await this.request('POST', '/api/v1/objects/batch_exists', encodeKeyList(this.wireKeys(keys)));
    return decodeCodes(this.ok(r).body).map((c) => c === 0);
  }

  async batchRemove(keys: readonly string[]): Promise<number[]> {
    if (keys?.length > this.batchKeyLimit) return this.sliced(keys, (part) => this.batchRemove(part));
    if (this.data) return this.data.batchCodes(OP.BATCH_REMOVE, this.wireKeys(keys));
    const r = await this.request('POST', '/api/v1/objects/batch_remove', encodeKeyList(this.wireKeys(keys)));
    return decodeCodes(this.ok(r).body);
  }

  async batchQuery(keys: readonly string[]): Promise<QueryResult[]> {
    if (keys?.length > this.batchKeyLimit) return this.sliced(keys, (part) => this.batchQuery(part));
    const wk = this.wireKeys(keys);
    const data = this.data ? await this.data.batchQuery(wk)
      : (JSON.parse(this.ok(await this.request('POST', '/api/v1/objects/batch_query', encodeKeyList(wk))).body.toString('utf8')) as { data: QueryResult[] }).data;
    // an item sent as the empty key is named as given, as embedded
    for (let i = 0; i < data.length; i++) if (data[i].key !== keys[i]) data[i].key = String(keys[i]);
    return data;
  }

  /** A batch over batchKeyLimit items, sent as requests of at most that many, one after another. */
  private async sliced<I, R>(items: readonly I[], send: (part: readonly I[]) => Promise<R[]>): Promise<R[]> {
    const results: R[] = [];
    for (let start = 0; start < items.length; start += this.batchKeyLimit) {
      results.push(...await send(items.slice(start, start + this.batchKeyLimit)));
    }
    return results;
  }

  async segments(): Promise<SegmentInfo[]> {
    return JSON.parse(this.ok(await this.request('GET', '/api/v1/objects/segments')).body.toString('utf8')) as SegmentInfo[];
  }

  async stats(): Promise<Stats> {
    return JSON.parse(this.ok(await this.request('GET', '/api/v1/objects/stats')).body.toString('utf8')) as Stats;
  }

  /** The server's /metadata string store. */
  async getMetadata(key: string): Promise<Buffer | undefined> {
    const r = this.ok(await this.request('GET', `/metadata?key=${encodeKey(key)}`));
    if (!r.json) return r.body;
    const e = this.fail(r);
    if (e.code === MMC.MMC_UNMATCHED_KEY) return undefined;
    throw e;
  }

  async putMetadata(key: string, value: Uint8Array | string): Promise<void> {
    const body = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
    const r = this.ok(await this.request('PUT', `/metadata?key=${encodeKey(key)}`, body));
    if (r.json) throw this.fail(r);
  }

  async deleteMetadata(key: string): Promise<boolean> {
    const r = this.ok(await this.request('DELETE', `/metadata?key=${encodeKey(key)}`));
    if (!r.json) return true;
    const e = this.fail(r);
    if (e.code === MMC.MMC_UNMATCHED_KEY) return false;
    throw e;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.data?.close();
    await this.pool.close();
  }

  // ---- the calls inference engines make (layers.ts): streamed from and into the caller's views ----

  /** The layer calls' transport (HTTP; a binary one may take its place) and the client's checks. */
  private layerClient?: layers.LayerClient;
  private get layerCalls(): layers.LayerClient {
    return this.layerClient ??= {
      transport: this.data ? this.data.layerTransport?.(this.batchKeyLimit) ?? new BinaryLayers(this.data, this.batchKeyLimit) : layers.httpLayers({ pool: this.pool, url: this.url, headers: this.headers, batchKeyLimit: this.batchKeyLimit, fail: (status, body) => this.fail({ status, body, json: true }) }),
      alive: () => this.alive(), keyRefusal,
    };
  }

  putFrom(key: string, view: ArrayBufferView, opts?: PutOptions): Promise<void> { return layers.putFromLayers(this.layerCalls, key, [view], opts); }
  putFromLayers(key: string, views: readonly ArrayBufferView[], opts?: PutOptions): Promise<void> { return layers.putFromLayers(this.layerCalls, key, views, opts); }
  batchPutFrom(keys: readonly string[], views: readonly ArrayBufferView[], opts?: PutOptions): Promise<number[]> { return layers.batchPutFromLayers(this.layerCalls, keys, views, opts, true); }
  batchPutFromLayers(keys: readonly string[], viewLists: readonly (readonly ArrayBufferView[])[], opts?: PutOptions): Promise<number[]> { return layers.batchPutFromLayers(this.layerCalls, keys, viewLists, opts, false); }
  getIntoLayers(key: string, views: readonly ArrayBufferView[]): Promise<number | undefined> { return layers.getIntoLayers(this.layerCalls, key, views); }
  batchGetInto(keys: readonly string[], views: readonly ArrayBufferView[]): Promise<number[]> { return layers.batchGetIntoLayers(this.layerCalls, keys, views, true); }
  batchGetIntoLayers(keys: readonly string[], viewLists: readonly (readonly ArrayBufferView[])[]): Promise<number[]> { return layers.batchGetIntoLayers(this.layerCalls, keys, viewLists, false); }

  /**
   * GET `path` (from '/', e.g. '/get_all_keys'), one of the admin API's reads, as it comes: the
   * HTTP status, the body and whether it is JSON, whatever the status (the caller judges it).
   */
  async adminRead(path: string): Promise<{ status: number; body: Buffer; json: boolean }> {
    if (typeof path !== 'string' || !path.startsWith('/')) throw invalid(`path must start with '/', got ${String(path)}`);
    return this.request('GET', path);
  }
}
