/**
 * The one key → hash → slot function of the index. The builder places entries with it, the reader
 * probes with it, and sharding and the join must reuse it unchanged: change it and every index
 * file must be rebuilt (bump FORMAT_VERSION).
 */
import type { PhoneKey } from '@rollcall/phone';
import { TWO_POW_32 } from './layout.js';

// xxHash32 primes (Yann Collet's specification).
const PRIME32_2 = 0x85ebca77;
const PRIME32_3 = 0xc2b2ae3d;
const PRIME32_4 = 0x27d4eb2f;
const PRIME32_5 = 0x165667b1;
/** Length of the hashed input: the key as a u64, little-endian. */
const KEY_INPUT_BYTES = 8;
const TWO_POW_16 = 65536;

/**
 * xxHash32 of the 8-byte input whose little-endian u32 halves are `lo` and `hi`.
 *
 * This is exactly xxhash-wasm's `h32Raw(bytes, seed)` (a test holds them equal), written out for
 * this one input length: calling into WebAssembly per probe copies the bytes into wasm memory
 * and crosses the JS/wasm boundary, which costs more than the hash itself, and is async to set
 * up, which a synchronous probe cannot wait for.
 */
function xxh32Of8(lo: number, hi: number, seed: number): number {
  // Inputs shorter than 16 bytes skip the four-lane stripe loop: start from seed + PRIME5 + length.
  let h = (seed + PRIME32_5 + KEY_INPUT_BYTES) | 0;
  // Each 4-byte word: h += word × PRIME3, rotate left 17, × PRIME4. Math.imul keeps it mod 2^32.
  h = (h + Math.imul(lo, PRIME32_3)) | 0;
  h = Math.imul((h << 17) | (h >>> 15), PRIME32_4);
  h = (h + Math.imul(hi, PRIME32_3)) | 0;
  h = Math.imul((h << 17) | (h >>> 15), PRIME32_4);
  // Avalanche.
  h ^= h >>> 15;
  h = Math.imul(h, PRIME32_2);
  h ^= h >>> 13;
  h = Math.imul(h, PRIME32_3);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The hash of a phone key under a seed: xxHash32 (xxhash-wasm `h32Raw`) of the key's 8-byte
 * little-endian form. Returns an unsigned 32-bit integer. The key must be a {@link PhoneKey}
 * (an integer below 2^53).
 */
export function keyHash(key: PhoneKey, seed: number): number {
  // `>>> 0` is ToUint32: key mod 2^32, exact for any integer below 2^53.
  const lo = key >>> 0;
  return xxh32Of8(lo, (key - lo) / TWO_POW_32, seed >>> 0);
}

/** {@link keyHash} from the key's two u32 halves (as stored in a slot). */
export function keyHashOfHalves(lo: number, hi: number, seed: number): number {
  return xxh32Of8(lo, hi, seed);
}

/**
 * The home slot of a hash in a table of `capacity` slots: ⌊hash × capacity / 2^32⌋
 * (multiply-shift, so capacity need not be a power of two and no slow float modulo is needed).
 * Computed exactly: hash × capacity can reach 2^64, past float64's exact range, so it is split
 * into 16-bit halves whose partial products stay below 2^48.
 */
export function slotOf(hash: number, capacity: number): number {
  const high = (hash >>> 16) * capacity;
  const low = (hash & 0xffff) * capacity;
  return Math.floor((high + Math.floor(low / TWO_POW_16)) / TWO_POW_16);
}

/** The home slot of a key: {@link slotOf}({@link keyHash}(key, seed), capacity). */
export function keySlot(key: PhoneKey, seed: number, capacity: number): number {
  return slotOf(keyHash(key, seed), capacity);
}
