/**
 * A bottom-k MinHash sketch of a set of keys: the k smallest values of a keyed hash over the set.
 * Two sketches estimate the sets' Jaccard similarity |A ∩ B| / |A ∪ B| (exactly, when both sets
 * are smaller than k) without keeping the sets. The hash is keyed by the ledger's secret, so a
 * sketch tells nothing about which keys made it to anyone without the secret.
 */

/** Values a sketch keeps: 512 gives a standard error of about 0.01 near a similarity of 0.95. */
export const SKETCH_SIZE = 512;

/** Two 32-bit seeds of the keyed hash, taken from the secret. */
export function sketchSeeds(secret: Uint8Array): [number, number] {
  const v = new DataView(secret.buffer, secret.byteOffset, secret.byteLength);
  return [v.getUint32(0), v.getUint32(4)];
}

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The sketch of a set of keys: its (at most k) smallest keyed 53-bit hashes, ascending. `sortedKeys`
 * must be ascending (repeats are skipped). One hash a key; a bounded max-heap keeps the k smallest.
 */
export function sketchOf(sortedKeys: Float64Array, seeds: [number, number], k = SKETCH_SIZE): Float64Array {
  const words = new Uint32Array(1 * 2);
  const asKey = new Float64Array(words.buffer);
  const heap = new Float64Array(k);
  let size = 0;
  for (let i = 0; i < sortedKeys.length; i++) {
    const key = sortedKeys[i]!;
    if (i > 0 && key === sortedKeys[i - 1]) continue;
    asKey[0] = key;
    const h1 = fmix32(words[0]! ^ seeds[0] ^ Math.imul(words[1]!, 0x9e3779b1));
    const h2 = fmix32(words[1]! ^ seeds[1] ^ Math.imul(h1, 0x85ebca6b));
    const h = h1 * 2 ** 21 + (h2 >>> 11);
    if (size < k) {
      // Sift up.
      let c = size++;
      heap[c] = h;
      while (c > 0) {
        const p = (c - 1) >> 1;
        if (heap[p]! >= heap[c]!) break;
        const t = heap[p]!;
        heap[p] = heap[c]!;
        heap[c] = t;
        c = p;
      }
    } else if (h < heap[0]!) {
      // Replace the largest kept value and sift down.
      heap[0] = h;
      let p = 0;
      for (;;) {
        const l = 2 * p + 1;
        const r = l + 1;
        let m = p;
        if (l < k && heap[l]! > heap[m]!) m = l;
        if (r < k && heap[r]! > heap[m]!) m = r;
        if (m === p) break;
        const t = heap[p]!;
        heap[p] = heap[m]!;
        heap[m] = t;
        p = m;
      }
    }
  }
  return heap.slice(0, size).sort();
}

/**
 * Estimated Jaccard similarity of the sets behind two sketches of the same seeds and k: among the
 * k smallest values of their union, the share present in both. 1 for two empty sets.
 */
export function similarity(a: Float64Array, b: Float64Array, k = SKETCH_SIZE): number {
  if (a.length === 0 && b.length === 0) return 1;
  let i = 0;
  let j = 0;
  let union = 0;
  let both = 0;
  while (union < k && (i < a.length || j < b.length)) {
    const x = i < a.length ? a[i]! : Number.POSITIVE_INFINITY;
    const y = j < b.length ? b[j]! : Number.POSITIVE_INFINITY;
    if (x === y) {
      both++;
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
    union++;
  }
  // Past the end of the shorter sketch of a set larger than k, nothing more is known: stop there.
  return union === 0 ? 1 : both / union;
}

/** A sketch as text, for the ledger. */
export function encodeSketch(s: Float64Array): string {
  return Buffer.from(s.buffer, s.byteOffset, s.byteLength).toString('base64');
}

/** A sketch back from {@link encodeSketch}. */
export function decodeSketch(text: string): Float64Array {
  const bytes = Buffer.from(text, 'base64');
  const out = new Float64Array(Math.floor(bytes.length / 8));
  new Uint8Array(out.buffer).set(bytes.subarray(0, out.length * 8));
  return out;
}
