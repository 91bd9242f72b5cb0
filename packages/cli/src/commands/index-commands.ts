import { InvalidArgumentError } from '@rollcall/errors';
import { checkDistinctPaths } from '@rollcall/files';
import {
  applyChanges,
  applyChangesFromPostgres,
  applyOptOuts,
  type IndexLockHolder,
  inspectIndex,
  isPostgresUrl,
  redactPostgresUrl,
  writeIndexFile,
  writeIndexFileFromPostgres,
} from '@rollcall/index';
import { ExitCode } from '../exit.js';

/**
 * The source of `index build`: a CSV path, or a PostgreSQL URL with `--query` (either without the
 * other is refused). Returns the query when the source is PostgreSQL.
 */
export function postgresQueryOf(source: string, query: string | undefined): string | undefined {
  if (isPostgresUrl(source)) {
    if (query === undefined) {
      throw new InvalidArgumentError(
        '--query',
        `the source is PostgreSQL (${redactPostgresUrl(source)}): give the SQL returning phone, user_id, opted_out`,
      );
    }
    return query;
  }
  if (query !== undefined) {
    throw new InvalidArgumentError(
      '--query',
      'reads from PostgreSQL: give a postgresql:// URL as the source instead of a CSV',
    );
  }
  return undefined;
}

