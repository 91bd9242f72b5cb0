/**
 * Scaling (issue 17, goal 3): `rollcall match` as a user runs it — the built CLI (`pnpm build`) in
 * a fresh process, counted whole: start-up, index load, read, normalise, join, dedupe, write — at
 * upload sizes from 100k to 20M rows against a 2M-entry index, and a 1M-row upload against indexes
 * of 1M to 50M entries (to 200M with `--max-index 200000000`: a 4.6 GB index). At each size it
 * reports rows/s of the whole process and of the match alone (the audit's join + finalize time),
 * the index load, and the process's peak RSS. Each ratio is against the 1M-row upload on the
 * 2M-entry index, run in the same rounds (every round runs every size once, in turn). The chart is
 * bench/results/scaling.svg (a full run only).
 *
 * The same rounds also run the plain pipeline (plain-pipeline.ts: fast-csv → libphonenumber-js →
 * Map, one thread, in its own process) on the base upload, for issue 17's goal 1: rollcall's whole
 * process against the plain pipeline's pass alone (its Map is built before, untimed), so the ratio
 * counts start-up, module loading and the index load against rollcall only.
 *
 * And the base upload pre-hashed (goal 7: each valid cell as its SHA-256 digest, `--hashed meta`)
 * against the base index built with its SHA-256 section, against the plain base point.
 *
 * Data (generated once, cached in fixtures/large/): dense UK-mobile indexes (`denseIndexRows`,
 * prefix-stable, so a smaller index is the start of a larger one) and messy uploads whose matches
 * come from the first 1M entries, so every index holds the same matches.
 *
 * Run directly: `node --conditions=source --import tsx bench/join/scaling.bench.ts [--quick] [--max-index N]`.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { hashPhoneHex, normalizePhone } from '@rollcall/phone';
import { denseIndexRows, uploadRows, writeDenseIndexCsv, writeLines } from '../../fixtures/generate.js';
import { type ScalingSeries, scalingChartSvg } from '../chart.js';
import { type BenchResult, machineFacts, type SuiteOptions } from '../result.js';
import { startPlainPipeline } from './plain-pipeline.js';

const SUITE = 'scaling';
const ROOT = join(import.meta.dirname, '../..');
const LARGE = join(ROOT, 'fixtures/large');
const BIN = join(ROOT, 'packages/cli/dist/bin.js');
const RESULTS = join(import.meta.dirname, '../results');
/** Writes the process's peak RSS (KiB) to `$ROLLCALL_BENCH_RSS_FILE` as it exits. */
const RSS_PROBE = `data:text/javascript,${encodeURIComponent(
  "import { writeFileSync } from 'node:fs';" +
    "process.on('exit', () => writeFileSync(process.env.ROLLCALL_BENCH_RSS_FILE, String(process.resourceUsage().maxRSS)));",
)}`;

/** The sizes of a run: uploads against the base index, indexes under the base upload. */
interface Plan {
  uploads: number[];
  indexes: number[];
  baseUpload: number;
  baseIndex: number;
  /** Index entries the uploads draw their matches from (the start of every index). */
  matchPool: number;
  rounds: number;
}

function plan(quick: boolean, maxIndex: number): Plan {
  if (quick) {
    return {
      uploads: [10_000, 40_000],
      indexes: [50_000, 100_000, 200_000],
      baseUpload: 40_000,
      baseIndex: 100_000,
      matchPool: 50_000,
      rounds: 1,
    };
  }
  return {
    uploads: [100_000, 1_000_000, 5_000_000, 20_000_000],
    indexes: [1_000_000, 2_000_000, 10_000_000, 50_000_000, 200_000_000].filter((n) => n <= maxIndex),
    baseUpload: 1_000_000,
    baseIndex: 2_000_000,
    matchPool: 1_000_000,
    rounds: 3,
  };
}

const fmt = (n: number): string => n.toLocaleString('en-US');
const short = (n: number): string =>
  n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1_000 ? `${n / 1_000}k` : String(n);

