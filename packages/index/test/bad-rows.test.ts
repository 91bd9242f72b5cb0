import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes } from '@rollcall/errors';
import { describe, expect, test } from 'vitest';
import { buildIndexFromRows, buildIndexInMemory, DuplicatePhoneError, writeIndexFile } from '../src/index.js';
import { filesIn, keyOf, tempDir, writeText } from './helpers.js';

const HEADER = 'phone,user_id,opted_out';
const GOOD = ['+447400123456,1,false', '+447400123457,18446744073709551615,true'];

/** A source CSV: the header, two good rows, then `bad` (so the bad row is on line 4). */
const source = (...bad: string[]) => [HEADER, ...GOOD, ...bad].join('\n') + '\n';

// [case, CSV text, expected line, expected column, problem kind counted by --skip-invalid]
const CASES: [string, string, number, number | undefined, string][] = [
  ['phone without +', source('447400123458,3,false'), 4, 1, 'BAD_PHONE'],
  ['phone with spaces', source('+44 7400 123458,3,false'), 4, 1, 'BAD_PHONE'],
  ['phone of 16 digits', source('+4474001234580000,3,false'), 4, 1, 'BAD_PHONE'],
  ['unknown calling code', source('+999123456789,3,false'), 4, 1, 'BAD_PHONE'],
  ['empty phone', source(',3,false'), 4, 1, 'BAD_PHONE'],
  ['user id 0', source('+447400123458,0,false'), 4, 2, 'BAD_USER_ID'],
  ['user id 2^64', source('+447400123458,18446744073709551616,false'), 4, 2, 'BAD_USER_ID'],
  ['negative user id', source('+447400123458,-5,false'), 4, 2, 'BAD_USER_ID'],
  ['user id in exponent form', source('+447400123458,1e5,false'), 4, 2, 'BAD_USER_ID'],
  ['empty user id', source('+447400123458,,false'), 4, 2, 'BAD_USER_ID'],
  ['opted_out maybe', source('+447400123458,3,maybe'), 4, 3, 'BAD_OPTED_OUT'],
  ['opted_out empty', source('+447400123458,3,'), 4, 3, 'BAD_OPTED_OUT'],
  ['two cells', source('+447400123458,3'), 4, 3, 'WRONG_COLUMN_COUNT'],
  ['four cells', source('+447400123458,3,false,x'), 4, 4, 'WRONG_COLUMN_COUNT'],
  ['duplicate phone', source('+447400123456,9,true'), 4, 1, 'DUPLICATE_PHONE'],
  [
    'bad row after a blank line and a quoted cell over two lines (a trimmed opted_out)',
    source('', '+447400123458,3,"true\r\n"', 'x,1,false'),
    7,
    1,
    'BAD_PHONE',
  ],
];

