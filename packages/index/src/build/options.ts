/** What a build is asked to do: its options, checked once, and the stop and progress they carry. */
import { ErrorCodes, InvalidArgumentError, RollcallError } from '@rollcall/errors';
import { defaultValidityThreads } from '../validity.js';

/** Seed of `keyHash` unless a build is told otherwise. */
export const DEFAULT_HASH_SEED = 0;

/** Progress of a build. */
export interface BuildProgress {
  /** Data rows read so far. */
  rows: number;
  bytesRead?: number;
  totalBytes?: number;
}

/** Options of a build. */
export interface BuildOptions {
  /** Count and skip bad rows (reported by kind) instead of failing the build. Default false. */
  skipInvalid?: boolean;
  /** Add the SHA-256 section so pre-hashed uploads (meta and google conventions) can match. Default false. */
  withSha256?: boolean;
  /** Seed of the key hash, an unsigned 32-bit integer. Default {@link DEFAULT_HASH_SEED}. */
  hashSeed?: number;
  /**
   * This file's shard number (0-based) and the shard count, recorded in the header. The build
   * does not route rows: the caller gives each shard its own rows. Default 0 of 1.
   */
  shard?: number;
  /** See {@link BuildOptions.shard}. */
  shardCount?: number;
  /** Build time recorded in the header, ms since the epoch. Default now; fixed for reproducible files. */
  builtAt?: number;
  /**
   * Worker threads that judge the validity of entries (the never-matchable count) while the
   * build reads on; 0 judges them on the calling thread. Default: one per core but one, and none
   * for a source of fewer than {@link MIN_ROWS_FOR_VALIDITY_THREADS} rows (starting threads would
   * cost more than they save). The count is the same whatever the threads.
   */
  threads?: number;
  /** Called now and then with progress. */
  onProgress?: (progress: BuildProgress) => void;
  /** Aborts the build (`ERR_ABORTED`); nothing is written. */
  signal?: AbortSignal;
}

/** Below this many rows a build judges validity on its own thread unless told otherwise. */
export const MIN_ROWS_FOR_VALIDITY_THREADS = 1_000_000;
/** Most validity threads a build may be given. */
const MAX_THREADS = 256;

/** {@link BuildOptions}, checked, with every default filled in. */
export interface ResolvedOptions {
  skipInvalid: boolean;
  withSha256: boolean;
  hashSeed: number;
  shard: number;
  shardCount: number;
  builtAt: number;
  threads: number | undefined;
  onProgress: ((progress: BuildProgress) => void) | undefined;
  signal: AbortSignal | undefined;
}

const U32_MAX = 0xffffffff;
/** Rows between checks of the abort signal and progress calls. */
export const CHECK_EVERY_ROWS = 1 << 16;

/** Checks a build's options (coded errors naming the option) and fills in the defaults. */
export function resolveOptions(options: BuildOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError('options', 'must be an object');
  }
  const bool = (name: 'skipInvalid' | 'withSha256') => {
    const v = options[name];
    if (v !== undefined && typeof v !== 'boolean') throw new InvalidArgumentError(name, 'must be a boolean');
    return v ?? false;
  };
  const int = (
    name: 'hashSeed' | 'shard' | 'shardCount' | 'builtAt' | 'threads',
    min: number,
    max: number,
    dflt: number,
  ) => {
    const v = options[name];
    if (v === undefined) return dflt;
    if (!Number.isSafeInteger(v) || v < min || v > max) {
      throw new InvalidArgumentError(name, `must be an integer from ${min} to ${max}, got ${String(v)}`);
    }
    return v;
  };
  const shardCount = int('shardCount', 1, U32_MAX, 1);
  const shard = int('shard', 0, shardCount - 1, 0);
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw new InvalidArgumentError('onProgress', 'must be a function');
  }
  return {
    skipInvalid: bool('skipInvalid'),
    withSha256: bool('withSha256'),
    hashSeed: int('hashSeed', 0, U32_MAX, DEFAULT_HASH_SEED),
    shard,
    shardCount,
    builtAt: int('builtAt', 0, Number.MAX_SAFE_INTEGER, Date.now()),
    threads: options.threads === undefined ? undefined : int('threads', 0, MAX_THREADS, 0),
    onProgress: options.onProgress,
    signal: options.signal,
  };
}

/** Throws `ERR_ABORTED` once `signal` is aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new RollcallError(ErrorCodes.ABORTED, 'index build aborted');
}

/** The validity threads of a build of at most `maxEntries` entries (see {@link BuildOptions.threads}). */
export function validityThreads(o: ResolvedOptions, maxEntries: number): number {
  if (o.threads !== undefined) return o.threads;
  return maxEntries < MIN_ROWS_FOR_VALIDITY_THREADS ? 0 : defaultValidityThreads();
}
