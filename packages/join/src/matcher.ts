import { closeSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { ErrorCodes, fileErrorFrom, InvalidArgumentError, RollcallError } from '@rollcall/errors';
import { AtomicFile, safeCsvCell } from '@rollcall/files';
import {
  buildIndexInMemory,
  type HashConvention,
  INDEX_MAGIC,
  type IndexReader,
  openIndex,
} from '@rollcall/index';
import { assertCountry, phoneMetadataInfo, reasonOfCode } from '@rollcall/phone';
import { openUpload, type UploadReader, uploadFromCells } from '@rollcall/upload';
import { JoinPool, type JoinPoolOptions } from './pool.js';
import { resultViews } from './protocol.js';
import { buildReport, DEFAULT_MIN_AUDIENCE, type MatchReport } from './report.js';
import { Tally } from './tally.js';

const VERSION: string = (createRequire(import.meta.url)('../package.json') as { version: string }).version;

/** Where the index comes from: a loaded reader, or a path to a built index file or its CSV source. */
export type IndexSource = IndexReader | string;

/** Options of {@link createMatcher}. */
export interface MatcherOptions extends JoinPoolOptions {
  /** The index: a reader from `openIndex`, or a path to a built index file or a `phone,user_id,opted_out` CSV. */
  index: IndexSource;
  /** Verify the index file's checksum on load (default true). */
  verifyChecksum?: boolean;
}

/** Progress of a running match. */
export interface MatchProgress {
  rows: number;
  /** Bytes of the upload read so far and in all, when the upload is a file. */
  bytesRead?: number;
  totalBytes?: number;
}

/** Options of one match. */
export interface MatchOptions {
  /** The upload: a CSV path, the phone cells themselves, or an opened {@link UploadReader}. */
  upload: string | readonly string[] | UploadReader;
  /** ISO 3166-1 alpha-2 country for national numbers (e.g. `GB`). */
  defaultCountry: string;
  /** Header of the phone column (default: detected). */
  phoneColumn?: string;
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
  /** Rows per batch sent to a worker (default 8192). */
  batchSize?: number;
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
  report: MatchReport;
}

/**
 * Reads the first bytes of a file: a built index starts with its binary magic (whatever the file
 * is called); otherwise a file named `.csv` or starting with a `phone` header is a CSV source, and
 * anything else goes to `openIndex`, which says precisely why it is not an index.
 */
function looksLikeCsv(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw fileErrorFrom(path, err, 'open index');
  }
  try {
    const head = Buffer.alloc(16);
    const n = readSync(fd, head, 0, 16, 0);
    if (n >= INDEX_MAGIC.length && INDEX_MAGIC.every((b, i) => head[i] === b)) return false;
    const text = head
      .subarray(0, n)
      .toString('latin1')
      .replace(/^\xef\xbb\xbf/, '');
    return /^\s*"?phone/i.test(text) || /\.csv$/i.test(path);
  } catch (err) {
    throw fileErrorFrom(path, err, 'read index');
  } finally {
    closeSync(fd);
  }
}

/** Loads an index from a path (built file or CSV source), or passes a reader through. */
export async function loadIndex(
  source: IndexSource,
  options: { verifyChecksum?: boolean } = {},
): Promise<{ reader: IndexReader; kind: string }> {
  if (typeof source !== 'string') return { reader: source, kind: 'reader' };
  if (looksLikeCsv(source)) return { reader: (await buildIndexInMemory(source)).reader, kind: 'csv' };
  return {
    reader: await openIndex(source, { verifyChecksum: options.verifyChecksum ?? true }),
    kind: 'file',
  };
}

/**
 * A long-lived matcher: one index in shared memory and one worker pool, reused by every match.
 * Close it when done.
 */
export class Matcher {
  readonly index: IndexReader;
  readonly indexSource: string;
  readonly indexLoadMs: number;
  readonly #pool: JoinPool;

  constructor(index: IndexReader, indexSource: string, indexLoadMs: number, options: JoinPoolOptions = {}) {
    this.index = index;
    this.indexSource = indexSource;
    this.indexLoadMs = indexLoadMs;
    this.#pool = new JoinPool(index.buffer, options);
  }

  /** Worker threads of the pool. */
  get threads(): number {
    return this.#pool.threads;
  }

