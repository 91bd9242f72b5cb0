import { ErrorCodes, isRollcallError } from '@rollcall/errors';
import { committedUnder, removePendingTempFiles } from '@rollcall/files';
import { Command, CommanderError, Option } from 'commander';
import { type AudienceRefreshCommandOptions, runAudienceRefresh } from './commands/audience.js';
import { runIndexBuild, runIndexInspect, runIndexOptout, runIndexUpdate } from './commands/index-commands.js';
import { runShardedIndexBuild } from './commands/index-shards.js';
import { type MatchCommandOptions, runMatch } from './commands/match.js';
import { runServe, type ServeCommandOptions } from './commands/serve.js';
import { describeError, ExitCode, exitCodeOf, signalExitCode } from './exit.js';
import { documentProgram } from './help.js';

/** Builds the `rollcall` command tree. Actions store their exit code in `state.exitCode`. */
function buildProgram(state: { exitCode: number }, signal: AbortSignal): Command {
  const program = new Command('rollcall')
    .description('Match advertiser customer lists against a phone-number index, exactly.')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });

  program
    .command('match')
    .description('match an upload against the index and write the audience (one user id a line)')
    .option('--index <file>', 'built index file, or its phone,user_id,opted_out CSV source')
    .option(
      '--cluster <redis-url>',
      'match against shard workers (`rollcall serve`) at this Redis instead of --index',
    )
    .option(
      '--cluster-timeout <seconds>',
      'fail when a shard with work answers nothing for this long (default 30)',
    )
    .requiredOption(
      '--upload <file>',
      'the advertiser upload: a CSV (plain or gzip), a Meta Marketing API JSON payload, a directory of them, a FIFO, or - for standard input; repeat for several files of one upload',
      collect,
      [],
    )
    .option(
      '--country <cc>',
      'ISO 3166-1 alpha-2 country for national numbers of rows without their own, e.g. GB (required unless the upload has a country column or is hashed)',
    )
    .requiredOption('--out <file>', 'audience file to write, a regular file (not written if suppressed)')
    .option('--report <file>', 'write the match report as JSON')
    .option('--report-html <file>', 'write the match report as one self-contained HTML page')
    .option(
      '--audit <file>',
      "write the operator's audit as JSON: the exact counts (never for the advertiser)",
    )
    .option(
      '--advertiser <id>',
      'who asks: their releases are kept together in the privacy ledger',
      'default',
    )
    .option(
      '--ledger <file>',
      'privacy ledger file (default: $XDG_STATE_HOME/rollcall/ledger.jsonl; Redis with --cluster)',
    )
    .option('--rejects <file>', 'write every rejected row (line, cell, reason) as CSV')
    .option(
      '--phone-column <header>',
      'header of a phone column; repeat for several (default: every column that names a phone)',
      collect,
      [],
    )
    .option(
      '--country-column <header>',
      "header of the column holding each row's country (default: detected)",
    )
    .option('--no-country-column', 'ignore any country column: every row is read in --country')
    .option(
      '--strict',
      'refuse digits that read as a number only with a country code and no + (rejected as MISSING_PLUS)',
    )
    .option('--delimiter <char>', 'CSV delimiter (default: detected from the header)')
    .option('--threads <n>', 'worker threads (default: available cores)')
    .option('--min-audience <k>', 'suppress audiences smaller than this', '100')
    .addOption(
      new Option('--hashed <convention>', 'phone column holds SHA-256 hex digests').choices([
        'meta',
        'google',
      ]),
    )
    .option('--no-verify-checksum', 'skip the index checksum on load')
    .option('-q, --quiet', 'print nothing but errors')
    .action(async (opts: MatchCommandOptions) => {
      state.exitCode = await runMatch(opts, signal);
    });

  const index = program.command('index').description('build, update and inspect index files');
  index
    .command('build')
    .description('build a binary index file from a phone,user_id,opted_out CSV, or from PostgreSQL')
    .argument('<csv>', 'source CSV, or a postgresql:// URL (with --query; PG* variables fill the rest)')
    .option('--query <sql>', 'with a postgresql:// source: SQL returning phone, user_id, opted_out')
    .requiredOption('-o, --out <file>', 'index file to write (with --shards: a prefix or a directory)')
    .option('--skip-invalid', 'skip and count bad rows instead of failing')
    .option('--with-sha256', 'add a SHA-256 section so pre-hashed uploads can match')
    .option(
      '--shards <n>',
      'split the index into n shard files, <out>.shard-<i>-of-<n>.idx, for `rollcall serve`',
    )
    .option('-q, --quiet', 'print nothing but errors')
    .action(async (csv: string, opts) => {
      state.exitCode =
        opts.shards !== undefined
          ? await runShardedIndexBuild(csv, opts, signal)
          : await runIndexBuild(csv, opts, signal);
    });
  index
    .command('update')
    .description('apply op,phone,user_id changes (add, delete, optout, optin) to a built index, atomically')
    .argument('<file>', 'index file (or one shard file: every shard is updated)')
    .argument('[changes]', 'CSV of op,phone,user_id rows, or a postgresql:// URL (with --query)')
    .option('--query <sql>', 'with a postgresql:// URL: SQL returning op, phone, user_id')
    .option('--skip-invalid', 'apply the valid rows and count the bad ones instead of refusing the set')
    .option('-q, --quiet', 'print nothing but errors')
    .action(async (file: string, changes: string | undefined, opts) => {
      state.exitCode = await runIndexUpdate(file, changes, opts, signal);
    });
  index
    .command('optout')
    .description('apply phone,opted_out changes to a built index, atomically')
    .argument('<file>', 'index file')
    .argument('<changes>', 'CSV of phone,opted_out rows')
    .option('-q, --quiet', 'print nothing but errors')
    .action(async (file: string, changes: string, opts) => {
      state.exitCode = await runIndexOptout(file, changes, opts);
    });
  index
    .command('inspect')
    .description('print an index file’s header, counts and checksum state')
    .argument('<file>', 'index file')
    .option('--json', 'print JSON')
    .action(async (file: string, opts) => {
      state.exitCode = await runIndexInspect(file, opts);
    });
  const audience = program.command('audience').description('keep audiences true as the index changes');
  audience
    .command('refresh')
    .description('remove from audiences every user no longer eligible in the index (in place, atomically)')
    .argument('<audience...>', 'audience files (one user id a line)')
    .requiredOption('--index <file>', 'the built index file (or one shard file)')
    .option('--out <file>', 'write the refreshed audience here instead of in place (one audience only)')
    .option('--full', 'find the eligible users by a scan of the index, not from its eligibility log')
    .option('--log-only', 'use the eligibility log, and fail rather than scan the index')
    .option('-q, --quiet', 'print nothing but errors')
    .action(async (files: string[], opts: AudienceRefreshCommandOptions) => {
      state.exitCode = await runAudienceRefresh(files, opts, signal);
    });
  program
    .command('serve')
    .description(
      'serve one shard of a sharded index to `match --cluster` over Redis (BullMQ), until SIGINT/SIGTERM',
    )
    .requiredOption('--shard <i>', 'the shard to serve (0-based); the file must be that shard')
    .requiredOption('--index <file>', 'the shard file, from `rollcall index build --shards`')
    .addOption(
      new Option('--redis <url>', 'Redis URL (redis:// or rediss://, may carry a password)')
        .env('ROLLCALL_REDIS_URL')
        .makeOptionMandatory(),
    )
    .option('--concurrency <n>', 'probe jobs handled at once', '4')
    .option('--lock-duration <ms>', "a dead worker's jobs go to another replica after this (default 10000)")
    .option('--stalled-interval <ms>', 'how often to look for jobs of dead workers (default: half the lock)')
    .option('--no-watch', 'do not reload the file when it changes (e.g. after `index optout`)')
    .option('--no-verify-checksum', 'skip the index checksum on load')
    .option('-q, --quiet', 'print nothing but errors')
    .action(async (opts: ServeCommandOptions) => {
      state.exitCode = await runServe(opts, signal);
    });
  return documentProgram(program);
}

