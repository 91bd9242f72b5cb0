/**
 * Checksums of an index image: xxh64 (xxhash-wasm, seed 0) of the payload and of the header.
 */
import xxhash, { type XXHashAPI } from 'xxhash-wasm';
import { HEADER } from './layout.js';

let api: Promise<XXHashAPI> | undefined;

/** The xxhash-wasm instance, compiled once per thread. */
export function loadXxhash(): Promise<XXHashAPI> {
  api ??= xxhash();
  return api;
}

/**
 * Bytes fed to the streaming hasher at a time. `h64Raw` on a whole image would copy gigabytes
 * into wasm memory (and grow it to that size for good); `create64().update()` in chunks keeps
 * wasm memory at one chunk.
 */
export const CHECKSUM_CHUNK_BYTES = 16 << 20;

/** A streaming xxh64 of the payload, fed chunk by chunk (e.g. as a file is read). */
export interface PayloadHasher {
  update(bytes: Uint8Array): void;
  /** The checksum of everything fed so far. */
  digest(): bigint;
}

/** Starts a streaming payload checksum. */
export async function createPayloadHasher(): Promise<PayloadHasher> {
  const hasher = (await loadXxhash()).create64(0n);
  return {
    update(bytes) {
      // Large views are split so wasm memory never has to grow past one chunk.
      for (let off = 0; off < bytes.length; off += CHECKSUM_CHUNK_BYTES) {
        hasher.update(bytes.subarray(off, Math.min(bytes.length, off + CHECKSUM_CHUNK_BYTES)));
      }
    },
    digest: () => hasher.digest(),
  };
}

/** xxh64 of `image` bytes [start, end), streamed in chunks. */
export async function checksumRange(image: SharedArrayBuffer, start: number, end: number): Promise<bigint> {
  const hasher = await createPayloadHasher();
  // One view per chunk: a typed array holds at most 2^32 elements, less than a large image.
  for (let at = start; at < end; at += CHECKSUM_CHUNK_BYTES) {
    hasher.update(new Uint8Array(image, at, Math.min(CHECKSUM_CHUNK_BYTES, end - at)));
  }
  return hasher.digest();
}

/** xxh64 of the header bytes that the header checksum covers: [0, HEADER.HEADER_CHECKSUM). */
export async function headerChecksum(header: Uint8Array): Promise<bigint> {
  // A copy: the header is small, and h64Raw wants its own bytes, not a view of a shared image.
  return (await loadXxhash()).h64Raw(header.slice(0, HEADER.HEADER_CHECKSUM), 0n);
}
