/**
 * The mechanism: turns a match's exact platform-side counts into what an advertiser may see. See
 * docs/privacy.md for the threat model and why each part is there. In short:
 *
 * 1. **Reuse.** If the set of matched keys is nearly the same as that of an earlier release to the
 *    same advertiser (estimated Jaccard similarity ≥ a threshold drawn, per matched set, between
 *    `reuseFrom` and `reuseTo`), that earlier release is given again, unchanged. Adding or
 *    removing one number, padding with strangers, or repeating with junk then tells nothing.
 * 2. **Noise.** Otherwise each count gets two-sided geometric noise (ε = `epsilon` per count) drawn
 *    from the ledger's secret and the upload's canonical key set: asking the same question again
 *    gets the same answer, so repeats do not average it away.
 * 3. **Floor.** The audience is withheld when its exact size is below the minimum moved by a secret
 *    offset (up to ±`floorJitter` of it) drawn per upload: "is anything released" stops being an
 *    exact threshold test.
 * 4. **Budget.** At most `maxQuestionsPerDay` different uploads and `maxQueriesPerDay` answers per
 *    advertiser in any 24 hours; past that, a new upload is refused (one made before is still
 *    answered). Refusal depends only on what the advertiser sent, never on the platform's data.
 */
import { ErrorCodes, InvalidArgumentError, RollcallError } from '@rollcall/errors';
import { keyedDiscreteLaplace, keyedId, keyedUniform, setFingerprint } from './keyed.js';
import type { Ledger, LedgerEntry } from './ledger.js';
import { decodeSketch, encodeSketch, similarity, sketchOf, sketchSeeds } from './sketch.js';

/** The mechanism's parameters; {@link DEFAULT_PRIVACY_POLICY} holds the defaults. */
export interface PrivacyPolicy {
  /** ε of each released count (noise scale 1/ε). */
  epsilon: number;
  /** Lowest and highest similarity threshold for answering from an earlier release. */
  reuseFrom: number;
  reuseTo: number;
  /** The floor's secret offset, as a share of the minimum audience (0.25: ±25%). */
  floorJitter: number;
  /** Different uploads (distinct key sets) an advertiser may have answered in any 24 hours. */
  maxQuestionsPerDay: number;
  /** Answers (fresh or reused) an advertiser may get in any 24 hours. */
  maxQueriesPerDay: number;
  /** How far back earlier releases are looked at for reuse, ms (default 30 days). */
  memoryMs: number;
}

/** The defaults, with the figures behind them in docs/privacy.md. */
export const DEFAULT_PRIVACY_POLICY: Readonly<PrivacyPolicy> = Object.freeze({
  epsilon: 0.05,
  reuseFrom: 0.85,
  reuseTo: 0.99,
  floorJitter: 0.25,
  maxQuestionsPerDay: 60,
  maxQueriesPerDay: 1000,
  memoryMs: 30 * 24 * 3600 * 1000,
});

const DAY_MS = 24 * 3600 * 1000;
/**
 * The noise is clamped at this many scales (a tail of e^-5 ≈ 0.7%, our δ): at the default scale
 * of 20 an estimate is never more than 100 off, 10% of an audience of 1,000.
 */
const CLAMP_SCALES = 5;
/** The bounds hold the true value of a fresh release with this probability. */
const BOUNDS_CONFIDENCE = 0.95;

/** A protected estimate: the released value and its bounds. */
export interface Estimate {
  value: number;
  lower: number;
  upper: number;
}

/** The exact platform-side counts of a match (the operator's view). */
export interface ExactCounts {
  matched: number;
  optedOutDropped: number;
  audience: number;
  /** Matched numbers by country (key: the country's label in the report), with its upload-only unique count. */
  byCountry: ReadonlyArray<{ key: string; unique: number; matched: number }>;
}

/** What the advertiser is told about the platform. */
export interface Released {
  suppressed: boolean;
  matched: Estimate | null;
  optedOutDropped: Estimate | null;
  audience: Estimate | null;
  /** Per-country matched estimates by key; a country absent here is withheld. */
  byCountry: Record<string, Estimate>;
}

