/**
 * Issue 13, part 5, "Prove it": attacks on the privacy mechanism through the real CLI, and what it
 * costs honest advertisers. Prints a table and writes `bench/results/privacy.json`
 * (`privacy-quick.json` with --quick). See suite.ts and strategies.ts.
 *
 *   pnpm --filter @rollcall/bench exec tsx privacy/attacks.ts [--targets N] [--quick] [--spawn] [--seed S]
 *        [--cli dist|source] [--step-probes M]
 *   pnpm --filter @rollcall/bench bench:privacy [--quick]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { formatTable, runPrivacySuite } from './suite.js';

const { values } = parseArgs({
  options: {
    targets: { type: 'string' },
    quick: { type: 'boolean', default: false },
    spawn: { type: 'boolean', default: false },
    seed: { type: 'string' },
    cli: { type: 'string' },
    'step-probes': { type: 'string' },
  },
});
const quick = values.quick ?? false;
const targets = Number(values.targets ?? (quick ? 20 : 200));
if (!Number.isInteger(targets) || targets < 2)
  throw new Error(`--targets must be an integer ≥ 2, got ${values.targets}`);

console.log(`rollcall privacy attacks${quick ? ' (quick)' : ''}: ${targets} targets`);
const results = await runPrivacySuite({
  targets,
  quick,
  spawn: values.spawn ?? false,
  ...(values.cli !== undefined ? { build: values.cli as 'dist' | 'source' } : {}),
  ...(values['step-probes'] !== undefined ? { stepProbes: Number(values['step-probes']) } : {}),
  ...(values.seed !== undefined ? { seed: Number(values.seed) } : {}),
  log: (line) => console.log(line),
});
const { machine } = results;
console.log(
  `\nMachine: ${machine.cores} cores, ${machine.cpu}, Node ${machine.node}; ${results.cli.runs} CLI runs (${results.cli.build}, ${results.cli.mode}) in ${results.seconds} s\n`,
);
console.log(`Privacy policy measured: ${JSON.stringify(results.policy)}\n`);
console.log(formatTable(results));
const dir = join(import.meta.dirname, '..', 'results');
mkdirSync(dir, { recursive: true });
const path = join(dir, quick ? 'privacy-quick.json' : 'privacy.json');
writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nresults: ${path}`);
