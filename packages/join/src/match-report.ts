import type { HashConvention } from '@rollcall/index';
import { type RejectReason, redactIfNumeric } from '@rollcall/phone';
import type { Estimate, ReleaseDecision, Released } from '@rollcall/privacy';
import type { CountryTally } from './regions.js';
import type { RejectExample, TallyResult } from './tally.js';

/** The industry's floor: audiences smaller than this are not released. */
export const DEFAULT_MIN_AUDIENCE = 100;

/**
 * The advertiser's report of a match, as written to `report.json`. Counts of the upload alone are
 * exact; every count that depends on the platform's data (`matched`, `opted_out_dropped`,
 * `audience`, `match_rate`, per-country `matched`) is a protected estimate with its bounds beside it
 * (see docs/privacy.md); the exact values go only to the operator's {@link AuditReport}. Every data
 * row is in exactly one of `invalid`/`valid`.
 */
export interface MatchReport {
  /** Data rows read (the header and blank lines are not rows). */
  rows: number;
  /** Rows rejected, for any reason (sum of `invalid_by_reason`). */
  invalid: number;
  /** Rows that normalised to a valid E.164 number (or a well-formed digest, for hashed uploads). */
  valid: number;
  /** Distinct E.164 numbers (digests, for hashed uploads) among the valid rows. */
  unique: number;
  /** Distinct numbers found in the index (a protected estimate); null when the match was suppressed. */
  matched: number | null;
  /** Bounds of `matched`: the true value lies within them with 95% probability; null when suppressed. */
  matched_lower?: number | null;
  matched_upper?: number | null;
  /** Matched numbers dropped because they opted out (a protected estimate); null when suppressed. */
  opted_out_dropped: number | null;
  opted_out_dropped_lower?: number | null;
  opted_out_dropped_upper?: number | null;
  /** Distinct user ids in the audience (a protected estimate); null when suppressed. */
  audience: number | null;
  audience_lower?: number | null;
  audience_upper?: number | null;
  /** Rejected rows by reason code: a row's reason is that of its first rejected number (EMPTY when it has none). */
  invalid_by_reason: Record<RejectReason, number>;
  /**
   * The phone cells counted one by one (a row may hold a number in each phone column): non-empty
   * cells, valid, rejected by reason, and what each column gave.
   */
  numbers?: {
    numbers: number;
    valid: number;
    invalid: number;
    invalid_by_reason: Record<RejectReason, number>;
    by_column: Array<{ column: string; numbers: number; valid: number }>;
  };
  /**
   * Valid rows whose number was read as international only after failing as national: digits that
   * begin with a country code but have no `+` (a guess, which `--strict` refuses as `MISSING_PLUS`).
   */
  read_as_international?: number;
  /** Whether such guesses were refused. */
  strict?: boolean;
  /** matched (the estimate) / unique; null when suppressed or nothing was unique. */
  match_rate: number | null;
  /**
   * True when the audience was not released: smaller than `min_audience` moved by a secret offset
   * of up to ±25% (so that whether anything is released does not tell about one number).
   */
  suppressed: boolean;
  /** Why the match was suppressed, when it was. */
  suppression_reason: string | null;
  min_audience: number;
  /** The country of rows without their own; null when none was given. */
  default_country: string | null;
  hashed: HashConvention | null;
  upload: {
    file: string | null;
    /** The first phone column's header. */
    phone_column: string | null;
    /** Every phone column's header, in order. */
    phone_columns?: string[];
    /** The header of the column holding each row's country; null when none. */
    country_column?: string | null;
    /** The files read, when the upload spans several; else null. */
    files?: readonly string[] | null;
    encoding: string | null;
    delimiter: string | null;
  };
  index: { entries: number; built_at: string; metadata_version: string; source: string };
  phone_metadata: { library: string; version: string; metadata: string };
  threads: number;
  timings_ms: { index_load: number; join: number; finalize: number; total: number };
  rows_per_second: number;
  rollcall_version: string;
  /**
   * The distinct valid numbers by country (the region libphonenumber-js gives each E.164 number;
   * `001` for a non-geographic code), largest first, with how many of them matched: `matched` is
   * null when the match was suppressed, like the totals. Null for hashed uploads (an unmatched
   * digest has no known number). Absent in reports of older versions.
   */
  by_country?: CountryCount[] | null;
  /** Up to 5 rejected cells of each reason (not EMPTY), redacted, with their line. */
  reject_examples?: Partial<Record<RejectReason, RejectExample[]>>;
  /** How the platform-side counts were protected, in words an advertiser can read. */
  privacy?: { advertiser: string; estimates: 'protected'; confidence: number; note: string };
}

