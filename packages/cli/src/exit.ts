import {
  ErrorCodes,
  FileError,
  formatPosition,
  IndexCorruptError,
  InputError,
  InvalidArgumentError,
  isRollcallError,
  RollcallError,
} from '@rollcall/errors';
import { redactDigitRuns } from '@rollcall/phone';

/** Exit codes of the CLI; scripts depend on them. */
export const ExitCode = {
  OK: 0,
  /** An internal failure: a bug or a worker that could not finish the job. */
  FAILURE: 1,
  /** Bad arguments or bad input (the message names file, line and column). */
  BAD_INPUT: 2,
  /** The audience was smaller than --min-audience and was not released. */
  SUPPRESSED: 3,
  /** The advertiser's privacy budget is spent: nothing was released (ERR_PRIVACY_BUDGET). */
  REFUSED: 4,
  /** Stopped by SIGINT (128 + 2). */
  INTERRUPTED: 130,
  /** Stopped by SIGTERM (128 + 15). */
  TERMINATED: 143,
} as const;

/** The exit code of a run stopped by `signal`, as a shell reports a process killed by it (128 + n). */
export function signalExitCode(signal: NodeJS.Signals): number {
  return signal === 'SIGTERM' ? ExitCode.TERMINATED : ExitCode.INTERRUPTED;
}

/** Library option names as the CLI spells them, so that a message names the flag the user typed. */
const CLI_FLAGS: Readonly<Record<string, string>> = {
  defaultCountry: '--country',
  phoneColumn: '--phone-column',
  countryColumn: '--country-column',
  paths: '--upload',
  strict: '--strict',
  delimiter: '--delimiter',
  threads: '--threads',
  minAudience: '--min-audience',
  hashed: '--hashed',
  advertiser: '--advertiser',
  ledger: '--ledger',
};

/** The exit code for an error thrown by a command. */
export function exitCodeOf(err: unknown): number {
  if (!isRollcallError(err)) return ExitCode.FAILURE;
  switch (err.code) {
    case ErrorCodes.WORKER_FAILED:
    case ErrorCodes.INTERNAL:
      return ExitCode.FAILURE;
    case ErrorCodes.ABORTED:
      return ExitCode.INTERRUPTED;
    case ErrorCodes.PRIVACY_BUDGET:
      return ExitCode.REFUSED;
    default:
      return ExitCode.BAD_INPUT;
  }
}

/**
 * The one line the CLI prints for an error: `rollcall: <message> [<code>]`. No stack trace unless
 * ROLLCALL_DEBUG is set; unexpected errors say so. The message is made safe to print (see
 * {@link safeMessage}): whatever a deeper layer put in it, no phone number and no terminal control.
 */
export function describeError(err: unknown): string {
  if (err instanceof InvalidArgumentError && CLI_FLAGS[err.option] !== undefined) {
    // The library names its option (`phoneColumn: …`): say the flag the user typed instead.
    const message = err.shard === undefined ? `${CLI_FLAGS[err.option]}: ${err.detail}` : err.message;
    return `rollcall: ${safeMessage(message)} [${err.code}]`;
  }
  if (err instanceof IndexCorruptError || err instanceof FileError) {
    // About a file's structure or the OS (sizes, offsets, errno), never its cells: digits are kept.
    return `rollcall: ${safeMessage(err.message, `${err.file}: `, false)} [${err.code}]`;
  }
  if (err instanceof InputError) {
    return `rollcall: ${safeMessage(err.message, `${formatPosition(err.position)}: `)} [${err.code}]`;
  }
  if (err instanceof RollcallError) return `rollcall: ${safeMessage(err.message)} [${err.code}]`;
  const message = err instanceof Error ? err.message : String(err);
  return `rollcall: internal error: ${safeMessage(message)} [${ErrorCodes.INTERNAL}]`;
}

// C0 and C1 controls, DEL, and the bidi controls that can make a terminal line read otherwise
// (CVE-2021-42574): a message quoting a file's bytes must not drive the terminal or span lines.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
// A run of digits (of any script) that may be a phone number or a user id once it holds 8 digits
// or more. Sizes and limits in messages are shorter.
const MIN_DIGITS_REDACTED = 8;

/**
 * A message made safe to print: control characters escaped (`\x1b`), and (unless `redactDigits`
 * is false) every run of 8 or more digits of any script (ASCII, full-width, Arabic-Indic, …), which
 * may be a phone number or a user id that a deeper layer quoted from a file, redacted by the phone
 * package's one policy (`redactDigitRuns`, through `redactPhone`). The leading `place` (the user's
 * own file name, line and column) is left alone.
 *
 * The layers below already redact what they quote; this is the last line of defence at the one
 * place the CLI prints errors, so that no message can carry a number into a log.
 */
export function safeMessage(message: string, place?: string, redactDigits = true): string {
  const keep = place !== undefined && message.startsWith(place) ? place.length : 0;
  let rest = message.slice(keep).replace(UNPRINTABLE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`;
  });
  if (redactDigits) rest = redactDigitRuns(rest, MIN_DIGITS_REDACTED);
  return message.slice(0, keep) + rest;
}
