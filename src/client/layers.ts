/**
 * The calls inference engines make, remote (README "Calls for inference engines"): the same
 * calls, answers and counters as the embedded store's (src/store/layers.ts), with the bytes
 * streamed from the caller's views into the request and from the response into the views: the
 * client never holds a copy of a whole value.
 *
 * The calls are written over a LayerTransport, the few primitives they need of a wire; httpLayers
 * is the one over the HTTP data plane (/api/v1/objects). Inputs are checked here, before any
 * request, so every transport refuses them as the embedded store does.
 */
import type { Pool } from 'undici';
import { MMC, MmcError } from '../errors.js';
import { decodeCodes, encodeBatchPut, encodeKeyList } from '../protocol/framing.js';
import { encodeKey } from '../protocol/key.js';
import { encodePutOptions } from '../protocol/put-options.js';
import type { PutOptions } from '../store/types.js';
import { invalid } from '../store/validate.js';
import { batchLists, checkPutOptions, fits, misfit, viewList, type ByteList } from '../store/views.js';

/**
 * What the layer calls need of a transport. Keys and options reach it checked (a key the store
 * would refuse comes as '', for the store to refuse and count as that item's MMC_INVALID_PARAM);
 * failures of a whole call reject with the server's MmcError.
 */
export interface LayerTransport {
  /** Stores under `key` the `length` bytes of `chunks`, sent in order (none empty). */
  put(key: string, chunks: readonly Uint8Array[], length: number, opts?: PutOptions): Promise<void>;
  /** batchPut of values given as lists of views: an MMC code per key, 0 = stored. */
  batchPut(keys: readonly string[], values: readonly ByteList[], opts?: PutOptions): Promise<number[]>;
  /**
   * The size of the value under `key`, undefined when absent (MmcError MMC_OBJECT_NOT_EXISTS
   * while being written). Its bytes go over `into`'s views in order when `accept(size)`; else
   * none is written.
   */
  get(key: string, into: ByteList, accept: (size: number) => boolean): Promise<number | undefined>;
  /** get of each key: its size, or its negative MMC code (-3102 absent); bytes as get's, `accept(i, size)`. */
  batchGet(keys: readonly string[], into: readonly ByteList[], accept: (i: number, size: number) => boolean): Promise<number[]>;
}

/** What the layer calls use of their client: its transport and its own checks. */
export interface LayerClient {
  readonly transport: LayerTransport;
  /** Throws MMC_NOT_INITIALIZED once the client is closed. */
  alive(): void;
  /** A key's refusal as the embedded store words it, or undefined for a key it accepts. */
  keyRefusal(key: unknown): MmcError | undefined;
}

const nonEmpty = (b: Uint8Array): boolean => b.byteLength > 0;

/** putFrom (one view) and putFromLayers: the views gathered, in order, into one value. */
export async function putFromLayers(c: LayerClient, key: string, views: readonly ArrayBufferView[], opts?: PutOptions): Promise<void> {
  c.alive();
  const list = viewList(views);
  const bad = c.keyRefusal(key);
  if (bad) throw bad;
  if (list.total === 0) throw invalid('size must be a positive integer, got 0');
  checkPutOptions(opts);
  await c.transport.put(key, list.bytes.filter(nonEmpty), list.total, opts);
}

/**
 * The items of a batch that go to the server: those whose views are accepted (the others are
 * their own -3000, never sent nor counted, as batchPut's bad entries), keys refused here sent as ''.
 */
function sendable(c: LayerClient, keys: readonly string[], lists: readonly unknown[], single: boolean) {
  c.alive();
  const items = batchLists(keys, lists, single);
  const sent: number[] = [];
  for (let i = 0; i < keys.length; i++) if (items.lists[i]) sent.push(i);
  return {
    items, sent,
    keys: sent.map((i) => (c.keyRefusal(keys[i]) ? '' : keys[i])),
    lists: sent.map((i) => items.lists[i]!),
    /** The answers in request order: the sent items' from `got`, the refused ones' -3000. */
    answers: (got: readonly number[]) => {
      const out = items.refused.map((e): number => (e ? MMC.MMC_INVALID_PARAM : 0));
      sent.forEach((i, j) => { out[i] = got[j]; });
      return out;
    },
  };
}

/** batchPutFrom (`single`: one view a key) and batchPutFromLayers: per-key MMC codes, 0 = stored. */
export async function batchPutFromLayers(c: LayerClient, keys: readonly string[], lists: readonly unknown[], opts: PutOptions | undefined, single: boolean): Promise<number[]> {
  const b = sendable(c, keys, lists, single);
  checkPutOptions(opts);
  return b.answers(await c.transport.batchPut(b.keys, b.lists, opts));
}

