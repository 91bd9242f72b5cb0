/**
 * The options a thread starts with: table-driven over parent options × source or dist, and checked
 * against Node itself, which refuses a whole thread for one option it does not take there.
 */
import { Worker } from 'node:worker_threads';
import { describe, expect, test } from 'vitest';
import { fallbackExecArgv, threadExecArgv } from '../src/exec-argv.js';

const TSX_CLI = [
  '--require',
  '/repo/node_modules/.pnpm/tsx@4.23.15/node_modules/tsx/dist/preflight.cjs',
  '--import',
  'file:///repo/node_modules/.pnpm/tsx@4.23.15/node_modules/tsx/dist/loader.mjs',
];

describe('threadExecArgv', () => {
  test.each<[string, string[], boolean, string[] | undefined]>([
    ['dist, no options: inherit', [], false, undefined],
    // Inherited, Node drops what a thread cannot take: the case of `node --max-old-space-size=512 rollcall …`.
    ['dist, a V8 flag: inherit', ['--max-old-space-size=512', '--enable-source-maps'], false, undefined],
    [
      'dist under `--import tsx`: the loader, the source condition and V8 flags left out',
      ['--conditions=source', '--import', 'tsx', '--max-old-space-size=512', '--enable-source-maps'],
      false,
      ['--enable-source-maps'],
    ],
    [
      'dist under the tsx CLI: its loader left out',
      [...TSX_CLI, '--stack-size=2000', '--no-warnings'],
      false,
      ['--no-warnings'],
    ],
    [
      'dist under `--import=tsx` and `-r tsx/cjs`',
      ['--import=tsx', '-r', 'tsx/cjs', '--trace-warnings'],
      false,
      ['--trace-warnings'],
    ],
    [
      'source with loader and condition: inherit',
      ['--conditions=source', '--import', 'tsx'],
      true,
      undefined,
    ],
    [
      'source, other spellings: inherit',
      ['--import=tsx', '-C', 'source', '--max-old-space-size=512'],
      true,
      undefined,
    ],
    [
      'source under the tsx CLI with the condition: inherit',
      [...TSX_CLI, '--conditions', 'source'],
      true,
      undefined,
    ],
    ['source, no options: loader and condition added', [], true, ['--import', 'tsx', '--conditions=source']],
    [
      'source, refused options left out (with a separate value), accepted ones kept',
      [
        '--max-old-space-size=512',
        '--title',
        'rollcall',
        '--enable-source-maps',
        '--expose_gc',
        '--no-opt',
        '--no-warnings',
      ],
      true,
      ['--enable-source-maps', '--no-warnings', '--import', 'tsx', '--conditions=source'],
    ],
    [
      'source, another condition: the source condition added beside it',
      ['--conditions=development'],
      true,
      ['--conditions=development', '--import', 'tsx', '--conditions=source'],
    ],
    [
      'source, the loader without the condition',
      ['--import', 'tsx'],
      true,
      ['--import', 'tsx', '--conditions=source'],
    ],
  ])('%s', (_, parent, fromSource, expected) => {
    expect(threadExecArgv(parent, fromSource)).toEqual(expected);
  });
});

describe('fallbackExecArgv: only what the entry cannot run without', () => {
  test.each<[string, string[], boolean, string[]]>([
    ['dist: nothing', ['--import', 'tsx', '--stress-compaction'], false, []],
    [
      'source: the parent loader and condition',
      [...TSX_CLI, '--stress-compaction', '-C', 'source'],
      true,
      [...TSX_CLI, '-C', 'source'],
    ],
    [
      'source: added when missing',
      ['--stress-compaction', '--enable-source-maps'],
      true,
      ['--import', 'tsx', '--conditions=source'],
    ],
  ])('%s', (_, parent, fromSource, expected) => {
    expect(fallbackExecArgv(parent, fromSource)).toEqual(expected);
  });
});

/** True when Node refuses `option` in a thread's execArgv (the Worker constructor throws). */
async function refusedByNode(option: string): Promise<boolean> {
  let worker: Worker;
  try {
    worker = new Worker('', { eval: true, execArgv: [option], stdout: true, stderr: true });
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_WORKER_INVALID_EXEC_ARGV') return true;
    throw err;
  }
  // Empty code: the thread exits by itself.
  await new Promise((resolve) => worker.once('exit', resolve));
  return false;
}

describe('the filter agrees with Node', () => {
  const REFUSED = [
    '--max-old-space-size=512',
    '--max-semi-space-size=16',
    '--stack-size=2000',
    '--stack-trace-limit=20',
    '--expose-gc',
    '--expose_gc',
    '--jitless',
    '--title=rollcall',
    '--abort-on-uncaught-exception',
    '--harmony',
    '--v8-pool-size=2',
    '--perf-basic-prof',
    '--prof',
    '--huge-max-old-generation-size',
    '--random-seed=1',
    '--trace-gc',
    '--trace-deopt',
    '--predictable',
    '--disallow-code-generation-from-strings',
    '--zero-fill-buffers',
    '--use-openssl-ca',
    '--no-opt',
    '--max-lazy',
  ];
  const ACCEPTED = [
    '--enable-source-maps',
    '--no-warnings',
    '--trace-warnings',
    '--conditions=source',
    '--no-deprecation',
    '--pending-deprecation',
    '--unhandled-rejections=strict',
    '--trace-uncaught',
    '--preserve-symlinks',
    '--max-http-header-size=16384',
    '--experimental-vm-modules',
  ];

  test('what it leaves out, a thread refuses; what it keeps, a thread takes', async () => {
    for (const option of [...REFUSED, ...ACCEPTED]) {
      const kept = threadExecArgv([option], true)!.includes(option);
      expect({ option, kept }).toEqual({ option, kept: !(await refusedByNode(option)) });
    }
  });
});
