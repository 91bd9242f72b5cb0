/**
 * Issue 16, item 2, case by case: an opt-out is the person's. Assertions compare flags and
 * counts, so a failure never prints a phone number or a user id.
 */
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes } from '@rollcall/errors';
import type { PhoneKey } from '@rollcall/phone';
import { describe, expect, test } from 'vitest';
import {
  applyOptOuts,
  buildIndexFromRows,
  DEFAULT_HASH_SEED,
  openIndex,
  shardOfKey,
  writeIndexFile,
  writeShardedIndexFiles,
} from '../src/index.js';
import { HEADER } from '../src/layout.js';
import { keyOf, tempDir, writeText } from './helpers.js';

/** The example of the issue: user 42 has two numbers and opted out on the second. */
const EXAMPLE = 'phone,user_id,opted_out\n+447400123456,42,false\n+447400123457,42,true\n';
const A = '+447400123456';
const B = '+447400123457';

/** Opted-out flags of `phones` in a reader, as booleans (undefined: not in the index). */
async function flagsIn(file: string, phones: readonly string[]): Promise<Array<boolean | undefined>> {
  const reader = await openIndex(file);
  return phones.map((p) => reader.probe(keyOf(p))?.optedOut);
}

describe('an opt-out on one number takes the user out on all of them', () => {
  test('the example: both numbers of user 42 read opted out; the header counts numbers', async () => {
    const dir = tempDir();
    const file = join(dir, 'i.idx');
    const report = await writeIndexFile(writeText(dir, 'i.csv', EXAMPLE), file);
    expect(await flagsIn(file, [A, B])).toEqual([true, true]);
    expect(report).toMatchObject({ optedOut: 2, optedOutUsers: 1 });
    expect((await openIndex(file)).header.optedOut).toBe(2);
  });

  test('opting a number back in restores the user only when none of their numbers is opted out', async () => {
    const dir = tempDir();
    const file = join(dir, 'i.idx');
    const csv = `phone,user_id,opted_out\n${A},42,true\n${B},42,true\n+447400123458,7,false\n`;
    await writeIndexFile(writeText(dir, 'i.csv', csv), file);
    const first = await applyOptOuts(file, writeText(dir, 'c1.csv', `phone,opted_out\n${A},false\n`));
    expect(first).toMatchObject({ changed: 1, usersOptedIn: 0, usersOptedOut: 0, optedOut: 2 });
    expect(await flagsIn(file, [A, B])).toEqual([true, true]); // B still opted out: still out.
    const second = await applyOptOuts(file, writeText(dir, 'c2.csv', `phone,opted_out\n${B},false\n`));
    expect(second).toMatchObject({
      changed: 1,
      usersOptedIn: 1,
      usersOptedOut: 0,
      optedOut: 0,
      written: true,
    });
    expect(await flagsIn(file, [A, B, '+447400123458'])).toEqual([false, false, false]);
    const third = await applyOptOuts(file, writeText(dir, 'c3.csv', `phone,opted_out\n${A},true\n`));
    expect(third).toMatchObject({ usersOptedOut: 1, optedOut: 2 });
    expect(await flagsIn(file, [A, B, '+447400123458'])).toEqual([true, true, false]);
  });

  test('in memory from rows, too', async () => {
    const { reader, report } = await buildIndexFromRows([
      { phone: A, userId: 42n, optedOut: false },
      { phone: B, userId: 42n, optedOut: true },
    ]);
    expect([reader.probe(keyOf(A))?.optedOut, reader.probe(keyOf(B))?.optedOut]).toEqual([true, true]);
    expect(report.optedOut).toBe(2);
  });

  test('a skipped duplicate row opts no one out (--skip-invalid), sharded or not', async () => {
    const dir = tempDir();
    // User 9's only opted-out row repeats user 42's phone: it is skipped, so user 9 stays in.
    const csv = writeText(
      dir,
      'i.csv',
      `phone,user_id,opted_out\n${A},42,false\n${A},9,true\n+447400123458,9,false\n`,
    );
    const file = join(dir, 'i.idx');
    await writeIndexFile(csv, file, { skipInvalid: true });
    expect(await flagsIn(file, [A, '+447400123458'])).toEqual([false, false]);
    for (const shardCount of [2, 3, 4]) {
      const sharded = await writeShardedIndexFiles(csv, join(dir, `s${shardCount}`), {
        shardCount,
        skipInvalid: true,
      });
      expect(sharded).toMatchObject({ optedOut: 0, optedOutUsers: 0, skippedRows: 1 });
      for (const f of sharded.files) expect((await openIndex(f)).header.optedOut).toBe(0);
    }
  });
});

/** Phones of one user that route to different shards of `shardCount`. */
function phonesInTwoShards(shardCount: number): [string, string] {
  const first = '+447400200000';
  const home = shardOfKey(keyOf(first) as PhoneKey, DEFAULT_HASH_SEED, shardCount);
  for (let n = 200001; ; n++) {
    const phone = `+447400${n}`;
    if (shardOfKey(keyOf(phone) as PhoneKey, DEFAULT_HASH_SEED, shardCount) !== home) return [first, phone];
  }
}

