/**
 * The shared index on one thread: build rate from a CSV, load rate of the file, probe rate
 * (single and batched), bytes per entry and peak RSS — each against a plain
 * `Map<number, bigint>` built and probed from the same data in the same run.
 *
 * Data: a generated index CSV (10M entries, or 200k with `--quick`), written to the OS temp
 * directory and removed afterwards. The load figures read a file the OS has just written, so
 * they measure the page cache, not the disk.
 *
 * Run directly: `node --conditions=source --import tsx bench/index/index.bench.ts [--quick]`.
 */
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type IndexReader, openIndex, writeIndexFile } from '@rollcall/index';
import { isValidE164, type PhoneKey, parseE164Strict } from '@rollcall/phone';
import { parse } from 'fast-csv';
import { Bench } from 'tinybench';
import { type BenchResult, machineFacts, medianHz, type SuiteOptions } from '../result.js';

const SUITE = 'index';
const SEED = 0x5eed_1de5;
/** Keys per `probeBatch` call, as the join's workers use. */
const BATCH = 8192;
/** Share of probes that hit an entry. */
const HIT_RATE = 0.5;

/** SplitMix32: a small seeded PRNG, so every run (and machine) benchmarks the same data. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
}

/** Mobile ranges (prefix, digits after it) the generated phones fall in: GB, KE, IN, BR. */
const RANGES: readonly [string, number][] = [
  ['+4479', 8],
  ['+2547', 8],
  ['+9198', 8],
  ['+55119', 8],
];
/** Odd and not a multiple of 5: multiplying by it permutes 0 … 10^8 − 1, so suffixes never repeat. */
const SPREAD = 7_654_321;

/**
 * The `i`-th phone of the generated index: distinct for every i < 4 × 10^8 by construction (no
 * set of seen phones to hold), in a shuffled-looking order.
 */
function phoneOf(i: number): string {
  const [prefix, digits] = RANGES[i % RANGES.length]!;
  const j = Math.floor(i / RANGES.length);
  // Exact: j < 10^8, so j × SPREAD < 7.7 × 10^14 < 2^53.
  const suffix = (j * SPREAD) % 10 ** digits;
  return prefix + String(suffix).padStart(digits, '0');
}

