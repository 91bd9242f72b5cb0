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

/** Base class of every error rollcall throws on purpose. */
export class RollcallError extends Error {
  /** The stable code; see {@link ErrorCodes}. */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }

  /** Plain data for crossing a worker boundary; rebuild with {@link errorFromData}. */
  toData(): RollcallErrorData {
    return { code: this.code, message: this.message, name: this.name };
  }
}

/** A bad argument to a function or the CLI; names the option. */
export class InvalidArgumentError extends RollcallError {
  /** The option or parameter at fault, e.g. `defaultCountry` or `--threads`. */
  readonly option: string;

  constructor(option: string, message: string, code: ErrorCode = ErrorCodes.INVALID_ARGUMENT) {
    super(code, `${option}: ${message}`);
    this.option = option;
  }
}

/** Bad data in an input file that makes the whole file unusable; names file, line and column. */
export class InputError extends RollcallError {
  readonly position: InputPosition;

  constructor(position: InputPosition, message: string, options?: { cause?: unknown }) {
    super(ErrorCodes.BAD_INPUT, `${formatPosition(position)}: ${message}`, options);
    this.position = position;
  }
}

/** An index file that cannot be trusted: truncated, corrupted, wrong version or not an index. */
export class IndexCorruptError extends RollcallError {
  readonly file: string;

  constructor(file: string, message: string) {
    super(ErrorCodes.INDEX_CORRUPT, `${file}: ${message}`);
    this.file = file;
  }
}

/** A file system failure, with the path and the system error code (ENOENT, EACCES, ENOSPC, …). */
export class FileError extends RollcallError {
  readonly file: string;
  readonly syscallCode: string | undefined;

  constructor(file: string, message: string, options?: { cause?: unknown }) {
    const cause = options?.cause as NodeJS.ErrnoException | undefined;
    super(ErrorCodes.IO, `${file}: ${message}`, options);
    this.file = file;
    this.syscallCode = typeof cause?.code === 'string' ? cause.code : undefined;
  }
}

/** Formats a position as `file:line:column` (parts that are unknown are left out). */
export function formatPosition(position: InputPosition): string {
  let s = position.file;
  if (position.line !== undefined) s += `:${position.line}`;
  if (position.line !== undefined && position.column !== undefined) s += `:${position.column}`;
  return s;
}

/** The plain form of an error, as it crosses a worker boundary. */
export interface RollcallErrorData {
  code: ErrorCode;
  message: string;
  name: string;
}

const KNOWN_CODES = new Set<string>(Object.values(ErrorCodes));

/** Rebuilds a typed {@link RollcallError} from plain data sent by a worker. */
export function errorFromData(data: RollcallErrorData): RollcallError {
  const code = KNOWN_CODES.has(data.code) ? data.code : ErrorCodes.INTERNAL;
  return new RollcallError(code, data.message);
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
