/**
 * Faults through the CLI: a worker that dies or fails, a signal in the middle of a match or an
 * index build, a full or read-only disk. Nothing is lost (a crash still gives the exact audience),
 * nothing is half-written (no temp file survives, an existing output is never touched), and the
 * same upload gives the same bytes whatever the thread count.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import {
  type ExpectedOutcome,
  expectedOutcome,
  makePlatform,
  matchArgs,
  type Platform,
  parseCsv,
  platformUpload,
  readJsonOutput,
  readOutput,
  removeScratchDirs,
  rollcallInProcess,
  rollcallStart,
  STACK_TRACE_LINE,
  scratchDir,
  tempFilesIn,
  waitFor,
} from './helpers.js';

// The join pool's threads run the faulty fixture, which injects what ROLLCALL_TEST_FAULTS asks for
// (and passes every task through when it is unset): no fault hook lives in the product.
vi.mock('../../threads/src/index.ts', async (original) =>
  (await import('../../join/test/fixtures/faults.js')).withFaultyJoinWorker(original),
);

afterAll(removeScratchDirs);

let platform: Platform;
/** A messy upload of 20,000 rows: three batches of the default 8,192, so batches run in parallel. */
let upload: string;
let expected: ExpectedOutcome;

beforeAll(async () => {
  platform = await makePlatform({ entries: 2000, seed: 41 });
  const made = await platformUpload(platform, 20_000, 42);
  upload = made.path;
  const cells = parseCsv(made.lines.slice(1).join('\n')).map((row) => row[1]!);
  expected = await expectedOutcome(platform.entries, cells, 'GB');
  expect(expected.rows).toBe(20_000);
  expect(expected.audience).toBeGreaterThan(1000);
});

/** The match of the messy upload (or `source`) into `dir`, on `threads` threads (null: one per core). */
const argsOf = (dir: string, threads: number | null = null, source = upload): string[] =>
  matchArgs({ index: platform.indexFile, upload: source, dir, threads });

/** Puts yesterday's outputs in `dir`, and returns a check that they are still byte for byte the same. */
function yesterdaysOutputs(dir: string): () => void {
  const before = new Map<string, string>();
  for (const name of ['audience.txt', 'report.json', 'rejects.csv']) {
    const text = `yesterday's ${name}\n`;
    writeFileSync(join(dir, name), text);
    before.set(name, text);
  }
  return () => {
    for (const [name, text] of before)
      expect({ name, text: readFileSync(join(dir, name), 'utf8') }).toEqual({ name, text });
    expect(tempFilesIn(dir)).toEqual([]);
  };
}

