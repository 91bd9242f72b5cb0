/**
 * Real customer files (issue 14): several phone columns, a country on each row (alpha-2 in any case,
 * alpha-3, English name, blank, unknown), Meta's payload shapes, `--strict`, and numbers longer
 * than E.164. Expected outcomes are known by construction: every number placed in a row is an
 * index entry (or a number known not to be on it), written in a spelling that must read back as
 * that entry; the audience is worked out from the entries, not by rollcall's code.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashPhoneHex, type PhoneKey } from '@rollcall/phone';
import { parsePhoneNumber } from 'libphonenumber-js/max';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  makePlatform,
  type Platform,
  type PlatformEntry,
  parseCsv,
  ROOT,
  rollcall,
  tempDir,
} from './helpers.js';

const ROUND2 = join(ROOT, 'fixtures/conformance/round2');

/** Ways a country cell may name a country, by construction (not from the library under test). */
const ALPHA3: Readonly<Record<string, string>> = {
  GB: 'GBR',
  US: 'USA',
  DE: 'DEU',
  KE: 'KEN',
  ZW: 'ZWE',
  ZA: 'ZAF',
  NG: 'NGA',
  IN: 'IND',
  ID: 'IDN',
  BR: 'BRA',
  MX: 'MEX',
  AR: 'ARG',
  FR: 'FRA',
  ES: 'ESP',
  IT: 'ITA',
  NL: 'NLD',
  PL: 'POL',
  TR: 'TUR',
  EG: 'EGY',
  PK: 'PAK',
  PH: 'PHL',
  VN: 'VNM',
  JP: 'JPN',
  AU: 'AUS',
};
const NAMES: Readonly<Record<string, string>> = {
  GB: 'United Kingdom',
  US: 'United States',
  DE: 'Germany',
  KE: 'Kenya',
  ZW: 'Zimbabwe',
  ZA: 'South Africa',
  NG: 'Nigeria',
  IN: 'India',
  ID: 'Indonesia',
  BR: 'Brazil',
  MX: 'Mexico',
  AR: 'Argentina',
  FR: 'France',
  ES: 'Spain',
  IT: 'Italy',
  NL: 'Netherlands',
  PL: 'Poland',
  EG: 'Egypt',
  PK: 'Pakistan',
  PH: 'Philippines',
  JP: 'Japan',
  AU: 'Australia',
};

/** A deterministic pseudo-random source. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface CrmExport {
  csv: string;
  /** Data rows as cells: name, email, three phone cells, country. */
  rows: string[][];
  /** The E.164 numbers each row holds validly (what must match). */
  numbers: string[][];
  /** Rows with no valid number. */
  invalidRows: number;
}

const DEFAULT = 'GB';

/**
 * A CRM export: `Full Name,Email,Phone,Mobile,Work Phone,Country`, one person a row with one to
 * three numbers of one country, spelled as a person of that country would (national at home,
 * international abroad). The country cell is alpha-2 (any case, padded), alpha-3, the English
 * name, or blank (the default country, GB). Some rows hold junk in a spare column, some are empty,
 * some give an unknown country with a national number (rejected) beside an international one.
 */