/**
 * The operator's audit of a match (`--audit`, and the library result's `audit`): the exact counts,
 * for the platform's own books, and how the advertiser's release was decided. Never shown to the
 * advertiser.
 */
export interface AuditReport {
  rows: number;
  invalid: number;
  valid: number;
  unique: number;
  matched: number;
  opted_out_dropped: number;
  audience: number;
  /** Rows with at least one number in the index (opted out or not). */
  matched_rows: number;
  invalid_by_reason: Record<RejectReason, number>;
  numbers?: MatchReport['numbers'];
  read_as_international?: number;
  match_rate: number | null;
  /** Whether the advertiser's release was suppressed (the audience file then is not written). */
  suppressed: boolean;
  min_audience: number;
  default_country: string | null;
  hashed: HashConvention | null;
  /** Exact per-country counts (null for hashed uploads). */
  by_country: Array<{ country: string | null; calling_code: string; unique: number; matched: number }> | null;
  /** How the release was decided (fresh or reused, similarity, floor, budget used). */
  release: ReleaseDecision;
  /** What the advertiser was told. */
  released: Released;
  rollcall_version: string;
}

/** One country of {@link MatchReport.by_country}. */
export interface CountryCount {
  /** ISO 3166-1 alpha-2 region; `001` for a non-geographic calling code; null when no region claims the number. */
  country: string | null;
  /** Country calling code, digits only (`254`). */
  calling_code: string;
  /** Distinct valid numbers of this country. */
  unique: number;
  /**
   * How many of them are in the index (a protected estimate); null when the match was suppressed,
   * or when this country (or all withheld countries together) has fewer distinct numbers than the
   * minimum audience.
   */
  matched: number | null;
  matched_lower?: number | null;
  matched_upper?: number | null;
}

/** The fields a suppressed report withholds: together they would tell a prober who is on the platform. */
export const WITHHELD_WHEN_SUPPRESSED = ['matched', 'opted_out_dropped', 'audience', 'match_rate'] as const;

/** The few facts of the index (or cluster) a report prints. */
export interface IndexFacts {
  /** Entries (numbers) in the index, summed over shards. */
  entries: number;
  /** When the index was built, ms since the epoch. */
  builtAt: number;
  /** libphonenumber-js version whose metadata built it. */
  metadataVersion: string;
  /** Where it came from: `file`, `csv`, `reader` or `cluster`. */
  source: string;
}

/** Inputs of {@link buildReport} besides the tally. */
export interface ReportContext {
  minAudience: number;
  defaultCountry: string | null;
  strict: boolean;
  hashed: HashConvention | null;
  upload: MatchReport['upload'];
  index: IndexFacts;
  phoneMetadata: MatchReport['phone_metadata'];
  threads: number;
  timings: MatchReport['timings_ms'];
  version: string;
}

/** The key of a country in a release's per-country estimates. */
export function countryKey(c: { country: string | null; callingCode: string }): string {
  return `${c.country ?? '-'}:${c.callingCode}`;
}

/** The privacy note of every report. */
const PRIVACY_NOTE =
  'Counts of your own list (rows, invalid, valid, unique) are exact. Counts that depend on the platform (matched, opted-out, audience, match rate) are protected estimates: the true value lies within the bounds with 95% probability. An upload much like an earlier one gets the earlier estimates again.';

/**
 * Builds the advertiser's report of a match: upload-only counts exact, platform-side counts as
 * `released` says (estimates with bounds, or withheld when suppressed).
 */
