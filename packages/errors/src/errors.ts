/**
 * Stable error codes. Tests and callers check the code, never the message.
 * A code, once released, keeps its meaning.
 */
export const ErrorCodes = {
  /** A function or CLI argument is missing, malformed or out of range. */
  INVALID_ARGUMENT: 'ERR_INVALID_ARGUMENT',
  /** `defaultCountry` (or `--country`) is not an ISO 3166-1 alpha-2 code libphonenumber-js knows. */
  UNKNOWN_COUNTRY: 'ERR_UNKNOWN_COUNTRY',
  /** An input file (upload or index source CSV) holds data that cannot be read: names file, line, column. */
  BAD_INPUT: 'ERR_BAD_INPUT',
  /** An index file is truncated, corrupted, of another format version, or not an index at all. */
  INDEX_CORRUPT: 'ERR_INDEX_CORRUPT',
  /** The index lacks a section the job needs (e.g. SHA-256 for hashed uploads). */
  INDEX_MISSING_SECTION: 'ERR_INDEX_MISSING_SECTION',
  /** A file cannot be opened, read or written (missing, a directory, no permission, disk full). */
  IO: 'ERR_IO',
  /** A worker thread failed and the job could not be completed exactly. */
  WORKER_FAILED: 'ERR_WORKER_FAILED',
  /** The job was cancelled (signal or AbortSignal). */
  ABORTED: 'ERR_ABORTED',
  /**
   * The advertiser's privacy budget is spent: this upload would need a new estimate of platform-side
   * counts, and the ledger allows no more in the current window. Nothing was released.
   */
  PRIVACY_BUDGET: 'ERR_PRIVACY_BUDGET',
  /** The privacy ledger cannot be read, locked or trusted (not a ledger, damaged header, wrong mode). */
  LEDGER: 'ERR_LEDGER',
  /**
   * An optional package that the feature asked for needs is not installed (bullmq and ioredis, for
   * the cluster): install it beside rollcall. Nothing was started.
   */
  MISSING_DEPENDENCY: 'ERR_MISSING_DEPENDENCY',
  /** A bug: something that should not happen did. */
  INTERNAL: 'ERR_INTERNAL',
} as const;

/** One of the stable error codes of {@link ErrorCodes}. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

/** Where in an input file a problem sits. Lines and columns are 1-based. */
export interface InputPosition {
  file: string;
  line?: number;
  column?: number;
}

/** The shard of a sharded index an error came from (0-based), and the shard count. */
export interface ShardPlace {
  shard: number;
  shardCount: number;
}

/** Options every {@link RollcallError} takes. */
export interface RollcallErrorOptions {
  cause?: unknown;
  /** The shard the error came from, when a shard worker raised it (see {@link errorFromData}). */
  shard?: ShardPlace;
}

/**
 * Base class of every error rollcall throws on purpose. Facts are fields: the message is for
 * people and is never parsed back (`detail` is the message without the place it starts with).
 */
export class RollcallError extends Error {
  /** The stable code; see {@link ErrorCodes}. */
  readonly code: ErrorCode;
  /**
   * What went wrong, without the option, file, position or shard the message starts with: what a
   * caller restating the error somewhere else (another file, another line) words it with.
   */
  readonly detail: string;
  /** The shard of a sharded index the error came from; undefined when not a shard's. */
  readonly shard: ShardPlace | undefined;

  /** `detail` is the message without its place; the message is `detail` after its place. */
  constructor(code: ErrorCode, detail: string, options?: RollcallErrorOptions, place?: string) {
    const shard = options?.shard;
    const where = shard === undefined ? '' : `shard ${shard.shard} of ${shard.shardCount}: `;
    const message = `${where}${place === undefined ? '' : `${place}: `}${detail}`;
    // Only a cause given is set: `{ cause: undefined }` would still add the property.
    super(message, options !== undefined && 'cause' in options ? { cause: options.cause } : undefined);
    this.code = code;
    this.detail = detail;
    this.shard = shard;
    this.name = new.target.name;
  }

  /** Plain data for crossing a worker boundary; rebuild with {@link errorFromData}. */
  toData(): RollcallErrorData {
    return {
      code: this.code,
      message: this.message,
      name: this.name,
      detail: this.detail,
      ...(this.shard !== undefined ? { shard: this.shard } : {}),
    };
  }
}

/** A bad argument to a function or the CLI; names the option. */
export class InvalidArgumentError extends RollcallError {
  /** The option or parameter at fault, e.g. `defaultCountry` or `--threads`. */
  readonly option: string;

  constructor(
    option: string,
    detail: string,
    code: ErrorCode = ErrorCodes.INVALID_ARGUMENT,
    options?: RollcallErrorOptions,
  ) {
    super(code, detail, options, option);
    this.option = option;
  }

  override toData(): RollcallErrorData {
    return { ...super.toData(), kind: 'argument', option: this.option };
  }
}

/** Bad data in an input file that makes the whole file unusable; names file, line and column. */
export class InputError extends RollcallError {
  readonly position: InputPosition;
  /** The input file (`position.file`). */
  readonly file: string;
  /** The 1-based line (`position.line`), when known. */
  readonly line: number | undefined;
  /** The 1-based column (`position.column`), when known. */
  readonly column: number | undefined;

  constructor(position: InputPosition, detail: string, options?: RollcallErrorOptions) {
    super(ErrorCodes.BAD_INPUT, detail, options, formatPosition(position));
    this.position = position;
    this.file = position.file;
    this.line = position.line;
    this.column = position.column;
  }

  override toData(): RollcallErrorData {
    return { ...super.toData(), kind: 'input', position: { ...this.position } };
  }
}