function crmExport(entries: readonly PlatformEntry[], rowsWanted: number, seed: number): CrmExport {
  const rand = prng(seed);
  const byCountry = new Map<string, string[]>();
  for (const e of entries) {
    const country = parsePhoneNumber(e.phone).country;
    if (country === undefined) continue;
    byCountry.set(country, [...(byCountry.get(country) ?? []), e.phone]);
  }
  const countries = [...byCountry.keys()].sort();
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const rows: string[][] = [];
  const numbers: string[][] = [];
  let invalidRows = 0;
  for (let r = 0; r < rowsWanted; r++) {
    const country = pick(countries);
    const form = Math.floor(rand() * 6);
    const cell =
      form === 0
        ? country
        : form === 1
          ? ` ${country.toLowerCase()} `
          : form === 2
            ? (ALPHA3[country] ?? country)
            : form === 3
              ? (NAMES[country] ?? country)
              : form === 4
                ? ''
                : country;
    const effective = cell === '' ? DEFAULT : country;
    const count = 1 + Math.floor(rand() * 3);
    const pool = byCountry.get(country)!;
    const chosen = [...new Set(Array.from({ length: count }, () => pick(pool)))];
    const phones = ['', '', ''];
    const slots = [0, 1, 2].sort(() => rand() - 0.5);
    chosen.forEach((e164, i) => {
      const p = parsePhoneNumber(e164);
      const home = p.country === effective;
      const k = Math.floor(rand() * 3);
      phones[slots[i]!] = home
        ? [p.formatNational(), e164, p.formatInternational()][k]!
        : [p.formatInternational(), e164, ` ${e164} `][k]!;
    });
    const spare = slots[chosen.length];
    if (spare !== undefined && rand() < 0.2) phones[spare] = pick(['n/a', 'call office', '#REF!', '12']);
    rows.push([`Customer ${r}`, `c${r}@example.com`, ...phones, cell]);
    numbers.push(chosen);
  }
  // Rows no number of which may match.
  rows.push(['Nobody', 'n@example.com', '', '', '', 'FR']);
  numbers.push([]);
  rows.push(['Junk', 'j@example.com', 'n/a', '', 'ask office', 'DE']);
  numbers.push([]);
  // An unknown country: the national number is rejected (INVALID_COUNTRY), the international one counts.
  const gb = byCountry.get('GB') ?? byCountry.get(countries[0]!)!;
  const [first, second] = [gb[0]!, gb[1] ?? gb[0]!];
  rows.push(['Atlantis', 'a@example.com', parsePhoneNumber(first).formatNational(), '', second, 'Narnia']);
  numbers.push([second]);
  rows.push(['Atlantis 2', 'b@example.com', parsePhoneNumber(first).formatNational(), '', '', 'Narnia']);
  numbers.push([]);
  invalidRows = 3;
  const quote = (c: string): string => (/[",\n]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c);
  const csv = `Full Name,Email,Phone,Mobile,Work Phone,Country\r\n${rows.map((row) => row.map(quote).join(',')).join('\r\n')}\r\n`;
  return { csv, rows, numbers, invalidRows };
}

/** The audience of rows holding `numbers`: the platform's users behind them, opted-out people dropped. */
function audienceOf(entries: readonly PlatformEntry[], numbers: readonly string[][]): string {
  const byPhone = new Map(entries.map((e) => [e.phone, e]));
  // Opting out is the person's: one opted-out number of a user drops every number of that user.
  const optedOut = new Set(entries.filter((e) => e.optedOut).map((e) => e.userId));
  const users = new Set<bigint>();
  for (const row of numbers) {
    for (const phone of row) {
      const e = byPhone.get(phone);
      if (e !== undefined && !optedOut.has(e.userId)) users.add(e.userId);
    }
  }
  return [...users]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((id) => `${id}\n`)
    .join('');
}

function match(args: readonly string[], dir: string) {
  const out = join(dir, 'audience.txt');
  const report = join(dir, 'report.json');
  const audit = join(dir, 'audit.json');
  const rejects = join(dir, 'rejects.csv');
  const r = rollcall([
    'match',
    ...args,
    '--out',
    out,
    '--report',
    report,
    '--audit',
    audit,
    '--rejects',
    rejects,
    '--min-audience',
    '1',
    '--ledger',
    join(dir, 'ledger.jsonl'),
    '--quiet',
  ]);
  const read = (path: string) => {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return null;
    }
  };
  return {
    ...r,
    audience: read(out),
    report: JSON.parse(read(report) ?? 'null'),
    audit: JSON.parse(read(audit) ?? 'null'),
    rejects: read(rejects),
  };
}

describe('round 2 conformance: several phone columns and a country on each row', () => {
  test('multikey.csv gives the audience known by construction, byte for byte', () => {
    const expected = JSON.parse(readFileSync(join(ROUND2, 'multikey.json'), 'utf8'));
    const dir = tempDir();
    const r = match(
      [
        '--index',
        join(ROOT, 'fixtures/conformance/index.csv'),
        '--upload',
        join(ROUND2, 'multikey.csv'),
        '--country',
        expected.default_country,
      ],
      dir,
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.audience).toBe(readFileSync(join(ROUND2, 'multikey.audience'), 'utf8'));
    expect(r.audit.audience).toBe(expected.audience);
    expect(r.report.upload.phone_columns).toEqual(['Phone', 'Mobile', 'Work Phone']);
    expect(r.report.upload.country_column).toBe('Country');
    // Every row in exactly one bucket; numbers counted apart.
    expect(r.report.valid + r.report.invalid).toBe(r.report.rows);
    const byColumn = r.report.numbers.by_column;
    expect(byColumn.map((c: { column: string }) => c.column)).toEqual(['Phone', 'Mobile', 'Work Phone']);
    expect(byColumn.reduce((a: number, c: { valid: number }) => a + c.valid, 0)).toBe(r.report.numbers.valid);
  });
});

describe('a generated CRM export', () => {
  let platform: Platform;
  let crm: CrmExport;
  beforeAll(async () => {
    platform = await makePlatform({ entries: 600, seed: 14, withSha256: true });
    crm = crmExport(platform.entries, 400, 1414);
  }, 120_000);

  test('three phone columns and a per-row country give exactly the audience known by construction', () => {
    const dir = tempDir();
    const upload = join(dir, 'crm.csv');
    writeFileSync(upload, crm.csv);
    const r = match(['--index', platform.indexFile, '--upload', upload, '--country', DEFAULT], dir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.audience).toBe(audienceOf(platform.entries, crm.numbers));
    expect(r.report.rows).toBe(crm.rows.length);
    expect(r.report.invalid).toBe(crm.invalidRows);
    expect(r.report.valid).toBe(crm.rows.length - crm.invalidRows);
    expect(r.report.unique).toBe(new Set(crm.numbers.flat()).size);
    expect(r.report.read_as_international).toBe(0);
    // The rejects file explains every rejected row: the row's line, the column, the cell, why.
    const rejects = parseCsv(r.rejects!);
    expect(rejects[0]).toEqual(['line', 'column', 'cell', 'reason']);
    const rejectedLines = new Set(rejects.slice(1).map((f) => Number(f[0])));
    expect(rejectedLines.size).toBe(crm.invalidRows);
    const atlantis = rejects.slice(1).filter((f) => f[3] === 'INVALID_COUNTRY');
    expect(atlantis.map((f) => f[1])).toEqual(['Phone']);
    const empty = rejects.slice(1).filter((f) => f[3] === 'EMPTY');
    expect(empty).toHaveLength(1);
    expect(empty[0]![1]).toBe('');
  });

  test('without --country, rows with a blank country accept only international spellings', () => {
    const dir = tempDir();
    const upload = join(dir, 'crm.csv');
    writeFileSync(upload, crm.csv);
    const r = match(['--index', platform.indexFile, '--upload', upload], dir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.report.default_country).toBeNull();
    // Only blank-country rows holding a national GB spelling can lose numbers.
    const withDefault = match(
      ['--index', platform.indexFile, '--upload', upload, '--country', 'GB'],
      tempDir(),
    );
    expect(r.report.valid).toBeLessThanOrEqual(withDefault.report.valid);
    expect(r.report.invalid_by_reason.INVALID_COUNTRY).toBeGreaterThanOrEqual(1);
  });

  test('a file with no country column and no --country is refused, naming the option', () => {
    const dir = tempDir();
    const upload = join(dir, 'plain.csv');
    writeFileSync(upload, `phone\n${platform.entries[0]!.phone}\n`);
    const r = match(['--index', platform.indexFile, '--upload', upload], dir);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--country/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.audience).toBeNull();
  });

  test('Meta payload files of one session give the audience of the CSV of the same rows', () => {
    const dir = tempDir();
    const session = join(dir, 'session');
    mkdirSync(session);
    // One data row per (row, phone): Meta's multi-key schema holds one PHONE per row.
    const data = crm.rows.flatMap((row) =>
      row.slice(2, 5).flatMap((phone) => (phone === '' ? [] : [[row[1]!, phone, row[5]!]])),
    );
    const half = Math.ceil(data.length / 2);
    for (const [i, part] of [data.slice(0, half), data.slice(half)].entries()) {
      writeFileSync(
        join(session, `part-${i}.json`),
        JSON.stringify({ payload: { schema: ['EMAIL', 'PHONE', 'COUNTRY'], data: part } }),
      );
    }
    const expected = audienceOf(platform.entries, crm.numbers);
    const viaDir = match(['--index', platform.indexFile, '--upload', session, '--country', DEFAULT], dir);
    expect(viaDir.stderr).toBe('');
    expect(viaDir.status).toBe(0);
    expect(viaDir.audience).toBe(expected);
    const viaFiles = match(
      [
        '--index',
        platform.indexFile,
        '--upload',
        join(session, 'part-0.json'),
        '--upload',
        join(session, 'part-1.json'),
        '--country',
        DEFAULT,
      ],
      tempDir(),
    );
    expect(viaFiles.status).toBe(0);
    expect(viaFiles.audience).toBe(expected);
    // Rejects name the file of each rejected row.
    expect(parseCsv(viaFiles.rejects!)[0]).toEqual(['file', 'line', 'cell', 'reason']);
  });

  test('a PHONE_SHA256 payload gives the same audience as the plain rows', () => {
    const dir = tempDir();
    const digests = crm.numbers.flat().map((e164) => hashPhoneHex(Number(e164.slice(1)) as PhoneKey, 'meta'));
    const payload = join(dir, 'hashed.json');
    writeFileSync(payload, JSON.stringify({ payload: { schema: 'PHONE_SHA256', data: digests } }));
    const r = match(['--index', platform.indexFile, '--upload', payload], dir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.report.hashed).toBe('meta');
    expect(r.audience).toBe(audienceOf(platform.entries, crm.numbers));
  });

  test('two columns of digests (--hashed meta) match as one person a row', () => {
    const dir = tempDir();
    const upload = join(dir, 'hashed.csv');
    const hex = (e164: string) => hashPhoneHex(Number(e164.slice(1)) as PhoneKey, 'meta');
    const lines = crm.numbers.map((row) => `${row[0] ? hex(row[0]) : ''},${row[1] ? hex(row[1]) : ''}`);
    writeFileSync(upload, `phone,mobile\n${lines.join('\n')}\n`);
    const r = match(['--index', platform.indexFile, '--upload', upload, '--hashed', 'meta'], dir);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const firstTwo = crm.numbers.map((row) => row.slice(0, 2));
    expect(r.audience).toBe(audienceOf(platform.entries, firstTwo));
  });
});