describe('across shards', () => {
  const SHARDS = 3;
  const [P, Q] = phonesInTwoShards(SHARDS);
  const source = `phone,user_id,opted_out\n${P},42,false\n${Q},42,false\n+447400123458,7,false\n`;

  async function shardedIndex() {
    const dir = tempDir();
    const built = await writeShardedIndexFiles(writeText(dir, 'i.csv', source), join(dir, 'idx'), {
      shardCount: SHARDS,
    });
    return { dir, files: built.files };
  }

  const flagOf = async (files: readonly string[], phone: string) => {
    const key = keyOf(phone) as PhoneKey;
    return (await openIndex(files[shardOfKey(key, DEFAULT_HASH_SEED, SHARDS)]!)).probe(key)?.optedOut;
  };

  test('an opt-out in one shard reaches the user’s number in another; only the shards that change are rewritten', async () => {
    const { dir, files } = await shardedIndex();
    const before = files.map((f) => readFileSync(f));
    const report = await applyOptOuts(files[0]!, writeText(dir, 'c.csv', `phone,opted_out\n${P},true\n`));
    expect(report).toMatchObject({ changed: 1, usersOptedOut: 1, optedOut: 2, written: true, files });
    expect([await flagOf(files, P), await flagOf(files, Q), await flagOf(files, '+447400123458')]).toEqual([
      true,
      true,
      false,
    ]);
    const shardsOfUser = new Set(
      [P, Q].map((p) => shardOfKey(keyOf(p) as PhoneKey, DEFAULT_HASH_SEED, SHARDS)),
    );
    expect(report.filesWritten).toEqual(files.filter((_, i) => shardsOfUser.has(i)));
    files.forEach((f, i) => {
      if (!shardsOfUser.has(i)) expect(readFileSync(f).equals(before[i]!)).toBe(true);
    });
    // The list of all shard files, in any order, does the same.
    const back = await applyOptOuts(
      [...files].reverse(),
      writeText(dir, 'c2.csv', `phone,opted_out\n${P},false\n`),
    );
    expect(back).toMatchObject({ usersOptedIn: 1, optedOut: 0 });
    expect([await flagOf(files, P), await flagOf(files, Q)]).toEqual([false, false]);
  });

  test('running the same changes again repairs a run cut short between the renames of the shards', async () => {
    const { dir, files } = await shardedIndex();
    const qShard = files[shardOfKey(keyOf(Q) as PhoneKey, DEFAULT_HASH_SEED, SHARDS)]!;
    const saved = join(dir, 'saved');
    copyFileSync(qShard, saved);
    const changes = writeText(dir, 'c.csv', `phone,opted_out\n${P},true\n`);
    await applyOptOuts(files[0]!, changes);
    copyFileSync(saved, qShard); // As if the run died before renaming Q's shard.
    expect(await flagOf(files, Q)).toBe(false);
    const again = await applyOptOuts(files[0]!, changes);
    expect(again).toMatchObject({ changed: 0, unchanged: 1, written: true, filesWritten: [qShard] });
    expect(await flagOf(files, Q)).toBe(true);
    // Now consistent: a third run changes nothing and writes nothing.
    expect(await applyOptOuts(files[0]!, changes)).toMatchObject({ written: false, filesWritten: [] });
  });

  test('a shard file that cannot be matched to its siblings, or an incomplete set, is refused; nothing is written', async () => {
    const { dir, files } = await shardedIndex();
    const changes = writeText(dir, 'c.csv', `phone,opted_out\n${P},true\n`);
    const before = files.map((f) => readFileSync(f));
    const renamed = join(dir, 'renamed.idx');
    copyFileSync(files[1]!, renamed);
    await expect(applyOptOuts(renamed, changes)).rejects.toMatchObject({ code: ErrorCodes.INVALID_ARGUMENT });
    await expect(applyOptOuts(files.slice(0, 2), changes)).rejects.toMatchObject({
      code: ErrorCodes.INVALID_ARGUMENT,
    });
    await expect(applyOptOuts([files[0]!, files[0]!, files[1]!], changes)).rejects.toMatchObject({
      code: ErrorCodes.INVALID_ARGUMENT,
    });
    // Another build's shard in the set.
    const other = await writeShardedIndexFiles(writeText(dir, 'j.csv', source), join(dir, 'other'), {
      shardCount: SHARDS,
      builtAt: 1,
    });
    await expect(applyOptOuts([files[0]!, files[1]!, other.files[2]!], changes)).rejects.toMatchObject({
      code: ErrorCodes.INVALID_ARGUMENT,
    });
    // A sibling missing.
    rmSync(files[2]!);
    await expect(applyOptOuts(files[0]!, changes)).rejects.toMatchObject({ code: ErrorCodes.IO });
    files.slice(0, 2).forEach((f, i) => {
      expect(readFileSync(f).equals(before[i]!)).toBe(true);
    });
  });
});

test('a version 1 index (opt-outs per number) is refused: rebuild it', async () => {
  const dir = tempDir();
  const file = join(dir, 'i.idx');
  await writeIndexFile(writeText(dir, 'i.csv', EXAMPLE), file);
  const bytes = readFileSync(file);
  bytes.writeUInt32LE(1, HEADER.FORMAT_VERSION);
  writeFileSync(file, bytes);
  const err = await openIndex(file).catch((e: unknown) => e);
  expect(err).toMatchObject({ code: ErrorCodes.INDEX_CORRUPT });
  expect(String((err as Error).message)).toMatch(/version 1 .*not to its user.*rebuild the index/);
});
