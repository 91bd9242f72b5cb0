/**
 * Sharded indexes: the one key → shard routing function, the shard files' names, and the build
 * that splits a source CSV into `shardCount` ordinary index files, one shard each.
 */
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileErrorFrom, InputError, InvalidArgumentError } from '@rollcall/errors';
import { AtomicFile } from '@rollcall/files';
import { keyToE164, type PhoneKey } from '@rollcall/phone';
import { writeIndexFileMarking } from './build/from-csv.js';
import { buildIndexFromRows } from './build/from-rows.js';
import { type BuildReport, writeImage } from './build/image-builder.js';
import { type BuildOptions, CHECK_EVERY_ROWS, DEFAULT_HASH_SEED, throwIfAborted } from './build/options.js';
import {
  checkSourceCells,
  DuplicatePhoneError,
  noSourceRowProblems,
  RowProblem,
  SOURCE_COLUMNS,
  SourceCells,
  type SourceRowProblem,
} from './build/source-rules.js';
import { csvDataRecords } from './csv.js';
import { resealOptOuts } from './header.js';
import { keyHash } from './key-hash.js';
import { SLOT_WORDS } from './layout.js';
import { loadImage } from './load.js';
import { withIndexLock } from './lock.js';
import { settleUserFlags } from './user-optouts.js';
import { UserIdSet } from './user-set.js';

/** Most shards an index may be split into (queue names and file names stay short). */
export const MAX_SHARDS = 4096;

/**
 * The shard holding `key` in an index split into `shardCount` shards whose hash seed is `seed`:
 * {@link keyHash}(key, seed) mod shardCount. The build routes rows with it and a cluster
 * coordinator routes probes with it; there is no other.
 *
 * Modulo, i.e. the LOW bits of the hash, on purpose: inside a shard the table places a key by
 * the HIGH bits (`slotOf` is multiply-shift). Routing by the high bits too (⌊hash × S / 2^32⌋,
 * the obvious twin of `slotOf`) would give every key of shard i a hash in the i-th S-th of the
 * range, so each shard's keys would crowd into one S-th of its table.
 */
export function shardOfKey(key: PhoneKey, seed: number, shardCount: number): number {
  return shardCount === 1 ? 0 : keyHash(key, seed) % shardCount;
}

/**
 * The file names of an index split into `shardCount` shards, in shard order. `out` is a prefix
 * (`big` or `big.idx` → `big.shard-0-of-4.idx`, …) or an existing directory (or a path ending
 * in `/`), which then holds `index.shard-0-of-4.idx`, ….
 */
export function shardFilePaths(out: string, shardCount: number): string[] {
  if (typeof out !== 'string' || out === '') throw new InvalidArgumentError('out', 'must be a path');
  checkShardCount(shardCount);
  let prefix: string;
  if (out.endsWith('/') || (existsSync(out) && statSync(out).isDirectory())) prefix = join(out, 'index');
  else prefix = out.replace(/\.idx$/, '');
  return Array.from({ length: shardCount }, (_, i) => `${prefix}.shard-${i}-of-${shardCount}.idx`);
}

function checkShardCount(shardCount: number): void {
  if (!Number.isSafeInteger(shardCount) || shardCount < 1 || shardCount > MAX_SHARDS) {
    throw new InvalidArgumentError(
      'shardCount',
      `must be an integer from 1 to ${MAX_SHARDS}, got ${String(shardCount)}`,
    );
  }
}

/** Options of {@link writeShardedIndexFiles}: those of a build, with the shard count instead of one shard. */
export interface ShardedBuildOptions extends Omit<BuildOptions, 'shard' | 'shardCount' | 'onProgress'> {
  /** Shards to split the index into (1 … {@link MAX_SHARDS}). */
  shardCount: number;
}

/** What a sharded build did: the shard files, each shard's own report, and the totals. */
export interface ShardedBuildReport {
  source: string;
  /** The shard files written, in shard order. */
  files: string[];
  /** Each shard's build report (its `source` is a temporary file, since removed). */
  shards: BuildReport[];
  rows: number;
  entries: number;
  skipped: Record<SourceRowProblem, number>;
  skippedRows: number;
  /** Entries opted out in all shards: every number of every opted-out user (see `BuildReport.optedOut`). */
  optedOut: number;
  /** Users opted out: users with at least one entry marked opted out in the source. */
  optedOutUsers: number;
  neverMatchable: number;
  /** Bytes of all shard files together. */
  fileBytes: number;
  /** Bytes of the largest shard file: what one shard worker holds in memory. */
  largestFileBytes: number;
  hashSeed: number;
  shardCount: number;
  durationMs: number;
}

/** Bytes of routed rows buffered per shard before a write. */
const FLUSH_BYTES = 1 << 20;

/** A routed CSV of one shard, written through a buffer. */
class ShardCsv {
  readonly path: string;
  readonly #fd: number;
  #buffer = 'phone,user_id,opted_out\n';

