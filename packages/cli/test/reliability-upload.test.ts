/**
 * Upload CSVs as spreadsheets export them, through the CLI: every encoding, delimiter and line end,
 * quoted newlines, blank lines, short and long rows. Each must give exactly the counts, rejects
 * (with the right physical line numbers) and audience that the same cells give in memory.
 */
import { existsSync, readdirSync } from 'node:fs';
import { safeCsvCell } from '@rollcall/files';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  type ExpectedOutcome,
  expectedOutcome,
  makePlatform,
  matchInProcess,
  outputPath,
  type Platform,
  readJsonOutput,
  readOutput,
  removeScratchDirs,
  STACK_TRACE_LINE,
  scratchDir,
  tempFilesIn,
  writeUpload,
} from './helpers.js';

afterAll(removeScratchDirs);

/** One upload row: its cells, and whether it has the wrong number of columns. */
interface Row {
  cells: string[];
  phoneCell: string;
  malformed: boolean;
}

const HEADER = ['first_name', 'Phone Number', 'email'];

let platform: Platform;
let rows: Row[];
let expected: ExpectedOutcome;

beforeAll(async () => {
  platform = await makePlatform({ entries: 300, seed: 11 });
  const { messySpelling, prng, randomE164 } = await import('../../../fixtures/generate.js');
  const rand = prng(5);
  // Names that need quoting, or bytes outside ASCII that Windows-1252 has (é ü ’ € —).
  const names = ['Zoë', 'José Müller', 'O’Brien', 'Smith, "Jo"', 'Line\nbreak', '€uro — Ltd', 'Ann'];
  const junk = ['', 'N/A', '12', '+999 123 4567', '077009001234567890123', '+44 20 7946 000', '   '];
  rows = [];
  for (let i = 0; i < 240; i++) {
    let phone: string;
    if (i % 9 === 4) phone = junk[i % junk.length]!;
    else if (i % 3 === 0)
      phone = randomE164(rand, 'GB'); // mostly not on the platform
    else {
      const entry = platform.entries[Math.floor(rand() * platform.entries.length)]!;
      phone = messySpelling(rand, entry.phone, 'GB');
    }
    const name = names[i % names.length]!;
    const email = `c${i}@example.com`;
    if (i % 37 === 5)
      rows.push({ cells: [name], phoneCell: '', malformed: true }); // too few columns
    else if (i % 41 === 7)
      rows.push({ cells: [name, phone, email, 'extra'], phoneCell: phone, malformed: true }); // too many
    else rows.push({ cells: [name, phone, email], phoneCell: phone, malformed: false });
  }
  expected = await expectedOutcome(
    platform.entries,
    rows.map((r) => r.phoneCell),
    'GB',
    rows.map((r) => r.malformed),
  );
  // The data must exercise what it claims to: matches, opt-outs, every junk reason, malformed rows.
  expect(expected.audience).toBeGreaterThan(50);
  expect(expected.opted_out_dropped).toBeGreaterThan(0);
  expect(expected.invalid_by_reason.MALFORMED_ROW).toBeGreaterThanOrEqual(10);
  for (const reason of [
    'EMPTY',
    'NOT_A_NUMBER',
    'TOO_SHORT',
    'TOO_LONG',
    'INVALID_COUNTRY',
    'INVALID_NUMBER',
  ]) {
    expect({ reason, n: expected.invalid_by_reason[reason]! > 0 }).toEqual({ reason, n: true });
  }
});

interface Shape {
  delimiter: string;
  eol: string;
  /** Blank lines: before the header, between rows (`,,` and spaces too), and no final line end. */
  blankLines?: boolean;
  header?: string[];
}