/** Writes a deterministic `phone,user_id,opted_out` CSV of `entries` rows (ids up to 2^64 − 1). */
async function writeIndexCsv(path: string, entries: number, seed: number): Promise<void> {
  const rand = prng(seed);
  const out = createWriteStream(path);
  let chunk = 'phone,user_id,opted_out\n';
  for (let i = 0; i < entries; i++) {
    const hi = Math.floor(rand() * 0x100000000);
    const lo = Math.floor(rand() * 0x100000000);
    // About half the ids are above 2^53.
    const id = rand() < 0.5 ? (BigInt(hi) << 32n) | BigInt(lo) : BigInt(lo);
    chunk += `${phoneOf(i)},${id === 0n ? 1n : id},${rand() < 0.2 ? 'true' : 'false'}\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      chunk = '';
    }
  }
  out.write(chunk);
  await new Promise<void>((resolve, reject) =>
    out.end((err?: Error | null) => (err ? reject(err) : resolve())),
  );
}

/** The baseline build: the same CSV through fast-csv into a `Map<number, bigint>` (no validity, no file). */
async function buildMap(csvPath: string): Promise<Map<number, bigint>> {
  const map = new Map<number, bigint>();
  let header = true;
  const parser = parse({ ignoreEmpty: true });
  createReadStream(csvPath, { highWaterMark: 1 << 20 }).pipe(parser);
  for await (const row of parser as AsyncIterable<string[]>) {
    if (header) {
      header = false;
      continue;
    }
    const key = parseE164Strict(row[0]!);
    if (key !== undefined) map.set(key, BigInt(row[1]!));
  }
  return map;
}

/** Probe keys: `HIT_RATE` drawn from the index, the rest from a range it never holds (FR mobiles). */
function probeKeys(count: number, entries: number, seed: number): Float64Array {
  const rand = prng(seed);
  const keys = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    keys[i] =
      rand() < HIT_RATE
        ? Number(phoneOf(Math.floor(rand() * entries)).slice(1))
        : 33_600_000_000 + Math.floor(rand() * 100_000_000);
  }
  return keys;
}

/**
 * A full garbage collection, so heap deltas measure what a structure retains and not the garbage
 * made while building it. `--expose-gc` switched on at run time gives a fresh context a `gc`.
 */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(0)} MB`;

/** Runs the suite; see the file comment. */
export async function run(opts: SuiteOptions): Promise<BenchResult[]> {
  const entries = opts.quick ? 200_000 : 10_000_000;
  const probes = opts.quick ? 200_000 : 2_000_000;
  const dir = mkdtempSync(join(tmpdir(), 'rollcall-bench-index-'));
  const results: BenchResult[] = [];
  try {
    const csv = join(dir, 'index.csv');
    const file = join(dir, 'index.rcx');
    await writeIndexCsv(csv, entries, SEED);

    // ---- Build: one pass each is all a 10M-row build can afford; both read the same CSV.
    const build = new Bench({
      name: `${SUITE}/build`,
      iterations: opts.quick ? 3 : 1,
      time: 0,
      warmup: false,
    });
    let report: Awaited<ReturnType<typeof writeIndexFile>> | undefined;
    let map = new Map<number, bigint>();
    let mapHeapBytes = 0;
    let peakRss = 0;
    build.add('CSV → index file', async () => {
      report = await writeIndexFile(csv, file);
      // Before the baseline's Map exists: the peak of generating the CSV and building the index.
      peakRss = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);
    });
    build.add('CSV → Map<number, bigint>', async () => {
      map = new Map();
      collectGarbage();
      const before = process.memoryUsage().heapUsed;
      map = await buildMap(csv);
      collectGarbage();
      mapHeapBytes = process.memoryUsage().heapUsed - before;
    });
    await build.run();
    if (report === undefined) throw new Error('the index build did not run');

    // How much of the build is libphonenumber-js validity (the never-matchable count), sampled.
    const sample = Array.from({ length: 2000 }, (_, i) => Number(phoneOf(i * 997).slice(1)) as PhoneKey);
    const validity = new Bench({ name: `${SUITE}/validity`, time: opts.quick ? 300 : 1000, warmupTime: 200 });
    validity.add('isValidE164', () => {
      for (const key of sample) isValidE164(key);
    });
    await validity.run();
    const validUs = 1e6 / medianHz(validity, 'isValidE164', sample.length);

    const buildHz = medianHz(build, 'CSV → index file', entries);
    const mapBuildHz = medianHz(build, 'CSV → Map<number, bigint>', entries);
    results.push(
      {
        suite: SUITE,
        name: 'build: CSV → index file',
        hz: buildHz,
        unit: 'rows/s',
        baseline: 'CSV → Map',
        ratio: buildHz / mapBuildHz,
        notes:
          `${entries.toLocaleString('en-US')} rows; ${report.bytesPerEntry.toFixed(1)} B/entry; ` +
          `peak RSS ${mb(peakRss)}; ${(1e6 / buildHz).toFixed(1)} µs/row, of which isValidE164 ` +
          `(never-matchable count) ≈ ${validUs.toFixed(1)} µs/row`,
      },
      {
        suite: SUITE,
        name: 'baseline build: CSV → Map<number, bigint>',
        hz: mapBuildHz,
        unit: 'rows/s',
        notes: `${(mapHeapBytes / map.size).toFixed(0)} B/entry of heap retained (no opt-out flag, no validity)`,
      },
    );

    // ---- Load: the whole file into a SharedArrayBuffer, against reading the bytes alone.
    const fileBytes = report.fileBytes;
    const load = new Bench({
      name: `${SUITE}/load`,
      iterations: opts.quick ? 10 : 5,
      time: 0,
      warmupIterations: 1,
    });
    // Each load starts with the previous image collected, as a fresh process would: otherwise
    // the figures measure how fast the collector returns hundreds of MB of shared memory.
    const fresh = { beforeEach: collectGarbage };
    load.add(
      'openIndex (checksum verified)',
      async () => {
        await openIndex(file);
      },
      fresh,
    );
    load.add(
      'openIndex (no checksum)',
      async () => {
        await openIndex(file, { verifyChecksum: false });
      },
      fresh,
    );
    load.add(
      'readFileSync (bytes only)',
      () => {
        readFileSync(file);
      },
      fresh,
    );
    await load.run();
    const rawHz = medianHz(load, 'readFileSync (bytes only)', fileBytes / 1e6);
    for (const name of ['openIndex (checksum verified)', 'openIndex (no checksum)']) {
      const hz = medianHz(load, name, fileBytes / 1e6);
      results.push({
        suite: SUITE,
        name: `load: ${name}`,
        hz,
        unit: 'MB/s',
        baseline: 'readFileSync',
        ratio: hz / rawHz,
        notes: `${(hz / 1000).toFixed(2)} GB/s; ${mb(fileBytes)} file, page cache warm`,
      });
    }
    results.push({ suite: SUITE, name: 'baseline load: readFileSync', hz: rawHz, unit: 'MB/s' });

    // ---- Probe: one thread, the same keys for all three.
    const reader: IndexReader = await openIndex(file);
    const keys = probeKeys(probes, entries, SEED + 1);
    const found = new Uint8Array(BATCH);
    const userIds = new BigUint64Array(BATCH);
    let sink = 0;
    const probe = new Bench({ name: `${SUITE}/probe`, time: opts.quick ? 300 : 2000, warmupTime: 200 });
    probe.add('probe (single)', () => {
      for (let i = 0; i < keys.length; i++) if (reader.probe(keys[i] as PhoneKey) !== undefined) sink++;
    });
    probe.add(`probeBatch (${BATCH})`, () => {
      for (let i = 0; i < keys.length; i += BATCH) {
        const n = Math.min(BATCH, keys.length - i);
        reader.probeBatch(keys.subarray(i, i + n), n, found, userIds);
        sink += found[0]!;
      }
    });
    probe.add('Map<number, bigint>.get', () => {
      for (let i = 0; i < keys.length; i++) if (map.get(keys[i]!) !== undefined) sink++;
    });
    await probe.run();
    const mapHz = medianHz(probe, 'Map<number, bigint>.get', probes);
    for (const name of ['probe (single)', `probeBatch (${BATCH})`]) {
      const hz = medianHz(probe, name, probes);
      results.push({
        suite: SUITE,
        name: `probe: ${name}`,
        hz,
        unit: 'probes/s',
        baseline: 'Map.get',
        ratio: hz / mapHz,
        notes: `${Math.round(HIT_RATE * 100)}% hits; ${mb(report.tableBytes)} table, one thread`,
      });
    }
    results.push({
      suite: SUITE,
      name: 'baseline probe: Map<number, bigint>.get',
      hz: mapHz,
      unit: 'probes/s',
      notes: sink < 0 ? 'unreachable' : `${map.size.toLocaleString('en-US')} entries`,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes('--quick');
  const facts = machineFacts();
  console.log(`${facts.cores} cores, ${facts.cpu}, Node ${facts.node}${quick ? ', quick' : ''}`);
  const results = await run({ quick });
  console.table(
    results.map((r) => ({
      name: r.name,
      median: `${Math.round(r.hz).toLocaleString('en-US')} ${r.unit ?? 'ops/s'}`,
      ratio: r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}× ${r.baseline ?? ''}`,
      notes: r.notes ?? '',
    })),
  );
}
