/**
 * Keys on the wire: at most 1024 bytes of UTF-8, percent-encoded in a URL's query string.
 */

export const MAX_KEY_BYTES = 1024;

/** UTF-8 length of a string without allocating. */
export function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** True for a key over MAX_KEY_BYTES bytes of UTF-8. */
export function keyTooLong(key: string): boolean {
  // Cheap bound first: each UTF-16 unit is at most 3 UTF-8 bytes.
  return key.length > MAX_KEY_BYTES / 3 && utf8Length(key) > MAX_KEY_BYTES;
}

const SAFE = /^[A-Za-z0-9\-_.~]*$/;

/** Percent-encode a key as UTF-8 (lone surrogates become U+FFFD, as TextEncoder does). */
export function encodeKey(key: string): string {
  if (SAFE.test(key)) return key;
  try {
    return encodeURIComponent(key);
  } catch {
    return encodeURIComponent(Buffer.from(key, 'utf8').toString('utf8'));
  }
}