/** How the release was decided, for the operator's audit. */
export interface ReleaseDecision {
  advertiser: string;
  ledger: string;
  kind: 'fresh' | 'reused';
  /** Best similarity to an earlier release (null when there was none). */
  similarity: number | null;
  /** The threshold drawn for this upload. */
  reuse_threshold: number;
  /** When the release given again was first made. */
  reused_from: string | null;
  /** The floor after its secret offset. */
  floor: number;
  /** Different uploads answered in the last 24 hours, this one included. */
  questions_24h: number;
  answers_24h: number;
  epsilon_per_count: number;
}

/** Inputs of {@link protect}. */
export interface ProtectInput {
  advertiser: string;
  ledger: Ledger;
  policy?: Partial<PrivacyPolicy>;
  exact: ExactCounts;
  minAudience: number;
  /** Canonical fingerprint of the upload's key set (see `setFingerprint`). */
  uploadFingerprint: string;
  /** The matched keys (the platform-side set), ascending; repeats allowed. */
  matchedKeys: Float64Array;
  now?: number;
}

/** An upload refused because the advertiser's budget is spent. */
export class PrivacyBudgetError extends RollcallError {
  readonly advertiser: string;
  /** When the window frees a release again. */
  readonly retryAt: Date;

  constructor(advertiser: string, retryAt: Date, message: string) {
    super(ErrorCodes.PRIVACY_BUDGET, message);
    this.advertiser = advertiser;
    this.retryAt = retryAt;
  }
}

/** Checks an advertiser id: 1 to 128 printable characters, no control or separator. */
export function checkAdvertiser(id: unknown, option = 'advertiser'): string {
  if (typeof id !== 'string' || !/^[\p{L}\p{N}_.:@-]{1,128}$/u.test(id)) {
    throw new InvalidArgumentError(option, 'must be 1 to 128 letters, digits or _ . : @ -');
  }
  return id;
}

/** The policy with its defaults, checked. */
export function privacyPolicy(p: Partial<PrivacyPolicy> = {}): PrivacyPolicy {
  const policy = { ...DEFAULT_PRIVACY_POLICY, ...p };
  const positive = (name: keyof PrivacyPolicy) => {
    const v = policy[name];
    if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) {
      throw new InvalidArgumentError(`privacy.${name}`, `must be a positive number, got ${String(v)}`);
    }
  };
  for (const k of ['epsilon', 'maxQuestionsPerDay', 'maxQueriesPerDay', 'memoryMs'] as const) positive(k);
  if (!(policy.reuseFrom > 0 && policy.reuseFrom <= policy.reuseTo && policy.reuseTo <= 1)) {
    throw new InvalidArgumentError('privacy.reuseFrom', 'needs 0 < reuseFrom ≤ reuseTo ≤ 1');
  }
  if (!(policy.floorJitter >= 0 && policy.floorJitter < 1)) {
    throw new InvalidArgumentError('privacy.floorJitter', 'must be in [0, 1)');
  }
  return policy;
}

/**
 * Decides what the advertiser is told about a match, records it in the ledger, and says how it was
 * decided. Throws {@link PrivacyBudgetError} when the upload needs a fresh release and the
 * advertiser's budget is spent.
 */
