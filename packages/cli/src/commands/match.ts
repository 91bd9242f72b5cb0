import { statSync } from 'node:fs';
import { ErrorCodes, InvalidArgumentError, RollcallError } from '@rollcall/errors';
import { AtomicFile, checkDistinctPaths, checkRegularInput, commitAll } from '@rollcall/files';
import type { HashConvention } from '@rollcall/index';
import { createMatcher, type Matcher, type MatchReport, writeAudience } from '@rollcall/join';
import { assertCountry } from '@rollcall/phone';
import { renderReportHtml } from '@rollcall/report';
import { openUploads } from '@rollcall/upload';
import { ExitCode } from '../exit.js';
import { ProgressLine } from '../progress.js';
import { checkIndexOrCluster, clusterMatcherFor } from './cluster.js';
import { parseIntegerOption } from './options.js';

/** Options of `rollcall match`, as commander parses them. */
export interface MatchCommandOptions {
  /** The index; absent with `--cluster`. */
  index?: string;
  /** Redis URL of shard workers to match against instead of `--index`. */
  cluster?: string;
  clusterTimeout?: string;
  /** One or more upload files (commander collects a repeated `--upload`). */
  upload: string | string[];
  country?: string;
  out: string;
  report?: string;
  reportHtml?: string;
  audit?: string;
  advertiser?: string;
  ledger?: string;
  rejects?: string;
  phoneColumn?: string | string[];
  /** A header, or `false` from `--no-country-column`. */
  countryColumn?: string | boolean;
  strict?: boolean;
  delimiter?: string;
  threads?: string;
  minAudience?: string;
  hashed?: string;
  verifyChecksum: boolean;
  quiet?: boolean;
}

/** Runs `rollcall match`; returns the exit code. */
export async function runMatch(opts: MatchCommandOptions, signal: AbortSignal): Promise<number> {
  const defaultCountry = opts.country === undefined ? undefined : assertCountry(opts.country);
  const uploads = typeof opts.upload === 'string' ? [opts.upload] : opts.upload;
  const phoneColumns =
    opts.phoneColumn === undefined || opts.phoneColumn.length === 0
      ? undefined
      : typeof opts.phoneColumn === 'string'
        ? opts.phoneColumn
        : opts.phoneColumn;
  const countryColumn =
    opts.countryColumn === false
      ? false
      : typeof opts.countryColumn === 'string'
        ? opts.countryColumn
        : undefined;
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
  checkIndexOrCluster(opts);
  checkPaths(opts);
  const progress = new ProgressLine(!opts.quiet);
  // Every output is opened before any work, so that an unwritable path (a directory, a device, a
  // read-only or missing directory) fails at once rather than after the whole upload, and they are
  // committed together, all or nothing, once all are written and no stop was asked for: a failure
  // (disk full, a signal) leaves every existing output as it was, never this run's rejects beside an
  // old audience.
  const outputs: AtomicFile[] = [];
  const openOutput = (path: string): AtomicFile => {
    const file = new AtomicFile(path);
    outputs.push(file);
    return file;
  };
  let matcher: Pick<Matcher, 'match' | 'close'> | undefined;
  try {
    const audienceFile = openOutput(opts.out);
    const reportFile = opts.report !== undefined ? openOutput(opts.report) : undefined;
    const reportHtmlFile = opts.reportHtml !== undefined ? openOutput(opts.reportHtml) : undefined;
    const auditFile = opts.audit !== undefined ? openOutput(opts.audit) : undefined;
    const rejectsFile = opts.rejects !== undefined ? openOutput(opts.rejects) : undefined;
    matcher =
      opts.cluster !== undefined
        ? await clusterMatcherFor({ ...opts, cluster: opts.cluster })
        : await createMatcher({
            index: opts.index as string,
            verifyChecksum: opts.verifyChecksum,
            ...(threads !== undefined ? { threads } : {}),
          });
    const upload =
      uploads.length === 1 && !isDirectory(uploads[0]!)
        ? uploads[0]!
        : await openUploads(uploads, {
            ...(phoneColumns !== undefined ? { phoneColumn: phoneColumns } : {}),
            ...(countryColumn !== undefined ? { countryColumn } : {}),
            ...(opts.delimiter !== undefined ? { delimiter: opts.delimiter } : {}),
            signal,
          });
    const { audience, report, audit } = await matcher.match({
      upload,
      ...(defaultCountry !== undefined ? { defaultCountry } : {}),
      ...(opts.strict === true ? { strict: true } : {}),
      ...(countryColumn !== undefined ? { countryColumn } : {}),
      ...(opts.advertiser !== undefined ? { advertiser: opts.advertiser } : {}),
      ...(opts.ledger !== undefined ? { ledger: opts.ledger } : {}),
      signal,
      onProgress: (p) => progress.update(p),
      ...(phoneColumns !== undefined ? { phoneColumn: phoneColumns } : {}),
      ...(opts.delimiter !== undefined ? { delimiter: opts.delimiter } : {}),
      ...(minAudience !== undefined ? { minAudience } : {}),
      ...(hashed !== undefined ? { hashed } : {}),
      ...(rejectsFile !== undefined ? { rejects: rejectsFile } : {}),
    });
    progress.done();
    if (signal.aborted)
      throw new RollcallError(
        ErrorCodes.ABORTED,
        'stopped before the outputs were written; no output was replaced',
      );
    // A suppressed audience is never written, not even to a temp file.
    if (audience !== null) writeAudience(audienceFile, audience);
    else audienceFile.abort();
    reportFile?.write(`${JSON.stringify(report, null, 2)}\n`);
    reportHtmlFile?.write(renderReportHtml(report));
    auditFile?.write(`${JSON.stringify(audit, null, 2)}\n`);
    // The commit point: a stop asked for until here (even during the synchronous counting, sorting
    // and writing just above) replaces nothing. The audience last: when it exists, the report and
    // rejects beside it are of the same run.
    await commitAll(
      [
        rejectsFile,
        reportFile,
        reportHtmlFile,
        auditFile,
        audience !== null ? audienceFile : undefined,
      ].filter((f): f is AtomicFile => f !== undefined),
      { signal },
    );
    if (!opts.quiet) process.stdout.write(formatSummary(report, opts));
    if (report.suppressed) {
      process.stderr.write(`rollcall: ${report.suppression_reason}; no audience file was written\n`);
      return ExitCode.SUPPRESSED;
    }
    return ExitCode.OK;
  } finally {
    progress.done();
    // No-ops for committed files; removes the temp files of a run that failed.
    for (const file of outputs) file.abort();
    await matcher?.close();
  }
}