/** Runs the built CLI with `args` to its exit; throws with its stderr when it fails. */
function runCli(args: string[], env: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('exit', (code, signal) =>
      code === 0
        ? resolve()
        : reject(new Error(`rollcall ${args[args.indexOf(BIN) + 1]} exited ${code ?? signal}: ${stderr}`)),
    );
  });
}

const indexCsvOf = (entries: number): string => join(LARGE, `dense-index-${entries}.csv`);

/** The index of `entries` entries, built (once) by the CLI from its generated CSV; `withSha256` adds the SHA-256 section. */
async function indexFile(entries: number, withSha256 = false): Promise<string> {
  const csv = indexCsvOf(entries);
  const idx = join(LARGE, `dense-index-${entries}${withSha256 ? '-sha256' : ''}.idx`);
  if (!existsSync(idx)) {
    if (!existsSync(csv)) await writeDenseIndexCsv(csv, entries);
    await runCli([
      BIN,
      'index',
      'build',
      csv,
      '-o',
      idx,
      '--quiet',
      ...(withSha256 ? ['--with-sha256'] : []),
    ]);
    // The built file is what the bench reads; its source can be made again in seconds.
    if (entries > 10_000_000) rmSync(csv, { force: true });
  }
  return idx;
}

/** A messy upload of `rows` rows (generated once), half of its people drawn from the match pool. */
async function uploadFile(rows: number, matchPool: number): Promise<string> {
  const path = join(LARGE, `dense-upload-${rows}-of-${matchPool}.csv`);
  if (!existsSync(path)) {
    const phones: string[] = [];
    for (const line of denseIndexRows(matchPool)) {
      if (line.startsWith('+')) phones.push(line.slice(0, line.indexOf(',')));
    }
    await writeLines(path, uploadRows(rows, phones, 'GB', 7, 0.5));
  }
  return path;
}

/**
 * The upload at `plainPath` as an advertiser pre-hashes it (Meta's convention: SHA-256 hex of the
 * E.164 digits): each cell that normalises (default GB) becomes its digest, any other becomes
 * empty, so the rows and the people are the plain upload's.
 */
function hashedUploadFile(plainPath: string): string {
  const path = plainPath.replace(/\.csv$/, '-sha256.csv');
  if (!existsSync(path)) {
    const lines = readFileSync(plainPath, 'utf8').split('\n');
    const out = ['first_name,phone_sha256,email'];
    for (const line of lines.slice(1)) {
      if (line === '') continue;
      // uploadRows' lines: `custN,<cell, quoted when it must be>,custN@example.com`.
      const first = line.indexOf(',');
      const last = line.lastIndexOf(',');
      let cell = line.slice(first + 1, last);
      if (cell.startsWith('"')) cell = cell.slice(1, -1).replaceAll('""', '"');
      const phone = normalizePhone(cell, { defaultCountry: 'GB' });
      out.push(
        `${line.slice(0, first)},${phone.ok ? hashPhoneHex(phone.key, 'meta') : ''},${line.slice(last + 1)}`,
      );
    }
    writeFileSync(path, `${out.join('\n')}\n`);
  }
  return path;
}

/** One whole-process match: wall seconds, the match's own seconds, index load, peak RSS. */
interface Measured {
  wall: number;
  match: number;
  indexLoad: number;
  rssMiB: number;
}

