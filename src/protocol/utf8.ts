/**
 * Keys are UTF-8. A lenient decoder turns every invalid sequence into U+FFFD, so `%ff`, `%80` and
 * a real `%EF%BF%BD` would all name one key; the server refuses invalid UTF-8 instead. The check
 * is paid only by a string that holds U+FFFD after the lenient decoding (rare), so valid keys
 * cost one `includes`.
 */

const lenient = new TextDecoder('utf-8');
const fatal = new TextDecoder('utf-8', { fatal: true });

/** True if `s` (the lenient decoding of some bytes) may hide an invalid sequence. */
export function maybeInvalid(s: string): boolean {
  return s.includes('\uFFFD');
}

/** The bytes as UTF-8, or undefined when they are not valid UTF-8. */
export function decodeStrict(bytes: Uint8Array): string | undefined {
  const s = lenient.decode(bytes);
  if (!maybeInvalid(s)) return s;
  try {
    return fatal.decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * The bytes of an application/x-www-form-urlencoded name or value, as the WHATWG parser (and so
 * URLSearchParams) has them: '+' is a space, '%XX' one byte, a malformed '%' stays literal.
 */
export function formBytes(s: string): Buffer {
  const raw = Buffer.from(s.replace(/\+/g, ' '), 'utf8');
  const out = Buffer.allocUnsafe(raw.length);
  let n = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (c === 0x25 /* % */ && i + 2 < raw.length && isHex(raw[i + 1]) && isHex(raw[i + 2])) {
      out[n++] = parseInt(String.fromCharCode(raw[i + 1], raw[i + 2]), 16);
      i += 2;
    } else out[n++] = c;
  }
  return out.subarray(0, n);
}

function isHex(c: number | undefined): boolean {
  return c !== undefined && ((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66));
}
