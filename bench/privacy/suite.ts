/**
 * The privacy suite: builds the world's index with the real CLI, runs every attack in both budget
 * regimes and the honest uploads, and gathers the figures with the targets beside them.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { machineFacts } from '../result.js';
import { Advertiser, type Setting } from './advertiser.js';
import { type CliBuild, CliRunner } from './cli.js';
import {
  type Attack,
  type AttackContext,
  type AttackPlan,
  type AttackRun,
  averagingAttack,
  finish,
  floorAttack,
  pairAttack,
  runAttack,
  sideChannel,
  stepAttack,
} from './strategies.js';
import { makeWorld, shuffle, uploadCsv, type World } from './world.js';

/** Options of a suite run. */
export interface SuiteOptions {
  targets: number;
  /** Smaller plans (a smoke run, about a minute). */
  quick: boolean;
  seed?: number;
  users?: number;
  /** One fresh CLI process per upload instead of long-lived lanes (slower, same CLI). */
  spawn?: boolean;
  /** Run the CLI from `dist` or from source (default: `dist` when it is up to date). */
  build?: CliBuild;
  /** Most probes of one target by the step attack (default 8; 2 quick): its cost and its strength. */
  stepProbes?: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** The targets. */
export const TARGETS = Object.freeze({
  maxAccuracy: 0.6,
  honestErrorMedian: 0.05,
  honestErrorMax: 0.1,
  honestUploads: 50,
});

/** One attack's figures. */
export interface AttackResult {
  name: string;
  /** What the attacker reads, and how it guesses. */
  signal: string;
  withinBudget: AttackRun;
  /** With a fresh advertiser id whenever an upload would be refused; the same run if none was. */
  budgetNotCounted: (AttackRun & { sameRun: boolean }) | null;
}

/** The honest advertiser's figures. */
export interface HonestResult {
  uploads: number;
  refused: number;
  suppressed: number;
  /** |released − exact| / exact of the audience. */
  errorMedian: number;
  errorMax: number;
  audienceMin: number;
  audienceMax: number;
}

/** Everything a suite run found. */
export interface PrivacyResults {
  date: string;
  quick: boolean;
  machine: ReturnType<typeof machineFacts>;
  seconds: number;
  cli: { mode: 'lanes' | 'spawn'; build: CliBuild; runs: number };
  /** The mechanism's default policy in the CLI measured (null if it could not be read). */
  policy: Record<string, unknown> | null;
  world: { seed: number; users: number; optedOut: number; targets: number; members: number; known: number };
  plan: AttackPlan & { honestUploads: number };
  targets: typeof TARGETS;
  attacks: AttackResult[];
  honest: HonestResult;
}

/** Runs the suite. */
export async function runPrivacySuite(options: SuiteOptions): Promise<PrivacyResults> {
  const started = performance.now();
  const log = options.log ?? (() => {});
  const seed = options.seed ?? 13;
  const world = makeWorld({
    seed,
    users: options.users ?? 20_000,
    optOutRate: 0.05,
    targets: options.targets,
    knownMembers: 8000,
  });
  const plan: AttackPlan & { honestUploads: number } = options.quick
    ? { averagingRounds: 16, stepMaxProbes: 2, honestUploads: 6 }
    : { averagingRounds: 200, stepMaxProbes: 8, honestUploads: TARGETS.honestUploads };
  if (options.stepProbes !== undefined) {
    if (!(Number.isInteger(options.stepProbes) && options.stepProbes >= 1)) {
      throw new Error(`stepProbes must be an integer ≥ 1, got ${options.stepProbes}`);
    }
    plan.stepMaxProbes = options.stepProbes;
  }
  const dir = mkdtempSync(join(tmpdir(), 'rollcall-privacy-'));
  const cli = new CliRunner({
    lanes: 2,
    mode: options.spawn ? 'spawn' : 'lanes',
    ...(options.build !== undefined ? { build: options.build } : {}),
  });
  // Read before the lanes load the CLI: the figures are of this version of the mechanism.
  const policy = await cli.defaultPrivacyPolicy();
  log(`  CLI from ${cli.build}, ${cli.mode === 'spawn' ? 'a process per upload' : 'in 2 lanes'}`);
  try {
    world.writeIndexCsv(join(dir, 'index.csv'));
    const built = await cli.run([
      'index',
      'build',
      join(dir, 'index.csv'),
      '-o',
      join(dir, 'index.idx'),
      '-q',
    ]);
    if (built.status !== 0) throw new Error(`rollcall index build exited ${built.status}: ${built.stderr}`);
    const setting: Setting = { cli, index: join(dir, 'index.idx'), dir: join(dir, 'uploads') };
    mkdirSync(setting.dir);
    const ctx: AttackContext = { world, setting, plan };
    const advertiser = (name: string, sybil: boolean) => new Advertiser(setting, name, { sybil });
    const progress = setInterval(() => log(`  … ${cli.runs} CLI runs`), 60_000).unref();

    const both = async (name: string, signal: string, attack: Attack): Promise<AttackResult> => {
      const withinBudget = await runAttack(ctx, name, 'budget', attack, advertiser);
      log(`  ${name}: within budget ${withinBudget.accuracy.toFixed(3)} (${withinBudget.uploads} uploads)`);
      const budgetNotCounted =
        withinBudget.refused === 0
          ? { ...withinBudget, sameRun: true }
          : { ...(await runAttack(ctx, name, 'sybil', attack, advertiser)), sameRun: false };
      log(`  ${name}: budget not counted ${budgetNotCounted.accuracy.toFixed(3)}`);
      return { name, signal, withinBudget, budgetNotCounted };
    };
    const [pair, averaging, step, floor, honest] = await Promise.all([
      both('pair', 'B, then B + t: member if the released counts rose', pairAttack),
      averagingAndSideChannel(ctx, advertiser, log),
      both(
        'step',
        "grow a list to a fresh release L (k* ≥ 100), then L − x + t with new padding: member at the first answer that is not L's",
        stepAttack,
      ),
      both('floor', '99 known + t: member if released (exit 0)', floorAttack),
      honestUploads(world, advertiser('honest', false), plan.honestUploads),
    ]);
    clearInterval(progress);
    return {
      date: new Date().toISOString(),
      quick: options.quick,
      machine: machineFacts(),
      seconds: Math.round((performance.now() - started) / 100) / 10,
      cli: { mode: cli.mode, build: cli.build, runs: cli.runs },
      policy,
      world: {
        seed,
        users: world.users.length,
        optedOut: world.users.filter((u) => u.optedOut).length,
        targets: world.targets.length,
        members: world.targets.filter((t) => t.member).length,
        known: world.known.length,
      },
      plan,
      targets: TARGETS,
      attacks: [pair, ...averaging, step, floor],
      honest,
    };
  } finally {
    cli.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The averaging attack in both regimes; within the budget, the same advertiser then goes on with
 * the budget side channel once it has been refused.
 */
async function averagingAndSideChannel(
  ctx: AttackContext,
  advertiser: (name: string, sybil: boolean) => Advertiser,
  log: (line: string) => void,
): Promise<AttackResult[]> {
  const order = shuffle(ctx.world.targets, ctx.world.random('averaging-order'));
  const signal =
    'each upload B_i + P_i + a random half of the targets; per target, with vs without (least squares in [0, 1]) over matched, audience, GB matched';
  const adv = advertiser('averaging-budget', false);
  const within = await averagingAttack(ctx, adv, order);
  const withinBudget = finish(order, within.guesses, adv, within.notes, ctx.world.random('avg-coin'));
  log(`  averaging: within budget ${withinBudget.accuracy.toFixed(3)} (${withinBudget.uploads} uploads)`);
  let side: AttackResult | null = null;
  if (within.spent) {
    const before = { uploads: adv.uploads, refused: adv.refused };
    const guesses = await sideChannel(ctx, adv, order);
    const run = finish(
      order,
      guesses,
      { uploads: adv.uploads - before.uploads, refused: adv.refused - before.refused, identities: 1 },
      'the averaging advertiser, after its first refusal: t + fresh strangers; refused ⇒ member',
      ctx.world.random('side-coin'),
    );
    log(`  budget side channel: ${run.accuracy.toFixed(3)}`);
    side = {
      name: 'budget side channel',
      signal:
        'budget spent: t + strangers is answered again (empty platform-side set, exit 3) unless t is a member, which needs a fresh release: refused (exit 4) ⇒ member',
      withinBudget: run,
      budgetNotCounted: null,
    };
  }
  let budgetNotCounted: AttackRun & { sameRun: boolean };
  if (withinBudget.refused === 0) budgetNotCounted = { ...withinBudget, sameRun: true };
  else {
    const sybil = advertiser('averaging-sybil', true);
    const r = await averagingAttack(ctx, sybil, order);
    budgetNotCounted = {
      ...finish(order, r.guesses, sybil, r.notes, ctx.world.random('avg-sybil-coin')),
      sameRun: false,
    };
  }
  log(`  averaging: budget not counted ${budgetNotCounted.accuracy.toFixed(3)}`);
  const averaging: AttackResult = { name: 'averaging', signal, withinBudget, budgetNotCounted };
  return side === null ? [averaging] : [averaging, side];
}

/**
 * `n` honest uploads in a row by one advertiser: each a fresh list of 2,200–3,000 numbers, about half
 * of them platform users (so an audience over 1,000), with junk and repeats as exported lists have.
 */
async function honestUploads(world: World, adv: Advertiser, n: number): Promise<HonestResult> {
  const rand = world.random('honest');
  const errors: number[] = [];
  const audiences: number[] = [];
  let suppressed = 0;
  for (let i = 0; i < n; i++) {
    const size = 2200 + Math.floor(rand() * 801);
    const members = Math.ceil(size / 2);
    const picked = new Set<number>();
    while (picked.size < members) picked.add(Math.floor(rand() * world.users.length));
    const numbers = [...[...picked].map((u) => world.users[u]!.e164), ...world.strangers(size - members)];
    const a = await adv.ask(uploadCsv(numbers, rand, { junk: Math.floor(size * 0.02), repeats: 0.05 }), {
      audit: true,
    });
    if (a.outcome === 'suppressed') suppressed++;
    if (a.outcome !== 'released' || a.released?.audience == null || a.exactAudience === undefined) continue;
    audiences.push(a.exactAudience);
    errors.push(Math.abs(a.released.audience - a.exactAudience) / a.exactAudience);
  }
  errors.sort((a, b) => a - b);
  return {
    uploads: adv.uploads,
    refused: adv.refused,
    suppressed,
    errorMedian: errors.length === 0 ? Number.NaN : errors[Math.floor((errors.length - 1) / 2)]!,
    errorMax: errors.length === 0 ? Number.NaN : errors[errors.length - 1]!,
    audienceMin: Math.min(...audiences),
    audienceMax: Math.max(...audiences),
  };
}

/** The results as a Markdown table, with "NOT met" beside every figure that misses its target. */
export function formatTable(r: PrivacyResults): string {
  const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
  const acc = (run: AttackRun) =>
    `${run.accuracy.toFixed(3)} (${run.correct}/${run.targets}) ${run.accuracy <= r.targets.maxAccuracy ? 'met' : 'NOT met'}`;
  const lines = [
    ...(r.quick
      ? [
          `Quick run: with ${r.world.targets} targets an accuracy has a standard error of about ${(0.5 / Math.sqrt(r.world.targets)).toFixed(2)}; the targets are for full runs (200 targets).`,
          '',
        ]
      : []),
    `| attack | budget | accuracy (target ≤ ${r.targets.maxAccuracy}) | flagged: members / others | uploads | refused | coin flips | advertiser ids | notes |`,
    '|---|---|---|---|---|---|---|---|---|',
  ];
  const members = r.world.members;
  const others = r.world.targets - members;
  const flagged = (run: AttackRun) => `${run.membersFlagged}/${members} / ${run.othersFlagged}/${others}`;
  for (const a of r.attacks) {
    const w = a.withinBudget;
    lines.push(
      `| ${a.name} | within budget | ${acc(w)} | ${flagged(w)} | ${w.uploads} | ${w.refused} | ${w.coinFlips} | ${w.identities} | ${w.notes} |`,
    );
    const b = a.budgetNotCounted;
    if (b === null)
      lines.push(`| ${a.name} | budget not counted | n/a (the signal is the budget) | | | | | | |`);
    else if (b.sameRun)
      lines.push(`| ${a.name} | budget not counted | ${acc(b)} | | same run: nothing was refused | | | | |`);
    else
      lines.push(
        `| ${a.name} | budget not counted | ${acc(b)} | ${flagged(b)} | ${b.uploads} | ${b.refused} | ${b.coinFlips} | ${b.identities} | ${b.notes} |`,
      );
  }
  const h = r.honest;
  const wanted = r.quick ? r.plan.honestUploads : r.targets.honestUploads;
  lines.push(
    '',
    '| honest uploads | figure | target |',
    '|---|---|---|',
    `| uploads in a row, one advertiser | ${h.uploads} (${h.refused} refused, ${h.suppressed} suppressed) | ${wanted}, none refused: ${h.refused === 0 && h.uploads >= wanted ? 'met' : 'NOT met'} |`,
    `| audience error, median | ${pct(h.errorMedian)} | ≤ ${pct(r.targets.honestErrorMedian)}: ${h.errorMedian <= r.targets.honestErrorMedian ? 'met' : 'NOT met'} |`,
    `| audience error, max | ${pct(h.errorMax)} | ≤ ${pct(r.targets.honestErrorMax)}: ${h.errorMax <= r.targets.honestErrorMax ? 'met' : 'NOT met'} |`,
    `| exact audiences | ${h.audienceMin}–${h.audienceMax} | ≥ 1000 |`,
  );
  return lines.join('\n');
}