describe('worker faults, through the CLI (the join threads run the faulty fixture)', () => {
  test('a worker that dies on batch 1: the batch is retried and the audience is exact', async () => {
    const dir = scratchDir();
    const r = await rollcallInProcess(argsOf(dir, 2), {
      env: { ROLLCALL_TEST_FAULTS: '{"crashOnSeq":1}' },
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readOutput(dir, 'audience')).toBe(expected.audienceText);
    const report = readJsonOutput(dir, 'audit'); // exact: the operator's audit
    expect([
      report.rows,
      report.invalid,
      report.valid,
      report.unique,
      report.matched,
      report.audience,
    ]).toEqual([
      expected.rows,
      expected.invalid,
      expected.valid,
      expected.unique,
      expected.matched,
      expected.audience,
    ]);
  });

  test('a batch that fails on every attempt: exit 1, one coded line, and no output touched', async () => {
    const dir = scratchDir();
    const unchanged = yesterdaysOutputs(dir);
    const r = await rollcallInProcess(argsOf(dir, 2), {
      env: { ROLLCALL_TEST_FAULTS: '{"failOnSeq":1}' },
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe(
      'rollcall: a join worker failed on batch 1 3 times; no audience was written [ERR_WORKER_FAILED]\n',
    );
    unchanged();
  });
});

describe('signals', () => {
  let big: string;
  let bigIndexCsv: string;

  beforeAll(() => {
    // A million rows, built by repeating the messy upload: far more work than the time a signal takes.
    const body = readFileSync(upload, 'utf8');
    const rows = body.slice(body.indexOf('\n') + 1);
    big = join(platform.dir, 'big.csv');
    writeFileSync(big, `${body.slice(0, body.indexOf('\n') + 1)}${rows.repeat(50)}`);
    // An index source of a million distinct numbers (+447400000000 + i): a build of many seconds.
    bigIndexCsv = join(platform.dir, 'big-index.csv');
    let text = 'phone,user_id,opted_out\n';
    for (let i = 0; i < 1_000_000; i++) text += `+4474${String(i).padStart(8, '0')},${i + 1},false\n`;
    writeFileSync(bigIndexCsv, text);
  });

  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    test(`${signal} during a match: exit ${code}, workers stopped, temp files removed, old outputs intact`, async () => {
      const dir = scratchDir();
      const unchanged = yesterdaysOutputs(dir);
      const run = rollcallStart(argsOf(dir, 2, big));
      // Started for real: the rejects temp file has rows in it, so batches are being joined.
      await waitFor(() => {
        const temp = tempFilesIn(dir).find((f) => f.startsWith('.rejects.csv.'));
        return temp !== undefined && statSync(join(dir, temp)).size > 1000;
      }, 'the match to start');
      run.child.kill(signal);
      const r = await run.done;
      expect(r.status).toBe(code);
      // The job wound down on its own, through the AbortSignal given to the upload reader and the
      // pool (the 3 s fallback prints its own line instead): "reading aborted" or "the match was cancelled".
      expect(r.stderr).toContain(`rollcall: ${signal}: stopping\n`);
      expect(r.stderr).toMatch(/(reading aborted|the match was cancelled) \[ERR_ABORTED\]\n$/);
      expect(r.stderr).not.toMatch(STACK_TRACE_LINE);
      unchanged();
      expect(readdirSync(dir).sort()).toEqual(['audience.txt', 'rejects.csv', 'report.json']);
    });
  }

  test('SIGTERM during an index build: exit 143, no temp file, the existing index intact', async () => {
    const dir = scratchDir();
    const out = join(dir, 'platform.idx');
    writeFileSync(out, 'yesterday');
    const run = rollcallStart(['index', 'build', bigIndexCsv, '-o', out]);
    await waitFor(() => tempFilesIn(dir).length > 0, 'the build to start');
    run.child.kill('SIGTERM');
    const r = await run.done;
    expect(r.status).toBe(143);
    // The build checks its signal every 65,536 rows; whether it stops there or the CLI's fallback
    // stops it first (on a busy machine), the outcome is the same: no temp file, the old index kept.
    expect(r.stderr).toContain('rollcall: SIGTERM: stopping\n');
    expect(r.stderr).not.toMatch(STACK_TRACE_LINE);
    expect(readdirSync(dir)).toEqual(['platform.idx']);
    expect(readFileSync(out, 'utf8')).toBe('yesterday');
  });
});

describe('disk full, read-only, unwritable', () => {
  // A 64 KiB tmpfs is a full disk on demand. Mounting needs root (CAP_SYS_ADMIN): skipped otherwise.
  const mounts: string[] = [];
  const mount = (options: string): string | undefined => {
    const dir = scratchDir('rollcall-mnt-');
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
    if (r.status !== 0) return undefined;
    mounts.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of mounts) spawnSync('umount', [dir]);
  });

  test('the rejects file fills the disk mid-match: exit 2 naming it, nothing half-written, old files intact', async (ctx) => {
    const full = mount('size=64k');
    if (full === undefined) return ctx.skip('cannot mount a tmpfs here (needs root)');
    writeFileSync(join(full, 'rejects.csv'), 'old\n');
    const r = await rollcallInProcess(argsOf(full, 1));
    // 20,000 rows hold ~1,600 rejects (~50 KiB) and an audience of ~100 KiB: one of them cannot fit.
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      new RegExp(
        `^rollcall: ${full}/\\S+: cannot write output file: no space left on device \\[ERR_IO\\]\\n$`,
      ),
    );
    expect(readdirSync(full)).toEqual(['rejects.csv']);
    expect(readOutput(full, 'rejects')).toBe('old\n');
  });

  test('an index build that fills the disk: exit 2, no partial index', async (ctx) => {
    const full = mount('size=64k');
    if (full === undefined) return ctx.skip('cannot mount a tmpfs here (needs root)');
    // 10,000 entries make a ~230 KiB index: it cannot fit.
    const source = join(scratchDir(), 'ten-thousand.csv');
    let text = 'phone,user_id,opted_out\n';
    for (let i = 0; i < 10_000; i++) text += `+4474${String(i).padStart(8, '0')},${i + 1},false\n`;
    writeFileSync(source, text);
    const r = await rollcallInProcess(['index', 'build', source, '-o', join(full, 'p.idx')]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/p\.idx: cannot write output file: no space left on device \[ERR_IO\]\n$/);
    expect(readdirSync(full)).toEqual([]);
  });

  test('a read-only file system, or a missing directory: exit 2 before any work, nothing written', async (ctx) => {
    const ro = mount('ro,size=64k');
    if (ro === undefined) return ctx.skip('cannot mount a tmpfs here (needs root)');
    const ok = scratchDir();
    const cases: Array<[string[], RegExp]> = [
      [['--out', join(ro, 'a.txt')], /a\.txt: cannot create output file: read-only file system/],
      [['--rejects', join(ro, 'r.csv')], /r\.csv: cannot create output file: read-only file system/],
      [['--report', join(ok, 'missing', 'r.json')], /r\.json: cannot create output file: does not exist/],
    ];
    for (const [override, why] of cases) {
      const args = argsOf(ok);
      for (let i = 0; i < override.length; i += 2) args[args.indexOf(override[i]!) + 1] = override[i + 1]!;
      const r = await rollcallInProcess(args);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(why);
      expect(readdirSync(ok)).toEqual([]);
    }
    const build = await rollcallInProcess(['index', 'build', platform.indexCsv, '-o', join(ro, 'p.idx')]);
    expect(build.status).toBe(2);
    expect(build.stderr).toMatch(/read-only file system \[ERR_IO\]/);
  });
});

describe('determinism', () => {
  test('the same upload gives byte-identical audience, rejects and report for --threads 1, 2 and 3', async () => {
    const runs = [];
    for (const threads of [1, 2, 3]) {
      const dir = scratchDir();
      const r = await rollcallInProcess(argsOf(dir, threads));
      expect(r.status).toBe(0);
      const { timings_ms: _t, rows_per_second: _r, threads: _n, ...report } = readJsonOutput(dir, 'report');
      runs.push({
        audience: readOutput(dir, 'audience'),
        rejects: readOutput(dir, 'rejects'),
        report: { ...report, upload: { ...report.upload, file: null } },
      });
    }
    expect(runs[0]!.audience).toBe(expected.audienceText);
    for (const r of runs.slice(1)) expect(r).toEqual(runs[0]);
  });
});
