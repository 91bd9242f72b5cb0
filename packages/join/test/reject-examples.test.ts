/** `reject_examples`: a few rejected cells of each reason, never a number shown whole. */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REJECT_REASONS, reasonCode } from '@rollcall/phone';
import { describe, expect, test } from 'vitest';
import { exampleCell, matchUpload, REJECT_EXAMPLES_PER_REASON } from '../src/index.js';
import { RejectExamples } from '../src/tally.js';

const SET = resolve(import.meta.dirname, '../../../fixtures/conformance');

describe('exampleCell', () => {
  test.each([
    // Placeholder junk without a digit: as written (trimmed).
    ['N/A', 'N/A'],
    ['  NULL ', 'NULL'],
    ['#REF!', '#REF!'],
    ['call me', 'call me'],
    ['☎️', '☎️'],
    // Anything with a digit may be a number: masked.
    ["=cmd|' /C calc'!A0", '=cmd|•••••A0'],
    ['+263712345637', '+2637•••••37'],
    ['  +44 7400 123456 ', '+44 7•••••56'],
    ['0712345678', '••••••••••••'],
    ['12', '••••••••••••'],
    ['٠٧١٢٣٤٥٦٧٨', '••••••••••••'],
    // Could be personal data or could hide what is shown: masked.
    ['someone@example.com', 'someo•••••om'],
    ['a'.repeat(40), 'aaaaa•••••aa'],
    ['\u202Eevil', '••••••••••••'],
  ])('%j → %j, and again unchanged', (cell, shown) => {
    expect(exampleCell(cell)).toBe(shown);
    expect(exampleCell(exampleCell(cell))).toBe(shown);
  });
});

describe('RejectExamples', () => {
  const TOO_LONG = reasonCode('TOO_LONG');
  const EMPTY = reasonCode('EMPTY');

  test('keeps the first few of each reason with their lines, skipping repeats and EMPTY', () => {
    const examples = new RejectExamples();
    const cells = ['', '1234567890123456789012', '1234567890123456789012', '99999999999999999999', '12'];
    examples.add(new Uint8Array([EMPTY, TOO_LONG, TOO_LONG, TOO_LONG, 0]), cells, [2, 3, 4, 5, 6]);
    expect(examples.result()).toEqual({
      TOO_LONG: [
        { line: 3, cell: '12345•••••12' },
        { line: 5, cell: '99999•••••99' },
      ],
    });
  });

  test('fully masked examples are kept apart by their lines', () => {
    const examples = new RejectExamples();
    const n = 8;
    examples.add(
      new Uint8Array(n).fill(reasonCode('TOO_SHORT')),
      Array.from({ length: n }, (_, i) => String(i)),
      Array.from({ length: n }, (_, i) => i + 2),
    );
    expect(examples.result().TOO_SHORT).toEqual(
      [2, 3, 4, 5, 6].map((line) => ({ line, cell: '••••••••••••' })),
    );
  });

  test('a reason that repeats one cell forever stops being looked at', () => {
    const examples = new RejectExamples();
    const n = 100_000;
    const cells = new Array<string>(n).fill('1234567890123456789012');
    cells[n - 1] = '99999999999999999999';
    examples.add(
      new Uint8Array(n).fill(TOO_LONG),
      cells,
      Array.from({ length: n }, (_, i) => i + 2),
    );
    // The different cell at the end comes long after the reason stopped collecting.
    expect(examples.result().TOO_LONG).toEqual([{ line: 2, cell: '12345•••••12' }]);
  });

  test('every reason but EMPTY can have examples', () => {
    const examples = new RejectExamples();
    const codes = REJECT_REASONS.map((reason) => reasonCode(reason));
    examples.add(
      new Uint8Array(codes),
      codes.map(() => 'N/A'),
      codes.map((_, i) => i + 2),
    );
    expect(Object.keys(examples.result()).sort()).toEqual(REJECT_REASONS.filter((r) => r !== 'EMPTY').sort());
  });
});

describe('reject_examples in the report', () => {
  test('ke-shop: at most 5 a reason, no EMPTY, each the shown form of the cell on its line', async () => {
    const { report } = await matchUpload({
      index: join(SET, 'index.csv'),
      upload: join(SET, 'uploads', 'ke-shop.csv'),
      defaultCountry: 'KE',
      minAudience: 1,
      threads: 2,
    });
    const byReason = report.reject_examples!;
    expect(byReason.EMPTY).toBeUndefined();
    expect(Object.keys(byReason).length).toBeGreaterThan(0);
    // The truth file has one row a line, in upload order; line 2 is the first data row.
    const truth = readFileSync(join(SET, 'expected', 'ke-shop.truth.jsonl'), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as [string, string | null]);
    for (const [reason, list] of Object.entries(byReason)) {
      expect(list!.length).toBeGreaterThan(0);
      expect(list!.length).toBeLessThanOrEqual(REJECT_EXAMPLES_PER_REASON);
      expect(list!.length).toBeLessThanOrEqual(report.invalid_by_reason[reason as 'TOO_SHORT']);
      for (const { line, cell } of list!) {
        const [raw, e164] = truth[line - 2]!;
        expect(e164).toBeNull();
        expect(cell).toBe(exampleCell(raw));
        // A cell with a digit could be a number: it is only ever shown masked.
        if (/\d/.test(raw)) expect(cell).toContain('•••••');
      }
    }
  });
});
