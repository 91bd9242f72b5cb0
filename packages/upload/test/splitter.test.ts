import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RowSplitter } from '../src/splitter.js';

interface SplitRecord {
  line: number;
  fieldCount: number;
  fields: string[] | undefined;
  /** The captured cells, by slot (capture mode only). */
  cells: (string | undefined)[] | undefined;
  /** Slots whose cell was cut (capture mode only, when any). */
  cut?: number[];
}

/**
 * Splits `pieces` one after the other, capturing every field or only `capture` (each cut at
 * `limits[k]`, default 2^20); returns the records or the error's position.
 */
function split(
  pieces: readonly string[],
  capture: readonly number[] | 'all',
  limits: readonly number[] = [],
): SplitRecord[] | { error: unknown } {
  const records: SplitRecord[] = [];
  const splitter = new RowSplitter(
    'f.csv',
    ',',
    (line, fieldCount, captured, cut) => {
      if (capture === 'all') {
        records.push({ line, fieldCount, fields: captured as string[], cells: undefined });
        return;
      }
      // The arrays are reused: copy them.
      const record: SplitRecord = { line, fieldCount, fields: undefined, cells: [...captured] };
      const cutSlots = [...cut].flatMap((c, k) => (c === 1 ? [k] : []));
      if (cutSlots.length > 0) record.cut = cutSlots;
      records.push(record);
    },
    1 << 20,
  );
  if (capture !== 'all')
    splitter.capture(
      capture,
      capture.map((_, k) => limits[k] ?? 1 << 20),
    );
  try {
    for (const p of pieces) splitter.push(p);
    splitter.end();
  } catch (err) {
    return { error: (err as { position: unknown }).position };
  }
  return records;
}

const csvText = fc.string({
  unit: fc.constantFrom('a', ' ', '\t', ',', '"', '""', '\n', '\r', '\r\n', 'é', '😀'),
  maxLength: 60,
});

/** `text` cut at the given points. */
function cut(text: string, points: number[]): string[] {
  const at = [...new Set(points.map((p) => p % (text.length + 1)))].sort((a, b) => a - b);
  const pieces: string[] = [];
  let from = 0;
  for (const p of at) {
    pieces.push(text.slice(from, p));
    from = p;
  }
  pieces.push(text.slice(from));
  return pieces;
}

/**
 * The splitting rules written as plainly as possible, on the whole text at once: the reference
 * the streaming splitter must agree with.
 */
