/**
 * The one match loop: options, upload, fold, rejects, report. Every way of answering "which of
 * these keys are in the index" (the local worker pool, the cluster's shards) is a {@link Prober};
 * everything else about a match (what is counted, what the advertiser may see, what the rejects
 * file holds) lives here, once.
 */
import { performance } from 'node:perf_hooks';
import { ErrorCodes, InvalidArgumentError, RollcallError } from '@rollcall/errors';
import { AtomicFile, safeCsvCell } from '@rollcall/files';
import type { HashConvention } from '@rollcall/index';
import { assertCountry, phoneMetadataInfo, reasonCode, reasonOfCode } from '@rollcall/phone';
import {
  checkAdvertiser,
  FileLedger,
  type Ledger,
  type PrivacyPolicy,
  privacyPolicy,
  protect,
  setFingerprint,
} from '@rollcall/privacy';
import {
  checkUploadOptions,
  openUpload,
  type UploadBatch,
  type UploadReader,
  uploadFromCells,
} from '@rollcall/upload';
import {
  type AuditReport,
  buildAudit,
  buildReport,
  countryKey,
  DEFAULT_MIN_AUDIENCE,
  type IndexFacts,
  type MatchReport,
} from './match-report.js';
import type { BatchResultViews } from './protocol.js';
import { Tally } from './tally.js';
import { VERSION } from './version.js';

/** Progress of a running match. */
export interface MatchProgress {
  rows: number;
  /** Bytes of the upload read so far and in all, when the upload is a file. */
  bytesRead?: number;
  totalBytes?: number;
}

/** Options of one match. */
export interface MatchOptions {
  /**
   * The upload: a file path (CSV, or a Meta Marketing API JSON payload), the phone cells themselves,
   * or an opened {@link UploadReader} (e.g. `openUploads([...])` for several files of one session).
   */
  upload: string | readonly string[] | UploadReader;
  /**
   * ISO 3166-1 alpha-2 country for national numbers (e.g. `GB`) of rows without a country of their
   * own. Optional when the upload has a country column (rows with a blank country then accept only
   * international spellings) or is pre-hashed.
   */
  defaultCountry?: string;
  /** Header(s) of the phone column(s) (default: every header that names a phone). */
  phoneColumn?: string | readonly string[];
  /** Header of the column holding each row's country, or `false` for none (default: detected). */
  countryColumn?: string | false;
  /**
   * Refuse a number read as international only after failing as national (digits with a country
   * code but no `+`); such cells are rejected as `MISSING_PLUS` instead of counted in
   * `read_as_international`. Default false.
   */
  strict?: boolean;
  /** CSV delimiter (default: detected from the header). */
  delimiter?: string;
  /** The phone column holds SHA-256 hex digests made by the advertiser, in this convention. */
  hashed?: HashConvention;
  /** Audiences smaller than this are suppressed (default 100). */
  minAudience?: number;
  /**
   * Write every rejected row (line, raw cell, reason) as CSV: to this path, committed when the match
   * succeeds; or into this open {@link AtomicFile}, which the caller commits or aborts (so that it can
   * commit several outputs together, after all of them are written).
   */
  rejects?: string | AtomicFile;
  /**
   * Rows per batch sent to a worker (default 8192). Several phone columns give fewer rows a batch:
   * at most max(batchSize, 8192) phone cells (upload's `batchRows`).
   */
  batchSize?: number;
  /** Who asks: the advertiser whose releases the privacy ledger keeps together (default `default`). */
  advertiser?: string;
  /**
   * The privacy ledger: a file path, or a {@link Ledger}. Default: the prober's own (a cluster's
   * Redis), else `$XDG_STATE_HOME/rollcall/ledger.jsonl`.
   */
  ledger?: string | Ledger;
  /** The privacy mechanism's parameters (operators only; see docs/privacy.md). */
  privacy?: Partial<PrivacyPolicy>;
  signal?: AbortSignal;
  onProgress?: (progress: MatchProgress) => void;
}

/** The outcome of a match. */
export interface MatchResult {
  /**
   * Distinct user ids of the audience, ascending by numeric value (u64, never a JS number);
   * null when the match was suppressed: a suppressed audience is never handed out.
   */
  audience: BigUint64Array | null;
  /** The advertiser's report: platform-side counts as protected estimates. */
  report: MatchReport;
  /** The operator's audit: the exact counts and how the release was decided. Never show it to the advertiser. */
  audit: AuditReport;
}

