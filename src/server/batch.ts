/**
 * The batch calls of the data plane, shared by the Koa routes and the fast path: the body read
 * as its chunks (values stay views of the socket reads), the frame decoded, the store called
 * with the items whose key is valid UTF-8, the answers spread back in request order.
 */
import type http from 'node:http';
import { MMC } from '../errors.js';
import type { PutOptions } from '../store/types.js';
import { decodeBatchPutChunks, decodeKeyListChunks, encodeBatchGet, encodeCodes } from '../protocol/framing.js';
import type { BodyChunks, BodyRule } from './body.js';
import { Refusal } from './refusal.js';
import type { ServerState } from './state.js';

/** A binary answer as chunks, written without concatenation. */
export interface Reply { chunks: Uint8Array[]; length: number }

/** The items of a batch whose key is valid UTF-8 (`bad`: the others' indexes, ascending). */
function withoutBad<T>(items: T[], bad: readonly number[]): T[] {
  if (bad.length === 0) return items;
  const out: T[] = [];
  let b = 0;
  for (let i = 0; i < items.length; i++) {
    if (b < bad.length && bad[b] === i) b++;
    else out.push(items[i]);
  }
  return out;
}

/** The answers of withoutBad's items spread back over `n` in request order, `fill` at the bad ones. */
function withBad<T>(got: T[], n: number, bad: readonly number[], fill: T): T[] {
  if (bad.length === 0) return got;
  const out = new Array<T>(n);
  let b = 0;
  let j = 0;
  for (let i = 0; i < n; i++) {
    if (b < bad.length && bad[b] === i) { out[i] = fill; b++; } else out[i] = got[j++];
  }
  return out;
}

type CodesOp = (keys: string[]) => number[] | Promise<number[]>;

export class Batches {
  readonly rule: BodyRule;

  constructor(private readonly state: ServerState) {
    const { batchLimit } = state.limits;
    this.rule = {
      limit: batchLimit, overBudgetStatus: 503,
      tooLarge: () => new Refusal(`MMC_INVALID_PARAM: batch too large (limit ${batchLimit} bytes)`, 413),
    };
  }

  body(req: http.IncomingMessage, res: http.ServerResponse): Promise<BodyChunks> {
    return this.state.bodies.read(req, res, this.rule);
  }

  /** Keys of a key-list body (at most batchKeyLimit); those not valid UTF-8 listed in `bad`. */
  async keys(req: http.IncomingMessage, res: http.ServerResponse): Promise<ReturnType<typeof decodeKeyListChunks>> {
    return this.keysOf(await this.body(req, res));
  }

  /** keys() of a body already read (the binary data path reads its own). */
  keysOf(body: BodyChunks): ReturnType<typeof decodeKeyListChunks> {
    return decodeKeyListChunks(body.chunks, body.length, this.state.limits.batchKeyLimit);
  }

  async put(opts: PutOptions, req: http.IncomingMessage, res: http.ServerResponse): Promise<Reply> {
    return this.putOf(opts, await this.body(req, res));
  }

  async putOf(opts: PutOptions, body: BodyChunks): Promise<Reply> {
    const { valueLimit, batchKeyLimit } = this.state.limits;
    const { entries, bad } = decodeBatchPutChunks(body.chunks, body.length, batchKeyLimit);
    for (const [, v] of entries) if (v.byteLength > valueLimit) throw new Refusal(`MMC_INVALID_PARAM: value too large (limit ${valueLimit} bytes)`, 413);
    const codes = await this.state.need(503).batchPut(withoutBad(entries, bad), opts);
    const b = encodeCodes(withBad(codes, entries.length, bad, MMC.MMC_INVALID_PARAM));
    return { chunks: [b], length: b.length };
  }

  async get(req: http.IncomingMessage, res: http.ServerResponse): Promise<Reply> {
    return this.getOf(await this.body(req, res));
  }

  async getOf(body: BodyChunks): Promise<Reply> {
    const { values, codes } = await this.getCodesOf(body);
    return encodeBatchGet(values, codes);
  }

  /** The values and codes of a batch get in request order; `into` as the store's batchGetCodes (`n`: the items, bad keys included). */
  async getCodesOf(body: BodyChunks, into?: (total: number, n: number) => Uint8Array): Promise<{ values: (Uint8Array | undefined)[]; codes: number[] }> {
    const { keys, bad } = this.keysOf(body);
    const { values, codes } = await this.state.need(503).batchGetCodes(withoutBad(keys, bad), into && ((total) => into(total, keys.length)));
    return { values: withBad(values, keys.length, bad, undefined), codes: withBad(codes, keys.length, bad, MMC.MMC_INVALID_PARAM) };
  }

  /** A key-list call answered with one code per key (batch_exists, batch_remove). */
  async codes(req: http.IncomingMessage, res: http.ServerResponse, op: CodesOp): Promise<Reply> {
    return this.codesOf(await this.body(req, res), op);
  }

  async codesOf(body: BodyChunks, op: CodesOp): Promise<Reply> {
    const { keys, bad } = this.keysOf(body);
    const codes = await op(withoutBad(keys, bad));
    const b = encodeCodes(withBad(codes, keys.length, bad, MMC.MMC_INVALID_PARAM));
    return { chunks: [b], length: b.length };
  }
}
