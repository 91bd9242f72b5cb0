import { ErrorCodes, isRollcallError } from '@rollcall/errors';
import { removePendingTempFiles } from '@rollcall/files';
import { Command, CommanderError, Option } from 'commander';
import { runIndexBuild, runIndexInspect, runIndexOptout } from './commands/index-commands.js';
import { runShardedIndexBuild } from './commands/index-shards.js';
import { type MatchCommandOptions, runMatch } from './commands/match.js';
import { runServe, type ServeCommandOptions } from './commands/serve.js';
import { describeError, ExitCode, exitCodeOf, signalExitCode } from './exit.js';

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
    .requiredOption('--upload <file>', 'the advertiser upload CSV')
    .requiredOption('--country <cc>', 'ISO 3166-1 alpha-2 default country for national numbers, e.g. GB')
    .requiredOption('--out <file>', 'audience file to write (not written if suppressed)')
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
    .option('--phone-column <header>', 'header of the phone column (default: detected)')
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
    .description('build a binary index file from a phone,user_id,opted_out CSV')
    .argument('<csv>', 'source CSV')
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
    .addOption(new Option('--test-hold-job <n>').hideHelp())
    .action(async (opts: ServeCommandOptions) => {
      state.exitCode = await runServe(opts, signal);
    });
  return program;
}

/**
 * Runs the CLI with `argv` (as process.argv) and returns the exit code. Never throws: every
 * failure becomes one line on stderr and a code (0 ok, 1 internal, 2 bad input, 3 suppressed).
 */
export async function main(argv: readonly string[]): Promise<number> {
  const controller = new AbortController();
  const state = { exitCode: ExitCode.OK as number };
  /** The signal that stopped the run: its exit code is 128 + its number, whatever the command. */
  let stoppedBy: NodeJS.Signals | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (controller.signal.aborted) return;
    stoppedBy = sig;
    process.stderr.write(`\nrollcall: ${sig}: stopping; partial outputs removed\n`);
    controller.abort();
    // If the job does not wind down promptly, remove temp files and leave anyway.
    setTimeout(() => {
      removePendingTempFiles();
      process.exit(signalExitCode(sig));
    }, 3000).unref();
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
