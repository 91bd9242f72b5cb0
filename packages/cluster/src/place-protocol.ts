/**
 * What crosses the coordinator's thread boundary: a batch of upload cells in, one transferable
 * buffer of keys, reasons and shards out (plain data, as in the join pool).
 */
import type { RollcallErrorData } from '@rollcall/errors';
import type { UploadRows } from '@rollcall/join';

/** One batch of upload rows to normalise and place. */
export interface PlaceTask extends UploadRows {
  /** The cluster's hash seed and shard count, for `shardOfKey`. */
  hashSeed: number;
  shardCount: number;
}

/** A worker's answer: the packed result buffer, or a coded error as plain data. */
export type PlaceTaskResult = ArrayBuffer | { error: RollcallErrorData };

/**
 * Layout of a place result for `n` rows; the 8-byte column first keeps every view aligned.
 *
 *   keys     Float64Array(n)   phone key of the row, 0 if rejected
 *   shards   Uint32Array(n)    shard of the key (0 for a rejected row)
 *   reasons  Uint8Array(n)     reject reason code, 0 = valid
 *   guessed  Uint8Array(n)     1 when read as international after failing as national
 *
 * `n` counts cells (phone cells per row × rows).
 */
export const PLACE_LAYOUT = {
  keysOffset: (_n: number) => 0,
  shardsOffset: (n: number) => 8 * n,
  reasonsOffset: (n: number) => 12 * n,
  guessedOffset: (n: number) => 13 * n,
  byteLength: (n: number) => 14 * n,
} as const;

/** Typed views over a place result. */
export interface PlaceViews {
  keys: Float64Array;
  shards: Uint32Array;
  reasons: Uint8Array;
  guessed: Uint8Array;
}

/** Views of the place result buffer of `n` rows (no copy). */
export function placeViews(buffer: ArrayBuffer, n: number): PlaceViews {
  return {
    keys: new Float64Array(buffer, PLACE_LAYOUT.keysOffset(n), n),
    shards: new Uint32Array(buffer, PLACE_LAYOUT.shardsOffset(n), n),
    reasons: new Uint8Array(buffer, PLACE_LAYOUT.reasonsOffset(n), n),
    guessed: new Uint8Array(buffer, PLACE_LAYOUT.guessedOffset(n), n),
  };
}