  /** Matches one upload. Bad arguments throw at once (coded); bad rows are counted, never thrown. */
  async match(options: MatchOptions): Promise<MatchResult> {
    const started = performance.now();
    const defaultCountry = assertCountry(options.defaultCountry);
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
    if (hashed !== null && !this.index.header.hasSha256) {
      throw new RollcallError(
        ErrorCodes.INDEX_MISSING_SECTION,
        'the index has no SHA-256 section, so hashed uploads cannot match: rebuild it with `rollcall index build --with-sha256`',
      );
    }

    const upload =
      typeof options.upload === 'string'
        ? await openUpload(options.upload, {
            batchSize,
            ...(options.phoneColumn !== undefined ? { phoneColumn: options.phoneColumn } : {}),
            ...(options.delimiter !== undefined ? { delimiter: options.delimiter } : {}),
            ...(options.signal !== undefined ? { signal: options.signal } : {}),
          })
        : Array.isArray(options.upload)
          ? uploadFromCells(options.upload as readonly string[], { batchSize })
          : (options.upload as UploadReader);

    if (
      options.rejects !== undefined &&
      typeof options.rejects !== 'string' &&
      !(options.rejects instanceof AtomicFile)
    ) {
      throw new InvalidArgumentError('rejects', 'must be a file path or an AtomicFile');
    }
    // A path is ours to commit or abort; an AtomicFile belongs to the caller.
    const ownsRejects = typeof options.rejects === 'string';
    const rejects = typeof options.rejects === 'string' ? new AtomicFile(options.rejects) : options.rejects;
    try {
      rejects?.write('line,cell,reason\n');
      const tally = new Tally();
      const maxInFlight = this.#pool.threads * 2;
      // Results are folded strictly in batch order, whatever order workers finish in:
      // the rejects file and every count are then the same for any thread count.
      const inFlight: Array<{ cells: string[]; lines: Uint32Array; result: Promise<ArrayBuffer> }> = [];
      let seq = 0;
      const fold = async (): Promise<void> => {
        const head = inFlight.shift()!;
        const buffer = await head.result;
        const views = resultViews(buffer, head.cells.length);
        tally.add(views, hashed !== null ? head.cells : null);
        tally.addExamples(views, head.cells, head.lines);
        if (rejects) {
          let chunk = '';
          for (let i = 0; i < views.reasons.length; i++) {
            const code = views.reasons[i]!;
            if (code !== 0)
              chunk += `${head.lines[i]},${safeCsvCell(head.cells[i]!)},${reasonOfCode(code)}\n`;
          }
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
        for await (const batch of upload.batches()) {
          if (options.signal?.aborted) throw new RollcallError(ErrorCodes.ABORTED, 'the match was cancelled');
          const hasMalformed = batch.malformed.some((m) => m === 1);
          const result = this.#pool.run(
            {
              seq: seq++,
              cells: batch.cells,
              malformed: hasMalformed ? batch.malformed : null,
              defaultCountry,
              hashed,
            },
            options.signal,
          );
          // Keep a rejection from surfacing as "unhandled" while earlier batches are awaited.
          result.catch(() => {});
          inFlight.push({ cells: batch.cells, lines: batch.lines, result });
          if (inFlight.length >= maxInFlight) await fold();
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
      const report = buildReport(counts, {
        minAudience,
        defaultCountry,
        hashed,
        upload: {
          file: typeof options.upload === 'string' ? options.upload : null,
          phone_column: upload.headers[upload.phoneColumn] ?? null,
          encoding: upload.encoding,
          delimiter: upload.delimiter,
        },
        index: this.index.header,
        indexSource: this.indexSource,
        phoneMetadata: phoneMetadataInfo(),
        threads: this.#pool.threads,
        timings: {
          index_load: round1(this.indexLoadMs),
          join: round1(joinMs),
          finalize: round1(finalizeMs),
          total: round1(performance.now() - started),
        },
        version: VERSION,
      });
      if (ownsRejects) rejects?.commit();
      return { audience: report.suppressed ? null : counts.audience, report };
    } catch (err) {
      if (ownsRejects) rejects?.abort();
      throw err;
    }
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await this.#pool.close();
  }
}

function round1(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** Loads the index once and starts the worker pool. */
export async function createMatcher(options: MatcherOptions): Promise<Matcher> {
  const started = performance.now();
  const { reader, kind } = await loadIndex(
    options.index,
    options.verifyChecksum !== undefined ? { verifyChecksum: options.verifyChecksum } : {},
  );
  return new Matcher(reader, kind, performance.now() - started, options);
}

/** Options of the one-shot {@link matchUpload}. */
export type MatchUploadOptions = MatcherOptions & MatchOptions;

/**
 * Matches one upload against an index and returns `{ audience, report }`. For many matches against
 * one index, use {@link createMatcher} and reuse it.
 */
export async function matchUpload(options: MatchUploadOptions): Promise<MatchResult> {
  const matcher = await createMatcher(options);
  try {
    return await matcher.match(options);
  } finally {
    await matcher.close();
  }
}

/** Writes an audience file atomically: one decimal id a line, ascending, each once. */
export function writeAudienceFile(path: string, audience: BigUint64Array): void {
  const file = new AtomicFile(path);
  try {
    writeAudience(file, audience);
    file.commit();
  } catch (err) {
    file.abort();
    throw err;
  }
}

/**
 * Writes an audience (one decimal id a line) into an open {@link AtomicFile} without committing it,
 * in chunks so that a large audience never becomes one huge string.
 */
export function writeAudience(file: AtomicFile, audience: BigUint64Array): void {
  const step = 65_536;
  for (let start = 0; start < audience.length; start += step) {
    let chunk = '';
    const end = Math.min(audience.length, start + step);
    for (let i = start; i < end; i++) chunk += `${audience[i]}\n`;
    file.write(chunk);
  }
}
