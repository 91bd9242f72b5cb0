/**
 * Phone normalisation throughput on one thread: `@rollcall/phone` against libphonenumber-js's
 * own `parsePhoneNumber` + `isValid` over the same cells, in the same run (target: 3× for
 * `normalizePhone` and `normalizeBatch`), with the reference normaliser alone for scale.
 * Start-up cost (first import, first call) is measured apart, in fresh processes. Then the
 * differential check: `normalizePhone` and `normalizeBatch` against `normalizePhoneReference`
 * on generated cells (a million; 20,000 with `--quick`), every difference counted.
 *
 * Run directly: `node --conditions=source --import tsx bench/phone/normalize.bench.ts [--quick]`.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type CountryCode, normalizeBatch, normalizePhone, normalizePhoneReference } from '@rollcall/phone';
import examples from 'libphonenumber-js/examples.mobile.json';
import parsePhoneNumberFromString, { getExampleNumber, type PhoneNumber } from 'libphonenumber-js/max';
import { Bench } from 'tinybench';
import { compareWithReference, generateDifferentialBlocks } from '../../packages/phone/test/differential.js';
import { type BenchResult, machineFacts, medianHz, type SuiteOptions } from '../result.js';

/** The result shape of every suite (the shared runner's `BenchResult`). */
export type BenchSuiteResult = BenchResult;

const SUITE = 'phone/normalize';
const DEFAULT_COUNTRY: CountryCode = 'KE';
const SEED = 0x5eed_0001;
/** Cells per measured iteration: one iteration is one pass over a chunk, so timing is coarse enough. */
const CHUNK = 1000;
/** Chunks one iteration of `normalizePhone` / `normalizeBatch` handles (see `perIteration`). */
const FAST_CHUNKS = 10;
/** The target: the normaliser at least this many times libphonenumber-js's throughput. */
const TARGET = 3;
/** Cells of the differential check, generated and compared a slice at a time. */
const DIFFERENTIAL_CELLS = { full: 1_000_000, quick: 20_000 };
const DIFFERENTIAL_SLICE = 100_000;
const DIFFERENTIAL_SEED = 0xd1ff_0001;

// Foreign numbers an upload of a Kenyan advertiser holds, besides Kenyan ones.
const FOREIGN: CountryCode[] = ['GB', 'US', 'IN', 'ZW', 'ZA', 'NG', 'DE', 'FR', 'BR', 'MX', 'AR', 'ID'];
const IDD_KE = '000';
const JUNK = [
  '',
  '   ',
  'N/A',
  '#REF!',
  'NULL',
  "=cmd|' /C calc'!A0",
  'call me',
  '+263 77',
  '12',
  '+999 123 4567',
];

/** mulberry32: a small seeded PRNG, so every run (and machine) benchmarks the same cells. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A valid number of `country`: its example mobile number with the last 4 digits drawn at random. */
function validNumber(country: CountryCode, random: () => number): PhoneNumber {
  const example = getExampleNumber(country, examples)!;
  for (;;) {
    const tail = String(Math.floor(random() * 10_000)).padStart(4, '0');
    const phone = parsePhoneNumberFromString(example.number.slice(0, -4) + tail);
    if (phone?.isValid()) return phone;
  }
}

/**
 * A realistic upload column, generated deterministically: about 65% Kenyan numbers and 25%
 * foreign ones in every spelling the normaliser accepts, and 10% junk.
 */
export function generateCells(count: number, seed = SEED): string[] {
  const random = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const cells: string[] = [];
  while (cells.length < count) {
    const r = random();
    if (r < 0.1) {
      cells.push(pick(JUNK));
      continue;
    }
    const home = r < 0.75;
    const phone = validNumber(home ? DEFAULT_COUNTRY : pick(FOREIGN), random);
    const intl = phone.formatInternational();
    const spellings = home
      ? [
          phone.number,
          intl,
          phone.formatNational(),
          phone.formatNational().replaceAll(' ', ''),
          phone.formatNational().replaceAll(' ', '.'),
          phone.number.slice(1),
          `  ${intl.replaceAll(' ', '-')} `,
          `tel:${intl.replaceAll(' ', '-')}`,
        ]
      : [
          phone.number,
          intl,
          `  ${intl.replaceAll(' ', '-')} `,
          `tel:${intl.replaceAll(' ', '-')}`,
          `${IDD_KE} ${intl.slice(1)}`,
          phone.number.slice(1),
        ];
    cells.push(pick(spellings));
  }
  return cells;
}

interface Startup {
  importMs: number;
  firstCallMs: number;
}