/** True when `path` names a directory (of payload files); false for anything else, or nothing. */
function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Checks the paths before any work: an output that is also an input (`--out customers.csv`) or
 * another output is refused, and so is an index that is a FIFO or a device (it is read at offsets;
 * opening a FIFO without a writer would block beyond the reach of SIGINT). Each output's own kind
 * (a directory, a device, `-`) is checked when it is opened, also before any work.
 */
function checkPaths(opts: MatchCommandOptions): void {
  if (opts.index !== undefined) checkRegularInput('--index', opts.index);
  checkDistinctPaths(
    [
      ['--out', opts.out],
      ['--report', opts.report],
      ['--report-html', opts.reportHtml],
      ['--audit', opts.audit],
      ['--rejects', opts.rejects],
    ],
    [
      ...(typeof opts.upload === 'string' ? [opts.upload] : opts.upload).map((path): [string, string] => [
        '--upload',
        path,
      ]),
      ['--index', opts.index],
      ['--ledger', opts.ledger],
    ],
  );
}

/** A short human summary of a report, for the terminal (the advertiser's view: estimates with bounds). */
export function formatSummary(
  report: MatchReport,
  opts: Pick<MatchCommandOptions, 'out' | 'report' | 'reportHtml' | 'audit'>,
): string {
  const n = (x: number | null): string => (x === null ? 'withheld' : x.toLocaleString('en-US'));
  const pct = (x: number, of: number): string => (of > 0 ? ` (${((100 * x) / of).toFixed(1)}%)` : '');
  // A protected estimate: "≈ 842 (827–857)".
  const est = (x: number | null, lo: number | null | undefined, hi: number | null | undefined): string =>
    x === null ? 'withheld' : `≈ ${n(x)}${lo != null && hi != null ? ` (${n(lo)}–${n(hi)})` : ''}`;
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
  );
  const columns = report.numbers?.by_column ?? [];
  if (columns.length > 1) {
    lines.push(
      `numbers            ${n(report.numbers?.valid ?? 0)} valid of ${n(report.numbers?.numbers ?? 0)}`,
    );
    for (const c of columns)
      lines.push(`  ${c.column.slice(0, 16).padEnd(17)}${n(c.valid)} valid of ${n(c.numbers)}`);
  }
  if ((report.read_as_international ?? 0) > 0) {
    lines.push(
      `read as intl.      ${n(report.read_as_international ?? 0)} rows (digits with a country code but no +; --strict refuses them)`,
    );
  }
  lines.push(
    `matched            ${est(report.matched, report.matched_lower, report.matched_upper)}`,
    `opted-out dropped  ${est(report.opted_out_dropped, report.opted_out_dropped_lower, report.opted_out_dropped_upper)}`,
    `audience           ${est(report.audience, report.audience_lower, report.audience_upper)}`,
    `threads ${report.threads}, ${report.rows_per_second.toLocaleString('en-US')} rows/s, ${report.timings_ms.total} ms; ${report.phone_metadata.library} ${report.phone_metadata.version} (${report.phone_metadata.metadata} metadata)`,
  );
  if (!report.suppressed) {
    lines.push(
      'platform-side counts (≈) are protected estimates, true within the bounds with 95% probability',
    );
  }
  if (report.suppressed) lines.push(`SUPPRESSED: ${report.suppression_reason}`);
  else lines.push(`audience written to ${opts.out}`);
  if (opts.report !== undefined) lines.push(`report written to ${opts.report}`);
  if (opts.reportHtml !== undefined) lines.push(`HTML report written to ${opts.reportHtml}`);
  if (opts.audit !== undefined) lines.push(`audit (exact counts, operator only) written to ${opts.audit}`);
  return `${lines.join('\n')}\n`;
}
