import { MAX_SHARDS, writeShardedIndexFiles, writeShardedIndexFilesFromPostgres } from '@rollcall/index';
import { ExitCode } from '../exit.js';
import { postgresQueryOf } from './index-commands.js';
import { parseIntegerOption } from './options.js';

/** `rollcall index build <csv> -o <prefix-or-dir> --shards S`: prints the shard files; returns the exit code. */
export async function runShardedIndexBuild(
  csv: string,
  opts: {
    out: string;
    shards: string;
    skipInvalid?: boolean;
    withSha256?: boolean;
    quiet?: boolean;
    query?: string;
  },
  signal?: AbortSignal,
): Promise<number> {
  const shardCount = parseIntegerOption('--shards', opts.shards, 1, MAX_SHARDS);
  const query = postgresQueryOf(csv, opts.query);
  const options = {
    shardCount,
    skipInvalid: opts.skipInvalid === true,
    withSha256: opts.withSha256 === true,
    ...(signal ? { signal } : {}),
  };
  const report =
    query !== undefined
      ? await writeShardedIndexFilesFromPostgres({ url: csv, query }, opts.out, options)
      : await writeShardedIndexFiles(csv, opts.out, options);
  if (!opts.quiet) {
    const lines = [
      `index written to ${shardCount} shard files (shard = keyHash(key, seed ${report.hashSeed}) mod ${shardCount}):`,
      ...report.files.map(
        (file, i) =>
          `  ${file}  ${fmt(report.shards[i]!.entries)} entries, ${fmt(report.shards[i]!.fileBytes)} bytes`,
      ),
      `rows            ${fmt(report.rows)}`,
      `entries         ${fmt(report.entries)}`,
      `opted out       ${fmt(report.optedOut)} numbers: all those of ${fmt(report.optedOutUsers)} users opted out on any number, in any shard`,
      `never matchable ${fmt(report.neverMatchable)}`,
    ];
    if (report.skippedRows > 0) {
      lines.push(`skipped         ${fmt(report.skippedRows)}`);
      for (const [problem, count] of Object.entries(report.skipped)) {
        if (count > 0) lines.push(`  ${problem.padEnd(14)}${fmt(count)}`);
      }
    }
    lines.push(
      `files           ${fmt(report.fileBytes)} bytes in all, the largest ${fmt(report.largestFileBytes)}, in ${Math.round(report.durationMs)} ms`,
    );
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return ExitCode.OK;
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}
