/**
 * Sharded indexes: the one key → shard routing function, the shard files' names, and the build
 * that splits a source CSV into `shardCount` ordinary index files, one shard each.
 */
import { existsSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileErrorFrom, InvalidArgumentError } from '@rollcall/errors';
import { AtomicFile } from '@rollcall/files';
import { type PhoneKey, parseE164Strict } from '@rollcall/phone';
import { buildIndexFromRows } from './build/from-rows.js';
import { type BuildReport, writeImage, writeImageFile } from './build/image-builder.js';
import { type BuildOptions, DEFAULT_HASH_SEED, resolveOptions, throwIfAborted } from './build/options.js';
import { buildImageFromSpool, ShardSpool } from './build/shard-spool.js';
import { RowBatch, readSourceRows } from './build/source-reader.js';
import { DuplicatePhoneError, SOURCE_COLUMNS, type SourceRowProblem } from './build/source-rules.js';
import { CsvChunks, csvDataRecords } from './csv.js';
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
  /** Each shard's build report (its `source` is the source CSV, its `output` the shard file). */
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

/** Rows the routing pass reads before it sends them to their shards' spools. */
const ROUTE_BATCH = 4096;

/**
 * The error of a duplicate phone that a shard's build found, at the source's lines: the first
 * duplicate a shard places is the second row of its phone (rows keep their source order within
 * a shard, and every row of a phone goes to one shard), so it names the first two data lines of
 * that phone. Error path only: reads the source again instead of keeping a line per row, which
 * would cost 8 bytes a row for the whole build.
 */
async function duplicateError(csvPath: string, key: PhoneKey): Promise<DuplicatePhoneError> {
  const lines: number[] = [];
  let phone = '';
  for await (const rec of csvDataRecords(csvPath, SOURCE_COLUMNS)) {
    if (parseE164Strict(rec.cells[0]!) !== key) continue;
    lines.push(rec.line);
    phone = rec.cells[0]!;
    if (lines.length === 2) break;
  }
  return new DuplicatePhoneError({ file: csvPath, line: lines[1]!, column: 1 }, lines[0]!, phone);
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
 * its shard number, the shard count and the hash seed, all with one build time. One pass reads
 * the source as the build reads it (checking each row, so a bad row fails at its own line) and
 * routes the rows to a temporary spool of fixed-size records per shard (build/shard-spool.ts);
 * then the shards are built one after another from their spools, with no second parse, so
 * memory holds one shard at a time. Files are named by {@link shardFilePaths}; they are renamed into place only when every
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
    const spools: ShardSpool[] = [];
    /** Users of the routed rows marked opted out (exact unless a duplicate is skipped later). */
    const optedOutRows = new UserIdSet();
    let read: { rows: number; skipped: Record<SourceRowProblem, number> };
    try {
      for (let i = 0; i < shardCount; i++)
        spools.push(new ShardSpool(join(temp, `in-${i}.rows`), shardCount));
      // The build's own reading loop (fast path and checks), so a bad row fails at its own line;
      // its rows go to their shards' spools instead of a table.
      const chunks = await CsvChunks.open(csvPath);
      try {
        const batch = new RowBatch(ROUTE_BATCH);
        const route = async () => {
          for (let r = 0; r < batch.count; r++) {
            const key = batch.keys[r]!;
            const lo = batch.userLo[r]!;
            const hi = batch.userHi[r]!;
            const optedOut = batch.optedOut[r] === 1;
            if (optedOut) optedOutRows.add(lo, hi);
            spools[shardOfKey(key as PhoneKey, seed, shardCount)]!.add(key, lo, hi, optedOut);
          }
          batch.count = 0;
        };
        read = await readSourceRows(csvPath, chunks, resolveOptions(shardOptions(0)), batch, route);
      } finally {
        await chunks.close();
      }
    } finally {
      for (const spool of spools) spool.close();
    }
    const { rows, skipped } = read;
    const shards: BuildReport[] = [];
    // Users of the opted-out rows each shard placed: only needed when rows can be skipped.
    const placedOptedOut = common.skipInvalid ? new UserIdSet() : undefined;
    for (let i = 0; i < shardCount; i++) {
      throwIfAborted(common.signal);
      const spool = spools[i]!;
      const o = resolveOptions(shardOptions(i));
      const built = await writeImageFile(join(temp, `out-${i}.idx`), o.signal, false, () =>
        buildImageFromSpool(spool, o, csvPath, optedOutRows, (key) => duplicateError(csvPath, key)),
      );
      shards.push({ ...built.report, output: files[i]! });
      if (placedOptedOut !== undefined) {
        built.optedOutUsers.forEach((lo, hi) => {
          placedOptedOut.add(lo, hi);
        });
      }
      rmSync(spool.path, { force: true });
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