/** The CSV text of `rows` in a shape, and the physical line on which each row starts. */
function render(shape: Shape): { text: string; lines: number[] } {
  const { delimiter: d, eol } = shape;
  const cell = (c: string): string =>
    /["\r\n]/.test(c) || c.includes(d) ? `"${c.replaceAll('"', '""')}"` : c;
  const out: string[] = [];
  let line = 1;
  const push = (record: string): number => {
    const at = line;
    out.push(record);
    line += 1 + (record.match(/\r\n|\r|\n/g)?.length ?? 0);
    return at;
  };
  if (shape.blankLines) {
    push('');
    push(`${d}${d}`);
  }
  push((shape.header ?? HEADER).map(cell).join(d));
  const lines: number[] = [];
  rows.forEach((row, i) => {
    if (shape.blankLines && i % 50 === 10) push(i % 100 === 10 ? '' : `  ${d} ${d}`);
    // Malformed rows carry a phone-looking cell in the wrong place: it must never be read as a phone.
    lines.push(push(row.cells.map(cell).join(d)));
  });
  const text = out.join(eol);
  return { text: shape.blankLines ? text : text + eol, lines };
}

const WIN1252: Record<string, number> = { '€': 0x80, '’': 0x92, '—': 0x97 };

function encode(text: string, encoding: string): Buffer {
  switch (encoding) {
    case 'utf-8':
      return Buffer.from(text, 'utf8');
    case 'utf-8-bom':
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')]);
    case 'utf-16le':
      return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    case 'utf-16be':
      return Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]);
    case 'windows-1252':
      return Buffer.from(
        [...text].map((ch) => {
          const code = WIN1252[ch] ?? ch.charCodeAt(0);
          if (code > 0xff || (code >= 0x80 && code < 0xa0 && WIN1252[ch] === undefined)) {
            throw new Error(`${ch} is not in Windows-1252`);
          }
          return code;
        }),
      );
    default:
      throw new Error(encoding);
  }
}

interface Variant {
  name: string;
  encoding: string;
  shape: Shape;
  args?: string[];
  /** What the report must say was detected. */
  detected: { encoding: string; delimiter: string };
}

const VARIANTS: Variant[] = [
  {
    name: 'UTF-8, comma, LF',
    encoding: 'utf-8',
    shape: { delimiter: ',', eol: '\n' },
    detected: { encoding: 'utf-8', delimiter: ',' },
  },
  {
    name: 'Excel "CSV UTF-8": BOM, CRLF',
    encoding: 'utf-8-bom',
    shape: { delimiter: ',', eol: '\r\n' },
    detected: { encoding: 'utf-8', delimiter: ',' },
  },
  {
    name: 'Excel "Unicode Text": UTF-16 LE with BOM, tab, CRLF',
    encoding: 'utf-16le',
    shape: { delimiter: '\t', eol: '\r\n' },
    detected: { encoding: 'utf-16le', delimiter: '\t' },
  },
  {
    name: 'UTF-16 BE with BOM, semicolon, LF',
    encoding: 'utf-16be',
    shape: { delimiter: ';', eol: '\n' },
    detected: { encoding: 'utf-16be', delimiter: ';' },
  },
  {
    name: 'European Excel "CSV": Windows-1252, semicolon, CRLF',
    encoding: 'windows-1252',
    shape: { delimiter: ';', eol: '\r\n' },
    detected: { encoding: 'windows-1252', delimiter: ';' },
  },
  {
    name: 'old Mac Excel: lone CR line ends',
    encoding: 'windows-1252',
    shape: { delimiter: ',', eol: '\r' },
    detected: { encoding: 'windows-1252', delimiter: ',' },
  },
  {
    name: 'blank lines, spreadsheet-empty rows, no final line end',
    encoding: 'utf-8',
    shape: { delimiter: ',', eol: '\n', blankLines: true },
    detected: { encoding: 'utf-8', delimiter: ',' },
  },
  {
    name: '--delimiter ";" where detection alone would pick the comma (a tie)',
    encoding: 'utf-8',
    shape: { delimiter: ';', eol: '\n', header: ['name,first', 'Phone Number', 'email,primary'] },
    args: ['--delimiter', ';'],
    detected: { encoding: 'utf-8', delimiter: ';' },
  },
  {
    name: '--delimiter tab',
    encoding: 'utf-8',
    shape: { delimiter: '\t', eol: '\n' },
    args: ['--delimiter', 'tab'],
    detected: { encoding: 'utf-8', delimiter: '\t' },
  },
];