/** How long a stopped command may take to wind down before the CLI leaves anyway. */
const STOP_GRACE_MS = 3000;

/**
 * Runs the CLI with `argv` (as process.argv) and returns the exit code. Never throws: every
 * failure becomes one line on stderr and a code (0 ok, 1 internal, 2 bad input, 3 suppressed,
 * 130/143 stopped by SIGINT/SIGTERM before its outputs were committed).
 *
 * A signal aborts the command's AbortSignal. Commands commit their outputs with `commitAll`, which
 * looks at that signal last thing before renaming: a stop asked for before that point leaves every
 * output as it was and exits 130/143; one that comes after (the outputs are all in place) lets the
 * command finish, exits with its code, and says so. A second signal leaves at once.
 */
export async function main(argv: readonly string[]): Promise<number> {
  const controller = new AbortController();
  const state = { exitCode: ExitCode.OK as number };
  /** The signal that stopped the run: its exit code is 128 + its number, whatever the command. */
  let stoppedBy: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      // Asked twice: leave now. Temp files go; committed outputs are complete either way.
      removePendingTempFiles();
      process.exit(signalExitCode(stoppedBy ?? sig));
    }
    stoppedBy = sig;
    const late = committedUnder(controller.signal);
    process.stderr.write(
      late
        ? `\nrollcall: ${sig}: the outputs are already written in full; finishing\n`
        : `\nrollcall: ${sig}: stopping\n`,
    );
    controller.abort();
    if (late) return;
    // If the job does not wind down promptly, remove temp files and leave anyway (unless its
    // outputs were committed meanwhile: then it is finishing, and its exit code is the truth).
    setTimeout(() => {
      if (committedUnder(controller.signal)) return;
      process.stderr.write(`rollcall: ${sig}: not stopped after ${STOP_GRACE_MS / 1000} s; leaving anyway\n`);
      removePendingTempFiles();
      process.exit(signalExitCode(sig));
    }, STOP_GRACE_MS).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await buildProgram(state, controller.signal).parseAsync([...argv]);
    return state.exitCode;
  } catch (err) {
    removePendingTempFiles();
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? ExitCode.OK : ExitCode.BAD_INPUT;
    }
    process.stderr.write(`${describeError(err)}\n`);
    if (process.env.ROLLCALL_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    // ERR_ABORTED alone would say 130; a SIGTERM must exit 143, as if the signal had killed us.
    if (stoppedBy !== undefined && isRollcallError(err, ErrorCodes.ABORTED)) return signalExitCode(stoppedBy);
    return exitCodeOf(err);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Commander's accumulator for a repeatable option. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}