/** The options of one match, checked and with their defaults. */
export interface MatchSettings {
  /** Null when not given: rows then need a country of their own (or the upload is hashed). */
  defaultCountry: string | null;
  strict: boolean;
  minAudience: number;
  batchSize: number;
  hashed: HashConvention | null;
  /** Phone cells per row: the upload's phone columns (1 until the upload is opened). */
  width: number;
  advertiser: string;
  privacy: PrivacyPolicy;
  signal: AbortSignal | undefined;
}

/** One match's traffic with a {@link Prober}: opened after the upload, ended whatever happens. */
export interface ProbeSession {
  /** The index facts the report prints. */
  readonly index: IndexFacts;
  /** Time spent reaching the index (loading it, or discovering the cluster), ms. */
  readonly indexLoadMs: number;
  /** Batches in flight at once before the loop waits for the oldest. */
  readonly maxInFlight: number;
  /**
   * Starts one batch (called in upload order, `seq` 0, 1, 2…) and resolves to its rows' results.
   * A rejection fails the match.
   */
  probe(seq: number, batch: UploadBatch): Promise<BatchResultViews>;
  /** Ends the session; called once, after success or failure. */
  end(): Promise<void>;
  /** The error the match fails with, given the one the loop caught (e.g. the session's own cause). */
  failure?(err: unknown): unknown;
}

/** A way to look keys up in the index: the local worker pool, or the cluster's shards. */
export interface Prober {
  /** Threads normalising and probing on this machine. */
  readonly threads: number;
  /** Refuses, with a coded error, settings this prober cannot serve (before the upload is opened). */
  check(settings: MatchSettings): void;
  /** Opens one match's session. */
  begin(settings: MatchSettings): Promise<ProbeSession>;
  /** The privacy ledger this prober's matches share when none is given (a cluster's Redis). */
  defaultLedger?(): Ledger;
}

/** Checks a match's options (coded errors naming the option) and fills in the defaults. */
export function matchSettings(options: MatchOptions): MatchSettings {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError(
      'options',
      'must be an object with at least `upload` and `defaultCountry`',
    );
  }
  const { upload } = options;
  if (!(typeof upload === 'string' || Array.isArray(upload) || isUploadReader(upload))) {
    throw new InvalidArgumentError(
      'upload',
      'must be a CSV file path, an array of phone cells, or an UploadReader',
    );
  }
  const defaultCountry =
    options.defaultCountry === undefined || options.defaultCountry === null
      ? null
      : assertCountry(options.defaultCountry);
  if (options.strict !== undefined && typeof options.strict !== 'boolean') {
    throw new InvalidArgumentError('strict', `must be true or false, got ${String(options.strict)}`);
  }
  const strict = options.strict ?? false;
  // The upload reader's own options, checked by its own rule now, before any index or cluster work.
  checkUploadOptions({
    ...(options.phoneColumn !== undefined ? { phoneColumn: options.phoneColumn } : {}),
    ...(options.countryColumn !== undefined ? { countryColumn: options.countryColumn } : {}),
    ...(options.delimiter !== undefined ? { delimiter: options.delimiter } : {}),
  });
  const minAudience = options.minAudience ?? DEFAULT_MIN_AUDIENCE;
  if (!Number.isInteger(minAudience) || minAudience < 1) {
    throw new InvalidArgumentError('minAudience', `must be an integer ≥ 1, got ${minAudience}`);
  }
  const batchSize = options.batchSize ?? 8192;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new InvalidArgumentError('batchSize', `must be an integer ≥ 1, got ${batchSize}`);
  }
  const hashed = options.hashed ?? null;
  if (hashed !== null && hashed !== 'meta' && hashed !== 'google') {
    throw new InvalidArgumentError('hashed', `must be "meta" or "google", got ${String(hashed)}`);
  }
  if (
    options.rejects !== undefined &&
    typeof options.rejects !== 'string' &&
    !(options.rejects instanceof AtomicFile)
  ) {
    throw new InvalidArgumentError('rejects', 'must be a file path or an AtomicFile');
  }
  if (
    options.ledger !== undefined &&
    !(typeof options.ledger === 'string' && options.ledger !== '') &&
    typeof (options.ledger as Ledger).transact !== 'function'
  ) {
    throw new InvalidArgumentError('ledger', 'must be a file path or a Ledger');
  }
  const advertiser = checkAdvertiser(options.advertiser ?? 'default');
  const privacy = privacyPolicy(options.privacy);
  return {
    defaultCountry,
    strict,
    minAudience,
    batchSize,
    hashed,
    width: 1,
    advertiser,
    privacy,
    signal: options.signal,
  };
}

