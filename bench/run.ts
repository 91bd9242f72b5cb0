/**
 * Runs every benchmark suite, prints a table with each figure's baseline ratio, and writes
 * `bench/results/<date>.json`, `.md` and `.svg` (a chart; also `latest.svg`, which the README
 * shows, from a full run of every suite). `--quick` runs small versions (a CI smoke test).
 *
 *   pnpm bench [--quick] [--only phone,index,index-update,join,cluster,scaling]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { benchChartSvg } from './chart.js';
import { type BenchResult, machineFacts, type Suite } from './result.js';

const SUITES: Record<string, () => Promise<Suite>> = {
  phone: async () => (await import('./phone/normalize.bench.js')).run,
  index: async () => (await import('./index/index.bench.js')).run,
  'index-update': async () => (await import('./index/update.bench.js')).run,
  join: async () => (await import('./join/join.bench.js')).run,
  cluster: async () => (await import('./cluster/cluster.bench.js')).run,
  scaling: async () => (await import('./join/scaling.bench.js')).run,
};

function table(results: readonly BenchResult[]): string {
  const rows = results.map((r) => {
    const hz = `${Math.round(r.hz).toLocaleString('en-US')} ${r.unit ?? 'ops/s'}`;
    const ratio = r.ratio !== undefined ? `${r.ratio.toFixed(2)}× ${r.baseline ?? ''}` : '';
    const target =
      r.target !== undefined
        ? `≥ ${r.target}× ${r.ratio !== undefined && r.ratio >= r.target ? 'met' : 'NOT met'}`
        : '';
    return `| ${r.suite} | ${r.name} | ${hz} | ${ratio} | ${target} | ${r.notes ?? ''} |`;
  });
  return [
    '| suite | figure | median | ratio vs baseline | target | notes |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } },
  });
  const quick = values.quick ?? false;
  const only = values.only?.split(',');
  const facts = machineFacts();
  console.log(
    `rollcall bench${quick ? ' (quick)' : ''}: ${facts.cores} cores, ${facts.cpu}, Node ${facts.node}`,
  );
  const results: BenchResult[] = [];
  for (const [name, load] of Object.entries(SUITES)) {
    if (only && !only.includes(name)) continue;
    console.log(`\n== ${name}`);
    const run = await load();
    const suiteResults = await run({ quick });
    results.push(...suiteResults);
    console.log(table(suiteResults));
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const base = join(dir, `${stamp}${quick ? '-quick' : ''}`);
  writeFileSync(
    `${base}.json`,
    `${JSON.stringify({ machine: facts, quick, date: new Date().toISOString(), results }, null, 2)}\n`,
  );
  const md = `Machine: ${facts.cores} cores, ${facts.cpu}, Node ${facts.node} (${facts.platform})${quick ? ', quick run' : ''}\n\n${table(results)}\n`;
  writeFileSync(`${base}.md`, md);
  // The chart beside them. latest.svg, which the README shows, only from a full run of every
  // suite: never a CI smoke run's numbers, nor a partial (--only) run's.
  const svg = benchChartSvg({ machine: facts, quick, date: new Date().toISOString(), results });
  writeFileSync(`${base}.svg`, svg);
  const latest = !quick && only === undefined ? join(dir, 'latest.svg') : undefined;
  if (latest !== undefined) writeFileSync(latest, svg);
  console.log(`\nresults: ${base}.json, ${base}.md, ${base}.svg${latest !== undefined ? `, ${latest}` : ''}`);
}

await main();