/** `rollcall index build <csv | postgresql://…> -o <file> [--query <sql>]`: returns the exit code. */
export async function runIndexBuild(
  csv: string,
  opts: { out: string; skipInvalid?: boolean; withSha256?: boolean; quiet?: boolean; query?: string },
  signal?: AbortSignal,
): Promise<number> {
  const query = postgresQueryOf(csv, opts.query);
  const options = {
    skipInvalid: opts.skipInvalid === true,
    withSha256: opts.withSha256 === true,
    ...(signal ? { signal } : {}),
  };
  let report: Awaited<ReturnType<typeof writeIndexFile>>;
  if (query !== undefined) {
    report = await writeIndexFileFromPostgres({ url: csv, query }, opts.out, options);
  } else {
    // `index build x.csv -o x.csv` would replace its own source: refused, as `match` refuses it.
    checkDistinctPaths([['--out', opts.out]], [['the source CSV', csv]]);
    report = await writeIndexFile(csv, opts.out, options);
  }
  if (!opts.quiet) {
    const lines = [
      `index written to ${opts.out}${query !== undefined ? ` from ${report.source}` : ''}`,
      `rows            ${fmt(report.rows)}`,
      `entries         ${fmt(report.entries)}`,
      `opted out       ${fmt(report.optedOut)} numbers: all those of ${fmt(report.optedOutUsers)} users opted out on any number`,
      `never matchable ${fmt(report.neverMatchable)} (E.164 but not a valid range under libphonenumber-js ${report.metadataVersion})`,
    ];
    if (report.skippedRows > 0) {
      lines.push(`skipped         ${fmt(report.skippedRows)}`);
      for (const [problem, count] of Object.entries(report.skipped)) {
        if (count > 0) lines.push(`  ${problem.padEnd(14)}${fmt(count)}`);
      }
    }
    lines.push(
      `table           ${fmt(report.tableBytes)} bytes, ${report.bytesPerEntry.toFixed(1)} bytes/entry, load factor ${report.loadFactor.toFixed(3)}`,
    );
    if (report.sha256Bytes > 0) lines.push(`sha256 section  ${fmt(report.sha256Bytes)} bytes`);
    lines.push(`file            ${fmt(report.fileBytes)} bytes in ${Math.round(report.durationMs)} ms`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return ExitCode.OK;
}

/** Says once on stderr whose update the run waits for (a process and host, never data). */
function sayWaiting(file: string): (holder: IndexLockHolder | undefined) => void {
  return (holder) => {
    const who =
      holder === undefined
        ? 'another process'
        : `pid ${holder.pid} on ${holder.hostname} since ${new Date(holder.acquiredAt).toISOString()}`;
    process.stderr.write(`rollcall: ${file} is being updated by ${who}: waiting for it to finish\n`);
  };
}

/**
 * `rollcall index update <file> <changes.csv>`: applies `op,phone,user_id` rows (add, delete,
 * optout, optin); returns the exit code. `file` may be one shard of a sharded index: each change
 * goes to its shard, and the shards are renamed into place together. Prints counts only.
 */
export async function runIndexUpdate(
  file: string,
  changes: string | undefined,
  opts: { skipInvalid?: boolean; quiet?: boolean; query?: string },
  signal?: AbortSignal,
): Promise<number> {
  const options = {
    skipInvalid: opts.skipInvalid === true,
    onLockWait: sayWaiting(file),
    ...(signal ? { signal } : {}),
  };
  let report: Awaited<ReturnType<typeof applyChanges>>;
  if (opts.query !== undefined) {
    // The changes come from PostgreSQL: `index update <file> postgresql://… --query "<SQL>"`.
    if (changes === undefined || !isPostgresUrl(changes)) {
      throw new InvalidArgumentError(
        '--query',
        'reads from PostgreSQL: give a postgresql:// URL after the index file',
      );
    }
    report = await applyChangesFromPostgres(file, { url: changes, query: opts.query }, options);
  } else {
    if (changes === undefined) {
      throw new InvalidArgumentError('changes', 'give the changes CSV (op,phone,user_id)');
    }
    if (isPostgresUrl(changes)) {
      throw new InvalidArgumentError(
        '--query',
        'the changes come from PostgreSQL: give the SQL returning op, phone, user_id',
      );
    }
    report = await applyChanges(file, changes, options);
  }
  if (!opts.quiet) {
    const lines = [
      `rows            ${fmt(report.rows)}`,
      `added           ${fmt(report.added)} numbers new to the index`,
      `moved           ${fmt(report.moved)} numbers to another user`,
      `deleted         ${fmt(report.deleted)}`,
      `opted out       ${fmt(report.optedOutNumbers)} numbers, opted in ${fmt(report.optedInNumbers)}`,
      `already so      ${fmt(report.unchanged)}`,
      `not in index    ${fmt(report.notInIndex)}`,
    ];
    if (report.skippedRows > 0) {
      lines.push(`skipped         ${fmt(report.skippedRows)}`);
      for (const [problem, count] of Object.entries(report.skipped)) {
        if (count > 0) lines.push(`  ${problem.padEnd(19)}${fmt(count)}`);
      }
    }
    lines.push(
      `users           ${fmt(report.usersNoLongerEligible)} no longer eligible, ${fmt(report.usersEligibleAgain)} eligible again`,
      `entries now     ${fmt(report.entries)}, ${fmt(report.optedOut)} opted out (every number of every opted-out user)`,
    );
    if (report.filesGrown.length > 0) {
      lines.push(`grown           ${fmt(report.filesGrown.length)} file(s) rehashed into a larger table`);
    }
    lines.push(
      report.written
        ? `generation      ${fmt(report.generation)}${report.files.length > 1 ? `; ${fmt(report.filesWritten.length)} of ${fmt(report.files.length)} shard files rewritten` : ''}`
        : `generation      ${fmt(report.generation)}: nothing changed, nothing written`,
      `in              ${Math.round(report.durationMs)} ms`,
    );
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return ExitCode.OK;
}

/**
 * `rollcall index optout <file> <changes.csv>`: returns the exit code. `file` may be one shard of
 * a sharded index: every shard is then updated (a user's numbers may sit in any shard). Waits
 * while another update holds the index's lock, saying so once on stderr.
 */
export async function runIndexOptout(
  file: string,
  changes: string,
  opts: { quiet?: boolean },
): Promise<number> {
  const report = await applyOptOuts(file, changes, { onLockWait: sayWaiting(file) });
  if (!opts.quiet) {
    const lines = [
      `rows            ${fmt(report.rows)}`,
      `changed         ${fmt(report.changed)}`,
      `already so      ${fmt(report.unchanged)}`,
      `not in index    ${fmt(report.notInIndex)}`,
      `users out       ${fmt(report.usersOptedOut)} newly opted out, ${fmt(report.usersOptedIn)} back in`,
      `opted out now   ${fmt(report.optedOut)} numbers (every number of every opted-out user)`,
    ];
    if (report.files.length > 1) {
      lines.push(
        `shard files     ${fmt(report.filesWritten.length)} of ${fmt(report.files.length)} rewritten`,
      );
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return ExitCode.OK;
}

/** `rollcall index inspect <file>`: exit 0 when sound, 2 when the checksums or header disagree. */
export async function runIndexInspect(file: string, opts: { json?: boolean }): Promise<number> {
  const info = await inspectIndex(file);
  if (opts.json) process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
  else {
    const h = info.header;
    const lines = [
      `file             ${info.file} (${fmt(info.fileSize)} bytes)`,
      `format version   ${h.formatVersion}`,
      `built            ${new Date(h.builtAt).toISOString()} with libphonenumber-js ${h.metadataVersion}`,
      `generation       ${h.generation}${h.generation > 0 ? `, updated ${new Date(h.updatedAt).toISOString()}` : ''}`,
      `entries          ${fmt(info.entries)}`,
      `opted out        ${fmt(info.optedOut)} numbers (every number of every opted-out user)`,
      `never matchable  ${fmt(info.neverMatchable)}`,
      `capacity         ${fmt(h.capacity)} slots, load factor ${info.loadFactor.toFixed(3)}`,
      `bytes per entry  ${info.bytesPerEntry.toFixed(2)}`,
      `sha256 section   ${info.sha256Bytes > 0 ? `${fmt(info.sha256Bytes)} bytes` : 'none'}`,
      `shard            ${h.shard + 1} of ${h.shardCount} (hash seed ${h.hashSeed})`,
      `checksums        header ${info.checksum.header}, payload ${info.checksum.payload}`,
    ];
    for (const p of info.problems) lines.push(`PROBLEM: ${p}`);
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  return info.sound ? ExitCode.OK : ExitCode.BAD_INPUT;
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}
