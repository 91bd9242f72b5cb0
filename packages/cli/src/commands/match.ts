import { ErrorCodes, InvalidArgumentError, RollcallError } from '@rollcall/errors';
import { writeFileAtomic } from '@rollcall/files';
import type { HashConvention } from '@rollcall/index';
import { createMatcher, type MatchReport, writeAudienceFile } from '@rollcall/join';
import { assertCountry } from '@rollcall/phone';
import { ExitCode } from '../exit.js';
import { ProgressLine } from '../progress.js';
import { parseIntegerOption } from './options.js';

/** Options of `rollcall match`, as commander parses them. */
export interface MatchCommandOptions {
  index: string;
  upload: string;
  country: string;
  out: string;
  report?: string;
  rejects?: string;
  phoneColumn?: string;
  delimiter?: string;
  threads?: string;
  minAudience?: string;
  hashed?: string;
  verifyChecksum: boolean;
  quiet?: boolean;
}

/** Runs `rollcall match`; returns the exit code. */
export async function runMatch(opts: MatchCommandOptions, signal: AbortSignal): Promise<number> {
  const defaultCountry = assertCountry(opts.country);
  const threads =
    opts.threads !== undefined ? parseIntegerOption('--threads', opts.threads, 1, 256) : undefined;
  const minAudience =
    opts.minAudience !== undefined ? parseIntegerOption('--min-audience', opts.minAudience, 1) : undefined;
  let hashed: HashConvention | undefined;
  if (opts.hashed !== undefined) {
    if (opts.hashed !== 'meta' && opts.hashed !== 'google') {
      throw new InvalidArgumentError('--hashed', `must be "meta" or "google", got "${opts.hashed}"`);
    }
    hashed = opts.hashed;
  }
  const progress = new ProgressLine(!opts.quiet);
  const matcher = await createMatcher({
    index: opts.index,
    verifyChecksum: opts.verifyChecksum,
    ...(threads !== undefined ? { threads } : {}),
  });
  try {
    const { audience, report } = await matcher.match({
      upload: opts.upload,
      defaultCountry,
      signal,
      onProgress: (p) => progress.update(p),
      ...(opts.phoneColumn !== undefined ? { phoneColumn: opts.phoneColumn } : {}),
      ...(opts.delimiter !== undefined ? { delimiter: opts.delimiter } : {}),
      ...(minAudience !== undefined ? { minAudience } : {}),
      ...(hashed !== undefined ? { hashed } : {}),
      ...(opts.rejects !== undefined ? { rejects: opts.rejects } : {}),
    });
    progress.done();
    if (signal.aborted) throw new RollcallError(ErrorCodes.ABORTED, 'the match was cancelled');
    if (audience !== null) writeAudienceFile(opts.out, audience);
    if (opts.report !== undefined) writeFileAtomic(opts.report, `${JSON.stringify(report, null, 2)}\n`);
    if (!opts.quiet) process.stdout.write(formatSummary(report, opts));
    if (report.suppressed) {
      process.stderr.write(`rollcall: ${report.suppression_reason}; no audience file was written\n`);
      return ExitCode.SUPPRESSED;
    }
    return ExitCode.OK;
  } finally {
    progress.done();
    await matcher.close();
  }
}

/** A short human summary of a report, for the terminal. */
export function formatSummary(
  report: MatchReport,
  opts: Pick<MatchCommandOptions, 'out' | 'report'>,
): string {
  const n = (x: number | null): string => (x === null ? 'withheld' : x.toLocaleString('en-US'));
  const pct = (x: number, of: number): string => (of > 0 ? ` (${((100 * x) / of).toFixed(1)}%)` : '');
  const lines = [
    `rows               ${n(report.rows)}`,
    `invalid            ${n(report.invalid)}${pct(report.invalid, report.rows)}`,
  ];
  for (const [reason, count] of Object.entries(report.invalid_by_reason)) {
    if (count > 0) lines.push(`  ${reason.padEnd(17)}${n(count)}`);
  }
  lines.push(
    `valid              ${n(report.valid)}${pct(report.valid, report.rows)}`,
    `unique             ${n(report.unique)}`,
    `matched            ${n(report.matched)}${report.matched !== null ? pct(report.matched, report.unique) : ''}`,
    `opted-out dropped  ${n(report.opted_out_dropped)}`,
    `audience           ${n(report.audience)}`,
    `threads ${report.threads}, ${report.rows_per_second.toLocaleString('en-US')} rows/s, ${report.timings_ms.total} ms; ${report.phone_metadata.library} ${report.phone_metadata.version} (${report.phone_metadata.metadata} metadata)`,
  );
  if (report.suppressed) lines.push(`SUPPRESSED: ${report.suppression_reason}`);
  else lines.push(`audience written to ${opts.out}`);
  if (opts.report !== undefined) lines.push(`report written to ${opts.report}`);
  return `${lines.join('\n')}\n`;
}
