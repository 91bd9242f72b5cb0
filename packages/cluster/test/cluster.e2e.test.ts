/**
 * The cluster end to end, with real processes only: a `redis-server` with a password, shard
 * workers (`rollcall serve`, 4 shards × 2 replicas) and `rollcall match --cluster`, all spawned
 * from the CLI. The cluster match must equal the local match on the unsharded index byte for
 * byte, also when a replica is killed holding a job; a shard nobody serves must fail after the
 * timeout and name the shard; nothing of a match may stay in Redis; the password is never printed.
 * Skipped (with a message) only when `redis-server` is not installed.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyOptOuts, openIndex, writeIndexFile } from '@rollcall/index';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeIndexCsv, writeUploadCsv } from '../../../fixtures/generate.js';
import {
  type CliProcess,
  dumpRedis,
  findRedisServer,
  runCli,
  startCli,
  startRedis,
  stopChild,
  type TestRedis,
} from './helpers.js';

/** Preloaded into a replica that must freeze mid-job (see the fixture). */
const HOLD_JOB = join(import.meta.dirname, 'fixtures/hold-job.ts');

const REDIS_SERVER = findRedisServer();
if (REDIS_SERVER === undefined) {
  console.warn(
    'cluster e2e tests SKIPPED: redis-server not found (apt-get install -y redis-server, or run .ci/run as root)',
  );
}

const SHARDS = 4;
const PASSWORD = 'pw-Sx7q-never-printed';
/** Audit fields (the exact counts) that must be the same for a local and a cluster match. */
const COUNTS = [
  'rows',
  'invalid',
  'valid',
  'unique',
  'matched',
  'opted_out_dropped',
  'audience',
  'invalid_by_reason',
  'match_rate',
  'suppressed',
] as const;
/** Fast failover for the test: a dead worker's job returns to the queue ~1.5 s after its last lock renewal. */
const FAST_FAILOVER = ['--lock-duration', '1500', '--stalled-interval', '300'];
/** A guard against a hung run on a loaded machine, not a timing claim. */
const HEAVY_MS = 180_000;

