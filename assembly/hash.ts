// A 64-bit hash of key bytes: eight bytes a step, multiply-xorshift mixing, murmur3's fmix64 at
// the end. The index takes the top bits for its shard and the low 32 bits for the slot.

// @ts-ignore: decorator
@inline const M1: u64 = 0x9E3779B97F4A7C15;
// @ts-ignore: decorator
@inline const M2: u64 = 0xBF58476D1CE4E5B9;

export function hashBytes(ptr: usize, len: usize): u64 {
  let h: u64 = <u64>len * M1;
  const end8 = ptr + (len & ~<usize>7);
  let p = ptr;
  while (p < end8) {
    h = (h ^ load<u64>(p)) * M2;
    h ^= h >>> 31;
    p += 8;
  }
  let tail: u64 = 0;
  let shift: u64 = 0;
  while (p < ptr + len) {
    tail |= <u64>load<u8>(p) << shift;
    shift += 8;
    p++;
  }
  h = (h ^ tail) * M1;
  h ^= h >>> 33;
  h *= 0xFF51AFD7ED558CCD;
  h ^= h >>> 33;
  h *= 0xC4CEB9FE1A85EC53;
  h ^= h >>> 33;
  return h;
}