async function measureOnce(
  index: string,
  upload: string,
  scratch: string,
  extra: readonly string[] = [],
): Promise<Measured> {
  const audit = join(scratch, 'audit.json');
  const report = join(scratch, 'report.json');
  const rss = join(scratch, 'rss');
  // A fresh ledger each run: the bench's many matches must not spend one advertiser's budget.
  const ledger = join(scratch, `ledger-${process.hrtime.bigint()}.jsonl`);
  const started = performance.now();
  await runCli(
    [
      '--import',
      RSS_PROBE,
      BIN,
      'match',
      '--index',
      index,
      '--upload',
      upload,
      '--country',
      'GB',
      '--out',
      join(scratch, 'audience.txt'),
      '--audit',
      audit,
      '--report',
      report,
      '--ledger',
      ledger,
      '--min-audience',
      '1',
      '--threads',
      '2',
      '--quiet',
      ...extra,
    ],
    { ROLLCALL_BENCH_RSS_FILE: rss },
  );
  const wall = (performance.now() - started) / 1000;
  // The exact count is the operator's audit; the timings are in the report.
  const { matched } = JSON.parse(readFileSync(audit, 'utf8')) as { matched: number };
  const { timings_ms: timings } = JSON.parse(readFileSync(report, 'utf8')) as {
    timings_ms: { index_load: number; join: number; finalize: number };
  };
  // A match that finds nothing would time a different job (and means the data is wrong).
  if (!(matched > 0)) throw new Error(`the bench upload matched nothing in ${index}`);
  rmSync(ledger, { force: true });
  return {
    wall,
    match: (timings.join + timings.finalize) / 1000,
    indexLoad: timings.index_load / 1000,
    rssMiB: Number(readFileSync(rss, 'utf8')) / 1024,
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

interface Point {
  upload: number;
  index: number;
  runs: Measured[];
}

/** Runs the suite; `maxIndex` caps the index sizes (default 50M). */
export async function run(opts: SuiteOptions & { maxIndex?: number }): Promise<BenchResult[]> {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`pnpm build\` first`);
  const p = plan(opts.quick, opts.maxIndex ?? 50_000_000);
  mkdirSync(LARGE, { recursive: true });
  const scratch = mkdtempSync(join(tmpdir(), 'rollcall-bench-scaling-'));
  try {
    // Every (upload, index) pair, the base pair once.
    const pairs: Array<[number, number]> = [[p.baseUpload, p.baseIndex]];
    for (const u of p.uploads) if (u !== p.baseUpload) pairs.push([u, p.baseIndex]);
    for (const i of p.indexes) if (i !== p.baseIndex) pairs.push([p.baseUpload, i]);
    const files = new Map<string, [string, string]>();
    for (const [u, i] of pairs)
      files.set(`${u}/${i}`, [await indexFile(i), await uploadFile(u, p.matchPool)]);
    const points: Point[] = pairs.map(([upload, index]) => ({ upload, index, runs: [] }));
    // Warm the page cache and the CLI's own start once, untimed.
    const [baseIdx, baseUp] = files.get(`${p.baseUpload}/${p.baseIndex}`)!;
    await measureOnce(baseIdx, baseUp, scratch);
    // Goal 7: the base upload pre-hashed, against an index with its SHA-256 section.
    const hashedIdx = await indexFile(p.baseIndex, true);
    const hashedUp = hashedUploadFile(baseUp);
    const hashedRuns: Measured[] = [];
    const plain = await startPlainPipeline(indexCsvOf(p.baseIndex));
    const plainSeconds: number[] = [];
    try {
      for (let round = 0; round < p.rounds; round++) {
        plainSeconds.push((await plain.run(baseUp, join(scratch, 'plain.txt'))).ms / 1000);
        for (const point of points) {
          const [idx, up] = files.get(`${point.upload}/${point.index}`)!;
          point.runs.push(await measureOnce(idx, up, scratch));
        }
        hashedRuns.push(await measureOnce(hashedIdx, hashedUp, scratch, ['--hashed', 'meta']));
      }
    } finally {
      plain.close();
    }
    const summary = points.map((point) => ({
      ...point,
      wall: median(point.runs.map((r) => r.wall)),
      match: median(point.runs.map((r) => r.match)),
      indexLoad: median(point.runs.map((r) => r.indexLoad)),
      rssMiB: median(point.runs.map((r) => r.rssMiB)),
    }));
    const base = summary[0]!;
    const baseHz = base.upload / base.wall;
    const baseMatchHz = base.upload / base.match;
    const baseName = `${short(p.baseUpload)}-row upload, ${short(p.baseIndex)}-entry index`;
    const plainHz = p.baseUpload / median(plainSeconds);
    const results: BenchResult[] = [
      {
        suite: SUITE,
        name: `plain pipeline, 1 thread: ${baseName}`,
        hz: plainHz,
        unit: 'rows/s',
        notes: `fast-csv → libphonenumber-js/max → Map, its own process; the pass alone (Map built before, untimed); median of ${plainSeconds.length}`,
      },
      {
        suite: SUITE,
        name: `whole process vs plain pipeline: ${baseName}`,
        hz: baseHz,
        unit: 'rows/s',
        baseline: 'plain pipeline',
        ratio: baseHz / plainHz,
        target: 15,
        notes: 'rollcall counted whole (start-up, index load, read, match, write), 2 threads',
      },
    ];
    const sizes = summary.map((s, k): BenchResult => {
      const hz = s.upload / s.wall;
      const matchHz = s.upload / s.match;
      return {
        suite: SUITE,
        name:
          k === 0
            ? `whole process: ${baseName} (baseline)`
            : `whole process: ${short(s.upload)}-row upload, ${short(s.index)}-entry index`,
        hz,
        unit: 'rows/s',
        ...(k === 0 ? {} : { baseline: baseName, ratio: hz / baseHz, target: 0.8 }),
        notes: `${(s.wall).toFixed(2)} s; the match alone ${fmt(Math.round(matchHz))} rows/s (${(matchHz / baseMatchHz).toFixed(2)}× the baseline's); index load ${s.indexLoad.toFixed(2)} s; peak RSS ${fmt(Math.round(s.rssMiB))} MiB; median of ${s.runs.length}`,
      };
    });
    results.push(...sizes);
    const hashedWall = median(hashedRuns.map((r) => r.wall));
    const hashedMatch = median(hashedRuns.map((r) => r.match));
    results.push({
      suite: SUITE,
      name: `whole process, pre-hashed (SHA-256, --hashed meta): ${baseName}`,
      hz: p.baseUpload / hashedWall,
      unit: 'rows/s',
      baseline: baseName,
      ratio: p.baseUpload / hashedWall / baseHz,
      notes: `the same rows as digests, against the index with its SHA-256 section; ${hashedWall.toFixed(2)} s; the match alone ${fmt(Math.round(p.baseUpload / hashedMatch))} rows/s (${(base.match / hashedMatch).toFixed(2)}× the plain upload's); index load ${median(hashedRuns.map((r) => r.indexLoad)).toFixed(2)} s; peak RSS ${fmt(Math.round(median(hashedRuns.map((r) => r.rssMiB))))} MiB; median of ${hashedRuns.length}`,
    });
    const series = (
      title: string,
      pick: (s: (typeof summary)[number]) => boolean,
      size: (s: (typeof summary)[number]) => number,
    ): ScalingSeries => ({
      title,
      points: summary
        .filter(pick)
        .map((s) => ({
          size: size(s),
          wholeHz: s.upload / s.wall,
          matchHz: s.upload / s.match,
          rssMiB: s.rssMiB,
        }))
        .sort((a, b) => a.size - b.size),
    });
    const svg = scalingChartSvg({
      machine: machineFacts(),
      date: new Date().toISOString(),
      baseline: baseName,
      baselineHz: baseHz,
      series: [
        series(
          `upload rows (${short(p.baseIndex)}-entry index)`,
          (s) => s.index === p.baseIndex,
          (s) => s.upload,
        ),
        series(
          `index entries (${short(p.baseUpload)}-row upload)`,
          (s) => s.upload === p.baseUpload,
          (s) => s.index,
        ),
      ],
    });
    if (!opts.quick) {
      mkdirSync(RESULTS, { recursive: true });
      writeFileSync(join(RESULTS, 'scaling.svg'), svg);
      writeFileSync(
        join(RESULTS, 'scaling.json'),
        `${JSON.stringify({ date: new Date().toISOString(), summary }, null, 2)}\n`,
      );
    }
    return results;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

if (import.meta.filename === process.argv[1]) {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, 'max-index': { type: 'string' } },
  });
  const results = await run({
    quick: values.quick ?? false,
    ...(values['max-index'] !== undefined ? { maxIndex: Number(values['max-index']) } : {}),
  });
  for (const r of results) {
    console.log(
      `${r.name}: ${fmt(Math.round(r.hz))} ${r.unit}${r.ratio !== undefined ? ` (${r.ratio.toFixed(2)}×)` : ''} — ${r.notes}`,
    );
  }
}
