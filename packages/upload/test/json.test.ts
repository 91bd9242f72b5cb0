import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { findJsonError, parseJson, positionAt } from '../src/json.js';

/** Text made of JSON's pieces, valid or nearly: what a hand-edited payload looks like. */
const jsonish = fc
  .array(
    fc.constantFrom(
      '{',
      '}',
      '[',
      ']',
      ',',
      ':',
      '"a"',
      '"',
      '\\',
      '\\u00e9',
      '\\x',
      ' ',
      '\n',
      '\r\n',
      '\t',
      '1',
      '-',
      '0',
      '.5',
      'e+3',
      'true',
      'nul',
      'null',
      'x',
      '\u0001',
      'é',
    ),
    { maxLength: 30 },
  )
  .map((parts) => parts.join(''));

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

describe('findJsonError', () => {
  it('finds an error exactly when JSON.parse fails, on random text', () => {
    fc.assert(
      fc.property(jsonish, (text) => {
        const found = findJsonError(text);
        expect(found === undefined).toBe(parses(text));
        if (found !== undefined) {
          expect(found.at).toBeGreaterThanOrEqual(0);
          expect(found.at).toBeLessThanOrEqual(text.length);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('finds none in any JSON value', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        expect(findJsonError(text)).toBeUndefined();
      }),
      { numRuns: 1000 },
    );
  });

  it('points at the first character where the grammar breaks', () => {
    expect(findJsonError('[1, 2, 3 4]')).toMatchObject({ at: 9 });
    expect(findJsonError('{"a": [1, {"b": }]}')).toMatchObject({ at: 16 });
    expect(findJsonError('')).toMatchObject({ at: 0, message: expect.stringContaining('the text ends') });
    expect(findJsonError('['.repeat(100_000))).toMatchObject({ at: 100_000 });
  });
});

describe('parseJson', () => {
  it('gives the value of valid JSON', () => {
    expect(parseJson('{"a": [1, "b"]}', 'f.json')).toEqual({ a: [1, 'b'] });
  });

  it('an error shows one character at most, never the text around it', () => {
    const secret = '+44 7400 123456';
    const error = (() => {
      try {
        parseJson(`{"schema": "PHONE", "data": ["${secret}" x]}`, 'f.json');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error!.message).not.toContain('7400');
    expect(error!.message).toContain('"x"');
  });
});

describe('positionAt', () => {
  it.each([
    ['abc', 0, 1, 1],
    ['abc', 2, 1, 3],
    ['a\nb', 2, 2, 1],
    ['a\r\nb', 3, 2, 1],
    ['a\r\nb', 2, 1, 3],
    ['a\rb\r\rc', 5, 4, 1],
  ])('%j at %i → line %i, column %i', (text, offset, line, column) => {
    expect(positionAt(text, offset)).toEqual({ line, column });
  });
});