function isUploadReader(x: unknown): x is UploadReader {
  return typeof x === 'object' && x !== null && typeof (x as UploadReader).batches === 'function';
}

async function uploadOf(options: MatchOptions, s: MatchSettings): Promise<UploadReader> {
  if (typeof options.upload === 'string') {
    return openUpload(options.upload, {
      batchSize: s.batchSize,
      ...(options.phoneColumn !== undefined ? { phoneColumn: options.phoneColumn } : {}),
      ...(options.countryColumn !== undefined ? { countryColumn: options.countryColumn } : {}),
      ...(options.delimiter !== undefined ? { delimiter: options.delimiter } : {}),
      ...(s.signal !== undefined ? { signal: s.signal } : {}),
    });
  }
  if (Array.isArray(options.upload)) {
    return uploadFromCells(options.upload as readonly string[], { batchSize: s.batchSize });
  }
  return options.upload as UploadReader;
}

/**
 * The platform-side set a release is about, for the privacy ledger's similarity: the matched keys,
 * each negated when it is opted out, so that a change of opt-outs alone also makes a new question.
 * Both inputs ascending (repeats allowed); the result ascending.
 */
function platformSet(matched: Float64Array, optedOut: Float64Array): Float64Array {
  const out = new Float64Array(matched.length);
  let j = 0;
  for (let i = 0; i < matched.length; i++) {
    const k = matched[i]!;
    while (j < optedOut.length && optedOut[j]! < k) j++;
    out[i] = j < optedOut.length && optedOut[j] === k ? -k : k;
  }
  return out.sort();
}

const EMPTY_CODE = reasonCode('EMPTY');
const MALFORMED_CODE = reasonCode('MALFORMED_ROW');

/**
 * The rejects file's lines for one batch: every rejected row (no valid number), explained. With one
 * phone column, `line,cell,reason`; with several, `line,column,cell,reason`, one line per rejected
 * number of the row (or one line with no cell when all of the row's cells are empty); with several
 * files, the file first.
 */
function rejectLines(
  batch: UploadBatch,
  cellReasons: Uint8Array,
  rowReasons: Uint8Array,
  width: number,
  multiFile: boolean,
  upload: UploadReader,
): string {
  const { cells, lines } = batch;
  const file = multiFile ? `${safeCsvCell(batch.file ?? upload.file)},` : '';
  const columns = upload.phoneColumns;
  let chunk = '';
  for (let r = 0; r < rowReasons.length; r++) {
    const rowCode = rowReasons[r]!;
    if (rowCode === 0) continue;
    if (width === 1) {
      chunk += `${file}${lines[r]},${safeCsvCell(cells[r]!)},${reasonOfCode(rowCode)}\n`;
      continue;
    }
    let written = false;
    for (let c = 0; c < width; c++) {
      const i = r * width + c;
      const code = cellReasons[i]!;
      const cell = cells[i] ?? '';
      if (code === EMPTY_CODE || (code === MALFORMED_CODE && cell.trim() === '')) continue;
      const header = safeCsvCell(upload.headers[columns[c]!] ?? '');
      chunk += `${file}${lines[r]},${header},${safeCsvCell(cell)},${reasonOfCode(code)}\n`;
      written = true;
    }
    if (!written) chunk += `${file}${lines[r]},,,${reasonOfCode(rowCode)}\n`;
  }
  return chunk;
}

