/**
 * Randomness that a server secret and the question decide: the same question (advertiser, upload
 * key set, field) always gets the same draw, so asking again cannot average the noise away, and
 * nobody without the secret can predict a draw.
 */
import { createHash, createHmac } from 'node:crypto';

/** A uniform draw in [0, 1) from HMAC-SHA256(secret, parts), 53 bits of it. */
export function keyedUniform(secret: Uint8Array, ...parts: readonly string[]): number {
  const mac = createHmac('sha256', secret);
  for (const p of parts) mac.update(`${p.length}:${p}`);
  return uniformOf(mac.digest(), 0);
}

/** A short keyed id (16 hex digits) of the parts, for the ledger. */
export function keyedId(secret: Uint8Array, ...parts: readonly string[]): string {
  const mac = createHmac('sha256', secret);
  for (const p of parts) mac.update(`${p.length}:${p}`);
  return mac.digest('hex').slice(0, 16);
}

/** Two independent uniforms in (0, 1] from one HMAC (for a two-sided geometric draw). */
function keyedPair(secret: Uint8Array, parts: readonly string[]): [number, number] {
  const mac = createHmac('sha256', secret);
  for (const p of parts) mac.update(`${p.length}:${p}`);
  const d = mac.digest();
  return [1 - uniformOf(d, 0), 1 - uniformOf(d, 8)];
}

function uniformOf(d: Buffer, at: number): number {
  // 53 bits: the high 21 of one word and all 32 of the next.
  return ((d.readUInt32BE(at) >>> 11) * 2 ** 32 + d.readUInt32BE(at + 4)) / 2 ** 53;
}

/**
 * A draw of the two-sided geometric ("discrete Laplace") distribution with scale `b`:
 * P(k) ∝ exp(−|k| / b). It is the difference of two geometric draws, each by inversion. Adding it to
 * a count that one person changes by at most 1 makes the count ε-differentially private, ε = 1 / b.
 * Clamped to ±`clamp` (a tail of probability exp(−clamp / b), counted as δ in docs/privacy.md).
 */
export function keyedDiscreteLaplace(
  secret: Uint8Array,
  b: number,
  clamp: number,
  ...parts: readonly string[]
): number {
  const [u1, u2] = keyedPair(secret, parts);
  const logAlpha = -1 / b;
  const g1 = Math.floor(Math.log(u1) / logAlpha);
  const g2 = Math.floor(Math.log(u2) / logAlpha);
  return Math.max(-clamp, Math.min(clamp, g1 - g2));
}

/**
 * The canonical fingerprint of a set of keys: SHA-256 of the distinct keys in ascending order, so
 * the same set is the same question whatever the rows' order, spelling, repeats or junk.
 * `sortedKeys` must be ascending; repeats are skipped.
 */
export function setFingerprint(sortedKeys: Float64Array | readonly string[]): string {
  const hash = createHash('sha256');
  if (sortedKeys instanceof Float64Array) {
    const out = new Float64Array(Math.min(sortedKeys.length, 65_536));
    let n = 0;
    for (let i = 0; i < sortedKeys.length; i++) {
      if (i > 0 && sortedKeys[i] === sortedKeys[i - 1]) continue;
      out[n++] = sortedKeys[i]!;
      if (n === out.length) {
        hash.update(new Uint8Array(out.buffer, 0, n * 8));
        n = 0;
      }
    }
    hash.update(new Uint8Array(out.buffer, 0, n * 8));
  } else {
    let last: string | undefined;
    for (const k of sortedKeys) {
      if (k === last) continue;
      hash.update(`${k}\n`);
      last = k;
    }
  }
  return hash.digest('hex');
}
