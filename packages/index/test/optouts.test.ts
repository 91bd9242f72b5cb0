import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes } from '@rollcall/errors';
import { describe, expect, test } from 'vitest';
import { applyOptOuts, inspectIndex, openIndex, writeIndexFile } from '../src/index.js';
import { csvOf, filesIn, keyOf, makeRows, tempDir, writeText } from './helpers.js';

const ROWS = makeRows(400, 3);

async function builtIndex(): Promise<{ dir: string; index: string }> {
  const dir = tempDir();
  const index = join(dir, 'index.rcx');
  await writeIndexFile(writeText(dir, 'src.csv', csvOf(ROWS)), index, { withSha256: true });
  return { dir, index };
}

describe('applyOptOuts', () => {
  test('flips flags, counts changed / unchanged / not in index, and leaves a sound file', async () => {
    const { dir, index } = await builtIndex();
    const before = await openIndex(index);
    const optIn = ROWS.filter((r) => r.optedOut).slice(0, 10); // opted out → in
    const optOut = ROWS.filter((r) => !r.optedOut).slice(0, 20); // in → out
    const same = ROWS.filter((r) => r.optedOut).slice(10, 15); // already out
    const lines = [
      'phone,opted_out',
      ...optIn.map((r) => `${r.phone},false`),
      ...optOut.map((r) => `${r.phone},TRUE`),
      ...same.map((r) => `${r.phone},yes`),
      '+447499999999,true', // not in the index
      '',
    ];
    const changes = writeText(dir, 'changes.csv', lines.join('\n'));
    const report = await applyOptOuts(index, changes);
    expect(report).toMatchObject({ rows: 36, changed: 30, unchanged: 5, notInIndex: 1, written: true });
    expect(report.optedOut).toBe(before.header.optedOut + 20 - 10);

    const after = await openIndex(index); // verifies both checksums
    expect(after.header.optedOut).toBe(report.optedOut);
    expect(after.header.builtAt).toBe(before.header.builtAt);
    expect(after.header.updatedAt).toBeGreaterThanOrEqual(before.header.builtAt);
    for (const r of optIn) expect(after.probe(keyOf(r.phone))).toEqual({ userId: r.userId, optedOut: false });
    for (const r of optOut) expect(after.probe(keyOf(r.phone))).toEqual({ userId: r.userId, optedOut: true });
    const changed = new Set([...optIn, ...optOut].map((r) => r.phone));
    for (const r of ROWS.filter((x) => !changed.has(x.phone))) {
      expect(after.probe(keyOf(r.phone))).toEqual({ userId: r.userId, optedOut: r.optedOut });
    }
    expect((await inspectIndex(index)).sound).toBe(true);
    // Written beside and renamed: no temp file is left. The eligibility log (for `audience
    // refresh`) records the users opted out and back in, at generation 1.
    expect(filesIn(dir)).toEqual(['changes.csv', 'index.rcx', 'index.rcx.eligibility.log', 'src.csv']);
    expect(after.header.generation).toBe(1);
  });

  test('a later row for the same phone wins', async () => {
    const { dir, index } = await builtIndex();
    const r = ROWS.find((x) => !x.optedOut)!;
    const changes = writeText(
      dir,
      'c.csv',
      `phone,opted_out\n${r.phone},true\n${r.phone},false\n${r.phone},true\n`,
    );
    expect(await applyOptOuts(index, changes)).toMatchObject({ changed: 3, unchanged: 0 });
    expect((await openIndex(index)).probe(keyOf(r.phone))?.optedOut).toBe(true);
  });

  test('nothing to change: the file is left byte for byte', async () => {
    const { dir, index } = await builtIndex();
    const bytes = readFileSync(index);
    const r = ROWS[5]!;
    const changes = writeText(
      dir,
      'c.csv',
      `phone,opted_out\n${r.phone},${r.optedOut}\n+447499999999,true\n`,
    );
    expect(await applyOptOuts(index, changes)).toMatchObject({
      changed: 0,
      unchanged: 1,
      notInIndex: 1,
      written: false,
    });
    expect(readFileSync(index).equals(bytes)).toBe(true);
  });

  test.each([
    ['bad phone', 'phone,opted_out\n+447400000001,true\nnope,true\n', 3, 1],
    ['bad flag', 'phone,opted_out\n+447400000001,true\n+447400000002,perhaps\n', 3, 2],
    ['wrong column count', 'phone,opted_out\n+447400000001,true,x\n', 2, 3],
    ['wrong header', 'phone,optout\n+447400000001,true\n', 1, 2],
  ])('%s: InputError at its line, the index untouched', async (_name, text, line, column) => {
    const { dir, index } = await builtIndex();
    const bytes = readFileSync(index);
    const changes = writeText(dir, 'c.csv', text);
    await expect(applyOptOuts(index, changes)).rejects.toMatchObject({
      code: ErrorCodes.BAD_INPUT,
      position: { file: changes, line, column },
    });
    expect(readFileSync(index).equals(bytes)).toBe(true);
    expect(filesIn(dir)).toEqual(['c.csv', 'index.rcx', 'src.csv']);
  });

  test('a corrupt index is refused, not rewritten with fresh checksums', async () => {
    const { dir, index } = await builtIndex();
    const bytes = readFileSync(index);
    bytes[300]! ^= 0xff;
    writeText(dir, 'index.rcx', bytes);
    const changes = writeText(dir, 'c.csv', `phone,opted_out\n${ROWS[0]!.phone},true\n`);
    await expect(applyOptOuts(index, changes)).rejects.toMatchObject({ code: ErrorCodes.INDEX_CORRUPT });
    expect(readFileSync(index).equals(bytes)).toBe(true);
  });

  test('a missing changes file or index is an I/O error', async () => {
    const { dir, index } = await builtIndex();
    await expect(applyOptOuts(index, join(dir, 'none.csv'))).rejects.toMatchObject({ code: ErrorCodes.IO });
    const changes = writeText(dir, 'c.csv', 'phone,opted_out\n');
    await expect(applyOptOuts(join(dir, 'none.rcx'), changes)).rejects.toMatchObject({ code: ErrorCodes.IO });
  });
});