export function buildReport(
  tally: TallyResult,
  ctx: ReportContext,
  released: Released,
  advertiser: string,
): MatchReport {
  const suppressed = released.suppressed;
  const est = (e: Estimate | null) => (suppressed || e === null ? null : e);
  const matched = est(released.matched);
  const opted = est(released.optedOutDropped);
  const audience = est(released.audience);
  return {
    rows: tally.rows,
    invalid: tally.invalid,
    valid: tally.valid,
    unique: tally.unique,
    matched: matched?.value ?? null,
    matched_lower: matched?.lower ?? null,
    matched_upper: matched?.upper ?? null,
    opted_out_dropped: opted?.value ?? null,
    opted_out_dropped_lower: opted?.lower ?? null,
    opted_out_dropped_upper: opted?.upper ?? null,
    audience: audience?.value ?? null,
    audience_lower: audience?.lower ?? null,
    audience_upper: audience?.upper ?? null,
    invalid_by_reason: tally.invalidByReason,
    ...numbersOf(tally),
    read_as_international: tally.readAsInternational ?? 0,
    strict: ctx.strict,
    match_rate:
      matched === null || tally.unique === 0 ? null : round(Math.min(1, matched.value / tally.unique), 6),
    suppressed,
    suppression_reason: suppressed
      ? `the audience is smaller than the minimum of ${ctx.minAudience} (give or take a secret margin, so that whether anything is released tells nothing about one number); counts that would reveal who is on the platform are withheld`
      : null,
    min_audience: ctx.minAudience,
    default_country: ctx.defaultCountry,
    hashed: ctx.hashed,
    upload: {
      ...ctx.upload,
      // A file without a header row has a phone number where its header should be, and
      // `--phone-column` may name it: shown through the one redaction policy, like every message.
      phone_column: ctx.upload.phone_column === null ? null : redactIfNumeric(ctx.upload.phone_column),
      phone_columns: (ctx.upload.phone_columns ?? []).map((h) => redactIfNumeric(h)),
      country_column: ctx.upload.country_column == null ? null : redactIfNumeric(ctx.upload.country_column),
    },
    index: {
      entries: ctx.index.entries,
      built_at: new Date(ctx.index.builtAt).toISOString(),
      metadata_version: ctx.index.metadataVersion,
      source: ctx.index.source,
    },
    phone_metadata: ctx.phoneMetadata,
    threads: ctx.threads,
    timings_ms: ctx.timings,
    rows_per_second: ctx.timings.join > 0 ? Math.round((tally.rows * 1000) / ctx.timings.join) : 0,
    rollcall_version: ctx.version,
    by_country:
      ctx.hashed !== null || tally.byCountry == null
        ? null
        : countriesReleased(
            tally.byCountry,
            suppressed ? Number.POSITIVE_INFINITY : ctx.minAudience,
            released,
          ),
    reject_examples: tally.rejectExamples ?? {},
    privacy: { advertiser, estimates: 'protected', confidence: 0.95, note: PRIVACY_NOTE },
  };
}

/** Builds the operator's audit: the exact counts, and how the advertiser's release was decided. */
export function buildAudit(
  tally: TallyResult,
  ctx: ReportContext,
  released: Released,
  decision: ReleaseDecision,
): AuditReport {
  return {
    rows: tally.rows,
    invalid: tally.invalid,
    valid: tally.valid,
    unique: tally.unique,
    matched: tally.matched,
    opted_out_dropped: tally.optedOutDropped,
    audience: tally.audience.length,
    matched_rows: tally.matchedRows ?? 0,
    invalid_by_reason: tally.invalidByReason,
    ...numbersOf(tally),
    read_as_international: tally.readAsInternational ?? 0,
    match_rate: tally.unique === 0 ? null : round(tally.matched / tally.unique, 6),
    suppressed: released.suppressed,
    min_audience: ctx.minAudience,
    default_country: ctx.defaultCountry,
    hashed: ctx.hashed,
    by_country:
      ctx.hashed !== null || tally.byCountry == null
        ? null
        : tally.byCountry.map((c) => ({
            country: c.country,
            calling_code: c.callingCode,
            unique: c.unique,
            matched: c.matched,
          })),
    release: decision,
    released,
    rollcall_version: ctx.version,
  };
}

/**
 * Per-country counts with the same floor as the totals. A country's `matched` tells about that
 * country's numbers alone, so it is released only when the country has at least `floor` distinct
 * numbers; otherwise one upload with a single number of a rare country would reveal whether that
 * number is on the platform. The withheld countries' matched sum can still be worked out from the
 * total (total − released); when those countries hold fewer than `floor` numbers together, every
 * country's `matched` is withheld, so no group smaller than the floor is ever revealed.
 */
function countriesReleased(
  countries: readonly CountryTally[],
  floor: number,
  released: Released,
): CountryCount[] {
  let hiddenUnique = 0;
  for (const c of countries) if (c.unique < floor) hiddenUnique += c.unique;
  const releaseNone = hiddenUnique > 0 && hiddenUnique < floor;
  return countries.map((c) => {
    const e = releaseNone || c.unique < floor ? undefined : released.byCountry[countryKey(c)];
    return {
      country: c.country,
      calling_code: c.callingCode,
      unique: c.unique,
      matched: e?.value ?? null,
      matched_lower: e?.lower ?? null,
      matched_upper: e?.upper ?? null,
    };
  });
}

/** The report's `numbers` section: upload-only counts, exact. */
function numbersOf(tally: TallyResult): Pick<MatchReport, 'numbers'> {
  const n = tally.numbers;
  if (n === undefined) return {};
  return {
    numbers: {
      numbers: n.numbers,
      valid: n.valid,
      invalid: n.invalid,
      invalid_by_reason: n.invalidByReason,
      by_column: (tally.columns ?? []).map((c) => ({
        column: redactIfNumeric(c.header),
        numbers: c.numbers,
        valid: c.valid,
      })),
    },
  };
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