/** Import and first-call cost in a fresh process (so nothing is cached or warmed up). */
function measureStartup(kind: 'rollcall' | 'baseline'): Startup {
  const script =
    kind === 'rollcall'
      ? `const t0 = performance.now();
         const { normalizePhone } = await import('@rollcall/phone');
         const t1 = performance.now();
         normalizePhone('+254 712 123456', { defaultCountry: 'KE' });
         const t2 = performance.now();
         console.log(JSON.stringify({ importMs: t1 - t0, firstCallMs: t2 - t1 }));`
      : `const t0 = performance.now();
         const { default: parse } = await import('libphonenumber-js/max');
         const t1 = performance.now();
         parse('+254 712 123456', 'KE')?.isValid();
         const t2 = performance.now();
         console.log(JSON.stringify({ importMs: t1 - t0, firstCallMs: t2 - t1 }));`;
  const benchDir = fileURLToPath(new URL('..', import.meta.url));
  const out = execFileSync(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', '--input-type=module', '-e', script],
    { cwd: benchDir, encoding: 'utf8' },
  );
  return JSON.parse(out.trim().split('\n').at(-1)!) as Startup;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Runs the suite: throughput of `normalizePhone`, `normalizeBatch` and the reference against the
 * baseline (ratios, target 3×), start-up costs, and the differential count.
 */
export async function run(opts: SuiteOptions): Promise<BenchSuiteResult[]> {
  const cells = generateCells(opts.quick ? 10 * CHUNK : 50 * CHUNK);
  const chunks = Math.floor(cells.length / CHUNK);
  const options = { defaultCountry: DEFAULT_COUNTRY };
  const out = { keys: new Float64Array(CHUNK), reasons: new Uint8Array(CHUNK) };
  // Chunks are cut before measuring, so the measured loop only normalises.
  const prepared = Array.from({ length: chunks }, (_, c) => cells.slice(c * CHUNK, (c + 1) * CHUNK));
  let i = 0;
  let sink = 0;

  const names = {
    single: '@rollcall/phone normalizePhone',
    batch: '@rollcall/phone normalizeBatch',
    reference: '@rollcall/phone normalizePhoneReference',
    baseline: 'libphonenumber-js parsePhoneNumber + isValid',
  };
  // Chunks per iteration: about equal time per iteration for every task. On a shared machine a
  // short iteration often runs between two preemptions while a long one always pays for some, so
  // medians of iterations of very different lengths would flatter the faster task.
  const perIteration: Record<keyof typeof names, number> = {
    single: FAST_CHUNKS,
    batch: FAST_CHUNKS,
    reference: 1,
    baseline: 1,
  };
  const tasks: Record<keyof typeof names, () => void> = {
    single: () => {
      for (let k = 0; k < FAST_CHUNKS; k++) {
        const chunk = prepared[i++ % chunks]!;
        for (const cell of chunk) if (normalizePhone(cell, options).ok) sink++;
      }
    },
    batch: () => {
      for (let k = 0; k < FAST_CHUNKS; k++) {
        normalizeBatch(prepared[i++ % chunks]!, options, out);
        sink += out.reasons[0]!;
      }
    },
    reference: () => {
      const chunk = prepared[i++ % chunks]!;
      for (const cell of chunk) if (normalizePhoneReference(cell, options).ok) sink++;
    },
    baseline: () => {
      const chunk = prepared[i++ % chunks]!;
      // The library's usual entry point: extracts from text, no tel:/CC-without-+ rules, no reasons.
      for (const cell of chunk) if (parsePhoneNumberFromString(cell, DEFAULT_COUNTRY)?.isValid()) sink++;
    },
  };
  // One untimed pass of every task over all cells first, so that none is measured while the JIT
  // is still compiling shared code paths (tinybench's own warm-up is per task and short).
  for (const fn of Object.values(tasks)) for (let c = 0; c < chunks; c++) fn();

  // Rounds of short measurements of all four tasks, the order rotated each round, rather than
  // one long measurement per task: on a shared machine the load drifts within seconds, and a
  // ratio is only fair between tasks measured side by side. Each figure is the median over rounds
  // (for ratios: of the per-round ratios).
  const keys = ['single', 'batch', 'reference', 'baseline'] as const;
  const rounds = opts.quick ? 3 : 9;
  const perRound = { hz: new Map<string, number[]>(), ratio: new Map<string, number[]>() };
  for (let round = 0; round < rounds; round++) {
    const bench = new Bench({
      name: SUITE,
      time: opts.quick ? 100 : 300,
      iterations: opts.quick ? 8 : 32,
      warmupTime: opts.quick ? 20 : 50,
    });
    for (let k = 0; k < keys.length; k++) {
      const key = keys[(k + round) % keys.length]!;
      bench.add(names[key], tasks[key]);
    }
    await bench.run();
    const roundHz = (key: keyof typeof names): number => {
      const name = names[key];
      const value = medianHz(bench, name, CHUNK * perIteration[key]);
      if (value <= 0) throw new Error(`${SUITE}: task ${name} did not complete`);
      return value;
    };
    const base = roundHz('baseline');
    for (const key of keys) {
      const name = names[key];
      perRound.hz.set(name, [...(perRound.hz.get(name) ?? []), roundHz(key)]);
      perRound.ratio.set(name, [...(perRound.ratio.get(name) ?? []), roundHz(key) / base]);
    }
  }
  if (sink < 0) console.log(sink); // keeps the work observable to the optimiser

  const hz = (name: string): number => median(perRound.hz.get(name)!);
  const ratio = (name: string): number => median(perRound.ratio.get(name)!);
  const spread = (name: string): string => {
    const ratios = perRound.ratio.get(name)!;
    return `${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}×`;
  };
  const notes = `one thread; ${cells.length} cells, default ${DEFAULT_COUNTRY}, mixed spellings + 10% junk; median of ${rounds} rounds`;
  const results: BenchSuiteResult[] = [names.single, names.batch].map((name) => ({
    suite: SUITE,
    name,
    hz: hz(name),
    unit: 'cells/s',
    baseline: names.baseline,
    ratio: ratio(name),
    target: TARGET,
    notes: `${notes} (ratio per round ${spread(name)})`,
  }));
  results.push(
    {
      suite: SUITE,
      name: names.reference,
      hz: hz(names.reference),
      unit: 'cells/s',
      baseline: names.baseline,
      ratio: ratio(names.reference),
      notes: `${notes} (ratio per round ${spread(names.reference)}); libphonenumber-js at every step`,
    },
    {
      suite: SUITE,
      name: names.baseline,
      hz: hz(names.baseline),
      unit: 'cells/s',
      notes: `median of ${rounds} rounds`,
    },
  );

  // Start-up, apart: median of a few fresh processes each.
  const runs = opts.quick ? 3 : 7;
  for (const kind of ['rollcall', 'baseline'] as const) {
    const samples = Array.from({ length: runs }, () => measureStartup(kind));
    const importMs = median(samples.map((s) => s.importMs));
    const firstCallMs = median(samples.map((s) => s.firstCallMs));
    const label = kind === 'rollcall' ? '@rollcall/phone' : 'libphonenumber-js/max';
    results.push(
      {
        suite: `${SUITE}/startup`,
        name: `${label}: first import`,
        hz: 1000 / importMs,
        unit: 'imports/s',
        notes: `${importMs.toFixed(1)} ms, median of ${runs} fresh processes${kind === 'rollcall' ? ' (from TS source via tsx)' : ''}`,
      },
      {
        suite: `${SUITE}/startup`,
        name: `${label}: first call`,
        hz: 1000 / firstCallMs,
        unit: 'calls/s',
        notes: `${firstCallMs.toFixed(2)} ms, median of ${runs} fresh processes`,
      },
    );
  }
  results.push(differential(opts.quick ? DIFFERENTIAL_CELLS.quick : DIFFERENTIAL_CELLS.full));
  return results;
}

/**
 * The differential check: generated cells in every spelling, every country, random default
 * countries, each normalised by `normalizePhone`, `normalizeBatch` and the reference. Any
 * difference is printed and makes the process exit non-zero (a wrong answer, not a slow one).
 */
function differential(count: number): BenchSuiteResult {
  const started = performance.now();
  let cells = 0;
  let fastAnswered = 0;
  let valid = 0;
  let differences = 0;
  for (let slice = 0; cells < count; slice++) {
    const size = Math.min(DIFFERENTIAL_SLICE, count - cells);
    const report = compareWithReference(generateDifferentialBlocks(size, DIFFERENTIAL_SEED + slice));
    cells += report.cells;
    fastAnswered += report.fastAnswered;
    valid += report.valid;
    differences += report.differences;
    for (const example of report.examples) console.error('DIFFERENCE', JSON.stringify(example));
  }
  const seconds = (performance.now() - started) / 1000;
  if (differences > 0) process.exitCode = 1;
  const percent = (n: number): string => `${((100 * n) / cells).toFixed(1)}%`;
  return {
    suite: `${SUITE}/differential`,
    name: 'normalizePhone + normalizeBatch vs normalizePhoneReference',
    hz: cells / seconds,
    unit: 'cells checked/s',
    notes: `${cells} cells, ${differences} differences${differences > 0 ? ' (FAILED)' : ''}; ${percent(valid)} valid, ${percent(fastAnswered)} answered by the fast path`,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const quick = process.argv.includes('--quick');
  const facts = machineFacts();
  console.log(`${facts.cores} cores, ${facts.cpu}, Node ${facts.node}${quick ? ', quick' : ''}`);
  const results = await run({ quick });
  console.table(
    results.map((r) => ({
      suite: r.suite,
      name: r.name,
      median: `${Math.round(r.hz).toLocaleString('en-US')} ${r.unit ?? 'ops/s'}`,
      ratio: r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`,
      notes: r.notes ?? '',
    })),
  );
  console.log(JSON.stringify(results, null, 2));
}
