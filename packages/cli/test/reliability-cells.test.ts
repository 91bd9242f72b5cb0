/**
 * Phone cells as they arrive, through the CLI: every reject code, spreadsheet damage, invisible and
 * non-ASCII characters. The decisions pinned here are documented in README.md and SECURITY.md:
 * we accept what libphonenumber-js reads, and never repair what a spreadsheet destroyed.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  makePlatform,
  matchInProcess,
  outputPath,
  type Platform,
  parseCsv,
  readJsonOutput,
  readOutput,
  removeScratchDirs,
  scratchDir,
  writeUpload,
} from './helpers.js';

afterAll(removeScratchDirs);

let platform: Platform;
/** A GB mobile on the platform, not opted out: every valid spelling below is of it. */
let e164: string;
let userId: bigint;

beforeAll(async () => {
  platform = await makePlatform({ entries: 400, seed: 3, withSha256: true });
  const entry = platform.entries.find((e) => /^\+447\d{9}$/.test(e.phone) && !e.optedOut);
  if (entry === undefined) throw new Error('the generated platform has no GB mobile');
  e164 = entry.phone;
  userId = entry.userId;
});

/** `text` with ASCII digits written from another script's zero (U+FF10 full-width, U+0660 Arabic-Indic…). */
function inScript(text: string, zero: number): string {
  return text.replace(/[0-9]/g, (d) => String.fromCodePoint(zero + Number(d)));
}

/** A cell and what must become of it: `valid` (normalised to the platform's number) or a reject code. */
type Case = [label: string, cell: () => string, outcome: 'valid' | string];

const national = (): string => `0${e164.slice(3)}`;
const split = (s: string, sep: string): string => `${s.slice(0, 5)}${sep}${s.slice(5)}`;

const CASES: Case[] = [
  ['E.164', () => e164, 'valid'],
  ['national, spaced', () => `${national().slice(0, 5)} ${national().slice(5)}`, 'valid'],
  ['full-width digits', () => inScript(national(), 0xff10), 'valid'],
  ['full-width plus and digits', () => `\uFF0B${inScript(e164.slice(1), 0xff10)}`, 'valid'],
  ['Arabic-Indic digits', () => `+${inScript(e164.slice(1), 0x0660)}`, 'valid'],
  ['Eastern Arabic-Indic (Persian) digits', () => `+${inScript(e164.slice(1), 0x06f0)}`, 'valid'],
  ['zero-width space inside', () => split(national(), '\u200B'), 'valid'],
  ['word joiner inside', () => split(national(), '\u2060'), 'valid'],
  ['soft hyphen inside', () => split(national(), '\u00AD'), 'valid'],
  ['zero-width spaces, NBSP and BOM around', () => `\uFEFF\u00A0\u200B${e164}\u200B\u00A0`, 'valid'],
  ['NBSP as the group separator', () => `+44\u00A0${e164.slice(3, 7)}\u00A0${e164.slice(7)}`, 'valid'],
  [
    'Devanagari digits (libphonenumber-js reads none)',
    () => `+${inScript(e164.slice(1), 0x0966)}`,
    'NOT_A_NUMBER',
  ],
  ['Thai digits', () => `+${inScript(e164.slice(1), 0x0e50)}`, 'NOT_A_NUMBER'],
  ['zero-width non-joiner inside', () => split(national(), '\u200C'), 'NOT_A_NUMBER'],
  ['thin space inside', () => split(e164, '\u2009'), 'NOT_A_NUMBER'],
  ['scientific notation (digits lost by the spreadsheet)', () => '4.4207946E+11', 'NOT_A_NUMBER'],
  ['scientific notation of this very number', () => `${e164[1]}.${e164.slice(2)}E+11`, 'NOT_A_NUMBER'],
  ['leading apostrophe (Excel text marker), national', () => `'${national()}`, 'NOT_A_NUMBER'],
  ['leading apostrophe, E.164', () => `'${e164}`, 'NOT_A_NUMBER'],
  ['=HYPERLINK formula', () => `=HYPERLINK("tel:${e164}","call")`, 'NOT_A_NUMBER'],
  ['="…" text formula', () => `="${national()}"`, 'NOT_A_NUMBER'],
  ['a sentence holding the number', () => `call ${national()} after 6`, 'NOT_A_NUMBER'],
  ['empty', () => '', 'EMPTY'],
  ['spaces only', () => '   ', 'EMPTY'],
  ['a zero-width space only', () => '\u200B', 'EMPTY'],
  ['two digits', () => '12', 'TOO_SHORT'],
  ['21 digits', () => '077009001234567890123', 'TOO_LONG'],
  ['unknown calling code', () => '+999 123 4567', 'INVALID_COUNTRY'],
  ['a London number one digit short', () => '+44 20 7946 000', 'INVALID_NUMBER'],
];