function reference(text: string): SplitRecord[] | { error: unknown } {
  const records: SplitRecord[] = [];
  const eolLength = (k: number) => (text[k] === '\r' && text[k + 1] === '\n' ? 2 : 1);
  let i = 0;
  let line = 1;
  let lineStart = 0;
  while (i < text.length) {
    const startLine = line;
    const fields: string[] = [];
    let quoted = false;
    for (;;) {
      let field = '';
      if (text[i] === '"') {
        quoted = true;
        const open = { file: 'f.csv', line, column: i - lineStart + 1 };
        i++;
        for (;;) {
          if (i >= text.length) return { error: open };
          if (text[i] === '"' && text[i + 1] === '"') {
            field += '"';
            i += 2;
          } else if (text[i] === '"') {
            i++;
            break;
          } else if (text[i] === '\r' || text[i] === '\n') {
            const n = eolLength(i);
            field += text.slice(i, i + n);
            i += n;
            line++;
            lineStart = i;
          } else field += text[i++];
        }
      }
      while (i < text.length && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') field += text[i++];
      fields.push(field);
      if (text[i] !== ',') break;
      i++;
    }
    if (i < text.length) {
      i += eolLength(i);
      line++;
      lineStart = i;
    }
    if (quoted || fields.some((f) => !/^[ \t]*$/.test(f))) {
      records.push({ line: startLine, fieldCount: fields.length, fields, cells: undefined });
    }
  }
  return records;
}

describe('RowSplitter', () => {
  it('agrees with the plain reference on random text: fields, lines, blank lines, errors', () => {
    fc.assert(
      fc.property(csvText, fc.array(fc.nat(), { maxLength: 4 }), (text, points) => {
        expect(split(cut(text, points), 'all')).toEqual(reference(text));
      }),
      { numRuns: 2000 },
    );
  });

  it('gives the same records however the text is cut into chunks', () => {
    fc.assert(
      fc.property(
        csvText,
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.constantFrom<readonly number[] | 'all'>('all', [], [0], [1], [2], [2, 0], [0, 1, 3]),
        (text, points, capture) => {
          expect(split(cut(text, points), capture)).toEqual(split([text], capture));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('captures one field per record when told, leaving the others unbuilt', () => {
    expect(split(['a,"b\n,""",c\nd'], [1])).toEqual([
      { line: 1, fieldCount: 3, fields: undefined, cells: ['b\n,"'] },
      { line: 3, fieldCount: 1, fields: undefined, cells: [undefined] },
    ]);
  });

  it('captures several fields, in the order asked, undefined past the end of a short record', () => {
    expect(split(['p1,name,p2,ctry\n"1",x,2,GB\n3,y\n,,,'], [0, 2, 3])).toEqual([
      { line: 1, fieldCount: 4, fields: undefined, cells: ['p1', 'p2', 'ctry'] },
      { line: 2, fieldCount: 4, fields: undefined, cells: ['1', '2', 'GB'] },
      { line: 3, fieldCount: 2, fields: undefined, cells: ['3', undefined, undefined] },
    ]);
    expect(split(['a,b,c\nd,e,f\n'], [2, 0])).toEqual([
      { line: 1, fieldCount: 3, fields: undefined, cells: ['c', 'a'] },
      { line: 2, fieldCount: 3, fields: undefined, cells: ['f', 'd'] },
    ]);
  });

  it('cuts each captured field at its own limit and says which were cut', () => {
    expect(split(['12345,abcdef,"xy"z\n1,a,b\n'], [0, 2, 1], [3, 10, 4])).toEqual([
      { line: 1, fieldCount: 3, fields: undefined, cells: ['123', 'xyz', 'abcd'], cut: [0, 2] },
      { line: 2, fieldCount: 3, fields: undefined, cells: ['1', 'b', 'a'] },
    ]);
  });

  it('refuses a column captured twice', () => {
    const splitter = new RowSplitter('f.csv', ',', () => {}, 10);
    expect(() => splitter.capture([1, 1], [5, 5])).toThrow(RangeError);
    expect(() => splitter.capture([-1], [5])).toThrow(RangeError);
  });

  it('captured cells are the fields at those columns, on random text cut anywhere', () => {
    fc.assert(
      fc.property(
        csvText,
        fc.array(fc.nat(), { maxLength: 6 }),
        fc.uniqueArray(fc.integer({ min: 0, max: 4 }), { maxLength: 4 }),
        (text, points, columns) => {
          const all = split([text], 'all');
          const some = split(cut(text, points), columns);
          if ('error' in all) {
            expect(some).toEqual(all);
            return;
          }
          expect(some).toEqual(
            all.map((r) => ({
              line: r.line,
              fieldCount: r.fieldCount,
              fields: undefined,
              cells: columns.map((c) => r.fields![c]),
            })),
          );
        },
      ),
      { numRuns: 2000 },
    );
  });

  it.each([
    [
      ['a\r', '\nb'],
      [1, 2],
    ],
    [
      ['"a\r', '\nb",c\r', '\n', 'd'],
      [1, 3],
    ],
    [
      ['a\r', '\r', '\n', 'b'],
      [1, 3],
    ],
  ])('a CRLF cut between chunks is one line end (%j)', (pieces, lines) => {
    expect((split(pieces, 'all') as SplitRecord[]).map((r) => r.line)).toEqual(lines);
  });
});