describe('upload files as spreadsheets export them, through the CLI', () => {
  for (const variant of VARIANTS) {
    test(variant.name, async () => {
      const dir = scratchDir();
      const { text, lines } = render(variant.shape);
      const upload = writeUpload(dir, encode(text, variant.encoding));
      const r = await matchInProcess({ index: platform.indexFile, upload, dir, extra: variant.args });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const got = readJsonOutput(dir, 'report');
      const counts = (o: Record<string, unknown>) => ({
        rows: o.rows,
        invalid: o.invalid,
        valid: o.valid,
        unique: o.unique,
        matched: o.matched,
        opted_out_dropped: o.opted_out_dropped,
        audience: o.audience,
        invalid_by_reason: o.invalid_by_reason,
      });
      // The exact counts are the operator's (the advertiser's report holds estimates of the platform side).
      const audit = readJsonOutput(dir, 'audit');
      expect(counts(audit)).toEqual(counts(expected as unknown as Record<string, unknown>));
      expect({ encoding: got.upload.encoding, delimiter: got.upload.delimiter }).toEqual(variant.detected);
      expect(readOutput(dir, 'audience')).toBe(expected.audienceText);
      // Each reject on the physical line where its row starts (quoted newlines and blank lines counted).
      let wantRejects = 'line,cell,reason\n';
      rows.forEach((row, i) => {
        const reason = expected.reasons[i];
        if (reason) wantRejects += `${lines[i]},${safeCsvCell(row.phoneCell)},${reason}\n`;
      });
      expect(readOutput(dir, 'rejects')).toBe(wantRejects);
      expect(tempFilesIn(dir)).toEqual([]);
    });
  }
});

describe('degenerate uploads, through the CLI', () => {
  const match = (upload: string, dir: string, minAudience: number | null = null) =>
    matchInProcess({ index: platform.indexFile, upload, dir, minAudience });

  test('an empty file: exit 2 naming file and line 1, and no output at all', async () => {
    const dir = scratchDir();
    const r = await match(writeUpload(dir, '', 'empty.csv'), dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/empty\.csv:1: empty file: no header \[ERR_BAD_INPUT\]/);
    expect(r.stderr).not.toMatch(STACK_TRACE_LINE);
    expect(readdirSync(dir)).toEqual(['empty.csv']);
  });

  test('a header and nothing else: 0 rows, suppressed (exit 3), a report and an empty rejects file', async () => {
    const dir = scratchDir();
    const upload = writeUpload(dir, '\uFEFFName;Mobile\r\n', 'header-only.csv');
    const r = await match(upload, dir, 1);
    expect(r.status).toBe(3);
    const report = readJsonOutput(dir, 'report');
    expect([report.rows, report.invalid, report.valid, report.suppressed]).toEqual([0, 0, 0, true]);
    expect(report.upload.phone_column).toBe('Mobile');
    expect(readOutput(dir, 'rejects')).toBe('line,cell,reason\n');
    expect(existsSync(outputPath(dir, 'audience'))).toBe(false);
  });

  test('a 50 MB single line (no header row in sight): exit 2 at line 1, nothing written', async () => {
    const dir = scratchDir();
    const upload = writeUpload(dir, Buffer.alloc(50 * 1024 * 1024, 'x'), 'one-line.csv');
    const r = await match(upload, dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(
      /one-line\.csv:1: the header line is longer than \d+ characters.*\[ERR_BAD_INPUT\]/,
    );
    expect(readdirSync(dir)).toEqual(['one-line.csv']);
  });

  test('a 50 MB phone cell on one row: that row is a MALFORMED_ROW reject, the rows around it count', async () => {
    const dir = scratchDir();
    const entry = platform.entries.find((e) => !e.optedOut)!;
    const upload = writeUpload(
      dir,
      `name,phone\na,${entry.phone}\nb,${'7'.repeat(50 * 1024 * 1024)}\nc,${entry.phone}\nd,12`,
      'long-cell.csv',
    );
    const r = await match(upload, dir, 1);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const report = readJsonOutput(dir, 'audit'); // exact: the operator's audit
    expect([report.rows, report.valid, report.unique, report.audience]).toEqual([4, 2, 1, 1]);
    expect(report.invalid_by_reason).toMatchObject({ MALFORMED_ROW: 1, TOO_SHORT: 1 });
    expect(readOutput(dir, 'audience')).toBe(`${entry.userId}\n`);
    // The cut cell is in the rejects file, but never more than the cell limit of it.
    const rejects = readOutput(dir, 'rejects').split('\n');
    expect(rejects[1]).toMatch(/^3,7{1024},MALFORMED_ROW$/);
    expect(rejects[2]).toBe('5,12,TOO_SHORT');
  });

  test('an unterminated quote: exit 2 naming file, line and column of the quote; no output', async () => {
    const dir = scratchDir();
    const upload = writeUpload(
      dir,
      'name,phone\r\na,+447400123456\r\nb,"+44 7400\r\n123457\r\nc,1\r\n',
      'unterminated.csv',
    );
    const r = await match(upload, dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unterminated\.csv:3:3: unterminated quoted field.*\[ERR_BAD_INPUT\]\n$/);
    expect(r.stderr).not.toContain('7400');
    expect(readdirSync(dir)).toEqual(['unterminated.csv']);
  });
});
