/**
 * The public way to match: {@link matchUpload} for one upload, {@link createMatcher} for many
 * against one index. Both check every option before any work (an index is not loaded for a call
 * that would fail on its upload) and throw coded errors naming the option, never a TypeError.
 */
import { InvalidArgumentError } from '@rollcall/errors';
import type { IndexReader } from '@rollcall/index';
import {
  type IndexSource,
  type MatchResult,
  matchSettings,
  resolveThreads,
  type MatcherOptions as StageMatcherOptions,
  type MatchOptions as StageMatchOptions,
  createMatcher as stageCreateMatcher,
  matchUpload as stageMatchUpload,
} from '@rollcall/join';
import type { CountryCode } from '@rollcall/phone';

/** `T` with `defaultCountry` typed as libphonenumber-js's `CountryCode` (`'GB'`, `'KE'`…), its optionality kept. */
type WithCountryCode<T> = { [K in keyof T]: K extends 'defaultCountry' ? CountryCode : T[K] };

/**
 * Options of one match: the upload and how to read it, and who asks. `upload` and, unless the
 * upload has a country column or is hashed, `defaultCountry` are required. docs/library.md lists
 * every option with its default.
 */
export type MatchOptions = WithCountryCode<StageMatchOptions>;

/** Options of {@link createMatcher}: the index, and the worker threads that match against it. */
export type MatcherOptions = StageMatcherOptions;

/** Options of {@link matchUpload}: those of {@link createMatcher} and of one match. */
export type MatchUploadOptions = MatcherOptions & MatchOptions;

/**
 * A loaded index and a started worker pool, for many matches: from {@link createMatcher}. Close it
 * when done (its threads keep the process alive until then).
 */
export interface Matcher {
  /** The loaded index. */
  readonly index: IndexReader;
  /** Worker threads of the pool. */
  readonly threads: number;
  /** Matches one upload. Bad options throw at once (coded); bad rows are counted, never thrown. */
  match(options: MatchOptions): Promise<MatchResult>;
  /** Stops the worker threads. Idempotent. */
  close(): Promise<void>;
}

/** The options object itself: a plain object, or a coded error saying what it `needs`. */
function checkObject(options: unknown, needs: string): asserts options is Record<string, unknown> {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidArgumentError(
      'options',
      `must be an object with at least ${needs}, got ${describe(options)}`,
    );
  }
}

/** What a bad value is, for a message: its type, never its content (it may be a phone number). */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

function checkMatcherOptions(options: unknown, needs: string): asserts options is MatcherOptions {
  checkObject(options, needs);
  const { index, threads, retries, verifyChecksum } = options;
  const isReader =
    typeof index === 'object' && index !== null && (index as IndexReader).buffer instanceof SharedArrayBuffer;
  if (!(typeof index === 'string' && index !== '') && !isReader) {
    throw new InvalidArgumentError(
      'index',
      `must be the path of a built index file or of its phone,user_id,opted_out CSV, or an IndexReader from openIndex(), got ${describe(index)}`,
    );
  }
  resolveThreads(threads as number | undefined);
  if (retries !== undefined && !(Number.isInteger(retries) && (retries as number) >= 0)) {
    throw new InvalidArgumentError('retries', `must be an integer ≥ 0, got ${describe(retries)}`);
  }
  if (verifyChecksum !== undefined && typeof verifyChecksum !== 'boolean') {
    throw new InvalidArgumentError('verifyChecksum', `must be a boolean, got ${describe(verifyChecksum)}`);
  }
}

/**
 * The checks of one match's options that the match itself leaves to later (or to a TypeError):
 * then every option the match checks itself (`matchSettings`), so that all fail before any work.
 */
function checkMatchOptions(options: unknown): asserts options is MatchOptions {
  checkObject(options, '`upload` and `defaultCountry`');
  const { upload, phoneColumn, delimiter, signal, onProgress, privacy } = options;
  if (Array.isArray(upload)) {
    const at = upload.findIndex((cell) => typeof cell !== 'string');
    if (at !== -1) {
      throw new InvalidArgumentError(
        'upload',
        `an array of phone cells must hold strings only; element ${at} is ${describe(upload[at])}`,
      );
    }
  }
  const isHeader = (h: unknown) => typeof h === 'string' && h.trim() !== '';
  if (
    phoneColumn !== undefined &&
    !isHeader(phoneColumn) &&
    !(Array.isArray(phoneColumn) && phoneColumn.length > 0 && phoneColumn.every(isHeader))
  ) {
    throw new InvalidArgumentError(
      'phoneColumn',
      `must be a column header, or an array of them, got ${describe(phoneColumn)}`,
    );
  }
  if (delimiter !== undefined && typeof delimiter !== 'string') {
    throw new InvalidArgumentError('delimiter', `must be a one-character string, got ${describe(delimiter)}`);
  }
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new InvalidArgumentError('signal', `must be an AbortSignal, got ${describe(signal)}`);
  }
  if (privacy !== undefined && (typeof privacy !== 'object' || privacy === null || Array.isArray(privacy))) {
    throw new InvalidArgumentError(
      'privacy',
      `must be an object of PrivacyPolicy fields, got ${describe(privacy)}`,
    );
  }
  if (onProgress !== undefined && typeof onProgress !== 'function') {
    throw new InvalidArgumentError('onProgress', `must be a function, got ${describe(onProgress)}`);
  }
  matchSettings(options as unknown as StageMatchOptions);
}

/**
 * Loads the index once (into shared memory) and starts the worker pool, for many matches.
 * Returns a {@link Matcher}; close it when done. Throws `ERR_INVALID_ARGUMENT` naming the option
 * for bad options, `ERR_IO` or `ERR_INDEX_CORRUPT` for an index that cannot be read.
 */
export async function createMatcher(options: MatcherOptions): Promise<Matcher> {
  checkMatcherOptions(options, '`index`');
  const matcher = await stageCreateMatcher(options);
  return {
    index: matcher.index,
    threads: matcher.threads,
    match: async (matchOptions: MatchOptions) => {
      checkMatchOptions(matchOptions);
      return matcher.match(matchOptions as StageMatchOptions);
    },
    close: () => matcher.close(),
  };
}

/**
 * Matches one upload against an index: loads the index, starts the workers, matches, stops them.
 * Resolves to `{ audience, report, audit }`. Every option is checked before the index is loaded.
 * For many uploads against one index, use {@link createMatcher}.
 */
export async function matchUpload(options: MatchUploadOptions): Promise<MatchResult> {
  checkMatcherOptions(options, '`index`, `upload` and `defaultCountry`');
  checkMatchOptions(options);
  return stageMatchUpload(options as StageMatcherOptions & StageMatchOptions);
}

export type { IndexSource };
