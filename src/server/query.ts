/**
 * Query-string decoding of the contract: application/x-www-form-urlencoded UTF-8 ('+' is a
 * space, '%2B' a plus), lenient on malformed percent-encoding (a bad '%' stays literal, bad UTF-8
 * becomes U+FFFD; never an exception), an empty value counts as missing, the first occurrence of
 * a repeated name wins.
 */

export const MAX_KEY_BYTES = 1024;

export class Query {
  private readonly params: URLSearchParams;
  constructor(raw: string) {
    // URLSearchParams implements the WHATWG urlencoded parser, which is lenient by definition.
    this.params = new URLSearchParams(raw);
  }
  /** The decoded value, or undefined when absent or empty. */
  get(name: string): string | undefined {
    const v = this.params.get(name);
    return v === null || v === '' ? undefined : v;
  }
  /** A comma-separated list after decoding; empty items dropped; undefined when nothing is left. */
  list(name: string): string[] | undefined {
    const v = this.get(name);
    if (v === undefined) return undefined;
    const items = v.split(',').filter((s) => s !== '');
    return items.length ? items : undefined;
  }
}

/** UTF-8 length of a string without allocating. */
export function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** A key the contract accepts: 1..1024 bytes of UTF-8. */
export function keyTooLong(key: string): boolean {
  // Cheap bound first: each UTF-16 unit is at most 3 UTF-8 bytes.
  return key.length > MAX_KEY_BYTES / 3 && utf8Length(key) > MAX_KEY_BYTES;
}
