import type { HashConvention } from '@rollcall/index';
import { type RejectReason, redactIfNumeric } from '@rollcall/phone';
import type { CountryTally } from './regions.js';
import type { RejectExample, TallyResult } from './tally.js';

/** The industry's floor: audiences smaller than this are not released. */
export const DEFAULT_MIN_AUDIENCE = 100;

/** Counts of a match, as written to `report.json`. Every data row is in exactly one of `invalid`/`valid`. */
export interface MatchReport {
  /** Data rows read (the header and blank lines are not rows). */
  rows: number;
  /** Rows rejected, for any reason (sum of `invalid_by_reason`). */
  invalid: number;
  /** Rows that normalised to a valid E.164 number (or a well-formed digest, for hashed uploads). */
  valid: number;
  /** Distinct E.164 numbers (digests, for hashed uploads) among the valid rows. */
  unique: number;
  /** Distinct numbers found in the index; null when the match was suppressed. */
  matched: number | null;
  /** Matched numbers dropped because they opted out; null when suppressed. */
  opted_out_dropped: number | null;
  /** Lines of the audience file (distinct user ids); null when suppressed. */
  audience: number | null;
  /** Rejected rows by reason code. */
  invalid_by_reason: Record<RejectReason, number>;
  /** matched / unique; null when suppressed or nothing was unique. */
  match_rate: number | null;
  /** True when the audience was smaller than `min_audience` and so was not released. */
  suppressed: boolean;
  /** Why the match was suppressed, when it was. */
  suppression_reason: string | null;
  min_audience: number;
  default_country: string;
  hashed: HashConvention | null;
  upload: {
    file: string | null;
    phone_column: string | null;
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
  /** Up to 5 rejected cells of each reason (not EMPTY), redacted (`+2637•••••37`), with their line. */
  reject_examples?: Partial<Record<RejectReason, RejectExample[]>>;
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
   * How many of them are in the index; null when the match was suppressed, or when this country
   * (or all withheld countries together) has fewer distinct numbers than the minimum audience.
   */
  matched: number | null;
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
  defaultCountry: string;
  hashed: HashConvention | null;
  upload: MatchReport['upload'];
  index: IndexFacts;
  phoneMetadata: MatchReport['phone_metadata'];
  threads: number;
  timings: MatchReport['timings_ms'];
  version: string;
}

/** Builds the report of a match, withholding the matched counts when the audience is below the floor. */
export function buildReport(tally: TallyResult, ctx: ReportContext): MatchReport {
  const audience = tally.audience.length;
  const suppressed = audience < ctx.minAudience;
  return {
    rows: tally.rows,
    invalid: tally.invalid,
    valid: tally.valid,
    unique: tally.unique,
    matched: suppressed ? null : tally.matched,
    opted_out_dropped: suppressed ? null : tally.optedOutDropped,
    audience: suppressed ? null : audience,
    invalid_by_reason: tally.invalidByReason,
    match_rate: suppressed || tally.unique === 0 ? null : round(tally.matched / tally.unique, 6),
    suppressed,
    suppression_reason: suppressed
      ? `the audience is smaller than the minimum of ${ctx.minAudience}; counts that would reveal who is on the platform are withheld`
      : null,
    min_audience: ctx.minAudience,
    default_country: ctx.defaultCountry,
    hashed: ctx.hashed,
    upload: {
      ...ctx.upload,
      // A file without a header row has a phone number where its header should be, and
      // `--phone-column` may name it: shown through the one redaction policy, like every message.
      phone_column: ctx.upload.phone_column === null ? null : redactIfNumeric(ctx.upload.phone_column),
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
        : countriesReleased(tally.byCountry, suppressed ? Number.POSITIVE_INFINITY : ctx.minAudience),
    reject_examples: tally.rejectExamples ?? {},
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
function countriesReleased(countries: readonly CountryTally[], floor: number): CountryCount[] {
  let hiddenUnique = 0;
  for (const c of countries) if (c.unique < floor) hiddenUnique += c.unique;
  const releaseNone = hiddenUnique > 0 && hiddenUnique < floor;
  return countries.map((c) => ({
    country: c.country,
    calling_code: c.callingCode,
    unique: c.unique,
    matched: releaseNone || c.unique < floor ? null : c.matched,
  }));
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
