/**
 * A single grant's mac (grant.ts): the first 16 bytes of HMAC-SHA256(secret, fields | key), the
 * same bytes node:crypto's createHmac gives, for less CPU. Every pool get and put signs one at the
 * meta service and checks one at a rank agent; through createHmac each costs a Hmac object, two
 * update() calls and a digest across the JS/C++ boundary (~7% of either process under load). Here
 * the secret's keyed inner and outer SHA-256 states (HMAC = H(K^opad | H(K^ipad | m))) are
 * computed once per secret, and a mac is then two or three SHA-256 blocks run in plain JS over
 * one scratch buffer (a key up to 23 bytes: one inner block and the outer one).
 *
 * The rounds are branch free and index no table by secret data, so their time does not depend on
 * the secret; a mac is compared in constant time (sameMac).
 */
import { createHash } from 'node:crypto';

export const MAC_BYTES = 16;
const BLOCK = 64;
const FIELDS = 32;
const DIGEST = 32;

// prettier-ignore
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
const IV = new Int32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
const W = new Int32Array(64);

/** SHA-256's compression of the 64 bytes of `b` at `at` into the state `h`. */
function compress(h: Int32Array, b: Uint8Array, at: number): void {
  const w = W;
  for (let i = 0; i < 16; i++) {
    const j = at + 4 * i;
    w[i] = (b[j] << 24) | (b[j + 1] << 16) | (b[j + 2] << 8) | b[j + 3];
  }
  let a = h[0], b1 = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
  for (let i = 0; i < 64; i++) {
    if (i >= 16) {
      const x = w[i - 15], y = w[i - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    const t1 = (hh + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) + (g ^ (e & (f ^ g))) + K[i] + w[i]) | 0;
    const t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) + ((a & b1) | (c & (a | b1)))) | 0;
    hh = g; g = f; f = e; e = (d + t1) | 0; d = c; c = b1; b1 = a; a = (t1 + t2) | 0;
  }
  h[0] = (h[0] + a) | 0; h[1] = (h[1] + b1) | 0; h[2] = (h[2] + c) | 0; h[3] = (h[3] + d) | 0;
  h[4] = (h[4] + e) | 0; h[5] = (h[5] + f) | 0; h[6] = (h[6] + g) | 0; h[7] = (h[7] + hh) | 0;
}

/** The state after one block of the secret (hashed first when over a block, as HMAC does) XOR `pad`. */
function keyed(secret: Uint8Array, pad: number): Int32Array {
  const k = secret.byteLength > BLOCK ? createHash('sha256').update(secret).digest() : secret;
  const b = new Uint8Array(BLOCK);
  for (let i = 0; i < BLOCK; i++) b[i] = (i < k.byteLength ? k[i] : 0) ^ pad;
  const h = IV.slice();
  compress(h, b, 0);
  return h;
}

interface Keyed { inner: Int32Array; outer: Int32Array }
/** Per secret (the Buffer of a registration, never altered once made): its keyed states. */
const states = new WeakMap<Uint8Array, Keyed>();
const state = new Int32Array(8);
/** The message being hashed: the fields, the key's UTF-8, SHA-256's padding (grown for long keys). */
let scratch = Buffer.alloc(4 * BLOCK);

function keyedOf(secret: Uint8Array): Keyed {
  let k = states.get(secret);
  if (k === undefined) states.set(secret, (k = { inner: keyed(secret, 0x36), outer: keyed(secret, 0x5c) }));
  return k;
}

/** Pads the `len` bytes at the start of `b` (after `before` bytes hashed already): the blocks' end. */
function pad(b: Buffer, len: number, before: number): number {
  const end = Math.ceil((len + 9) / BLOCK) * BLOCK;
  b.fill(0, len, end);
  b[len] = 0x80;
  const bits = (before + len) * 8;
  b.writeUInt32BE(Math.floor(bits / 0x100000000), end - 8);
  b.writeUInt32BE(bits >>> 0, end - 4);
  return end;
}

/** Runs the mac of a grant's fields (its first 32 bytes) and `key` (as UTF-8); its first 16 bytes are in `state`. */
function run(secret: Uint8Array, grant: Uint8Array, key: string): void {
  const k = keyedOf(secret);
  // each UTF-16 unit is at most 3 bytes of UTF-8: room enough without measuring the key first
  if (scratch.length < FIELDS + 3 * key.length + BLOCK + 9) scratch = Buffer.alloc(2 * (FIELDS + 3 * key.length + BLOCK + 9));
  const b = scratch;
  for (let i = 0; i < FIELDS; i++) b[i] = grant[i];
  const len = FIELDS + b.write(key, FIELDS, 'utf8');
  const end = pad(b, len, BLOCK);
  state.set(k.inner);
  for (let at = 0; at < end; at += BLOCK) compress(state, b, at);
  for (let i = 0; i < 8; i++) b.writeInt32BE(state[i], 4 * i);
  pad(b, DIGEST, BLOCK);
  state.set(k.outer);
  compress(state, b, 0);
}

/** Writes the mac of `grant`'s fields (bytes 0..31) and `key` under `secret` into its bytes 32..47. */
export function writeGrantMac(secret: Uint8Array, grant: Uint8Array, key: string): void {
  run(secret, grant, key);
  for (let i = 0; i < MAC_BYTES / 4; i++) {
    const v = state[i];
    const at = FIELDS + 4 * i;
    grant[at] = v >>> 24; grant[at + 1] = v >>> 16; grant[at + 2] = v >>> 8; grant[at + 3] = v;
  }
}

/** True when `grant`'s bytes 32..47 are the mac of its fields and `key` under `secret`; in constant time. */
export function grantMacMatches(secret: Uint8Array, grant: Uint8Array, key: string): boolean {
  run(secret, grant, key);
  let diff = 0;
  for (let i = 0; i < MAC_BYTES / 4; i++) {
    const v = state[i];
    const at = FIELDS + 4 * i;
    diff |= (grant[at] ^ (v >>> 24)) | (grant[at + 1] ^ ((v >>> 16) & 0xff)) | (grant[at + 2] ^ ((v >>> 8) & 0xff)) | (grant[at + 3] ^ (v & 0xff));
  }
  return diff === 0;
}
