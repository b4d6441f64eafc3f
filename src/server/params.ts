/** Request parameters shared by the routes: the query of a Koa context, key parameters, put options, max_size. */
import type { Context } from 'koa';
import type { PutOptions } from '../store/types.js';
import { Query, keyTooLong } from './query.js';
import { Refusal } from './refusal.js';

export function queryOf(ctx: Context): Query {
  return new Query(ctx.querystring);
}

/** A required key parameter (admin endpoints: business errors at HTTP 200; data plane: 400). */
export function keyParam(q: Query, name: string, status = 200): string {
  const key = q.get(name);
  if (key === undefined) throw new Refusal(`Missing '${name}' parameter`, status === 200 ? 200 : 400);
  if (keyTooLong(key)) throw new Refusal('MMC_INVALID_PARAM: key too long', status === 200 ? 200 : 400);
  return key;
}

/** medium, replicas and preferred_rank of a put or batch_put (400 when malformed). */
export function parsePutOptions(q: Query): PutOptions {
  const opts: PutOptions = {};
  const medium = q.get('medium');
  if (medium !== undefined) {
    const m = medium.toLowerCase();
    if (m !== 'hbm' && m !== 'dram') throw new Refusal('MMC_INVALID_PARAM: medium must be hbm or dram', 400);
    opts.medium = m;
  }
  const replicas = q.get('replicas');
  if (replicas !== undefined) {
    if (!/^[0-9]+$/.test(replicas) || Number(replicas) < 1 || Number(replicas) > 8) {
      throw new Refusal('MMC_INVALID_PARAM: replicas must be 1..8', 400);
    }
    opts.replicas = Number(replicas);
  }
  const rank = q.get('preferred_rank');
  if (rank !== undefined) {
    if (!/^[0-9]+$/.test(rank) || Number(rank) > 1 << 20) throw new Refusal('MMC_INVALID_PARAM: preferred_rank must be a rank number', 400);
    opts.preferredRank = Number(rank);
  }
  return opts;
}

/** The `max_size` of a GET (the remote getInto's buffer): a byte count, or undefined when absent. */
export function maxSizeParam(q: Query): number | undefined {
  const v = q.get('max_size');
  if (v === undefined) return undefined;
  if (!/^[0-9]{1,15}$/.test(v)) throw new Refusal('MMC_INVALID_PARAM: max_size must be a byte count', 400);
  return Number(v);
}
