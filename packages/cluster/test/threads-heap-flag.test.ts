/**
 * `node --max-old-space-size=512 rollcall match --cluster …` starts its normalising threads: the
 * coordinator's pool once handed its threads node's own options whole, and a thread refuses V8
 * flags there (ERR_WORKER_INVALID_EXEC_ARGV), so every cluster match under that flag failed. Real
 * processes: a `redis-server`, one `rollcall serve`, and the match by the CLI, built and from
 * source. Skipped (with a message) only when `redis-server` is not installed.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type CliProcess,
  findRedisServer,
  ROOT,
  runCli,
  startCli,
  startRedis,
  stopChild,
  type TestRedis,
} from './helpers.js';

const REDIS_SERVER = findRedisServer();
if (REDIS_SERVER === undefined) {
  console.warn('cluster heap-flag tests SKIPPED: redis-server not found (apt-get install -y redis-server)');
}

const PASSWORD = 'pw-heap-flag-never-printed';
const HEAP_FLAG = '--max-old-space-size=512';
const BUILT_BIN = join(ROOT, 'packages/cli/dist/bin.js');
/** A guard against a hung run on a loaded machine, not a timing claim. */
const HEAVY_MS = 180_000;

/** Runs `node --max-old-space-size=512`, the CLI `cli` and its `args`. */
async function runWithHeapFlag(
  cli: readonly string[],
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ status: number | null; stderr: string }> {
  const child = spawn(process.execPath, [HEAP_FLAG, ...cli, ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { status, stderr };
}

describe.skipIf(REDIS_SERVER === undefined)(`node ${HEAP_FLAG} rollcall match --cluster`, () => {
  let dir: string;
  let redis: TestRedis;
  let worker: CliProcess | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rollcall-cluster-heap-'));
    const built = await runCli([
      'index',
      'build',
      join(ROOT, 'fixtures/sample/index.csv'),
      '-o',
      join(dir, 'idx'),
      '--shards',
      '1',
      '--quiet',
    ]);
    expect(built.stderr).toBe('');
    expect(built.status).toBe(0);
    redis = await startRedis(REDIS_SERVER!, PASSWORD);
    worker = startCli(['serve', '--shard', '0', '--index', join(dir, 'idx.shard-0-of-1.idx')], {
      ROLLCALL_REDIS_URL: redis.url,
    });
    await worker.waitForOutput(/serving shard/);
  }, HEAVY_MS);

  afterAll(async () => {
    if (worker !== undefined) await stopChild(worker.child, 'SIGKILL');
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test.each([
    ['built', [BUILT_BIN]],
    ['from source', ['--conditions=source', '--import', 'tsx', join(ROOT, 'packages/cli/src/bin.ts')]],
  ])(
    'the CLI %s: the normalising threads start and the match is written',
    async (name, cli) => {
      if (name === 'built')
        expect(existsSync(BUILT_BIN), `${BUILT_BIN} is missing: run pnpm build`).toBe(true);
      const out = join(dir, `${name}.audience`);
      const r = await runWithHeapFlag(
        cli,
        [
          'match',
          '--cluster',
          `redis://127.0.0.1:${redis.port}`,
          '--upload',
          join(ROOT, 'fixtures/sample/upload.csv'),
          '--country',
          'GB',
          '--out',
          out,
          '--threads',
          '2',
          '--quiet',
        ],
        { ROLLCALL_REDIS_PASSWORD: PASSWORD },
      );
      expect(r).toEqual({ status: 0, stderr: '' });
      expect(statSync(out).size).toBeGreaterThan(0);
    },
    HEAVY_MS,
  );
});
