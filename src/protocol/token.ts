/** The bearer token's one rule, shared by the server, `mmc serve` and the client. */
import { MMC, MmcError } from '../errors.js';

/** A token fits in a header as one word: printable ASCII, no spaces. */
const TOKEN_RE = /^[\x21-\x7e]+$/;

/**
 * The token, or MmcError(MMC_INVALID_PARAM) naming `what` for one that cannot travel in
 * `Authorization: Bearer` (empty, spaces, line breaks, non-ASCII). The token is never echoed.
 */
export function checkToken(token: unknown, what = 'token'): string {
  if (typeof token !== 'string' || token === '') throw new MmcError(MMC.MMC_INVALID_PARAM, `${what}: empty`);
  if (!TOKEN_RE.test(token)) {
    throw new MmcError(MMC.MMC_INVALID_PARAM, `${what}: must be one word of printable ASCII (no spaces or line breaks)`);
  }
  return token;
}
