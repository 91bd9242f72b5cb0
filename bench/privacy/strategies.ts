/**
 * The attacks: an advertiser that may upload many lists tries to tell, for each target number,
 * whether it is an active user of the platform. Each is written as a smart attacker would, knowing
 * the mechanism and its documented defaults (packages/privacy/src/release.ts) but not the ledger's
 * secret. A guess the attacker cannot make (a refused upload, a tie) is a coin flip.
 *
 * `budget`: one advertiser id; the attacker stops at its first refusal (the budget is a 24-hour
 * window: nothing new is answered that day) and the targets left are coin flips.
 * `sybil`: the same plan, but a refused upload is asked again under a fresh advertiser id (the
 * budget not counted); the attacks that build on earlier uploads redo them for the new id.
 */
import { type Advertiser, type Answer, memberCounts, type Setting, signatureOf } from './advertiser.js';
import { shuffle, type Target, uploadCsv, type World } from './world.js';

/** What the attacker plans: sizes it picks before it starts. */
export interface AttackPlan {
  /** Uploads of the averaging attack. */
  averagingRounds: number;
  /** Most probes of one target by the step attack. */
  stepMaxProbes: number;
}

/** An attack's outcome under one budget regime. */
export interface AttackRun {
  /** Correct guesses / targets (0.5 = chance). */
  accuracy: number;
  correct: number;
  targets: number;
  /** CLI runs made, refused ones included. */
  uploads: number;
  /** Runs refused (exit 4). */
  refused: number;
  /** Targets guessed by a coin flip (no answer, or an answer that told nothing). */
  coinFlips: number;
  /** Guessed "member", among the members and among the others (coin flips included). */
  membersFlagged: number;
  othersFlagged: number;
  /** Advertiser ids used. */
  identities: number;
  notes: string;
}

/** What every attack gets. */
export interface AttackContext {
  world: World;
  setting: Setting;
  plan: AttackPlan;
}

/** One attack: given an advertiser (budgeted or sybil), guesses member (true) / not (false) / null. */
export type Attack = (
  ctx: AttackContext,
  adv: Advertiser,
  order: readonly Target[],
) => Promise<{ guesses: Array<boolean | null>; notes: string }>;

/** Similarity at or above which an earlier release is always given again (`reuseTo`). */
const ALWAYS_REUSED = 0.99;

/** Scores guesses against the truth; a null guess is a coin flip from `rand`. */
export function score(
  order: readonly Target[],
  guesses: ReadonlyArray<boolean | null>,
  rand: () => number,
): { correct: number; coinFlips: number; membersFlagged: number; othersFlagged: number } {
  let correct = 0;
  let coinFlips = 0;
  let membersFlagged = 0;
  let othersFlagged = 0;
  order.forEach((t, i) => {
    let g = guesses[i] ?? null;
    if (g === null) {
      coinFlips++;
      g = rand() < 0.5;
    }
    if (g === t.member) correct++;
    if (g && t.member) membersFlagged++;
    if (g && !t.member) othersFlagged++;
  });
  return { correct, coinFlips, membersFlagged, othersFlagged };
}

function sum(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0);
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? Number.NaN : sum(xs) / xs.length;
}

/** `n` distinct items of `pool`, at random. */
function sample<T>(pool: readonly T[], n: number, rand: () => number): T[] {
  const picked = new Set<number>();
  while (picked.size < Math.min(n, pool.length)) picked.add(Math.floor(rand() * pool.length));
  return [...picked].map((i) => pool[i]!);
}

/** An integer in [lo, hi]. */
function between(lo: number, hi: number, rand: () => number): number {
  return lo + Math.floor(rand() * (hi - lo + 1));
}

/** Padding that changes the upload (and so its secret draws) but not the platform-side set. */
function padded(ctx: AttackContext, numbers: readonly string[], rand: () => number): string {
  const strangers = ctx.world.strangers(between(20, 120, rand));
  return uploadCsv([...numbers, ...strangers], rand, {
    junk: between(0, 12, rand),
    repeats: rand() * 0.2,
  });
}

/**
 * *pair*: upload B (300 known members), then B + t; guess member if the released counts rose
 * (matched, audience and GB matched summed), not if they fell, a coin flip if equal.
 */
export const pairAttack: Attack = async (ctx, adv, order) => {
  const rand = ctx.world.random('pair');
  const b = ctx.world.known.slice(0, 300);
  const ask = () => adv.ask(uploadCsv(b, rand));
  let base = await ask();
  adv.onNewIdentity = async (a) => {
    base = await a.ask(uploadCsv(b, rand));
  };
  const guesses: Array<boolean | null> = [];
  let same = 0;
  for (const t of order) {
    const a = await adv.ask(uploadCsv([...b, t.e164], rand));
    if (a.outcome === 'refused') break;
    const d =
      a.released && base.released ? sum(memberCounts(a.released)) - sum(memberCounts(base.released)) : 0;
    if (signatureOf(a) === signatureOf(base)) same++;
    guesses.push(d > 0 ? true : d < 0 ? false : null);
  }
  return { guesses, notes: `${same} of ${guesses.length} answers to B + t were B's answer given again` };
};