/** getIntoLayers: the value scattered over the views (adding up to its size): its size, or undefined. */
export async function getIntoLayers(c: LayerClient, key: string, views: readonly ArrayBufferView[]): Promise<number | undefined> {
  c.alive();
  const list = viewList(views);
  const bad = c.keyRefusal(key);
  if (bad) throw bad;
  const size = await c.transport.get(key, list, (n) => fits(list, n, true));
  if (size !== undefined && !fits(list, size, true)) throw misfit(list, size, key, true);
  return size;
}

/** batchGetInto (`single`) and batchGetIntoLayers: per key the bytes read, or a negative MMC code. */
export async function batchGetIntoLayers(c: LayerClient, keys: readonly string[], lists: readonly unknown[], single: boolean): Promise<number[]> {
  const b = sendable(c, keys, lists, single);
  const got = await c.transport.batchGet(b.keys, b.lists, (j, n) => fits(b.lists[j], n, !single));
  return b.answers(got.map((n, j) => (n >= 0 && !fits(b.lists[j], n, !single) ? MMC.MMC_INVALID_PARAM : n)));
}

// ---- over HTTP ----

/** What httpLayers uses of its client. */
export interface HttpLink {
  readonly pool: Pool;
  readonly url: string;
  /** Headers of every request (the token's Authorization), undefined when none. */
  readonly headers: Record<string, string> | undefined;
  /** Keys in one batch request; a larger batch goes as several requests in turn. */
  readonly batchKeyLimit: number;
  /** The MmcError of an error reply. */
  fail(status: number, body: Buffer): MmcError;
}

type Body = AsyncIterable<Buffer>;
interface Answer { status: number; length: number | undefined; body: Body }

/** The transport of the layer calls over the HTTP data plane (PUT, GET, batch_put, batch_get). */
export function httpLayers(link: HttpLink): LayerTransport {
  return new HttpLayers(link);
}

class HttpLayers implements LayerTransport {
  private readonly bodyHeaders: Record<string, string>;

  constructor(private readonly link: HttpLink) {
    this.bodyHeaders = { ...link.headers, 'content-type': 'application/octet-stream' };
  }

  async put(key: string, chunks: readonly Uint8Array[], length: number, opts?: PutOptions): Promise<void> {
    const a = await this.send('PUT', `/api/v1/objects?key=${encodeKey(key)}${options(opts, '&')}`, [...chunks], length);
    await this.read(a, (r) => r.rest());
  }

  batchPut(keys: readonly string[], values: readonly ByteList[], opts?: PutOptions): Promise<number[]> {
    return sliced(this.link.batchKeyLimit, keys, values, async (k, v) => {
      // encodeBatchPut reads only each value's byteLength, for the header; the views follow it
      const sized = k.map((key, i) => [key, { byteLength: v[i].total }] as unknown as [string, Uint8Array]);
      const body = [encodeBatchPut(sized).chunks[0], ...v.flatMap((l) => l.bytes.filter(nonEmpty))];
      return this.read(await this.send('POST', `/api/v1/objects/batch_put${options(opts, '?')}`, body), async (r) => decodeCodes(await r.rest()));
    });
  }

  async get(key: string, into: ByteList, accept: (size: number) => boolean): Promise<number | undefined> {
    const a = await this.send('GET', `/api/v1/objects?key=${encodeKey(key)}`);
    if (a.status === 404) {
      const err = await this.failure(a);
      if (err.code === MMC.MMC_OBJECT_NOT_EXISTS) throw err;
      return undefined;
    }
    return this.read(a, async (r) => {
      if (a.length === undefined) throw new MmcError(MMC.MMC_ERROR, 'a value came without its Content-Length');
      await r.pour(a.length, accept(a.length) ? new Sink(into) : undefined);
      await r.end();
      return a.length;
    });
  }

  batchGet(keys: readonly string[], into: readonly ByteList[], accept: (i: number, size: number) => boolean): Promise<number[]> {
    return sliced(this.link.batchKeyLimit, keys, into, async (k, v, base) => {
      const a = await this.send('POST', '/api/v1/objects/batch_get', [encodeKeyList(k)]);
      return this.read(a, (r) => readBatchGet(r, v, (i, n) => accept(base + i, n)));
    });
  }

  private async send(method: string, path: string, body?: Uint8Array[], length = body ? byteSum(body) : 0): Promise<Answer> {
    try {
      const headers = body ? { ...this.bodyHeaders, 'content-length': String(length) } : this.link.headers;
      // an iterable body (undici takes one; its types list only Readable) is written a view at a
      // time: the views are never gathered into one buffer
      const res = await this.link.pool.request({ method: method as 'GET', path, body: body as unknown as Uint8Array | undefined, headers });
      const cl = res.headers['content-length'];
      return { status: res.statusCode, length: typeof cl === 'string' ? Number(cl) : undefined, body: res.body as unknown as Body };
    } catch (e) {
      if (e instanceof MmcError) throw e;
      throw new MmcError(MMC.MMC_ERROR, `request to ${this.link.url} failed: ${(e as Error).message}`, { cause: e });
    }
  }

