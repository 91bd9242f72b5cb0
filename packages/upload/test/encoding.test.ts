import { describe, expect, it } from 'vitest';
import { createChunkDecoder } from '../src/encoding.js';
import { openUpload, sniffEncoding } from '../src/index.js';
import { readAll, tempDir, utf16 } from './helpers.js';

const tmp = tempDir();

const TEXT = 'Name,Phone\r\nMüller,+49 30 123456\r\nZoë 😀,+44 7400 123456\r\n';
const CELLS = ['+49 30 123456', '+44 7400 123456'];

describe('reading each encoding spreadsheets export', () => {
  it.each([
    ['UTF-8', Buffer.from(TEXT, 'utf8'), 'utf-8'],
    ['UTF-8 with BOM', Buffer.from(`\uFEFF${TEXT}`, 'utf8'), 'utf-8'],
    ['UTF-16LE with BOM', utf16(TEXT, 'le'), 'utf-16le'],
    ['UTF-16BE with BOM', utf16(TEXT, 'be'), 'utf-16be'],
    ['UTF-16LE without BOM', utf16(TEXT, 'le').subarray(2), 'utf-16le'],
    ['UTF-16BE without BOM', utf16(TEXT, 'be').subarray(2), 'utf-16be'],
    ['Windows-1252', Buffer.from(TEXT.replace(' 😀', ''), 'latin1'), 'windows-1252'],
  ])('%s', async (_name, bytes, encoding) => {
    const file = tmp.write('enc.csv', bytes);
    const reader = await openUpload(file);
    expect(reader.encoding).toBe(encoding);
    expect(reader.headers).toEqual(['Name', 'Phone']);
    const rows = await readAll(reader);
    expect(rows.cells).toEqual(CELLS);
    expect(rows.lines).toEqual([2, 3]);
  });

  it('Windows-1252 names decode (Müller, smart quotes, €) in the phone cell too', async () => {
    // 0x93/0x94 are “ ” and 0x80 is € in Windows-1252 (Node's own decoder gets these wrong).
    const bytes = Buffer.concat([
      Buffer.from('Name;Phone\nM', 'latin1'),
      Buffer.from([0xfc]),
      Buffer.from('ller;', 'latin1'),
      Buffer.from([0x93, 0x30, 0x31, 0x94, 0x80]),
      Buffer.from('\n'),
    ]);
    const reader = await openUpload(tmp.write('1252.csv', bytes));
    expect(reader.encoding).toBe('windows-1252');
    expect((await readAll(reader)).cells).toEqual(['\u201c01\u201d\u20ac']);
  });

  it('the encoding option overrides detection and still skips a matching BOM', async () => {
    const bytes = Buffer.from(`\uFEFFphone\n${'1\n'.repeat(3)}`, 'utf8');
    const reader = await openUpload(tmp.write('forced.csv', bytes), { encoding: 'windows-1252' });
    expect(reader.encoding).toBe('windows-1252');
    // Read as 1252, the UTF-8 BOM is three letters: the header is not `phone`.
    expect(reader.headers[0]).toBe('ï»¿phone');
    expect(reader.phoneColumn).toBe(0);
  });
});

describe('sniffEncoding', () => {
  const bytes = (...b: number[]) => new Uint8Array(b);
  it.each([
    ['UTF-8 BOM', bytes(0xef, 0xbb, 0xbf, 0x61), true, { encoding: 'utf-8', bomLength: 3 }],
    ['UTF-16LE BOM', bytes(0xff, 0xfe, 0x61, 0), true, { encoding: 'utf-16le', bomLength: 2 }],
    ['UTF-16BE BOM', bytes(0xfe, 0xff, 0, 0x61), true, { encoding: 'utf-16be', bomLength: 2 }],
    ['ASCII at end of file', bytes(0x61, 0x2c, 0x62), true, { encoding: 'utf-8', bomLength: 0 }],
    ['ASCII, more to come', bytes(0x61, 0x2c, 0x62), false, undefined],
    ['too short to see a BOM', bytes(0xef), false, undefined],
    ['valid UTF-8 ü', bytes(0x4d, 0xc3, 0xbc), false, { encoding: 'utf-8', bomLength: 0 }],
    ['UTF-8 cut at the end of the sample', bytes(0x4d, 0x61, 0xc3), false, undefined],
    [
      'UTF-8 cut at the end of the file',
      bytes(0x4d, 0x61, 0xc3),
      true,
      { encoding: 'windows-1252', bomLength: 0 },
    ],
    ['Latin-1 ü', bytes(0x4d, 0xfc, 0x6c), false, { encoding: 'windows-1252', bomLength: 0 }],
    ['1252 smart quote', bytes(0x93, 0x61, 0x94), true, { encoding: 'windows-1252', bomLength: 0 }],
    ['empty file', bytes(), true, { encoding: 'utf-8', bomLength: 0 }],
  ])('%s', (_name, input, eof, expected) => {
    expect(sniffEncoding(input, eof)).toEqual(expected);
  });

  it('decides UTF-8 for pure ASCII once 1 MiB is seen', () => {
    expect(sniffEncoding(new Uint8Array(1 << 20).fill(0x61), false)).toEqual({
      encoding: 'utf-8',
      bomLength: 0,
    });
  });
});

describe('the Windows-1252 decoder', () => {
  // WHATWG index-windows-1252 for 0x80–0x9F; every other byte is its own code point.
  const C1 = [
    0x20ac, 0x81, 0x201a, 0x192, 0x201e, 0x2026, 0x2020, 0x2021, 0x2c6, 0x2030, 0x160, 0x2039, 0x152, 0x8d,
    0x17d, 0x8f, 0x90, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x2dc, 0x2122, 0x161, 0x203a,
    0x153, 0x9d, 0x17e, 0x178,
  ];

  it('maps all 256 bytes as the WHATWG index does', () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    const decoded = createChunkDecoder('windows-1252').decode(all, true);
    const expected = Array.from({ length: 256 }, (_, b) => (b >= 0x80 && b <= 0x9f ? C1[b - 0x80]! : b));
    expect([...decoded].map((c) => c.codePointAt(0))).toEqual(expected);
  });
});
