import { InvalidArgumentError } from '@rollcall/errors';
import { type RefreshMode, refreshAudience } from '@rollcall/index';
import { ExitCode } from '../exit.js';

/** Options of `rollcall audience refresh`. */
export interface AudienceRefreshCommandOptions {
  index: string;
  out?: string;
  full?: boolean;
  logOnly?: boolean;
  quiet?: boolean;
}

/**
 * `rollcall audience refresh <audience>... --index <file> [--out <file>]`: removes from each
 * audience every user no longer eligible in the index; returns the exit code. Prints, per
 * audience, how many ids were removed and kept: counts, never ids.
 */
export async function runAudienceRefresh(
  audiences: readonly string[],
  opts: AudienceRefreshCommandOptions,
  signal?: AbortSignal,
): Promise<number> {
  if (opts.full && opts.logOnly) {
    throw new InvalidArgumentError('--full', 'and --log-only ask for two different ways: give one');
  }
  const mode: RefreshMode = opts.full ? 'scan' : opts.logOnly ? 'log' : 'auto';
  const report = await refreshAudience(audiences, opts.index, {
    mode,
    ...(opts.out !== undefined ? { out: opts.out } : {}),
    ...(signal ? { signal } : {}),
  });
  if (!opts.quiet) {
    const lines = report.audiences.map(
      (a) =>
        `${a.file}${a.out !== a.file ? ` → ${a.out}` : ''}: ${fmt(a.removed)} of ${fmt(a.ids)} ids removed (no longer eligible), ${fmt(a.kept)} kept${a.written ? '' : ', file left as it was'}`,
    );
    lines.push(
      `removed         ${fmt(report.removed)} ids from ${fmt(report.audiences.length)} audience(s), against generation ${fmt(report.generation)} of the index`,
      `from            ${report.why}`,
      `in              ${Math.round(report.durationMs)} ms`,
    );
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return ExitCode.OK;
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}