describe('what was guessed, and --strict', () => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await makePlatform({ entries: 200, seed: 15 });
  }, 120_000);

  test('digits with a country code but no + are counted as read_as_international, and --strict refuses them', () => {
    // A number of another country than the file's, written with its country code but no `+`.
    const entry = platform.entries.find((e) => parsePhoneNumber(e.phone).country !== 'FR')!;
    const e164 = entry.phone;
    const dir = tempDir();
    const upload = join(dir, 'fr.csv');
    writeFileSync(upload, `phone\n${e164.slice(1)}\n${platform.entries[1]!.phone}\n`);
    const guessed = match(['--index', platform.indexFile, '--upload', upload, '--country', 'FR'], dir);
    expect(guessed.status).toBe(0);
    expect(guessed.report.read_as_international).toBe(1);
    expect(guessed.report.valid).toBe(2);
    const strict = match(
      ['--index', platform.indexFile, '--upload', upload, '--country', 'FR', '--strict'],
      tempDir(),
    );
    expect(strict.status).toBe(0);
    expect(strict.report.strict).toBe(true);
    expect(strict.report.read_as_international).toBe(0);
    expect(strict.report.invalid_by_reason.MISSING_PLUS).toBe(1);
    expect(parseCsv(strict.rejects!)[1]![2]).toBe('MISSING_PLUS');
    // The rejects file shows the cell as the advertiser wrote it; no report shows it.
    expect(JSON.stringify(strict.report)).not.toContain(e164.slice(1));
  });

  test('a valid number longer than E.164 (16-17 digits) is rejected with OVER_15_DIGITS, never keyed inexactly', () => {
    const dir = tempDir();
    const upload = join(dir, 'de.csv');
    writeFileSync(upload, 'phone\n+49211056196942043\n+49211056196942041\n');
    const r = match(['--index', platform.indexFile, '--upload', upload, '--country', 'DE'], dir);
    // Nothing valid, so nothing matched: the (empty) audience is suppressed.
    expect(r.status).toBe(3);
    expect(r.audit.invalid_by_reason.OVER_15_DIGITS).toBe(2);
    expect(r.report.invalid_by_reason.OVER_15_DIGITS).toBe(2);
    expect(r.report.unique).toBe(0);
  });
});