  private async failure(a: Answer): Promise<MmcError> {
    return this.link.fail(a.status, await new Reader(a.body).rest());
  }

  /** The body of a 200 answer, read by `use`; any other status is the server's MmcError. */
  private async read<T>(a: Answer, use: (r: Reader) => Promise<T>): Promise<T> {
    if (a.status !== 200) throw await this.failure(a);
    const r = new Reader(a.body);
    try {
      return await use(r);
    } finally {
      await r.close();
    }
  }
}

/** Put options as a query string after `sep`, '' when there are none. */
function options(opts: PutOptions | undefined, sep: string): string {
  const q = encodePutOptions(opts);
  return q ? sep + q : '';
}

function byteSum(chunks: readonly Uint8Array[]): number {
  let t = 0;
  for (const c of chunks) t += c.byteLength;
  return t;
}

/** A batch over `limit` keys sent as requests of at most that many, one after another. */
export async function sliced<L>(limit: number, keys: readonly string[], lists: readonly L[], send: (keys: readonly string[], lists: readonly L[], base: number) => Promise<number[]>): Promise<number[]> {
  if (keys.length <= limit) return send(keys, lists, 0);
  const out: number[] = [];
  for (let at = 0; at < keys.length; at += limit) out.push(...await send(keys.slice(at, at + limit), lists.slice(at, at + limit), at));
  return out;
}

const malformed = (): MmcError => new MmcError(MMC.MMC_ERROR, 'malformed response frame');

/**
 * A batch_get answer read as it arrives (src/protocol/framing.ts: u32 N | i32 code × N |
 * u32 valueLen × N | the found values): each value poured into its views (or dropped when they do
 * not fit); only the header is ever copied.
 */
export async function readBatchGet(r: Reader, lists: readonly ByteList[], accept: (i: number, size: number) => boolean): Promise<number[]> {
  const n = (await r.bytes(4)).readUInt32LE(0);
  if (n !== lists.length) throw malformed();
  const table = await r.bytes(8 * n);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const code = table.readInt32LE(4 * i);
    if (code !== 0) { out[i] = code; continue; }
    const len = table.readUInt32LE(4 * (n + i));
    await r.pour(len, accept(i, len) ? new Sink(lists[i]) : undefined);
    out[i] = len;
  }
  await r.end();
  return out;
}

/** The bytes of a response body pulled as needed, as views of the reads undici made. */
export class Reader {
  private readonly it: AsyncIterator<Buffer>;
  private chunk: Buffer = Buffer.alloc(0);
  private at = 0;

  constructor(body: Body) {
    this.it = body[Symbol.asyncIterator]();
  }

  /** The next bytes, at most `max`, without a copy; undefined at the end of the body. */
  private async next(max: number): Promise<Buffer | undefined> {
    while (this.at === this.chunk.length) {
      const r = await this.it.next();
      if (r.done) return undefined;
      this.chunk = r.value;
      this.at = 0;
    }
    const n = Math.min(max, this.chunk.length - this.at);
    this.at += n;
    return this.chunk.subarray(this.at - n, this.at);
  }

  /** Exactly `n` bytes (a frame's header): copied only when they straddle two reads. */
  async bytes(n: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      const p = await this.next(n - got);
      if (!p) throw malformed();
      parts.push(p);
      got += p.length;
    }
    return parts.length === 1 ? parts[0] : Buffer.concat(parts, n);
  }

  /** The next `n` bytes written through `sink`, or dropped without one. */
  async pour(n: number, sink: Sink | undefined): Promise<void> {
    for (let left = n; left > 0;) {
      const p = await this.next(left);
      if (!p) throw malformed();
      sink?.write(p);
      left -= p.length;
    }
  }

  /** The body must end here. */
  async end(): Promise<void> {
    if (await this.next(1)) throw malformed();
  }

  /** The rest of the body, in one buffer (small answers: codes, error bodies). */
  async rest(): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (let p = await this.next(Infinity); p; p = await this.next(Infinity)) parts.push(p);
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  /** Stops reading: a body left unread is destroyed, so its connection is not reused half read. */
  async close(): Promise<void> {
    await this.it.return?.();
  }
}

/** Writes a value's bytes, as they arrive, over a list of views in order. */
export class Sink {
  private i = 0;
  private off = 0;

  constructor(private readonly list: ByteList) {}

  write(src: Uint8Array): void {
    const views = this.list.bytes;
    for (let pos = 0; pos < src.byteLength;) {
      const v = views[this.i];
      if (!v) throw malformed(); // more bytes than announced: accept() saw another size
      const n = Math.min(v.byteLength - this.off, src.byteLength - pos);
      if (n > 0) v.set(n === src.byteLength ? src : src.subarray(pos, pos + n), this.off);
      pos += n;
      this.off += n;
      if (this.off === v.byteLength) { this.i++; this.off = 0; }
    }
  }
}
