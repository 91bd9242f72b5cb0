import { removePendingTempFiles } from '@rollcall/files';
import { Command, CommanderError, Option } from 'commander';
import { runIndexBuild, runIndexInspect, runIndexOptout } from './commands/index-commands.js';
import { type MatchCommandOptions, runMatch } from './commands/match.js';
import { describeError, ExitCode, exitCodeOf } from './exit.js';

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
    .requiredOption('--index <file>', 'built index file, or its phone,user_id,opted_out CSV source')
    .requiredOption('--upload <file>', 'the advertiser upload CSV')
    .requiredOption('--country <cc>', 'ISO 3166-1 alpha-2 default country for national numbers, e.g. GB')
    .requiredOption('--out <file>', 'audience file to write (not written if suppressed)')
    .option('--report <file>', 'write the match report as JSON')
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
    .requiredOption('-o, --out <file>', 'index file to write')
    .option('--skip-invalid', 'skip and count bad rows instead of failing')
    .option('--with-sha256', 'add a SHA-256 section so pre-hashed uploads can match')
    .option('-q, --quiet', 'print nothing but errors')
    .action(async (csv: string, opts) => {
      state.exitCode = await runIndexBuild(csv, opts, signal);
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
  return program;
}

/**
 * Runs the CLI with `argv` (as process.argv) and returns the exit code. Never throws: every
 * failure becomes one line on stderr and a code (0 ok, 1 internal, 2 bad input, 3 suppressed).
 */
export async function main(argv: readonly string[]): Promise<number> {
  const controller = new AbortController();
  const state = { exitCode: ExitCode.OK as number };
  const onSignal = (sig: NodeJS.Signals): void => {
    if (controller.signal.aborted) return;
    process.stderr.write(`\nrollcall: ${sig}: stopping; partial outputs removed\n`);
    controller.abort();
    // If the job does not wind down promptly, remove temp files and leave anyway.
    setTimeout(() => {
      removePendingTempFiles();
      process.exit(sig === 'SIGINT' ? ExitCode.INTERRUPTED : 143);
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
    return exitCodeOf(err);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
