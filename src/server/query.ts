/**
 * Query-string decoding of the contract: application/x-www-form-urlencoded UTF-8 ('+' is a
 * space, '%2B' a plus), lenient on malformed percent-encoding (a bad '%' stays literal), an empty
 * value counts as missing, the first occurrence of a repeated name wins. A value that is not
 * valid UTF-8 once decoded is refused with MMC_INVALID_PARAM (never replaced by U+FFFD: `%ff`
 * and `%EF%BF%BD` must not name the same key).
 */
import { MMC, MmcError } from '../errors.js';
import { decodeStrict, formBytes, maybeInvalid } from '../protocol/utf8.js';

export class Query {
  private readonly params: URLSearchParams;
  constructor(private readonly raw: string) {
    // URLSearchParams implements the WHATWG urlencoded parser, lenient by definition: bad UTF-8
    // comes out as U+FFFD, so a value holding one is decoded again strictly from its raw bytes.
    this.params = new URLSearchParams(raw);
  }
  /** The decoded value, or undefined when absent or empty; MmcError when not valid UTF-8. */
  get(name: string): string | undefined {
    const v = this.params.get(name);
    if (v === null || v === '') return undefined;
    if (maybeInvalid(v) && decodeStrict(formBytes(this.rawValue(name))) === undefined) {
      throw new MmcError(MMC.MMC_INVALID_PARAM, `'${name}' is not valid UTF-8`);
    }
    return v;
  }
  /** The raw (still encoded) value of the first `name=` pair, as URLSearchParams picks it. */
  private rawValue(name: string): string {
    for (const pair of this.raw.replace(/^\?/, '').split('&')) {
      if (pair === '') continue;
      const eq = pair.indexOf('=');
      const n = eq < 0 ? pair : pair.slice(0, eq);
      if (new URLSearchParams(`${n}=`).keys().next().value === name) return eq < 0 ? '' : pair.slice(eq + 1);
    }
    return '';
  }
  /** A comma-separated list after decoding; empty items dropped; undefined when nothing is left. */
  list(name: string): string[] | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    const items = v.split(',').filter((s) => s !== '');
    return items.length ? items : undefined;
  }
}
