/**
 * The index lives (issue 15): a day of changes applied in place, and audiences refreshed after it.
 *
 * - update: 1M changes (opt-outs, opt-ins, deletes, new numbers, numbers moving to new users) to
 *   a 10M-entry index (`--quick`: 20k changes to 200k entries), each round on a fresh copy of the
 *   built file; against the baseline of building the changed CSV afresh (`writeIndexFile`), which
 *   is what the index cost before `index update` (and leaves out the export of the CSV itself).
 * - refresh: 100k opt-outs applied to the index, then 100 stored audiences of 100k ids each
 *   refreshed in place (`--quick`: 10 of 10k), from the eligibility log; against the baseline of
 *   the same refresh by a scan of the index (`--full`). The figure the issue asks for is the time
 *   from the start of the update to the last refreshed audience.
 *
 * Run directly: `node --conditions=source --import tsx bench/index/update.bench.ts [--quick]
 * [--entries N]`. Data goes to the OS temp directory and is removed afterwards.
 */
import { copyFileSync, createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { applyChanges, refreshAudience, writeIndexFile } from '@rollcall/index';
import { Bench } from 'tinybench';
import { type BenchResult, machineFacts, medianHz, type SuiteOptions } from '../result.js';

const SUITE = 'index/update';
const SEED = 0x15_da7e;

/** SplitMix32: a small seeded PRNG, so every run benchmarks the same data. */
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

/** Mobile ranges (prefix, digits after it): the index's phones in the first four, new ones in the last. */
const RANGES: readonly [string, number][] = [
  ['+4479', 8],
  ['+2547', 8],
  ['+9198', 8],
  ['+55119', 8],
];
const SPREAD = 7_654_321;

/** The `i`-th phone of the index: distinct for every i < 4 × 10^8 (see index.bench.ts). */
function phoneOf(i: number): string {
  const [prefix, digits] = RANGES[i % RANGES.length]!;
  const suffix = (Math.floor(i / RANGES.length) * SPREAD) % 10 ** digits;
  return prefix + String(suffix).padStart(digits, '0');
}

/** The `i`-th phone new to the index (German mobiles, which it never holds). */
const newPhoneOf = (i: number) => `+4915${String((i * SPREAD) % 10 ** 9).padStart(9, '0')}`;

/** User of entry i: 1.25 numbers a user (every fourth user has two: entries 5k and 5k + 1), ids above 2^53 too. */
const userOf = (i: number) => BigInt(Math.floor(i * 0.8) + 1) * 2_305_843_009n;

async function writeLines(
  path: string,
  header: string,
  count: number,
  line: (i: number) => string,
): Promise<void> {
  const out = createWriteStream(path);
  let chunk = `${header}\n`;
  for (let i = 0; i < count; i++) {
    chunk += `${line(i)}\n`;
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

/**
 * A day of changes: 40% opt-outs and 10% opt-ins of numbers in the index, 15% deletes, 25% new
 * numbers (to new users and to existing ones), 10% numbers moving to a new user. Returns the
 * rows' text and the changed source, as the baseline rebuilds it.
 */
function dayOfChanges(
  entries: number,
  count: number,
  seed: number,
): { rows: string[]; changed: (i: number) => string | undefined; added: string[] } {
  const rand = prng(seed);
  const rows: string[] = [];
  const override = new Map<number, string | null>();
  const added: string[] = [];
  for (let c = 0; c < count; c++) {
    const r = rand();
    const i = Math.floor(rand() * entries);
    const phone = phoneOf(i);
    if (r < 0.4) {
      rows.push(`optout,${phone},`);
      override.set(i, `${phone},${userOf(i)},true`);
    } else if (r < 0.5) {
      rows.push(`optin,${phone},`);
      override.set(i, `${phone},${userOf(i)},false`);
    } else if (r < 0.65) {
      rows.push(`delete,${phone},`);
      override.set(i, null);
    } else if (r < 0.9) {
      const p = newPhoneOf(c);
      const user = rand() < 0.5 ? 9_000_000_000_000n + BigInt(c) : userOf(Math.floor(rand() * entries));
      rows.push(`add,${p},${user}`);
      added.push(`${p},${user},false`);
    } else {
      const user = 8_000_000_000_000n + BigInt(c);
      rows.push(`add,${phone},${user}`);
      override.set(i, `${phone},${user},false`);
    }
  }
  return {
    rows,
    added,
    // The rows overlap (a number changed twice): the changed source is an approximation of the
    // same size, enough for the rebuild's cost, which is what the baseline measures.
    changed: (i) =>
      override.has(i) ? (override.get(i) ?? undefined) : `${phoneOf(i)},${userOf(i)},${i % 5 === 0}`,
  };
}

function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

const mb = (bytes: number) => `${Math.round(bytes / 1e6).toLocaleString('en-US')} MB`;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

export interface UpdateSuiteOptions extends SuiteOptions {
  /** Entries of the generated index (default 10M, 200k with `quick`). */
  entries?: number;
}

/** Runs the suite; see the file comment. */
export async function run(opts: UpdateSuiteOptions): Promise<BenchResult[]> {
  const entries = opts.entries ?? (opts.quick ? 200_000 : 10_000_000);
  const changes = Math.round(entries / 10);
  const optOuts = Math.round(entries / 100);
  const audiences = opts.quick ? 10 : 100;
  const perAudience = opts.quick ? 10_000 : 100_000;
  const dir = mkdtempSync(join(tmpdir(), 'rollcall-bench-update-'));
  const results: BenchResult[] = [];
  try {
    const csv = join(dir, 'index.csv');
    await writeLines(
      csv,
      'phone,user_id,opted_out',
      entries,
      (i) => `${phoneOf(i)},${userOf(i)},${i % 5 === 0}`,
    );
    const base = join(dir, 'base.idx');
    const built = await writeIndexFile(csv, base, { builtAt: 1 });
    const day = dayOfChanges(entries, changes, SEED);
    const changesCsv = join(dir, 'changes.csv');
    writeFileSync(changesCsv, `op,phone,user_id\n${day.rows.join('\n')}\n`);
    const changedCsv = join(dir, 'changed.csv');
    await writeLines(changedCsv, 'phone,user_id,opted_out', entries + day.added.length, (i) =>
      i < entries ? (day.changed(i) ?? `${newPhoneOf(changes + i)},1,false`) : day.added[i - entries]!,
    );
    rmSync(csv);

    // ---- Update vs rebuild, each round on a fresh copy of the built index.
    const work = join(dir, 'work.idx');
    let last: Awaited<ReturnType<typeof applyChanges>> | undefined;
    const bench = new Bench({ name: SUITE, iterations: opts.quick ? 3 : 2, time: 0, warmup: false });
    bench.add(
      'index update',
      async () => {
        last = await applyChanges(work, changesCsv);
      },
      {
        beforeEach: () => {
          copyFileSync(base, work);
          rmSync(`${work}.eligibility.log`, { force: true });
          collectGarbage();
        },
      },
    );
    bench.add(
      'rebuild: changed CSV → index file',
      async () => {
        await writeIndexFile(changedCsv, work);
      },
      { beforeEach: collectGarbage },
    );
    await bench.run();
    if (last === undefined) throw new Error('the update did not run');
    const peakRss = process.resourceUsage().maxRSS * 1024;
    const updateHz = medianHz(bench, 'index update', changes);
    const rebuildHz = medianHz(bench, 'rebuild: changed CSV → index file', changes);
    results.push({
      suite: SUITE,
      name: `update: ${changes.toLocaleString('en-US')} changes to ${entries.toLocaleString('en-US')} entries`,
      hz: updateHz,
      unit: 'changes/s',
      baseline: 'rebuild from the changed CSV',
      ratio: updateHz / rebuildHz,
      notes: `${s((changes / updateHz) * 1000)} a run (median of ${opts.quick ? 3 : 2}, on a fresh copy); ${last.added.toLocaleString('en-US')} added, ${last.moved.toLocaleString('en-US')} moved, ${last.deleted.toLocaleString('en-US')} deleted, ${(last.optedOutNumbers + last.optedInNumbers).toLocaleString('en-US')} flags; table ${last.filesGrown.length > 0 ? 'grown (rehashed once)' : 'not grown'}; ${mb(built.fileBytes)} file; peak RSS ${mb(peakRss)}`,
    });
    results.push({
      suite: SUITE,
      name: 'rebuild: changed CSV → index file',
      hz: rebuildHz,
      unit: 'changes/s',
      notes: `${s((changes / rebuildHz) * 1000)} a run: the whole index rebuilt for the same day (CSV export not counted)`,
    });

    // ---- Opt-outs reach every audience: 1% of the index opted out, then the audiences refreshed.
    const rand = prng(SEED + 1);
    const outRows: string[] = [];
    for (let c = 0; c < optOuts; c++) outRows.push(`optout,${phoneOf(Math.floor(rand() * entries))},`);
    const outCsv = join(dir, 'optouts.csv');
    writeFileSync(outCsv, `op,phone,user_id\n${outRows.join('\n')}\n`);
    // Audiences as `match` writes them: users eligible at build, ascending. Entries 5k and 5k + 1
    // are one user's two numbers, opted out (5k); entries 5k + 2 … 5k + 4 are users of one number each.
    const audienceFiles: string[] = [];
    const audienceText: string[] = [];
    for (let a = 0; a < audiences; a++) {
      const ids = new Set<bigint>();
      while (ids.size < perAudience) {
        const i = Math.floor(rand() * entries);
        if (i % 5 >= 2) ids.add(userOf(i));
      }
      const text = `${[...ids].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)).join('\n')}\n`;
      audienceText.push(text);
      audienceFiles.push(join(dir, `a${a}.audience`));
    }
    const writeAudiences = () => {
      audienceText.forEach((t, a) => {
        writeFileSync(audienceFiles[a]!, t);
      });
    };
    const timings = { update: [] as number[], log: [] as number[], scan: [] as number[] };
    let removed = 0;
    const rounds = opts.quick ? 3 : 2;
    for (let r = 0; r < rounds; r++) {
      copyFileSync(base, work);
      rmSync(`${work}.eligibility.log`, { force: true });
      writeAudiences();
      collectGarbage();
      const t0 = performance.now();
      await applyChanges(work, outCsv);
      const t1 = performance.now();
      const rep = await refreshAudience(audienceFiles, work, { mode: 'log' });
      const t2 = performance.now();
      removed = rep.removed;
      writeAudiences();
      collectGarbage();
      const t3 = performance.now();
      await refreshAudience(audienceFiles, work, { mode: 'scan' });
      const t4 = performance.now();
      timings.update.push(t1 - t0);
      timings.log.push(t2 - t1);
      timings.scan.push(t4 - t3);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const ids = audiences * perAudience;
    const logMs = median(timings.log);
    const scanMs = median(timings.scan);
    const updateMs = median(timings.update);
    results.push({
      suite: SUITE,
      name: `refresh: ${audiences} audiences × ${perAudience.toLocaleString('en-US')} ids, from the eligibility log`,
      hz: (ids * 1000) / logMs,
      unit: 'ids/s',
      baseline: 'refresh by a scan of the index',
      ratio: scanMs / logMs,
      notes: `${optOuts.toLocaleString('en-US')} opt-outs: update ${s(updateMs)}, then the last audience refreshed ${s(logMs)} later: ${s(updateMs + logMs)} from the update to the last refreshed audience; ${removed.toLocaleString('en-US')} ids removed; median of ${rounds}`,
    });
    results.push({
      suite: SUITE,
      name: 'refresh by a scan of the index (--full)',
      hz: (ids * 1000) / scanMs,
      unit: 'ids/s',
      notes: `${s(scanMs)} for the same audiences (reads the whole ${mb(statSync(work).size)} index)`,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, entries: { type: 'string' } },
  });
  const facts = machineFacts();
  console.log(`${SUITE}: ${facts.cores} cores, ${facts.cpu}, Node ${facts.node}`);
  const results = await run({
    quick: values.quick ?? false,
    ...(values.entries !== undefined ? { entries: Number(values.entries) } : {}),
  });
  for (const r of results) {
    console.log(
      `${r.name}: ${Math.round(r.hz).toLocaleString('en-US')} ${r.unit}${r.ratio !== undefined ? ` (${r.ratio.toFixed(2)}× ${r.baseline})` : ''}\n  ${r.notes ?? ''}`,
    );
  }
}