/**
 * *averaging*, every target at once: each upload is a fresh set B_i of 130 known members, fresh
 * strangers P_i (with junk, repeats and another row order) and a random half of the targets. So
 * each target is in about half the uploads ("B + P_i + t") and out of the rest ("B + P_i"), every
 * upload is a fresh release (its set is far from every earlier one), and each answer holds three
 * independently noised counts that a member moves (matched, audience, GB matched). The attacker
 * subtracts the known |B_i| and solves for each target's share by least squares in [0, 1]
 * (starting from the mean difference with and without it); member if above 1/2.
 *
 * In the `budget` regime, once refused, the same advertiser turns the refusal into the signal (see
 * {@link sideChannel}): its first upload (strangers only) is kept for that.
 */
export async function averagingAttack(
  ctx: AttackContext,
  adv: Advertiser,
  order: readonly Target[],
): Promise<{ guesses: Array<boolean | null>; notes: string; spent: boolean }> {
  const rand = ctx.world.random('averaging');
  // A first upload of strangers only: a fresh, suppressed release of the empty platform-side set.
  await adv.ask(uploadCsv(ctx.world.strangers(40), rand));
  const rows: boolean[][] = [];
  const y: number[] = [];
  let spent = false;
  for (let i = 0; i < ctx.plan.averagingRounds; i++) {
    // 130 known members: released whatever the floor's secret offset (at most 125).
    const b = sample(ctx.world.known, 130, rand);
    const inc = order.map(() => rand() < 0.5);
    const a = await adv.ask(padded(ctx, [...b, ...order.filter((_, j) => inc[j]).map((t) => t.e164)], rand));
    if (a.outcome === 'refused') {
      spent = true;
      break;
    }
    if (a.released === null) continue;
    rows.push(inc);
    y.push(mean(memberCounts(a.released)) - b.length);
  }
  const x = boxLeastSquares(rows, y, order.length);
  return {
    guesses: x.map((v) => (v === null ? null : v > 0.5)),
    notes: `${rows.length} released answers decoded; each target in ~${Math.round(rows.length / 2)} of them`,
    spent,
  };
}

/**
 * The shares x ∈ [0, 1]^n that best explain `y_i ≈ Σ_j rows_ij x_j` (least squares, box-projected
 * coordinate descent from the with/without mean difference); null for a target that was always or
 * never included.
 */
export function boxLeastSquares(
  rows: readonly boolean[][],
  y: readonly number[],
  n: number,
): Array<number | null> {
  const x = new Array<number>(n).fill(0);
  const count = new Array<number>(n).fill(0);
  for (let j = 0; j < n; j++) {
    const withT: number[] = [];
    const without: number[] = [];
    rows.forEach((r, i) => {
      (r[j] ? withT : without).push(y[i]!);
    });
    count[j] = withT.length;
    if (withT.length > 0 && without.length > 0) x[j] = Math.min(1, Math.max(0, mean(withT) - mean(without)));
  }
  const residual = y.map((yi, i) => yi - sum(rows[i]!.map((inc, j) => (inc ? x[j]! : 0))));
  for (let sweep = 0; sweep < 100; sweep++) {
    for (let j = 0; j < n; j++) {
      if (count[j] === 0) continue;
      let g = 0;
      rows.forEach((r, i) => {
        if (r[j]) g += residual[i]!;
      });
      const next = Math.min(1, Math.max(0, x[j]! + g / count[j]!));
      const d = next - x[j]!;
      if (d === 0) continue;
      rows.forEach((r, i) => {
        if (r[j]) residual[i] = residual[i]! - d;
      });
      x[j] = next;
    }
  }
  return x.map((v, j) => (count[j] === 0 || count[j] === rows.length ? null : v));
}

/**
 * *budget side channel* (beyond the four): an advertiser whose fresh releases for the day
 * are spent uploads t + fresh strangers. If t is not on the platform the platform-side set is empty,
 * the same as its first upload's, so the earlier release is given again (exit 3); if t is a member
 * the set is new, needs a fresh release, and is refused (exit 4). Refused ⇒ member. Refusals are
 * not counted against any limit, and answers only for non-members.
 */
export async function sideChannel(
  ctx: AttackContext,
  adv: Advertiser,
  order: readonly Target[],
): Promise<Array<boolean | null>> {
  const rand = ctx.world.random('side-channel');
  const guesses: Array<boolean | null> = [];
  for (const t of order) {
    const a = await adv.ask(padded(ctx, [t.e164], rand));
    guesses.push(a.outcome === 'refused');
  }
  return guesses;
}

