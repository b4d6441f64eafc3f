/**
 * The client's checks of keys and put options, as the embedded store words its refusals: bad
 * input is refused before any request, over HTTP and the binary data path alike.
 */
import { MAX_KEY_BYTES, keyTooLong } from '../protocol/key.js';
import { encodePutOptions } from '../protocol/put-options.js';
import type { PutOptions } from '../store/types.js';
import { MmcError } from '../errors.js';
import { invalid, checkRank, checkReplicas, parseMedium } from '../store/validate.js';

/**
 * A key's refusal as the embedded store words it (MmcError MMC_INVALID_PARAM), or undefined for
 * a key the store accepts. Bad input is refused here, before any request, as MemCache refuses it
 * before its core: same code, same message, nothing counted.
 */
export function keyRefusal(key: unknown): MmcError | undefined {
  if (typeof key !== 'string') return invalid('key must be a string');
  if (key.length === 0) return invalid('key is empty');
  if (key.length > MAX_KEY_BYTES) return invalid('key too long');
  if (key.indexOf('\n') >= 0 || key.indexOf('\r') >= 0) return invalid('key contains a line break');
  if (!(key as unknown as { isWellFormed(): boolean }).isWellFormed()) return invalid('key is not well-formed Unicode (a lone surrogate)');
  if (keyTooLong(key)) return invalid('key too long');
  return undefined;
}

export function checkKey(key: unknown): string {
  const e = keyRefusal(key);
  if (e) throw e;
  return key as string;
}

/** The put options checked as MemCache checks them, then as a query string ('' when none). */
export function putQuery(opts?: PutOptions): string {
  if (opts === undefined) return '';
  parseMedium(opts.medium);
  checkReplicas(opts.replicas);
  checkRank(opts.preferredRank);
  return encodePutOptions(opts);
}