describe('a bad source row fails the build at its line and column, and writes nothing', () => {
  test.each(CASES)('%s', async (_name, text, line, column) => {
    const dir = tempDir();
    const csv = writeText(dir, 'bad.csv', text);
    const out = join(dir, 'out.rcx');
    const err = await writeIndexFile(csv, out).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCodes.BAD_INPUT, position: { file: csv, line, column } });
    expect(existsSync(out)).toBe(false);
    expect(filesIn(dir)).toEqual(['bad.csv']);
  });

  test('a duplicate names both lines', async () => {
    const dir = tempDir();
    const csv = writeText(dir, 'dup.csv', source('+447400123458,3,false', '+447400123457,4,false'));
    const err = await buildIndexInMemory(csv).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DuplicatePhoneError);
    expect(err).toMatchObject({ code: ErrorCodes.BAD_INPUT, position: { line: 5, column: 1 }, firstLine: 3 });
  });

  test('an existing output file is left untouched by a failed build', async () => {
    const dir = tempDir();
    const out = writeText(dir, 'out.rcx', 'previous');
    await expect(writeIndexFile(writeText(dir, 'bad.csv', source('x,1,true')), out)).rejects.toMatchObject({
      code: ErrorCodes.BAD_INPUT,
    });
    expect(filesIn(dir)).toEqual(['bad.csv', 'out.rcx']);
  });

  test.each([
    ['wrong header', 'phone,user,opted_out\n+447400123456,1,false\n', 1, 2],
    ['header with an extra column', 'phone,user_id,opted_out,x\n', 1, 4],
    ['no header (data first)', '+447400123456,1,false\n', 1, 1],
    ['empty file', '', 1, undefined],
  ])('%s', async (_name, text, line, column) => {
    const dir = tempDir();
    const err = await writeIndexFile(writeText(dir, 'h.csv', text), join(dir, 'o.rcx')).catch(
      (e: unknown) => e,
    );
    const position = column === undefined ? { line } : { line, column };
    expect(err).toMatchObject({ code: ErrorCodes.BAD_INPUT, position });
    expect(filesIn(dir)).toEqual(['h.csv']);
  });

  test('broken CSV quoting fails at the line of the quote', async () => {
    const dir = tempDir();
    const csv = writeText(dir, 'q.csv', source('+447400123458,3,false', '"+447400123459"x,4,false'));
    await expect(buildIndexInMemory(csv)).rejects.toMatchObject({
      code: ErrorCodes.BAD_INPUT,
      position: { line: 5 },
    });
  });

  test('rows given in memory fail with their row number', async () => {
    const rows = [
      { phone: '+447400123456', userId: 1n, optedOut: false },
      { phone: '+447400123457', userId: 1n << 64n, optedOut: false },
    ];
    await expect(buildIndexFromRows(rows)).rejects.toMatchObject({
      code: ErrorCodes.BAD_INPUT,
      position: { file: '<rows>', line: 2, column: 2 },
    });
    const dup = [rows[0]!, { ...rows[0]!, userId: 3n }];
    await expect(buildIndexFromRows(dup)).rejects.toMatchObject({ position: { line: 2 }, firstLine: 1 });
  });

  test('a missing source, a directory or an output in a missing directory is an I/O error', async () => {
    const dir = tempDir();
    await expect(buildIndexInMemory(join(dir, 'nope.csv'))).rejects.toMatchObject({ code: ErrorCodes.IO });
    await expect(buildIndexInMemory(dir)).rejects.toMatchObject({ code: ErrorCodes.IO });
    const csv = writeText(dir, 'ok.csv', source());
    await expect(writeIndexFile(csv, join(dir, 'no', 'such', 'dir.rcx'))).rejects.toMatchObject({
      code: ErrorCodes.IO,
    });
    expect(filesIn(dir)).toEqual(['ok.csv']);
  });

  test('an aborted build throws ERR_ABORTED and writes nothing', async () => {
    const dir = tempDir();
    const csv = writeText(dir, 'ok.csv', source());
    const signal = AbortSignal.abort();
    await expect(writeIndexFile(csv, join(dir, 'o.rcx'), { signal })).rejects.toMatchObject({
      code: ErrorCodes.ABORTED,
    });
    expect(filesIn(dir)).toEqual(['ok.csv']);
  });
});

describe('--skip-invalid counts and skips bad rows by kind', () => {
  test('every kind at once', async () => {
    const dir = tempDir();
    const text = source(...CASES.slice(0, 15).map(([, t]) => t.trim().split('\n').at(-1)!));
    const report = await writeIndexFile(writeText(dir, 's.csv', text), join(dir, 's.rcx'), {
      skipInvalid: true,
    });
    const expected = {
      BAD_PHONE: 0,
      BAD_USER_ID: 0,
      BAD_OPTED_OUT: 0,
      WRONG_COLUMN_COUNT: 0,
      DUPLICATE_PHONE: 0,
    };
    for (const [, , , , kind] of CASES.slice(0, 15)) expected[kind as keyof typeof expected]++;
    expect(report.skipped).toEqual(expected);
    expect(report).toMatchObject({ rows: 2 + 15, entries: 2, skippedRows: 15 });
  });

  test('the first of two duplicates is kept', async () => {
    const { reader, report } = await buildIndexFromRows(
      [
        { phone: '+447400123456', userId: 1n, optedOut: false },
        { phone: '+447400123456', userId: 2n, optedOut: true },
      ],
      { skipInvalid: true },
    );
    expect(report.skipped.DUPLICATE_PHONE).toBe(1);
    expect(reader.probe(keyOf('+447400123456'))).toEqual({ userId: 1n, optedOut: false });
  });

  test('E.164 in no valid range is kept and counted as never matchable', async () => {
    // +44 12 and +1 000 000 0000: syntactically E.164 with a real calling code, valid nowhere.
    const { reader, report } = await buildIndexFromRows([
      { phone: '+4412', userId: 1n, optedOut: false },
      { phone: '+10000000000', userId: 2n, optedOut: false },
      { phone: '+447400123456', userId: 3n, optedOut: false },
    ]);
    expect(report).toMatchObject({ entries: 3, neverMatchable: 2, skippedRows: 0 });
    expect(reader.header.neverMatchable).toBe(2);
    expect(reader.probe(keyOf('+4412'))?.userId).toBe(1n);
  });
});