function round1(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/**
 * Runs one match through `prober`: reads the upload, folds each batch's results strictly in batch
 * order (so the rejects file and every count are the same for any thread count), and builds the
 * report. Bad arguments throw at once (coded); bad rows are counted, never thrown.
 */
export async function runMatch(prober: Prober, options: MatchOptions): Promise<MatchResult> {
  const started = performance.now();
  const given = matchSettings(options);
  prober.check(given);
  // The upload first: a bad file fails at once, before any index or cluster work.
  const upload = await uploadOf(options, given);
  const settings: MatchSettings = {
    ...given,
    hashed: given.hashed ?? upload.hashed,
    width: upload.phoneColumns.length,
  };
  // A payload that says its phones are digests is a hashed upload, whoever asks.
  if (settings.hashed !== given.hashed) prober.check(settings);
  if (settings.defaultCountry === null && settings.hashed === null && upload.countryColumn === null) {
    throw new InvalidArgumentError(
      'defaultCountry',
      `is required: ${upload.file} has no country column, so national numbers need a default country`,
    );
  }
  const { hashed, signal, width } = settings;
  const multiFile = (upload.files?.length ?? 1) > 1;
  // A path is ours to commit or abort; an AtomicFile belongs to the caller.
  const ownsRejects = typeof options.rejects === 'string';
  const rejects = typeof options.rejects === 'string' ? new AtomicFile(options.rejects) : options.rejects;
  let session: ProbeSession | undefined;
  try {
    session = await prober.begin(settings);
    rejects?.write(`${multiFile ? 'file,' : ''}line,${width > 1 ? 'column,' : ''}cell,reason\n`);
    const tally = new Tally(upload.phoneColumns.map((c) => upload.headers[c] ?? ''));
    const inFlight: Array<{ batch: UploadBatch; result: Promise<BatchResultViews> }> = [];
    const fold = async (): Promise<void> => {
      const head = inFlight.shift()!;
      const views = await head.result;
      const { cells, lines } = head.batch;
      const verdicts = tally.add(views, cells, hashed !== null);
      tally.addExamples(views, cells, lines);
      if (rejects) {
        const chunk = rejectLines(head.batch, views.reasons, verdicts.reasons, width, multiFile, upload);
        if (chunk) rejects.write(chunk);
      }
      options.onProgress?.({
        rows: tally.rows,
        bytesRead: upload.bytesRead,
        ...(upload.totalBytes !== null ? { totalBytes: upload.totalBytes } : {}),
      });
    };
    const joinStarted = performance.now();
    try {
      let seq = 0;
      for await (const batch of upload.batches()) {
        if (signal?.aborted) throw new RollcallError(ErrorCodes.ABORTED, 'the match was cancelled');
        const result = session.probe(seq++, batch);
        // Keep a rejection from surfacing as "unhandled" while earlier batches are awaited.
        result.catch(() => {});
        inFlight.push({ batch, result });
        if (inFlight.length >= session.maxInFlight) await fold();
      }
      while (inFlight.length > 0) await fold();
    } finally {
      // On failure, wait for what is still running so no task outlives the match.
      await Promise.allSettled(inFlight.map((f) => f.result));
    }
    const joinMs = performance.now() - joinStarted;
    const finalizeStarted = performance.now();
    const counts = tally.finish();
    const finalizeMs = performance.now() - finalizeStarted;
    if (signal?.aborted) {
      throw new RollcallError(
        ErrorCodes.ABORTED,
        'stopped before the outputs were written; no output was replaced',
      );
    }
    const ledger =
      typeof options.ledger === 'string'
        ? new FileLedger(options.ledger)
        : (options.ledger ?? prober.defaultLedger?.() ?? new FileLedger());
    const sets = counts.sets!;
    const { released, decision } = await protect({
      advertiser: settings.advertiser,
      ledger,
      policy: settings.privacy,
      exact: {
        matched: counts.matched,
        optedOutDropped: counts.optedOutDropped,
        audience: counts.audience.length,
        byCountry: (counts.byCountry ?? []).map((c) => ({
          key: countryKey(c),
          unique: c.unique,
          matched: c.matched,
        })),
      },
      minAudience: settings.minAudience,
      uploadFingerprint: setFingerprint(sets.digests ?? sets.valid),
      matchedKeys: platformSet(sets.matched, sets.optedOut),
    });
    const context = {
      minAudience: settings.minAudience,
      defaultCountry: settings.defaultCountry,
      strict: settings.strict,
      hashed,
      upload: {
        file: typeof options.upload === 'string' ? options.upload : null,
        phone_column: upload.headers[upload.phoneColumn] ?? null,
        phone_columns: upload.phoneColumns.map((c) => upload.headers[c] ?? ''),
        country_column: upload.countryColumn === null ? null : (upload.headers[upload.countryColumn] ?? null),
        files: upload.files ?? null,
        encoding: upload.encoding,
        delimiter: upload.delimiter,
      },
      index: session.index,
      phoneMetadata: phoneMetadataInfo(),
      threads: prober.threads,
      timings: {
        index_load: round1(session.indexLoadMs),
        join: round1(joinMs),
        finalize: round1(finalizeMs),
        total: round1(performance.now() - started),
      },
      version: VERSION,
    };
    const report = buildReport(counts, context, released, settings.advertiser);
    const audit = buildAudit(counts, context, released, decision);
    if (ownsRejects) rejects?.commit();
    return { audience: released.suppressed ? null : counts.audience, report, audit };
  } catch (err) {
    if (ownsRejects) rejects?.abort();
    throw session?.failure?.(err) ?? err;
  } finally {
    await session?.end();
  }
}