function quote(cell: string): string {
  return /[",\r\n]/.test(cell) ? `"${cell.replaceAll('"', '""')}"` : cell;
}

describe('phone cells through the CLI (--country GB)', () => {
  test('each cell is the platform number or the documented reject, on its own line; malformed rows too', async () => {
    const dir = scratchDir();
    const lines = ['label,phone'];
    for (const [label, cell] of CASES) lines.push(`${quote(label)},${quote(cell())}`);
    lines.push(`too few columns ${e164}`); // line CASES.length + 2
    lines.push(`too many,${e164},extra`); // line CASES.length + 3
    const upload = writeUpload(dir, `${lines.join('\n')}\n`, 'cells.csv');
    const r = await matchInProcess({ index: platform.indexFile, upload, dir });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const rejects = parseCsv(readOutput(dir, 'rejects'));
    expect(rejects[0]).toEqual(['line', 'cell', 'reason']);
    const got = new Map(rejects.slice(1).map(([line, , reason]) => [Number(line), reason]));
    const want = new Map<number, string>();
    CASES.forEach(([, , outcome], i) => {
      if (outcome !== 'valid') want.set(i + 2, outcome);
    });
    want.set(CASES.length + 2, 'MALFORMED_ROW');
    want.set(CASES.length + 3, 'MALFORMED_ROW');
    // Label each line so a failure names the case.
    const label = (line: number) => CASES[line - 2]?.[0] ?? `malformed row on line ${line}`;
    const show = (m: Map<number, string | undefined>) =>
      Object.fromEntries(
        [...CASES.keys(), CASES.length, CASES.length + 1].map((i) => [label(i + 2), m.get(i + 2) ?? 'valid']),
      );
    expect(show(got)).toEqual(show(want));

    const report = readJsonOutput(dir, 'audit'); // exact: the operator's audit
    const validCount = CASES.filter(([, , o]) => o === 'valid').length;
    // Every valid spelling is the same number: one unique, one match, one user.
    expect([report.rows, report.valid, report.unique, report.matched]).toEqual([
      CASES.length + 2,
      validCount,
      1,
      1,
    ]);
    expect(report.invalid).toBe(
      Object.values(report.invalid_by_reason as Record<string, number>).reduce((a, b) => a + b, 0),
    );
    expect(readOutput(dir, 'audience')).toBe(`${userId}\n`);
  });

  test('hashed uploads (--hashed meta): a digest matches, anything else is NOT_A_HASH or EMPTY', async () => {
    const dir = scratchDir();
    const digest = createHash('sha256').update(e164.slice(1)).digest('hex');
    const cells = [
      ['digest', digest],
      ['upper-case digest', digest.toUpperCase()],
      ['digest of the + spelling (google not meta)', createHash('sha256').update(e164).digest('hex')],
      ['plain number', e164],
      ['63 hex digits', digest.slice(1)],
      ['non-hex', `${digest.slice(0, 63)}g`],
      ['empty', ''],
    ];
    const upload = writeUpload(
      dir,
      `label,phone_sha256\n${cells.map(([l, c]) => `${l},${c}`).join('\n')}\n`,
      'hashed.csv',
    );
    const r = await matchInProcess({
      index: platform.indexFile,
      upload,
      dir,
      extra: ['--phone-column', 'phone_sha256', '--hashed', 'meta'],
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const reasons = parseCsv(readOutput(dir, 'rejects'))
      .slice(1)
      .map(([line, , reason]) => [cells[Number(line) - 2]![0], reason]);
    expect(reasons).toEqual([
      ['plain number', 'NOT_A_HASH'],
      ['63 hex digits', 'NOT_A_HASH'],
      ['non-hex', 'NOT_A_HASH'],
      ['empty', 'EMPTY'],
    ]);
    const report = readJsonOutput(dir, 'audit'); // exact: the operator's audit
    // The two spellings of one digest are one; the google-convention digest is a valid row that matches nothing.
    expect([report.rows, report.valid, report.unique, report.matched, report.audience]).toEqual([
      7, 3, 2, 1, 1,
    ]);
    expect(readOutput(dir, 'audience')).toBe(`${userId}\n`);
  });

  test('--hashed against an index without a SHA-256 section: exit 2, coded, nothing written', async () => {
    const plain = await makePlatform({ entries: 20, seed: 4 });
    const dir = scratchDir();
    const upload = writeUpload(dir, `phone\n${'a'.repeat(64)}\n`, 'hashed.csv');
    const r = await matchInProcess({
      index: plain.indexFile,
      upload,
      dir,
      outputs: ['rejects'],
      minAudience: null,
      quiet: false,
      extra: ['--hashed', 'google'],
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--with-sha256.*\[ERR_INDEX_MISSING_SECTION\]\n$/);
    expect(existsSync(outputPath(dir, 'audience')) || existsSync(outputPath(dir, 'rejects'))).toBe(false);
  });
});