/**
 * *step*: grow a list of known members one at a time (from 95) until the answer steps: a released
 * answer never seen before, at a size k* ≥ 100 (so a fresh release of L = L_k*). Then, for each
 * target, upload L with one known member x taken out and t put in, with fresh strangers each time.
 * Without t the set is L − x, similarity (k*−1)/k* ≥ 0.99 to L: always L's answer again. With t it
 * is L − x + t, similarity (k*−1)/(k*+1) ≈ 0.98, now and then below the reuse threshold drawn for
 * that upload (1 time in 7 when it is drawn in [0.92, 0.99]), and the threshold is drawn again for
 * every new padding: so the attacker
 * asks up to m times and guesses member at the first answer that is not L's.
 */
export const stepAttack: Attack = async (ctx, adv, order) => {
  const rand = ctx.world.random('step');
  const list = sample(ctx.world.known, 200, rand);
  const strangers = ctx.world.strangers(40);
  let k = 0;
  let ref: Answer | undefined;
  const search = async (a: Advertiser): Promise<void> => {
    ref = undefined;
    // An answer never seen before is a fresh release of this very list (a reused one repeats one).
    const seen = new Set<string>();
    for (k = 95; k < list.length; k++) {
      const ans = await a.ask(uploadCsv([...list.slice(0, k), ...strangers], rand));
      const sig = signatureOf(ans);
      if ((k - 1) / k >= ALWAYS_REUSED && ans.outcome === 'released' && !seen.has(sig)) {
        ref = ans;
        return;
      }
      seen.add(sig);
    }
  };
  await search(adv);
  adv.onNewIdentity = search;
  const searchUploads = adv.uploads;
  if (ref === undefined) return { guesses: [], notes: 'no step found: every target a coin flip' };
  const probes = ctx.plan.stepMaxProbes;
  const guesses: Array<boolean | null> = [];
  const burned = new Set<number>();
  let next = 0;
  outer: for (const t of order) {
    // A known member of L to take out (never the last: L minus it was itself an earlier upload).
    while (burned.has(next % (k - 1))) next++;
    const x = next++ % (k - 1);
    let guess = false;
    for (let p = 0; p < probes; p++) {
      // A function: asked again under a new id, it is built on that id's own step.
      const a = await adv.ask(() => {
        const at = x % (k - 1);
        return padded(ctx, [...list.slice(0, at), ...list.slice(at + 1, k), t.e164], rand);
      });
      if (a.outcome === 'refused') break outer;
      if (signatureOf(a) !== signatureOf(ref!)) {
        guess = true;
        burned.add(x); // L − x + t now has a release of its own
        break;
      }
    }
    guesses.push(guess);
  }
  return {
    guesses,
    notes: `step at k* = ${k} after ${searchUploads} uploads; up to ${probes} probes a target`,
  };
};

/**
 * *floor*: 99 known members (a fresh random 99 of those the attacker knows, so that no answer is an
 * earlier one given again) + t + strangers, under the default minimum audience of 100; guess member
 * if anything is released (exit 0 rather than 3).
 */
export const floorAttack: Attack = async (ctx, adv, order) => {
  const rand = ctx.world.random('floor');
  const guesses: Array<boolean | null> = [];
  let released = 0;
  for (const t of order) {
    const a = await adv.ask(padded(ctx, [...sample(ctx.world.known, 99, rand), t.e164], rand));
    if (a.outcome === 'refused') break;
    if (a.outcome === 'released') released++;
    guesses.push(a.outcome === 'released');
  }
  return { guesses, notes: `${released} of ${guesses.length} answered uploads released` };
};

/** Runs `attack` with a new advertiser in `regime` and scores it. */
export async function runAttack(
  ctx: AttackContext,
  name: string,
  regime: 'budget' | 'sybil',
  attack: Attack,
  newAdvertiser: (name: string, sybil: boolean) => Advertiser,
): Promise<AttackRun> {
  const order = shuffle(ctx.world.targets, ctx.world.random(`${name}-order`));
  const adv = newAdvertiser(`${name}-${regime}`, regime === 'sybil');
  const { guesses, notes } = await attack(ctx, adv, order);
  return finish(order, guesses, adv, notes, ctx.world.random(`${name}-${regime}-coin`));
}

/** Scores `guesses` and the advertiser's counts as an {@link AttackRun}. */
export function finish(
  order: readonly Target[],
  guesses: ReadonlyArray<boolean | null>,
  adv: Pick<Advertiser, 'uploads' | 'refused' | 'identities'>,
  notes: string,
  rand: () => number,
): AttackRun {
  const { correct, coinFlips, membersFlagged, othersFlagged } = score(order, guesses, rand);
  return {
    accuracy: correct / order.length,
    correct,
    targets: order.length,
    uploads: adv.uploads,
    refused: adv.refused,
    coinFlips,
    membersFlagged,
    othersFlagged,
    identities: adv.identities,
    notes,
  };
}
