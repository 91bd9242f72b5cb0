import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RowSplitter } from '../src/splitter.js';

interface SplitRecord {
  line: number;
  fieldCount: number;
  fields: string[] | undefined;
  cell: string | undefined;
}

/** Splits `pieces` one after the other; returns the records or the error's position. */
function split(pieces: readonly string[], capture: number | 'all'): SplitRecord[] | { error: unknown } {
  const records: SplitRecord[] = [];
  const splitter = new RowSplitter(
    'f.csv',
    ',',
    (line, fieldCount, cell, fields) => {
      records.push({ line, fieldCount, fields, cell });
    },
    1 << 20,
  );
  if (capture !== 'all') splitter.captureOnly(capture, 1 << 20);
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
      records.push({ line: startLine, fieldCount: fields.length, fields, cell: undefined });
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
        fc.constantFrom<number | 'all'>('all', 0, 1, 2),
        (text, points, capture) => {
          expect(split(cut(text, points), capture)).toEqual(split([text], capture));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('captures one field per record when told, leaving the others unbuilt', () => {
    expect(split(['a,"b\n,""",c\nd'], 1)).toEqual([
      { line: 1, fieldCount: 3, fields: undefined, cell: 'b\n,"' },
      { line: 3, fieldCount: 1, fields: undefined, cell: undefined },
    ]);
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
