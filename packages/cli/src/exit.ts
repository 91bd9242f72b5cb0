import { ErrorCodes, isRollcallError, RollcallError } from '@rollcall/errors';

/** Exit codes of the CLI; scripts depend on them. */
export const ExitCode = {
  OK: 0,
  /** An internal failure: a bug or a worker that could not finish the job. */
  FAILURE: 1,
  /** Bad arguments or bad input (the message names file, line and column). */
  BAD_INPUT: 2,
  /** The audience was smaller than --min-audience and was not released. */
  SUPPRESSED: 3,
  /** Stopped by SIGINT (128 + 2). */
  INTERRUPTED: 130,
} as const;

/** The exit code for an error thrown by a command. */
export function exitCodeOf(err: unknown): number {
  if (!isRollcallError(err)) return ExitCode.FAILURE;
  switch (err.code) {
    case ErrorCodes.WORKER_FAILED:
    case ErrorCodes.INTERNAL:
      return ExitCode.FAILURE;
    case ErrorCodes.ABORTED:
      return ExitCode.INTERRUPTED;
    default:
      return ExitCode.BAD_INPUT;
  }
}

/**
 * The one line the CLI prints for an error: `rollcall: <code>: <message>`. No stack trace unless
 * ROLLCALL_DEBUG is set; unexpected errors say so. Messages never carry full phone numbers.
 */
export function describeError(err: unknown): string {
  if (err instanceof RollcallError) return `rollcall: ${err.message} [${err.code}]`;
  const message = err instanceof Error ? err.message : String(err);
  return `rollcall: internal error: ${message} [${ErrorCodes.INTERNAL}]`;
}
