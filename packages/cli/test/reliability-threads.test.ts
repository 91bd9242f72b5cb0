/**
 * The thread pools start whatever options node itself was given: `node --max-old-space-size=512
 * rollcall …` once failed with ERR_WORKER_INVALID_EXEC_ARGV, because a thread is refused V8 flags
 * in the options it is handed. Each pool the CLI reaches without Redis is started here, by the real
 * CLI, built and from source: the join pool (`match --threads 2`) and the validity threads of an
 * index build (a source of the size from which a build starts them). The cluster's pool is covered
 * in packages/cluster/test/threads-heap-flag.test.ts (it needs Redis).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MIN_ROWS_FOR_VALIDITY_THREADS } from '../../index/src/build/options.js';
import { ROOT, removeScratchDirs, scratchDir } from './helpers.js';

const HEAP_FLAG = '--max-old-space-size=512';
const BUILT_BIN = join(ROOT, 'packages/cli/dist/bin.js');
const CLI: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['built', [BUILT_BIN]],
  ['from source', ['--conditions=source', '--import', 'tsx', join(ROOT, 'packages/cli/src/bin.ts')]],
];
/** A guard against a hung run on a loaded machine, not a timing claim. */
const HEAVY_MS = 180_000;

let dir: string;
let bigIndexCsv: string;

beforeAll(() => {
  dir = scratchDir('rollcall-threads-');
  // Distinct valid numbers (+447400000000 + i), as many as make a build start its validity threads.
  bigIndexCsv = join(dir, 'index.csv');
  const lines = ['phone,user_id,opted_out'];
  for (let i = 0; i < MIN_ROWS_FOR_VALIDITY_THREADS; i++) {
    lines.push(`+4474${String(i).padStart(8, '0')},${i + 1},false`);
  }
  writeFileSync(bigIndexCsv, `${lines.join('\n')}\n`);
});
afterAll(removeScratchDirs);

/** Runs `node --max-old-space-size=512`, the CLI `cli` and its `args`; what it printed on stderr. */
function run(cli: readonly string[], args: readonly string[]) {
  const r = spawnSync(process.execPath, [HEAP_FLAG, ...cli, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: HEAVY_MS,
  });
  return { status: r.status, signal: r.signal, stderr: r.stderr };
}

test('the built CLI exists (pnpm build)', () => {
  expect(existsSync(BUILT_BIN), `${BUILT_BIN} is missing: run pnpm build first`).toBe(true);
});

describe.each(CLI)(`node ${HEAP_FLAG}, the CLI %s`, (name, cli) => {
  test(
    'match --threads 2: the join pool starts and the match is written',
    () => {
      const out = join(dir, `${name}.audience`);
      const r = run(cli, [
        'match',
        '--index',
        'fixtures/sample/index.csv',
        '--upload',
        'fixtures/sample/upload.csv',
        '--country',
        'GB',
        '--out',
        out,
        '--threads',
        '2',
        '--quiet',
      ]);
      expect(r).toEqual({ status: 0, signal: null, stderr: '' });
      // Its size only: a failure message must not show user ids.
      expect(statSync(out).size).toBeGreaterThan(0);
    },
    HEAVY_MS,
  );

  test(
    'index build of a source large enough for validity threads: they start and the index is written',
    () => {
      const out = join(dir, `${name}.idx`);
      const r = run(cli, ['index', 'build', bigIndexCsv, '-o', out, '--quiet']);
      expect(r).toEqual({ status: 0, signal: null, stderr: '' });
      expect(statSync(out).size).toBeGreaterThan(0);
    },
    HEAVY_MS,
  );
});
