/**
 * Sharded builds: one routing function, shard files that are ordinary index files whose headers
 * say which shard they are, and together hold exactly what the unsharded index holds.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, InputError } from '@rollcall/errors';
import { describe, expect, test } from 'vitest';
import { DuplicatePhoneError, type IndexRow, writeIndexFile } from '../src/index.js';
import { keyHash } from '../src/key-hash.js';
import { openIndex } from '../src/load.js';
import { shardFilePaths, shardOfKey, writeShardedIndexFiles } from '../src/shards.js';
import { csvOf, filesIn, keyOf, makeRows, tempDir, writeText } from './helpers.js';

describe('shardOfKey', () => {
  test('is keyHash(key, seed) mod shardCount, and 0 for one shard', () => {
    for (const row of makeRows(200, 1)) {
      const key = keyOf(row.phone);
      expect(shardOfKey(key, 7, 5)).toBe(keyHash(key, 7) % 5);
      expect(shardOfKey(key, 7, 1)).toBe(0);
    }
  });

  test('spreads keys over every shard', () => {
    const counts = new Array<number>(4).fill(0);
    for (const row of makeRows(4000, 2)) counts[shardOfKey(keyOf(row.phone), 0, 4)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(800);
  });
});

describe('shardFilePaths', () => {
  test('a prefix (a trailing .idx dropped) or a directory', () => {
    const dir = tempDir();
    expect(shardFilePaths(join(dir, 'big'), 2)).toEqual([
      join(dir, 'big.shard-0-of-2.idx'),
      join(dir, 'big.shard-1-of-2.idx'),
    ]);
    expect(shardFilePaths(join(dir, 'big.idx'), 1)).toEqual([join(dir, 'big.shard-0-of-1.idx')]);
    expect(shardFilePaths(dir, 2)[1]).toBe(join(dir, 'index.shard-1-of-2.idx'));
  });

  test('a bad shard count is a coded error', () => {
    for (const bad of [0, -1, 1.5, 5000, Number.NaN]) {
      expect(() => shardFilePaths('x', bad)).toThrow(
        expect.objectContaining({ code: ErrorCodes.INVALID_ARGUMENT }),
      );
    }
  });
});

describe('writeShardedIndexFiles', () => {
  test('every row lands in its shard, each header says its shard, and probes equal the unsharded index', async () => {
    const dir = tempDir();
    const rows = makeRows(3000, 3);
    const csv = writeText(dir, 'index.csv', csvOf(rows));
    const report = await writeShardedIndexFiles(csv, join(dir, 'idx'), {
      shardCount: 3,
      hashSeed: 99,
      withSha256: true,
    });
    expect(report.files).toEqual(shardFilePaths(join(dir, 'idx'), 3));
    expect(report.entries).toBe(3000);
    expect(report.rows).toBe(3000);
    await writeIndexFile(csv, join(dir, 'whole.idx'), { hashSeed: 99 });
    const whole = await openIndex(join(dir, 'whole.idx'));
    const shards = await Promise.all(report.files.map((f) => openIndex(f)));
    shards.forEach((s, i) => {
      expect(s.header.shard).toBe(i);
      expect(s.header.shardCount).toBe(3);
      expect(s.header.hashSeed).toBe(99);
      expect(s.header.builtAt).toBe(shards[0]!.header.builtAt);
      expect(s.header.hasSha256).toBe(true);
      expect(s.header.entries).toBe(report.shards[i]!.entries);
    });
    expect(shards.reduce((a, s) => a + s.header.optedOut, 0)).toBe(whole.header.optedOut);
    for (const row of rows) {
      const key = keyOf(row.phone);
      const home = shardOfKey(key, 99, 3);
      expect(shards[home]!.probe(key)).toEqual(whole.probe(key));
      expect(shards[home]!.probe(key)?.userId).toBe(row.userId);
      for (let s = 0; s < 3; s++) if (s !== home) expect(shards[s]!.probe(key)).toBeUndefined();
    }
    // Only the shard files are left: no routed CSV, no temp directory.
    expect(filesIn(dir)).toEqual([
      'idx.shard-0-of-3.idx',
      'idx.shard-1-of-3.idx',
      'idx.shard-2-of-3.idx',
      'index.csv',
      'whole.idx',
    ]);
  });

  test('each shard file is, byte for byte, what a plain build of its own rows writes', async () => {
    const dir = tempDir();
    // Past one spool buffer and one read of a spool (65,536 rows) in each shard.
    const rows = makeRows(140_000, 11);
    const spellings = [
      (r: IndexRow) => `${r.phone},${r.userId},${r.optedOut}`,
      (r: IndexRow) => `"${r.phone}",${r.userId},${r.optedOut ? 'yes' : 'no'}`,
      (r: IndexRow) => `${r.phone},"${r.userId}",${r.optedOut ? 1 : 0}\r`,
    ];
    // Mostly plain rows (the fast path), every 7th in another spelling, with blank lines between.
    const lines = rows.map((r, i) => (i % 7 === 3 ? spellings[(i >> 3) % 3]!(r) : spellings[0]!(r)));
    for (let i = lines.length - 1000; i > 0; i -= 1000) lines.splice(i, 0, '');
    const csv = writeText(dir, 'index.csv', `phone,user_id,opted_out\n${lines.join('\n')}\n`);
    const options = { shardCount: 2, hashSeed: 5, builtAt: 1_700_000_000_000, withSha256: true };
    const report = await writeShardedIndexFiles(csv, join(dir, 'idx'), options);
    expect(report.entries).toBe(rows.length);
    for (let shard = 0; shard < 2; shard++) {
      const own = rows.filter((r) => shardOfKey(keyOf(r.phone), 5, 2) === shard);
      expect(own.length).toBeGreaterThan(65_536);
      const plain = join(dir, `plain-${shard}.idx`);
      await writeIndexFile(writeText(dir, `rows-${shard}.csv`, csvOf(own)), plain, {
        hashSeed: 5,
        builtAt: options.builtAt,
        withSha256: true,
        shard,
        shardCount: 2,
      });
      expect(readFileSync(report.files[shard]!).equals(readFileSync(plain))).toBe(true);
      expect(report.shards[shard]!.output).toBe(report.files[shard]);
    }
  });

  test('into a directory, more shards than rows: empty shards are still sound files', async () => {
    const dir = tempDir();
    const csv = writeText(dir, 'index.csv', csvOf(makeRows(3, 4)));
    const out = join(dir, 'shards');
    mkdirSync(out);
    const report = await writeShardedIndexFiles(csv, out, { shardCount: 8 });
    expect(report.files[0]).toBe(join(out, 'index.shard-0-of-8.idx'));
    const entries = await Promise.all(report.files.map(async (f) => (await openIndex(f)).header.entries));
    expect(entries.reduce((a, b) => a + b, 0)).toBe(3);
  });

  test('a bad row fails at its own source line, and no shard file is written', async () => {
    const dir = tempDir();
    const rows = makeRows(50, 5);
    const lines = csvOf(rows).split('\n');
    lines[31] = `${rows[30]!.phone},not-an-id,false`;
    const csv = writeText(dir, 'index.csv', lines.join('\n'));
    const err = await writeShardedIndexFiles(csv, join(dir, 'idx'), { shardCount: 4 }).catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err.code).toBe(ErrorCodes.BAD_INPUT);
    expect(err.position).toEqual({ file: csv, line: 32, column: 2 });
    expect(filesIn(dir)).toEqual(['index.csv']);
  });

  test('a duplicate phone names both source lines; existing shard files are left as they were', async () => {
    const dir = tempDir();
    const good = writeText(dir, 'good.csv', csvOf(makeRows(40, 6)));
    const before = await writeShardedIndexFiles(good, join(dir, 'idx'), { shardCount: 2 });
    const bytes = before.files.map((f) => readFileSync(f));
    const rows = makeRows(40, 7);
    rows.splice(25, 0, { ...rows[10]!, userId: 5n });
    const csv = writeText(dir, 'dup.csv', csvOf(rows));
    const err = await writeShardedIndexFiles(csv, join(dir, 'idx'), { shardCount: 2 }).catch((e) => e);
    expect(err).toBeInstanceOf(DuplicatePhoneError);
    expect(err.position).toEqual({ file: csv, line: 27, column: 1 });
    expect(err.firstLine).toBe(12);
    expect(before.files.map((f) => readFileSync(f))).toEqual(bytes);
    expect(filesIn(dir)).toEqual(['dup.csv', 'good.csv', 'idx.shard-0-of-2.idx', 'idx.shard-1-of-2.idx']);
  });

  test('skipInvalid: the same rows are skipped and kept as in an unsharded build', async () => {
    const dir = tempDir();
    const rows = makeRows(300, 8);
    const lines = csvOf(rows).trimEnd().split('\n');
    lines.push(
      lines[5]!.replace(/,\d+,/, ',77,'),
      '+12,1,false',
      '+447400123456,0,false',
      '+447400123457,1',
      `${rows[9]!.phone},3,maybe`,
    );
    const csv = writeText(dir, 'index.csv', `${lines.join('\n')}\n`);
    const whole = await writeIndexFile(csv, join(dir, 'whole.idx'), { skipInvalid: true });
    const sharded = await writeShardedIndexFiles(csv, join(dir, 'idx'), { shardCount: 4, skipInvalid: true });
    expect(sharded.skipped).toEqual(whole.skipped);
    expect(sharded.entries).toBe(whole.entries);
    expect(sharded.rows).toBe(whole.rows);
    const full = await openIndex(join(dir, 'whole.idx'));
    const shards = await Promise.all(sharded.files.map((f) => openIndex(f)));
    // The first of the duplicated phone's rows is kept, as unsharded.
    const key = keyOf(rows[5]!.phone);
    expect(shards[shardOfKey(key, 0, 4)]!.probe(key)).toEqual(full.probe(key));
  });

  test('bad options fail before any work', async () => {
    const dir = tempDir();
    const csv = writeText(dir, 'index.csv', csvOf(makeRows(5, 9)));
    await expect(writeShardedIndexFiles(csv, join(dir, 'x'), { shardCount: 0 })).rejects.toMatchObject({
      code: ErrorCodes.INVALID_ARGUMENT,
    });
    await expect(
      writeShardedIndexFiles(csv, join(dir, 'x'), { shardCount: 2, hashSeed: -1 }),
    ).rejects.toMatchObject({ code: ErrorCodes.INVALID_ARGUMENT });
    await expect(
      writeShardedIndexFiles(csv, join(dir, 'no/such/dir/x'), { shardCount: 2 }),
    ).rejects.toMatchObject({
      code: ErrorCodes.IO,
    });
    expect(filesIn(dir)).toEqual(['index.csv']);
  });
});
