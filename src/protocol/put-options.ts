/**
 * Put options in a query string (PUT /api/v1/objects, POST /api/v1/objects/batch_put):
 * `medium=hbm|dram`, `replicas=1..8`, `preferred_rank=N`, each optional.
 */
import { invalid } from '../errors.js';
import type { PutOptions } from '../store/types.js';

/** The query string of `opts` without a leading separator ('' when there is nothing to say). */
export function encodePutOptions(opts: PutOptions | undefined): string {
  if (opts === undefined) return '';
  let q = '';
  if (opts.medium !== undefined) q += `&medium=${encodeURIComponent(String(opts.medium).toLowerCase())}`;
  if (opts.replicas !== undefined) q += `&replicas=${encodeURIComponent(String(opts.replicas))}`;
  if (opts.preferredRank !== undefined) q += `&preferred_rank=${encodeURIComponent(String(opts.preferredRank))}`;
  return q.slice(1);
}

/**
 * The put options of a decoded query (`get` gives a parameter's value, undefined when absent or
 * empty); a malformed one is MmcError(MMC_INVALID_PARAM).
 */
export function decodePutOptions(q: { get(name: string): string | undefined }): PutOptions {
  const opts: PutOptions = {};
  const medium = q.get('medium');
  if (medium !== undefined) {
    const m = medium.toLowerCase();
    if (m !== 'hbm' && m !== 'dram') throw invalid('medium must be hbm or dram');
    opts.medium = m;
  }
  const replicas = q.get('replicas');
  if (replicas !== undefined) {
    if (!/^[0-9]+$/.test(replicas) || Number(replicas) < 1 || Number(replicas) > 8) throw invalid('replicas must be 1..8');
    opts.replicas = Number(replicas);
  }
  const rank = q.get('preferred_rank');
  if (rank !== undefined) {
    if (!/^[0-9]+$/.test(rank) || Number(rank) > 1 << 20) throw invalid('preferred_rank must be a rank number');
    opts.preferredRank = Number(rank);
  }
  return opts;
}