  constructor(path: string) {
    this.path = path;
    this.#fd = openSync(path, 'wx');
  }

  add(line: string): void {
    this.#buffer += line;
    if (this.#buffer.length >= FLUSH_BYTES) this.flush();
  }

  flush(): void {
    if (this.#buffer.length > 0) writeSync(this.#fd, this.#buffer);
    this.#buffer = '';
  }

  close(): void {
    try {
      this.flush();
    } finally {
      closeSync(this.#fd);
    }
  }
}

/**
 * The source lines of the `rows`-th data rows (1-based) routed to `shard`, and the phone cell
 * of the first (error path only: reads the source again instead of keeping a line map, which
 * would cost 4 bytes a row for the whole build).
 */
async function sourceLinesOf(
  csvPath: string,
  shard: number,
  seed: number,
  shardCount: number,
  rows: readonly number[],
): Promise<{ lines: number[]; phone: string }> {
  const lines = rows.map(() => 0);
  let phone = '';
  const row = new SourceCells();
  let routed = 0;
  for await (const rec of csvDataRecords(csvPath, SOURCE_COLUMNS)) {
    const key = checkSourceCells(rec.cells, row);
    if (key instanceof RowProblem || shardOfKey(key, seed, shardCount) !== shard) continue;
    routed++;
    rows.forEach((want, i) => {
      if (want === routed) {
        lines[i] = rec.line;
        if (i === 0) phone = rec.cells[0]!;
      }
    });
    if (lines.every((l) => l > 0)) break;
  }
  return { lines, phone };
}

/**
 * An error of a shard's build, whose positions name the shard's temporary CSV, restated at the
 * source CSV's lines. Temporary line L is the shard's (L − 1)-th routed data row.
 */
async function restate(
  err: unknown,
  tempCsv: string,
  csvPath: string,
  shard: number,
  seed: number,
  shardCount: number,
): Promise<unknown> {
  if (!(err instanceof InputError) || err.file !== tempCsv || err.line === undefined) return err;
  if (err instanceof DuplicatePhoneError) {
    const { lines, phone } = await sourceLinesOf(csvPath, shard, seed, shardCount, [
      err.line - 1,
      err.firstLine - 1,
    ]);
    return new DuplicatePhoneError({ file: csvPath, line: lines[0]!, column: 1 }, lines[1]!, phone);
  }
  const { lines } = await sourceLinesOf(csvPath, shard, seed, shardCount, [err.line - 1]);
  return new InputError({ ...err.position, file: csvPath, line: lines[0]! }, err.detail);
}

/**
 * Sets the user's opted-out bit of every entry of a built shard file to `optedOutUsers.has(user)`
 * and rewrites the file if that changed anything; returns the file's opted-out count.
 */
async function settleShardFile(path: string, optedOutUsers: UserIdSet): Promise<number> {
  // Just written by this build: its checksum is recomputed below anyway.
  const { image, raw } = await loadImage(path, false);
  const table = new Uint32Array(image, raw.tableOffset, raw.capacity * SLOT_WORDS);
  const { optedOut, changed } = settleUserFlags(table, raw.capacity, [optedOutUsers]);
  if (changed === 0) return raw.optedOut;
  await resealOptOuts(image, raw.fileBytes, optedOut, raw.updatedAt);
  const out = new AtomicFile(path);
  try {
    writeImage(out, image, raw.fileBytes);
    out.commit();
  } catch (err) {
    out.abort();
    throw err;
  }
  return optedOut;
}

/**
 * Builds an index split into `shardCount` shard files from a `phone,user_id,opted_out` CSV
 * (`rollcall index build <csv> -o <out> --shards S`). Every row goes to shard
 * {@link shardOfKey}(key, hashSeed, S); each file is an ordinary index file whose header records
 * its shard number, the shard count and the hash seed, all with one build time. One pass routes
 * the rows to a temporary CSV per shard (checking each row as the build does, so a bad row fails
 * at its own line); then the shards are built one after another, so memory holds one shard at a
 * time. Files are named by {@link shardFilePaths}; they are renamed into place only when every
 * shard is built: on any error none is written and existing files are untouched. In strict mode a
 * duplicate phone is reported at its source lines (the first duplicate of the first shard that
 * has one, which need not be the file's first).
 *
 * An opt-out is the person's: a user's numbers may route to different shards, so the routing pass
 * gathers the users of every opted-out row and each shard marks all entries of those users opted
 * out (memory: about 11 to 23 bytes per opted-out user, for the whole build). With `skipInvalid`,
 * a row skipped as a duplicate phone opts no one out, as in an unsharded build: when such rows
 * were the only opted-out rows of some user, the shard files are settled once more against the
 * users of the rows actually placed. Returns the report.
 */
export async function writeShardedIndexFiles(
  csvPath: string,
  out: string,
  options: ShardedBuildOptions,
): Promise<ShardedBuildReport> {
  const started = performance.now();
  if (typeof csvPath !== 'string' || csvPath === '')
    throw new InvalidArgumentError('csvPath', 'must be a file path');
  if (typeof options !== 'object' || options === null)
    throw new InvalidArgumentError('options', 'must be an object');
  const { shardCount, ...common } = options;
  checkShardCount(shardCount);
  const seed = common.hashSeed ?? DEFAULT_HASH_SEED;
  const builtAt = common.builtAt ?? Date.now();
  // Checks every other option (and the seed) before any work: the first shard's options.
  const shardOptions = (shard: number): BuildOptions => ({
    ...common,
    hashSeed: seed,
    builtAt,
    shard,
    shardCount,
  });
  // Bad options fail now, before the routing pass, with the build's own coded errors.
  await buildIndexFromRows([], shardOptions(0));
  const files = shardFilePaths(out, shardCount);
  let temp: string;
  try {
    // Beside the outputs, so the final renames stay on one file system.
    temp = mkdtempSync(join(dirname(files[0]!), `.${basename(files[0]!)}.tmp-`));
  } catch (err) {
    throw fileErrorFrom(files[0]!, err, 'create the shard files');
  }
  try {
    const csvs: ShardCsv[] = [];
    const skipped = noSourceRowProblems();
    /** Users of the routed rows marked opted out (exact unless a duplicate is skipped later). */
    const optedOutRows = new UserIdSet();
    let rows = 0;
    try {
      for (let i = 0; i < shardCount; i++) csvs.push(new ShardCsv(join(temp, `in-${i}.csv`)));
      const row = new SourceCells();
      for await (const rec of csvDataRecords(csvPath, SOURCE_COLUMNS)) {
        if (++rows % CHECK_EVERY_ROWS === 0) throwIfAborted(common.signal);
        const key = checkSourceCells(rec.cells, row);
        if (key instanceof RowProblem) {
          if (!common.skipInvalid) throw key.errorAt(csvPath, rec.line);
          skipped[key.problem]++;
          continue;
        }
        if (row.optedOut) optedOutRows.add(row.halves[0]!, row.halves[1]!);
        // Written in a canonical spelling: every cell was just checked, none needs quoting.
        csvs[shardOfKey(key, seed, shardCount)]!.add(`${keyToE164(key)},${rec.cells[1]!},${row.optedOut}\n`);
      }
    } finally {
      for (const csv of csvs) csv.close();
    }
    const shards: BuildReport[] = [];
    // Users of the opted-out rows each shard placed: only needed when rows can be skipped.
    const placedOptedOut = common.skipInvalid ? new UserIdSet() : undefined;
    for (let i = 0; i < shardCount; i++) {
      throwIfAborted(common.signal);
      const tempCsv = csvs[i]!.path;
      try {
        const built = await writeIndexFileMarking(
          tempCsv,
          join(temp, `out-${i}.idx`),
          shardOptions(i),
          optedOutRows,
        );
        shards.push(built.report);
        if (placedOptedOut !== undefined) {
          built.optedOutUsers.forEach((lo, hi) => {
            placedOptedOut.add(lo, hi);
          });
        }
      } catch (err) {
        throw await restate(err, tempCsv, csvPath, i, seed, shardCount);
      }
      rmSync(tempCsv, { force: true });
    }
    // Without skipping, every routed row was placed (or the build failed): the sets are equal.
    // Placed ⊆ routed, so equal sizes mean equal sets.
    let optedOutUsers = optedOutRows.size;
    if (placedOptedOut !== undefined && placedOptedOut.size < optedOutRows.size) {
      optedOutUsers = placedOptedOut.size;
      for (let i = 0; i < shardCount; i++) {
        const optedOut = await settleShardFile(join(temp, `out-${i}.idx`), placedOptedOut);
        shards[i] = { ...shards[i]!, optedOut };
      }
    }
    // Under the shards' update locks: an `index optout` running on the old files ends first.
    await withIndexLock(
      files,
      async () => {
        for (let i = 0; i < shardCount; i++) {
          try {
            renameSync(join(temp, `out-${i}.idx`), files[i]!);
          } catch (err) {
            throw fileErrorFrom(files[i]!, err, 'write the shard file');
          }
        }
      },
      common.signal ? { signal: common.signal } : {},
    );
    for (const s of shards) skipped.DUPLICATE_PHONE += s.skipped.DUPLICATE_PHONE;
    const sum = (f: (r: BuildReport) => number) => shards.reduce((a, r) => a + f(r), 0);
    return {
      source: csvPath,
      files,
      shards,
      rows,
      entries: sum((r) => r.entries),
      skipped,
      skippedRows: Object.values(skipped).reduce((a, b) => a + b, 0),
      optedOut: sum((r) => r.optedOut),
      optedOutUsers,
      neverMatchable: sum((r) => r.neverMatchable),
      fileBytes: sum((r) => r.fileBytes),
      largestFileBytes: Math.max(...shards.map((r) => r.fileBytes)),
      hashSeed: seed,
      shardCount,
      durationMs: performance.now() - started,
    };
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}
