import { describe, expect, test } from 'vitest';
import { countLines, csvRecords, parseOptedOut } from '../src/csv.js';
import { tempDir, writeText } from './helpers.js';

async function records(text: string): Promise<[number, string[]][]> {
  const path = writeText(tempDir(), 'r.csv', text);
  const out: [number, string[]][] = [];
  for await (const r of csvRecords(path)) out.push([r.line, r.cells]);
  return out;
}

describe('countLines counts records as fast-csv splits them', () => {
  test.each([
    ['', 0],
    ['a', 1],
    ['a\n', 1],
    ['a\nb', 2],
    ['a\r\nb\r\n', 2],
    ['a\rb\r', 2],
    ['a\n\nb\n', 3],
    ['a\r\n\r\n', 2],
  ])('%j → %i', async (text, lines) => {
    expect(await countLines(writeText(tempDir(), 'c.csv', text))).toBe(lines);
  });

  test('a CR LF split across read chunks counts once', async () => {
    const text = `${'x'.repeat((1 << 20) - 1)}\r\ny\r\n`;
    expect(await countLines(writeText(tempDir(), 'big.csv', text))).toBe(2);
  });
});

describe("csvRecords keeps each record's line", () => {
  test('blank lines, quoted line breaks and CR-only files', async () => {
    expect(await records('h\n\na,"x\ny"\nb\n')).toEqual([
      [1, ['h']],
      [2, []],
      [3, ['a', 'x\ny']],
      [5, ['b']],
    ]);
    expect(await records('h\ra\r\rb')).toEqual([
      [1, ['h']],
      [2, ['a']],
      [3, []],
      [4, ['b']],
    ]);
    expect(await records('h\r\na,"1\r\n2\r\n3"\r\nb\r\n')).toEqual([
      [1, ['h']],
      [2, ['a', '1\r\n2\r\n3']],
      [5, ['b']],
    ]);
  });
});

describe('parseOptedOut', () => {
  test.each([
    ['true', true],
    ['TRUE', true],
    [' Yes ', true],
    ['1', true],
    ['false', false],
    ['False', false],
    ['no', false],
    ['0', false],
    ['', undefined],
    ['y', undefined],
    ['2', undefined],
    ['truee', undefined],
  ])('%j → %s', (text, expected) => {
    expect(parseOptedOut(text)).toBe(expected);
  });
});
