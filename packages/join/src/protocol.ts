/**
 * What crosses the worker boundary: plain data only (no classes, no errors as objects).
 * A batch's results come back as ONE transferable ArrayBuffer, so a batch costs a single
 * zero-copy transfer instead of four structured clones.
 */

import type { RollcallErrorData } from '@rollcall/errors';
import type { HashConvention } from '@rollcall/index';

/** Data every worker receives once, at start-up. */
export interface JoinWorkerData {
  /** The index image, shared (never copied) by every worker. */
  index: SharedArrayBuffer;
}

/** One batch of upload rows for a worker. */
export interface JoinTask {
  kind: 'cells';
  /** Position of the batch in the upload (0-based); results are folded in this order. */
  seq: number;
  /** 0 on the first try, then 1, 2… when a batch is retried after a worker failure. */
  attempt: number;
  /**
   * The phone cells (or SHA-256 hex digests when `hashed` is set), row-major: `width` per row
   * (see `UploadBatch.cells`).
   */
  cells: string[];
  /** Phone cells per row (the upload's phone columns), at least 1. */
  width: number;
  /** The raw country cell of each row, when the upload has a country column; else null. */
  countries: string[] | null;
  /** 1 where the row had the wrong number of columns (rejected as MALFORMED_ROW); null if none. One per row. */
  malformed: Uint8Array | null;
  /** ISO 3166-1 alpha-2 country of rows whose own country is blank or absent; null: none. */
  defaultCountry: string | null;
  /** Refuse numbers read as international only after failing as national (`MISSING_PLUS`). */
  strict: boolean;
  /** Convention of pre-hashed cells, or null for plain phone cells. */
  hashed: HashConvention | null;
}

/**
 * A batch of keys already normalised (the hot join alone: benchmarks, and coordinators that
 * normalise elsewhere). The keys are moved to the worker, not copied.
 */
export interface ProbeTask {
  kind: 'probe';
  seq: number;
  attempt: number;
  keys: Float64Array;
}

/**
 * A range of keys in shared memory: the worker probes `keys[start, end)` and writes
 * `found`/`userIds` over the same range. Nothing is copied either way (the arrays are views of
 * SharedArrayBuffers); the answer is only the number of hits.
 */
export interface SharedProbeTask {
  kind: 'probe-shared';
  seq: number;
  attempt: number;
  keys: Float64Array;
  found: Uint8Array;
  userIds: BigUint64Array;
  start: number;
  end: number;
}

/** A worker's answer: the packed result buffer, or a coded error as plain data. */
export type JoinTaskResult = ArrayBuffer | number | { error: RollcallErrorData };

/**
 * Layout of a batch result buffer for `n` rows. The 8-byte columns come first so both
 * typed-array views are 8-byte aligned without padding.
 *
 *   keys     Float64Array(n)     phone key of the row, 0 if invalid (hashed: key found via SHA-256, else 0)
 *   userIds  BigUint64Array(n)   user id when found, else 0
 *   reasons  Uint8Array(n)       reject reason code, 0 = valid
 *   found    Uint8Array(n)       0 absent, 1 found, 2 found and opted out
 *   guessed  Uint8Array(n)       1 when the valid number was read as international after failing as national
 *
 * `n` counts cells (phone cells per row × rows), not rows.
 */
export const RESULT_LAYOUT = {
  keysOffset: (_n: number) => 0,
  userIdsOffset: (n: number) => 8 * n,
  reasonsOffset: (n: number) => 16 * n,
  foundOffset: (n: number) => 17 * n,
  guessedOffset: (n: number) => 18 * n,
  byteLength: (n: number) => 19 * n,
} as const;

/** Typed views over a batch result buffer. */
export interface BatchResultViews {
  keys: Float64Array;
  userIds: BigUint64Array;
  reasons: Uint8Array;
  found: Uint8Array;
  guessed: Uint8Array;
}

/** Views of the result buffer of a batch of `n` rows (no copy). */
export function resultViews(buffer: ArrayBuffer, n: number): BatchResultViews {
  return {
    keys: new Float64Array(buffer, RESULT_LAYOUT.keysOffset(n), n),
    userIds: new BigUint64Array(buffer, RESULT_LAYOUT.userIdsOffset(n), n),
    reasons: new Uint8Array(buffer, RESULT_LAYOUT.reasonsOffset(n), n),
    found: new Uint8Array(buffer, RESULT_LAYOUT.foundOffset(n), n),
    guessed: new Uint8Array(buffer, RESULT_LAYOUT.guessedOffset(n), n),
  };
}
