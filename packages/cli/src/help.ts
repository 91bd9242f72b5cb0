import { VERSION } from '@rollcall/join/version';
import { type Command, Help, type Option } from 'commander';

/**
 * What `--help` shows beyond the options: an example per command and the exit codes it can end
 * with. Kept apart from the command tree so that the options' definitions stay readable. Keyed by
 * the command's path (`index build`).
 */
const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  '': [
    'rollcall index build platform.csv -o platform.idx',
    'rollcall match --index platform.idx --upload customers.csv --country GB \\\n      --out customers.audience --report report.json --advertiser acme',
  ],
  match: [
    'rollcall match --index platform.idx --upload customers.csv --country GB \\\n      --out customers.audience --report report.json --advertiser acme',
    'gunzip -c export.csv.gz | rollcall match --index platform.idx --upload - --country KE \\\n      --out export.audience --rejects rejects.csv --report-html report.html',
    'rollcall match --cluster redis://redis:6379 --upload customers.csv --country GB --out customers.audience',
    'rollcall match --index platform.idx --upload crm-export.csv --country GB --strict \\\n      --phone-column Phone --phone-column Mobile --country-column Country --out crm.audience',
    'rollcall match --index platform.idx --upload meta-session/ --out session.audience   # Meta payload files',
  ],
  index: ['rollcall index build platform.csv -o platform.idx', 'rollcall index inspect platform.idx'],
  'index build': [
    'rollcall index build platform.csv -o platform.idx --with-sha256',
    'rollcall index build postgresql://db.internal/platform \\\n      --query "SELECT phone, user_id, opted_out FROM users" -o platform.idx',
    'rollcall index build platform.csv -o shards/ --shards 4',
  ],
  'index update': [
    'rollcall index update platform.idx changes.csv',
    'rollcall index update platform.idx postgresql://db.internal/platform \\\n      --query "SELECT op, phone, user_id FROM changes_today"',
  ],
  'index optout': ['rollcall index optout platform.idx optouts.csv'],
  'index inspect': ['rollcall index inspect platform.idx --json'],
  audience: ['rollcall audience refresh audiences/*.audience --index platform.idx'],
  'audience refresh': [
    'rollcall audience refresh audiences/*.audience --index platform.idx',
    'rollcall audience refresh acme.audience --index platform.idx --out acme.today.audience',
  ],
  serve: [
    'ROLLCALL_REDIS_URL=redis://redis:6379 rollcall serve --shard 0 --index shards/platform.shard-0-of-4.idx',
  ],
};

/** Lines that a command's help adds under its options (match's options have an either/or rule). */
const NOTES: Readonly<Record<string, string>> = {
  match:
    'Required: --upload, --out, and one of --index or --cluster; --country too, unless the\nupload has a country column or is hashed.',
};

/** The commands that load the cluster's optional packages. */
const CLUSTER_COMMANDS = ['', 'match', 'serve'];

/** The exit codes, each with the commands that can end with it ('*': all). */
const EXIT_CODES: ReadonlyArray<readonly [code: string, meaning: string, commands: readonly string[]]> = [
  ['0', 'done', ['*']],
  ['1', 'internal failure: a bug, or a worker thread that could not finish the job', ['*']],
  ['2', 'bad arguments or bad input (the message names the option, or the file, line and column)', ['*']],
  [
    '3',
    'suppressed: the audience is smaller than --min-audience; no audience file is written',
    ['match', ''],
  ],
  ['4', "refused: the advertiser's privacy budget is spent (ERR_PRIVACY_BUDGET)", ['match', '']],
  [
    '130',
    'stopped by SIGINT (143: by SIGTERM) before the outputs were written; none was replaced',
    ['match', 'index build', 'index update', 'audience refresh', 'index', 'audience', ''],
  ],
];

/** What a code means for one command, where it differs from {@link EXIT_CODES}. */
function meaningFor(path: string, code: string, meaning: string): string {
  if (path === 'serve' && code === '0')
    return 'stopped by SIGINT or SIGTERM, once the jobs in hand were answered';
  if (code === '2' && CLUSTER_COMMANDS.includes(path)) {
    return `${meaning},\n       or the cluster's optional packages (bullmq, ioredis) are not installed (ERR_MISSING_DEPENDENCY)`;
  }
  return meaning;
}

/** A command's path below the program: `''`, `match`, `index build`. */
function pathOf(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function helpText(path: string): string {
  const examples = EXAMPLES[path] ?? [];
  const codes = EXIT_CODES.filter(([, , commands]) => commands.includes('*') || commands.includes(path));
  const lines: string[] = [];
  const note = NOTES[path];
  if (note !== undefined) lines.push('', note);
  lines.push('', examples.length > 1 ? 'Examples:' : 'Example:', ...examples.map((e) => `  $ ${e}`));
  lines.push(
    '',
    'Exit codes:',
    ...codes.map(([code, meaning]) => `  ${code.padEnd(4)} ${meaningFor(path, code, meaning)}`),
  );
  if (path === '') {
    lines.push(
      '',
      'Every output is written to a temporary file and renamed into place only once all are',
      "complete. The library: import { matchUpload, createMatcher } from 'rollcall'.",
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Option descriptions with `(required)` in front of the options a command cannot run without. */
const helpConfiguration = {
  optionDescription(option: Option): string {
    const text = Help.prototype.optionDescription.call(this, option);
    return option.mandatory ? `(required) ${text}` : text;
  },
};

/**
 * Adds `--version` to `program`, and to every command of its tree the help that a user reads
 * before anything else: `(required)` marks, examples and exit codes. Returns `program`.
 */
export function documentProgram(program: Command): Command {
  program.version(VERSION, '-V, --version', 'print the version of rollcall');
  const visit = (cmd: Command): void => {
    cmd.configureHelp(helpConfiguration);
    cmd.addHelpText('after', helpText(pathOf(cmd)));
    for (const sub of cmd.commands) visit(sub);
  };
  visit(program);
  return program;
}
