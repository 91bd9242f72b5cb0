/**
 * A source CSV larger than one read buffer, in every spelling the dialect allows, builds exactly
 * the index its rows build: plain rows (the byte-level fast path) and the rest (the general path)
 * interleave across read boundaries without losing a row, a line or the order of duplicates.
 */
import { join } from 'node:path';
import { ErrorCodes } from '@rollcall/errors';
import { describe, expect, test } from 'vitest';
import {
  buildIndexFromRows,
  buildIndexInMemory,
  DuplicatePhoneError,
  type IndexRow,
  writeIndexFile,
} from '../src/index.js';
import { makeRows, prng, tempDir, writeText } from './helpers.js';

/** More than the 4 MiB read buffer, so rows are cut at its end. */
const ROWS = 130_000;

/** One row in one of the spellings of the dialect; most are plain. */
function spell(row: IndexRow, rand: () => number): string {
  const r = rand();
  const flag = row.optedOut;
  if (r < 0.85) return `${row.phone},${row.userId},${flag}`;
  if (r < 0.88) return `"${row.phone}",${row.userId},${flag}`;
  if (r < 0.91) return `${row.phone},"${row.userId}", ${flag ? 'YES' : 'No'} `;
  if (r < 0.94) return `${row.phone},${String(row.userId).padStart(20, '0')},${flag ? 1 : 0}`;
  if (r < 0.97) return ` "${row.phone}" ,${row.userId},"${flag ? 'true\r\n' : 'false'}"`;
  return `${row.phone},${row.userId},${flag ? 'TRUE' : 'FALSE'}`;
}

/** The CSV text of rows, spelled at random, with random line ends and blank lines. */
function messyCsv(rows: readonly IndexRow[], seed: number): string {
  const rand = prng(seed);
  const breaks = ['\n', '\r\n', '\r'];
  const parts: string[] = ['phone,user_id,opted_out\n'];
  for (const row of rows) {
    if (rand() < 0.01) parts.push(rand() < 0.5 ? '\n' : '  \r\n');
    parts.push(spell(row, rand) + breaks[Math.floor(rand() * 3)]!);
  }
  return parts.join('');
}

describe('a large source CSV in every spelling builds what its rows build', () => {
  const rows = makeRows(ROWS, 21);

  test('every row reads back, with the same never-matchable count', async () => {
    const csv = writeText(tempDir(), 'messy.csv', messyCsv(rows, 5));
    const fromCsv = await buildIndexInMemory(csv, { builtAt: 7, threads: 2 });
    const fromRows = await buildIndexFromRows(rows, { builtAt: 7, threads: 0 });
    expect(fromCsv.report).toMatchObject({ rows: ROWS, entries: ROWS, skippedRows: 0 });
    expect(fromCsv.report.neverMatchable).toBe(fromRows.report.neverMatchable);
    // The CSV's table is sized from its lines (blank ones included), so compare entry by entry.
    for (const row of rows) {
      expect(fromCsv.reader.probe(Number(row.phone.slice(1)) as never)).toEqual({
        userId: row.userId,
        optedOut: row.optedOut,
      });
    }
  });

  test('a plain duplicate after the read boundary names both lines (CR-only line ends)', async () => {
    const last = rows.slice(0, 120_000);
    const text = `phone,user_id,opted_out\r${last.map((r) => `${r.phone},${r.userId},${r.optedOut}`).join('\r')}\r${last[3]!.phone},9,false\r`;
    const dir = tempDir();
    const csv = writeText(dir, 'dup.csv', text);
    const err = await writeIndexFile(csv, join(dir, 'o.rcx')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DuplicatePhoneError);
    expect(err).toMatchObject({
      code: ErrorCodes.BAD_INPUT,
      position: { file: csv, line: last.length + 2, column: 1 },
      firstLine: 5,
    });
  });

  test('an earlier duplicate is reported before a later broken quote', async () => {
    const few = rows.slice(0, 10);
    const text = `phone,user_id,opted_out\n${few.map((r) => `${r.phone},${r.userId},${r.optedOut}`).join('\n')}\n${few[0]!.phone},9,false\n"broken\n`;
    await expect(buildIndexInMemory(writeText(tempDir(), 'd.csv', text))).rejects.toMatchObject({
      position: { line: 12 },
      firstLine: 2,
    });
  });

  test('with --skip-invalid, the first of two duplicates is kept wherever each is read', async () => {
    const few = rows.slice(0, 300);
    const lines = few.map((r) => `${r.phone},${r.userId},${r.optedOut}`);
    // The same phones again, quoted (the general path), with other ids: all skipped.
    const again = few.map((r) => `"${r.phone}",1,true`);
    const csv = writeText(
      tempDir(),
      's.csv',
      `phone,user_id,opted_out\n${[...lines, ...again].join('\n')}\n`,
    );
    const { reader, report } = await buildIndexInMemory(csv, { skipInvalid: true });
    expect(report).toMatchObject({ entries: 300, skipped: { DUPLICATE_PHONE: 300 } });
    for (const r of few) {
      expect(reader.probe(Number(r.phone.slice(1)) as never)).toEqual({
        userId: r.userId,
        optedOut: r.optedOut,
      });
    }
  });
});