/** An index file that cannot be trusted: truncated, corrupted, wrong version or not an index. */
export class IndexCorruptError extends RollcallError {
  readonly file: string;

  constructor(file: string, detail: string, options?: RollcallErrorOptions) {
    super(ErrorCodes.INDEX_CORRUPT, detail, options, file);
    this.file = file;
  }

  override toData(): RollcallErrorData {
    return { ...super.toData(), kind: 'index-corrupt', file: this.file };
  }
}

/** A file system failure, with the path and the system error code (ENOENT, EACCES, ENOSPC, …). */
export class FileError extends RollcallError {
  readonly file: string;
  readonly syscallCode: string | undefined;

  constructor(file: string, detail: string, options?: RollcallErrorOptions & { syscallCode?: string }) {
    const cause = options?.cause as NodeJS.ErrnoException | undefined;
    super(ErrorCodes.IO, detail, options, file);
    this.file = file;
    this.syscallCode = options?.syscallCode ?? (typeof cause?.code === 'string' ? cause.code : undefined);
  }

  override toData(): RollcallErrorData {
    return {
      ...super.toData(),
      kind: 'file',
      file: this.file,
      ...(this.syscallCode !== undefined ? { syscallCode: this.syscallCode } : {}),
    };
  }
}

/** Formats a position as `file:line:column` (parts that are unknown are left out). */
export function formatPosition(position: InputPosition): string {
  let s = position.file;
  if (position.line !== undefined) s += `:${position.line}`;
  if (position.line !== undefined && position.column !== undefined) s += `:${position.column}`;
  return s;
}

/** Which class of this package an error's data rebuilds as (absent: {@link RollcallError}). */
export type RollcallErrorKind = 'argument' | 'input' | 'index-corrupt' | 'file';

/**
 * The plain form of an error, as it crosses a worker boundary (structured clone or JSON): the
 * code, the message, the class name, and the facts of its class.
 */
export interface RollcallErrorData {
  code: ErrorCode;
  message: string;
  name: string;
  /** See {@link RollcallError.detail}; absent in data from an older sender (the message stands in). */
  detail?: string;
  kind?: RollcallErrorKind;
  /** {@link InvalidArgumentError.option}. */
  option?: string;
  /** {@link InputError.position}. */
  position?: InputPosition;
  /** The file of an {@link IndexCorruptError} or a {@link FileError}. */
  file?: string;
  /** {@link FileError.syscallCode}. */
  syscallCode?: string;
  /** {@link RollcallError.shard}. */
  shard?: ShardPlace;
}

const KNOWN_CODES = new Set<string>(Object.values(ErrorCodes));

/**
 * Rebuilds a typed error from plain data sent by a worker: the class of this package it was (or
 * derives from), with its code and facts; its `name` stays the sender's (a subclass of another
 * package, e.g. `DuplicatePhoneError`, comes back as the class it extends, named as it was).
 * With `shard`, the error is that shard's: `shard` is set and the message names it first.
 */
export function errorFromData(data: RollcallErrorData, shard?: ShardPlace): RollcallError {
  const code: ErrorCode = KNOWN_CODES.has(data.code) ? data.code : ErrorCodes.INTERNAL;
  const detail = data.detail ?? data.message;
  const where = shard ?? data.shard;
  const options: RollcallErrorOptions = where === undefined ? {} : { shard: where };
  let err: RollcallError;
  if (data.kind === 'argument' && typeof data.option === 'string') {
    err = new InvalidArgumentError(data.option, detail, code, options);
  } else if (
    data.kind === 'input' &&
    typeof data.position?.file === 'string' &&
    code === ErrorCodes.BAD_INPUT
  ) {
    err = new InputError(data.position, detail, options);
  } else if (
    data.kind === 'index-corrupt' &&
    typeof data.file === 'string' &&
    code === ErrorCodes.INDEX_CORRUPT
  ) {
    err = new IndexCorruptError(data.file, detail, options);
  } else if (data.kind === 'file' && typeof data.file === 'string' && code === ErrorCodes.IO) {
    err = new FileError(data.file, detail, {
      ...options,
      ...(data.syscallCode !== undefined ? { syscallCode: data.syscallCode } : {}),
    });
  } else if (data.kind === undefined && data.detail !== undefined) {
    err = new RollcallError(code, data.detail, options);
  } else {
    // Data from an older sender, or facts that do not fit the class: the message is kept whole.
    err = new RollcallError(code, data.message, shard === undefined ? {} : { shard });
  }
  if (typeof data.name === 'string' && data.name !== '') err.name = data.name;
  return err;
}

/** True when `err` is a {@link RollcallError}, optionally with the given code. */
export function isRollcallError(err: unknown, code?: ErrorCode): err is RollcallError {
  return err instanceof RollcallError && (code === undefined || err.code === code);
}

/**
 * Wraps a Node file-system error as a {@link FileError} with a plain message
 * ("does not exist", "permission denied", …).
 */
export function fileErrorFrom(file: string, err: unknown, action: string): FileError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const why =
    code === 'ENOENT'
      ? 'does not exist'
      : code === 'EACCES' || code === 'EPERM'
        ? 'permission denied'
        : code === 'EISDIR'
          ? 'is a directory'
          : code === 'ENOTDIR'
            ? 'a parent path is not a directory'
            : code === 'ENOSPC'
              ? 'no space left on device'
              : code === 'EROFS'
                ? 'read-only file system'
                : code === 'EMFILE'
                  ? 'too many open files'
                  : (code ?? String(err));
  return new FileError(file, `cannot ${action}: ${why}`, { cause: err });
}
