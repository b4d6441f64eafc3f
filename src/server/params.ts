/** Request parameters shared by the routes: the query of a Koa context, key parameters, max_size. */
import type { Context } from 'koa';
import { keyTooLong } from '../protocol/key.js';
import { missingParameter } from '../protocol/reasons.js';
import { Query } from './query.js';
import { Refusal } from './refusal.js';

export function queryOf(ctx: Context): Query {
  return new Query(ctx.querystring);
}

/** A required key parameter (admin endpoints: business errors at HTTP 200; data plane: 400). */
export function keyParam(q: Query, name: string, status = 200): string {
  const key = q.get(name);
  if (key === undefined) throw new Refusal(missingParameter(name), status === 200 ? 200 : 400);
  if (keyTooLong(key)) throw new Refusal('MMC_INVALID_PARAM: key too long', status === 200 ? 200 : 400);
  return key;
}

/** The `max_size` of a GET (the remote getInto's buffer): a byte count, or undefined when absent. */
export function maxSizeParam(q: Query): number | undefined {
  const v = q.get('max_size');
  if (v === undefined) return undefined;
  if (!/^[0-9]{1,15}$/.test(v)) throw new Refusal('MMC_INVALID_PARAM: max_size must be a byte count', 400);
  return Number(v);
}