export async function protect(
  input: ProtectInput,
): Promise<{ released: Released; decision: ReleaseDecision }> {
  const policy = privacyPolicy(input.policy);
  const adv = checkAdvertiser(input.advertiser);
  const now = input.now ?? Date.now();
  const since = now - Math.max(policy.memoryMs, DAY_MS);
  type Outcome = { released: Released; decision: ReleaseDecision } | PrivacyBudgetError;
  const outcome = await input.ledger.transact<Outcome>(adv, since, ({ secret, entries }) => {
    const q = input.uploadFingerprint;
    const platform = setFingerprint(input.matchedKeys);
    // The question's id in the ledger: keyed, so the ledger alone does not confirm a guessed list.
    const qid = keyedId(secret, 'question', adv, q);
    const answered = entries.filter((e) => e.kind !== 'refused' && e.t > now - DAY_MS);
    const questions24 = new Set(answered.map((e) => e.q)).size;
    const askedBefore = entries.find(
      (e) => e.kind !== 'refused' && e.q === qid && e.floor === input.minAudience,
    );
    // The reuse threshold is drawn from the platform-side set, not from the upload: padding an
    // upload with strangers (numbers not on the platform) leaves that set, and so the threshold,
    // unchanged. Drawn from the upload, each padding re-rolled it, and the attack that compares
    // "L without x" with "L without x, plus a stranger" got a fresh answer on some rolls exactly
    // when x was on the platform (bench/privacy: step attack 0.695 with many accounts).
    const threshold =
      policy.reuseFrom + (policy.reuseTo - policy.reuseFrom) * keyedUniform(secret, 'reuse', adv, platform);
    const floor = Math.max(
      1,
      input.minAudience +
        Math.round((2 * keyedUniform(secret, 'floor', adv, q) - 1) * policy.floorJitter * input.minAudience),
    );
    // The budget is spent on questions (distinct uploads), whatever their answers: whether an upload
    // is refused must depend only on what the advertiser sent, never on the platform's data (a
    // refusal that came only when a fresh estimate was needed would tell that the set changed).
    const overQueries = answered.length >= policy.maxQueriesPerDay;
    const overQuestions = askedBefore === undefined && questions24 >= policy.maxQuestionsPerDay;
    if (overQueries || overQuestions) {
      const retryAt = new Date((answered[0]?.t ?? now) + DAY_MS);
      const limit = overQueries
        ? `${policy.maxQueriesPerDay} answers`
        : `${policy.maxQuestionsPerDay} different uploads`;
      return {
        append: { t: now, adv, kind: 'refused', q: qid },
        result: new PrivacyBudgetError(
          adv,
          retryAt,
          `advertiser "${adv}" has had ${limit} in the last 24 hours, its privacy budget; nothing was released. ${
            overQueries ? '' : 'An upload made before is still answered; '
          }try again after ${retryAt.toISOString()}, or ask the operator about the limit`,
        ),
      };
    }
    const sketch = sketchOf(input.matchedKeys, sketchSeeds(secret));
    let best: LedgerEntry | undefined;
    let bestSim = -1;
    for (const e of entries) {
      if (e.kind !== 'fresh' || e.sketch === undefined || e.t < now - policy.memoryMs) continue;
      // A release under another minimum audience answers another question.
      if (e.floor !== input.minAudience) continue;
      const sim = similarity(sketch, decodeSketch(e.sketch));
      // The most similar; the latest among equals (its estimates are of the newest index).
      if (sim >= bestSim) {
        bestSim = sim;
        best = e;
      }
    }
    const reuse = best !== undefined && bestSim >= threshold;
    const decision: ReleaseDecision = {
      advertiser: adv,
      ledger: input.ledger.where,
      kind: reuse ? 'reused' : 'fresh',
      similarity: best === undefined ? null : round(bestSim, 4),
      reuse_threshold: round(threshold, 4),
      reused_from: reuse ? new Date(best!.t).toISOString() : null,
      floor,
      questions_24h: questions24 + (askedBefore === undefined ? 1 : 0),
      answers_24h: answered.length + 1,
      epsilon_per_count: policy.epsilon,
    };
    if (reuse) {
      return {
        append: { t: now, adv, kind: 'reused', q: qid, floor: input.minAudience },
        result: { released: best!.release as Released, decision },
      };
    }
    const b = 1 / policy.epsilon;
    const clamp = Math.ceil(CLAMP_SCALES * b);
    const halfWidth = Math.ceil(b * Math.log(1 / (1 - BOUNDS_CONFIDENCE)));
    const estimate = (field: string, exact: number): Estimate => {
      const value = Math.max(0, exact + keyedDiscreteLaplace(secret, b, clamp, 'noise', adv, q, field));
      return { value, lower: Math.max(0, value - halfWidth), upper: value + halfWidth };
    };
    const suppressed = input.exact.audience < floor;
    const released: Released = suppressed
      ? { suppressed, matched: null, optedOutDropped: null, audience: null, byCountry: {} }
      : {
          suppressed,
          matched: estimate('matched', input.exact.matched),
          optedOutDropped: estimate('opted_out_dropped', input.exact.optedOutDropped),
          audience: estimate('audience', input.exact.audience),
          byCountry: Object.fromEntries(
            input.exact.byCountry.map((c) => [c.key, estimate(`country:${c.key}`, c.matched)]),
          ),
        };
    return {
      append: {
        t: now,
        adv,
        kind: 'fresh',
        q: qid,
        sketch: encodeSketch(sketch),
        floor: input.minAudience,
        release: released,
      },
      result: { released, decision },
    };
  });
  if (outcome instanceof PrivacyBudgetError) throw outcome;
  return outcome;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
