import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { UploadEncoding } from '../src/index.js';
import { openUploadWith } from '../src/reader.js';
import { readAll, tempDir, utf16 } from './helpers.js';

const tmp = tempDir();

/** Characters that stress a CSV reader: every delimiter, quotes, every line end, wide characters. */
const cellText = fc.string({
  unit: fc.constantFrom('a', '7', '+', ' ', '\t', ',', ';', '|', '"', '\n', '\r', '\r\n', 'ü', '😀'),
  maxLength: 8,
});

const DELIMITERS = [',', ';', '\t', '|'] as const;
const EOLS = ['\n', '\r\n', '\r'] as const;

interface Case {
  columns: number;
  /** The phone columns (1 to 3, in no order) and the country column. */
  phoneAt: number[];
  countryAt: number | null;
  delimiter: (typeof DELIMITERS)[number];
  eol: (typeof EOLS)[number];
  rows: { cells: string[]; quote: boolean[]; blankBefore: '' | '  ' | null }[];
  trailingEol: boolean;
  encoding: 'utf-8' | 'utf-8-bom' | 'utf-16le' | 'utf-16be';
  passDelimiter: boolean;
  chunkBytes: number | undefined;
}

const caseArb: fc.Arbitrary<Case> = fc
  .record({
    columns: fc.integer({ min: 2, max: 5 }),
    delimiter: fc.constantFrom(...DELIMITERS),
    eol: fc.constantFrom(...EOLS),
    trailingEol: fc.boolean(),
    encoding: fc.constantFrom('utf-8', 'utf-8-bom', 'utf-16le', 'utf-16be'),
    passDelimiter: fc.boolean(),
    chunkBytes: fc.option(fc.integer({ min: 1, max: 40 }), { nil: undefined }),
  })
  .chain((c) =>
    fc.record({
      ...Object.fromEntries(Object.entries(c).map(([k, v]) => [k, fc.constant(v)])),
      // Which column is what: a shuffle of them all, the first 1-3 phones, the next maybe the country.
      roles: fc.record({
        order: fc.shuffledSubarray(
          Array.from({ length: c.columns }, (_, i) => i),
          { minLength: c.columns, maxLength: c.columns },
        ),
        phones: fc.integer({ min: 1, max: Math.min(3, c.columns) }),
        country: fc.boolean(),
      }),
      rows: fc.array(
        fc.integer({ min: Math.max(1, c.columns - 1), max: c.columns + 1 }).chain((n) =>
          fc.record({
            cells: fc.array(cellText, { minLength: n, maxLength: n }),
            quote: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
            blankBefore: fc.constantFrom('' as const, '  ' as const, null),
          }),
        ),
        { maxLength: 12 },
      ),
    }),
  )
  .map(({ roles, ...c }) => {
    const { order, phones, country } = roles as { order: number[]; phones: number; country: boolean };
    return {
      ...c,
      phoneAt: order.slice(0, phones),
      countryAt: country && phones < order.length ? order[phones]! : null,
    };
  }) as fc.Arbitrary<Case>;

function newlines(text: string): number {
  return text.match(/\r\n|\r|\n/g)?.length ?? 0;
}

/** Writes the case as CSV text and computes what a reader must give back. */
const PHONE_HEADERS = ['phone', 'Mobile', 'work_phone'];

function render(c: Case): {
  text: string;
  cells: string[];
  countries: string[] | undefined;
  lines: number[];
  malformed: number[];
} {
  const headers = Array.from({ length: c.columns }, (_, i) =>
    c.phoneAt.includes(i) ? PHONE_HEADERS[c.phoneAt.indexOf(i)]! : i === c.countryAt ? 'Country' : `c${i}`,
  );
  const phones = [...c.phoneAt].sort((a, b) => a - b);
  let text = headers.join(c.delimiter);
  let line = 1;
  const expected = {
    cells: [] as string[],
    countries: c.countryAt === null ? undefined : ([] as string[]),
    lines: [] as number[],
    malformed: [] as number[],
  };
  for (const row of c.rows) {
    text += c.eol;
    line++;
    if (row.blankBefore !== null) {
      text += row.blankBefore + c.eol;
      line++;
    }
    const fields = row.cells.map((cell, i) => {
      const mustQuote = /["\r\n]/.test(cell) || cell.includes(c.delimiter);
      return mustQuote || row.quote[i] ? `"${cell.replaceAll('"', '""')}"` : cell;
    });
    const blank = fields.every((f) => /^[ \t]*$/.test(f));
    if (!blank) {
      for (const p of phones) expected.cells.push(row.cells[p] ?? '');
      if (c.countryAt !== null) expected.countries!.push(row.cells[c.countryAt] ?? '');
      expected.lines.push(line);
      expected.malformed.push(row.cells.length === c.columns ? 0 : 1);
    }
    const written = fields.join(c.delimiter);
    text += written;
    line += newlines(written);
  }
  if (c.trailingEol) text += c.eol;
  return { text, ...expected };
}

function encode(text: string, encoding: Case['encoding']): Uint8Array {
  switch (encoding) {
    case 'utf-8':
      return Buffer.from(text, 'utf8');
    case 'utf-8-bom':
      return Buffer.from(`\uFEFF${text}`, 'utf8');
    case 'utf-16le':
      return utf16(text, 'le');
    case 'utf-16be':
      return utf16(text, 'be');
  }
}

describe('round trip', () => {
  it('random rows written as CSV read back with the same phone and country cells, lines and malformed flags', async () => {
    await fc.assert(
      fc.asyncProperty(caseArb, async (c) => {
        const { text, ...expected } = render(c);
        const file = tmp.write('prop.csv', encode(text, c.encoding));
        const reader = await openUploadWith(
          file,
          { batchSize: 4, ...(c.passDelimiter ? { delimiter: c.delimiter } : {}) },
          c.chunkBytes === undefined ? {} : { chunkBytes: c.chunkBytes },
        );
        expect(reader.delimiter).toBe(c.delimiter);
        expect(reader.phoneColumns).toEqual([...c.phoneAt].sort((a, b) => a - b));
        expect(reader.countryColumn).toBe(c.countryAt);
        expect(reader.encoding).toBe(
          (c.encoding === 'utf-8-bom' ? 'utf-8' : c.encoding) satisfies UploadEncoding,
        );
        const rows = await readAll(reader);
        expect({
          cells: rows.cells,
          countries: rows.countries,
          lines: rows.lines,
          malformed: rows.malformed,
        }).toEqual(expected);
      }),
      { numRuns: 150 },
    );
  });
});