describe.skipIf(REDIS_SERVER === undefined)('rollcall match --cluster over BullMQ and Redis', () => {
  let dir: string;
  let redis: TestRedis;
  const workers: CliProcess[][] = Array.from({ length: SHARDS }, () => []);
  const everyProcess: CliProcess[] = [];
  let local: { audience: Buffer; report: Record<string, unknown>; audit: Record<string, unknown> };

  const shardFile = (i: number) => join(dir, `idx.shard-${i}-of-${SHARDS}.idx`);

  /** Starts a replica of `shard`; `holdJob`: it freezes on its n-th job (fixtures/hold-job.ts). */
  async function serve(shard: number, extra: string[] = [], holdJob?: number): Promise<CliProcess> {
    const p = startCli(
      ['serve', '--shard', String(shard), '--index', shardFile(shard), ...FAST_FAILOVER, ...extra],
      {
        ROLLCALL_REDIS_URL: redis.url,
        ...(holdJob !== undefined ? { ROLLCALL_TEST_HOLD_JOB: String(holdJob) } : {}),
      },
      holdJob !== undefined ? ['--import', HOLD_JOB] : [],
    );
    everyProcess.push(p);
    await p.waitForOutput(/serving shard/);
    return p;
  }

  /** Stops a worker gracefully (SIGTERM): it must finish, deregister and exit 0. */
  async function stopGracefully(p: CliProcess): Promise<void> {
    p.child.kill('SIGTERM');
    const { status } = await p.exited;
    expect(status).toBe(0);
    expect(p.stdout()).toMatch(/stopped after answering \d+ probe jobs/);
  }

  function matchArgs(name: string, extra: string[] = []): string[] {
    return [
      'match',
      '--cluster',
      `redis://127.0.0.1:${redis.port}`,
      '--upload',
      join(dir, 'upload.csv'),
      '--country',
      'GB',
      '--out',
      join(dir, `${name}.audience`),
      '--report',
      join(dir, `${name}.json`),
      '--audit',
      join(dir, `${name}.audit.json`),
      '--quiet',
      ...extra,
    ];
  }

  /** Runs a cluster match; the password comes from the environment, never the command line. */
  function startMatch(name: string, extra: string[] = []): CliProcess {
    const p = startCli(matchArgs(name, extra), { ROLLCALL_REDIS_PASSWORD: PASSWORD });
    everyProcess.push(p);
    return p;
  }

  async function expectSameAsLocal(name: string): Promise<void> {
    expect(readFileSync(join(dir, `${name}.audience`))).toEqual(local.audience);
    const report = JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8'));
    const audit = JSON.parse(readFileSync(join(dir, `${name}.audit.json`), 'utf8'));
    for (const key of COUNTS) expect({ key, value: audit[key] }).toEqual({ key, value: local.audit[key] });
    expect(report.index.entries).toBe((local.report.index as { entries: number }).entries);
  }

  /** Nothing of any match is left in Redis: no job, no payload, no answer, no marker. */
  async function expectNoMatchDataLeft(): Promise<void> {
    const dump = await dumpRedis(redis.client);
    for (const [key, value] of dump) {
      // Queue bookkeeping (no job data), and live workers' registrations.
      expect(key).toMatch(
        /^rollcall:(shard-\d+-of-\d+:(events|id|meta|stalled-check|marker|stalled)|replica:.+|ledger:(secret|adv:[\w-]+))$/,
      );
      expect(value).not.toMatch(/"keys"|"found"|"ids"|"data"/);
      if (key.endsWith(':events')) expect(value).not.toMatch(/returnvalue","(?!null")/);
    }
  }

  /** The local match on the unsharded index, by the CLI: what every cluster match must equal. */
  async function matchLocally(
    name: string,
  ): Promise<{ audience: Buffer; report: Record<string, unknown>; audit: Record<string, unknown> }> {
    const r = await runCli([
      'match',
      '--index',
      join(dir, 'whole.idx'),
      '--upload',
      join(dir, 'upload.csv'),
      '--country',
      'GB',
      '--out',
      join(dir, `${name}.audience`),
      '--report',
      join(dir, `${name}.json`),
      '--audit',
      join(dir, `${name}.audit.json`),
      '--quiet',
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    return {
      audience: readFileSync(join(dir, `${name}.audience`)),
      report: JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')),
      audit: JSON.parse(readFileSync(join(dir, `${name}.audit.json`), 'utf8')),
    };
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rollcall-cluster-'));
    await writeIndexCsv(join(dir, 'index.csv'), 10_000, 11);
    // 4 upload batches (8192 rows each): every shard gets several jobs.
    await writeUploadCsv(join(dir, 'upload.csv'), 25_000, join(dir, 'index.csv'), 'GB', 12, 0.5);
    await writeIndexFile(join(dir, 'index.csv'), join(dir, 'whole.idx'));
    // The local match runs while the cluster comes up.
    const localDone = matchLocally('local');
    const built = await runCli([
      'index',
      'build',
      join(dir, 'index.csv'),
      '-o',
      join(dir, 'idx'),
      '--shards',
      String(SHARDS),
    ]);
    expect(built.stderr).toBe('');
    expect(built.status).toBe(0);
    for (let i = 0; i < SHARDS; i++) expect(built.stdout).toContain(shardFile(i));
    redis = await startRedis(REDIS_SERVER!, PASSWORD);
    // Two replicas of every shard, started together.
    const started = await Promise.all(
      Array.from({ length: SHARDS * 2 }, (_, k) => serve(k % SHARDS).then((p) => ({ shard: k % SHARDS, p }))),
    );
    for (const { shard, p } of started) workers[shard]!.push(p);
    local = await localDone;
  }, HEAVY_MS);

  afterAll(async () => {
    await Promise.all(everyProcess.map((p) => stopChild(p.child, 'SIGKILL')));
    await redis?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test(
    'each shard file says its shard, and the shards hold the whole index',
    async () => {
      let entries = 0;
      for (let i = 0; i < SHARDS; i++) {
        const { header } = await openIndex(shardFile(i));
        expect([header.shard, header.shardCount, header.hashSeed]).toEqual([i, SHARDS, 0]);
        entries += header.entries;
      }
      expect(entries).toBe(10_000);
    },
    HEAVY_MS,
  );

  test(
    '4 shards × 2 replicas: the audience is byte-identical to the local match, the counts equal',
    async () => {
      const m = startMatch('cluster');
      const { status } = await m.exited;
      expect(m.stderr()).toBe('');
      expect(status).toBe(0);
      await expectSameAsLocal('cluster');
      await expectNoMatchDataLeft();
    },
    HEAVY_MS,
  );

  test(
    'a replica killed (SIGKILL) while holding a job: another replica takes it over, the match is exact',
    async () => {
      // Shard 1 is served by one replica that freezes on its first job, holding the job's lock.
      await Promise.all(workers[1]!.map((p) => stopGracefully(p)));
      const doomed = await serve(1, ['--concurrency', '1'], 1);
      const m = startMatch('failover');
      await doomed.waitForOutput(/holding job/);
      // A second replica comes up, then the first dies mid-job. Only BullMQ's stalled-job check can
      // give the held job back: nothing else re-sends it.
      const rescuer = await serve(1);
      await stopChild(doomed.child, 'SIGKILL');
      expect(doomed.child.signalCode).toBe('SIGKILL');
      workers[1] = [rescuer];
      const { status } = await m.exited;
      expect(m.stderr()).toBe('');
      expect(status).toBe(0);
      await expectSameAsLocal('failover');
      await expectNoMatchDataLeft();
    },
    HEAVY_MS,
  );

  test(
    'an opt-out applied to the shard files reaches every replica (they reload), and the match follows',
    async () => {
      // Opt out 400 numbers that were not: apply the same changes to the unsharded index and every shard.
      const rows = readFileSync(join(dir, 'index.csv'), 'utf8').trim().split('\n').slice(1);
      const phones = rows
        .filter((r) => r.endsWith(',false'))
        .slice(0, 400)
        .map((r) => r.split(',')[0]);
      const changes = join(dir, 'optout.csv');
      writeFileSync(changes, `phone,opted_out\n${phones.map((p) => `${p},true`).join('\n')}\n`);
      await applyOptOuts(join(dir, 'whole.idx'), changes);
      // One run given any shard file updates every shard of the index (a user's numbers may sit
      // in several shards, and an opt-out is the person's); the shards it rewrote are the touched ones.
      const written = (await applyOptOuts(shardFile(0), changes)).filesWritten;
      const touched: number[] = [];
      for (let i = 0; i < SHARDS; i++) if (written.includes(shardFile(i))) touched.push(i);
      expect(touched.length).toBeGreaterThan(0);
      for (const i of touched) for (const p of workers[i]!) await p.waitForOutput(/reloaded/);
      // The local match on the updated index and the cluster match, side by side.
      const m = startMatch('optout');
      const before = local.audience;
      local = await matchLocally('local2');
      // The change matters to this upload, so the comparison below can see a stale replica.
      expect(local.audience.length).toBeLessThan(before.length);
      expect((await m.exited).status).toBe(0);
      await expectSameAsLocal('optout');
    },
    HEAVY_MS,
  );

  test(
    'no live worker for a shard: exit 1 after --cluster-timeout, naming the shard; no audience, no job left',
    async () => {
      await Promise.all(workers[2]!.map((p) => stopGracefully(p)));
      workers[2] = [];
      const m = startMatch('orphan', ['--cluster-timeout', '3']);
      const { status } = await m.exited;
      expect(status).toBe(1);
      expect(m.stderr()).toMatch(
        /^rollcall: shard 2 of 4 answered nothing for 3 s .*rollcall serve --shard 2.*\[ERR_WORKER_FAILED\]\n$/,
      );
      expect(m.stderr()).not.toMatch(/^\s+at /m);
      expect(existsSync(join(dir, 'orphan.audience'))).toBe(false);
      expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
      await expectNoMatchDataLeft();
    },
    HEAVY_MS,
  );

  test(
    'a wrong password is a clear error that never shows the password',
    async () => {
      const r = await runCli([
        'match',
        '--cluster',
        `redis://:wrong-${PASSWORD}@127.0.0.1:${redis.port}`,
        ...matchArgs('bad').slice(3),
        '--cluster-timeout',
        '2',
      ]);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(
        /Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ .*WRONGPASS.*\[ERR_WORKER_FAILED\]/,
      );
      expect(r.stderr).not.toContain(PASSWORD);
    },
    HEAVY_MS,
  );

  test(
    'a worker refuses a file of another shard (exit 2), and a bad URL (exit 2)',
    async () => {
      const r = await runCli(['serve', '--shard', '1', '--index', shardFile(0), '--redis', redis.url]);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/holds shard 0 of 4, not shard 1 \[ERR_INVALID_ARGUMENT\]/);
      const u = await runCli([
        'serve',
        '--shard',
        '1',
        '--index',
        shardFile(1),
        '--redis',
        `http://:${PASSWORD}@h`,
      ]);
      expect(u.status).toBe(2);
      expect(u.stderr).toMatch(/--redis: must be a redis:\/\/ or rediss:\/\/ URL/);
      expect(u.stderr).not.toContain(PASSWORD);
    },
    HEAVY_MS,
  );

  test(
    'the password was never printed by any process',
    () => {
      for (const p of everyProcess) {
        expect(p.stdout()).not.toContain(PASSWORD);
        expect(p.stderr()).not.toContain(PASSWORD);
      }
      expect(workers[0]![0]!.stdout()).toContain('redis://:***@127.0.0.1');
    },
    HEAVY_MS,
  );
});
