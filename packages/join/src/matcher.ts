import { closeSync, openSync, readSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { ErrorCodes, fileErrorFrom, RollcallError } from '@rollcall/errors';
import { AtomicFile } from '@rollcall/files';
import { buildIndexInMemory, INDEX_MAGIC, type IndexReader, openIndex } from '@rollcall/index';
import {
  type MatchOptions,
  type MatchResult,
  type MatchSettings,
  type Prober,
  type ProbeSession,
  runMatch,
} from './match-loop.js';
import { JoinPool, type JoinPoolOptions } from './pool.js';
import { resultViews } from './protocol.js';

/** Where the index comes from: a loaded reader, or a path to a built index file or its CSV source. */
export type IndexSource = IndexReader | string;

/** Options of {@link createMatcher}. */
export interface MatcherOptions extends JoinPoolOptions {
  /** The index: a reader from `openIndex`, or a path to a built index file or a `phone,user_id,opted_out` CSV. */
  index: IndexSource;
  /** Verify the index file's checksum on load (default true). */
  verifyChecksum?: boolean;
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
export class Matcher implements Prober {
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
  match(options: MatchOptions): Promise<MatchResult> {
    return runMatch(this, options);
  }

  /** {@link Prober}: a hashed upload needs the index's SHA-256 section. */
  check(settings: MatchSettings): void {
    if (settings.hashed !== null && !this.index.header.hasSha256) {
      throw new RollcallError(
        ErrorCodes.INDEX_MISSING_SECTION,
        'the index has no SHA-256 section, so hashed uploads cannot match: rebuild it with `rollcall index build --with-sha256`',
      );
    }
  }

  /** {@link Prober}: each batch goes to the pool; its answer is one transferred buffer. */
  async begin(settings: MatchSettings): Promise<ProbeSession> {
    const pool = this.#pool;
    const { defaultCountry, strict, width, hashed, signal } = settings;
    const h = this.index.header;
    return {
      index: {
        entries: h.entries,
        builtAt: h.builtAt,
        metadataVersion: h.metadataVersion,
        source: this.indexSource,
      },
      indexLoadMs: this.indexLoadMs,
      maxInFlight: pool.threads * 2,
      probe: async (seq, batch) => {
        const hasMalformed = batch.malformed.some((m) => m === 1);
        const buffer = await pool.run(
          {
            seq,
            cells: batch.cells,
            width,
            countries: batch.countries ?? null,
            malformed: hasMalformed ? batch.malformed : null,
            defaultCountry,
            strict,
            hashed,
          },
          signal,
        );
        return resultViews(buffer, batch.cells.length);
      },
      end: async () => {},
    };
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    await this.#pool.close();
  }
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
