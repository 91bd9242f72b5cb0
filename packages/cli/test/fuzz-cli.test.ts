/**
 * Fuzzing uploads: random CSV structure (encodings, delimiters, line ends, quoting, blank lines, short
 * and long rows, any Unicode) and random bytes.
 *
 * For volume, through one long-lived Matcher in process: every structured upload must give exactly
 * what the reference normaliser and a Map give for the cells we wrote, with each reject on its line.
 * Then a few through the CLI's `main` and the spawned binary: exit 0, 2 or 3, never a stack trace,
 * every row in exactly one bucket, no temp file left, and on exit 2 no output at all.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRollcallError } from '@rollcall/errors';
import { createMatcher, type Matcher } from '@rollcall/join';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  expectedOutcome,
  makePlatform,
  matchArgs,
  type Platform,
  parseCsv,
  readJsonOutput,
  removeScratchDirs,
  rollcall,
  rollcallInProcess,
  STACK_TRACE_LINE,
  scratchDir,
  tempFilesIn,
  writeUpload,
} from './helpers.js';

afterAll(removeScratchDirs);

let platform: Platform;
/** Phone cells worth drawing: the platform's numbers spelled many ways, strangers, junk. */
let phonePool: string[];

beforeAll(async () => {
  platform = await makePlatform({ entries: 300, seed: 61 });
  const { messySpelling, prng, randomE164 } = await import('../../../fixtures/generate.js');
  const rand = prng(62);
  phonePool = [];
  for (const e of platform.entries.slice(0, 150)) phonePool.push(messySpelling(rand, e.phone, 'GB'));
  for (let i = 0; i < 40; i++) phonePool.push(randomE164(rand, 'GB'));
  phonePool.push('', ' ', 'N/A', '12', '+999 123 4567', '4.4207946E+11', "'07400123456", '=1+1');
});

const DELIMITERS = [',', ';', '\t', '|'] as const;
const EOLS = ['\n', '\r\n', '\r'] as const;
const ENCODINGS = ['utf-8', 'utf-8-bom', 'utf-16le', 'utf-16be'] as const;
const OTHER_HEADERS = ['name', 'email', 'city', 'notes'];

/** A cell: a phone from the pool, or any text (NUL aside: it would make a tiny file look UTF-16). */
const cellArb = (pool: () => string[]) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.nat().map((i) => pool()[i % pool().length]!) },
    {
      weight: 2,
      arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => s.replaceAll('\0', '')),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom('"', '""', ',', ';', '\t', '|', '\n', '\r\n', '\r', ' ', '  \t'),
    },
  );

interface Upload {
  bytes: Buffer;
  delimiter: string;
  /** Whether to pass the delimiter (else it is detected, which needs a header with 2+ columns). */
  explicit: boolean;
  phoneCells: string[];
  malformed: boolean[];
  lines: number[];
}

const uploadArb = (pool: () => string[]) =>
  fc
    .record({
      delimiter: fc.constantFrom(...DELIMITERS),
      eol: fc.constantFrom(...EOLS),
      encoding: fc.constantFrom(...ENCODINGS),
      columns: fc.integer({ min: 1, max: 4 }),
      phoneAt: fc.nat(),
      explicit: fc.boolean(),
      finalEol: fc.boolean(),
      rows: fc.array(
        fc.record({
          cells: fc.array(cellArb(pool), { minLength: 0, maxLength: 6 }),
          quote: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
          // Mostly the header's column count; sometimes one fewer or more, or whatever was drawn.
          shape: fc.constantFrom('fit', 'fit', 'fit', 'fit', 'short', 'long', 'raw'),
        }),
        { maxLength: 60 },
      ),
    })
    .map((g): Upload => {
      const d = g.delimiter;
      const phoneAt = g.phoneAt % g.columns;
      const header = Array.from({ length: g.columns }, (_, i) =>
        i === phoneAt ? 'phone' : OTHER_HEADERS[i]!,
      );
      const render = (cell: string, forceQuote: boolean) =>
        forceQuote || /["\r\n]/.test(cell) || cell.includes(d) ? `"${cell.replaceAll('"', '""')}"` : cell;
      const records: string[] = [header.join(d)];
      let line = 2;
      const phoneCells: string[] = [];
      const malformed: boolean[] = [];
      const lines: number[] = [];
      for (const row of g.rows) {
        const want =
          row.shape === 'fit'
            ? g.columns
            : row.shape === 'short'
              ? g.columns - 1
              : row.shape === 'long'
                ? g.columns + 1
                : row.cells.length;
        const cells = Array.from({ length: Math.max(want, 0) }, (_, i) => row.cells[i] ?? '');
        const quoted = cells.map((c, i) => row.quote[i]! || /["\r\n]/.test(c) || c.includes(d));
        const text = cells.map((c, i) => render(c, quoted[i]!)).join(d);
        // The reader's blank line: nothing but spaces, tabs and delimiters, and no quotes.
        const blank = !quoted.some(Boolean) && cells.every((c) => /^[ \t]*$/.test(c));
        if (!blank) {
          phoneCells.push(cells.length === g.columns ? cells[phoneAt]! : (cells[phoneAt] ?? ''));
          malformed.push(cells.length !== g.columns);
          lines.push(line);
        }
        records.push(text);
        line += 1 + (text.match(/\r\n|\r|\n/g)?.length ?? 0);
      }
      const text = records.join(g.eol) + (g.finalEol ? g.eol : '');
      const bytes =
        g.encoding === 'utf-8'
          ? Buffer.from(text, 'utf8')
          : g.encoding === 'utf-8-bom'
            ? Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text, 'utf8')])
            : g.encoding === 'utf-16le'
              ? Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])
              : Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]);
      // Detection needs a delimiter in the header: one column means it must be given.
      return { bytes, delimiter: d, explicit: g.explicit || g.columns === 1, phoneCells, malformed, lines };
    });

describe('fuzz: one long-lived Matcher reads random uploads from files (volume)', () => {
  let matcher: Matcher;
  beforeAll(async () => {
    matcher = await createMatcher({ index: platform.indexFile, threads: 2 });
  });
  afterAll(async () => {
    await matcher?.close();
  });

  test('structured uploads: exactly the reference counts, audience and reject lines', async () => {
    const dir = scratchDir('rollcall-fuzz-');
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        uploadArb(() => phonePool),
        fc.integer({ min: 1, max: 40 }),
        async (u, batchSize) => {
          const upload = join(dir, `u${n}.csv`);
          const rejects = join(dir, `r${n++}.csv`);
          writeFileSync(upload, u.bytes);
          const { report, audience } = await matcher.match({
            upload,
            defaultCountry: 'GB',
            minAudience: 1,
            // A ledger of its own per upload: hundreds of different uploads would spend one
            // advertiser's privacy budget (this test is about counts, not the budget).
            ledger: join(scratchDir('rollcall-fuzz-ledger-'), 'ledger.jsonl'),
            batchSize,
            rejects,
            ...(u.explicit ? { delimiter: u.delimiter } : {}),
          });
          const want = await expectedOutcome(platform.entries, u.phoneCells, 'GB', u.malformed);
          expect({
            rows: report.rows,
            invalid: report.invalid,
            valid: report.valid,
            unique: report.unique,
            invalid_by_reason: report.invalid_by_reason,
          }).toEqual({
            rows: want.rows,
            invalid: want.invalid,
            valid: want.valid,
            unique: want.unique,
            invalid_by_reason: want.invalid_by_reason,
          });
          const text = (audience ?? []).length > 0 ? [...audience!].map((id) => `${id}\n`).join('') : '';
          expect(text).toBe(report.suppressed ? '' : want.audienceText);
          const got = parseCsv(readFileSync(rejects, 'utf8'))
            .slice(1)
            .map(([line, , reason]) => `${line} ${reason}`);
          const wanted = want.reasons.flatMap((r, i) => (r === null ? [] : [`${u.lines[i]} ${r}`]));
          expect(got).toEqual(wanted);
        },
      ),
      { numRuns: 150, interruptAfterTimeLimit: 20_000 },
    );
    expect(tempFilesIn(dir)).toEqual([]);
  });

  test('random bytes: a result whose buckets add up, or a coded bad-input error; never anything else', async () => {
    const dir = scratchDir('rollcall-fuzz-');
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('', 'phone\n', 'name,phone\r\n', '\uFEFFphone;x\n'),
        fc.uint8Array({ maxLength: 2048 }),
        async (head, tail) => {
          const upload = join(dir, `b${n}.csv`);
          const rejects = join(dir, `r${n++}.csv`);
          writeFileSync(upload, Buffer.concat([Buffer.from(head, 'utf8'), tail]));
          try {
            const { report } = await matcher.match({ upload, defaultCountry: 'GB', minAudience: 1, rejects });
            expect(report.rows).toBe(report.invalid + report.valid);
            expect(report.invalid).toBe(Object.values(report.invalid_by_reason).reduce((a, b) => a + b, 0));
            expect(parseCsv(readFileSync(rejects, 'utf8')).length - 1).toBe(report.invalid);
          } catch (err) {
            if (!isRollcallError(err)) throw err;
            expect(err.code).toBe('ERR_BAD_INPUT');
            expect(err.message).not.toMatch(STACK_TRACE_LINE);
          }
        },
      ),
      { numRuns: 300, interruptAfterTimeLimit: 15_000 },
    );
    expect(tempFilesIn(dir)).toEqual([]);
  });
});

/** What every CLI run must satisfy, whatever it was given. */
function checkRun(r: { status: number | null; stderr: string }, dir: string): void {
  expect([0, 2, 3]).toContain(r.status);
  expect(r.stderr).not.toMatch(STACK_TRACE_LINE);
  expect(tempFilesIn(dir)).toEqual([]);
  const files = readdirSync(dir).filter((f) => f !== 'upload.csv');
  if (r.status === 2) {
    expect(files).toEqual([]);
    expect(r.stderr).toMatch(/^rollcall: .*\[ERR_[A-Z_]+\]\n$/);
    return;
  }
  const report = readJsonOutput(dir, 'report');
  expect(report.rows).toBe(report.invalid + report.valid);
  expect(report.invalid).toBe(
    Object.values(report.invalid_by_reason as Record<string, number>).reduce((a, b) => a + b, 0),
  );
  expect(files.includes('audience.txt')).toBe(r.status === 0);
}

const cliInput = (pool: () => string[]) =>
  fc.oneof(
    uploadArb(pool).map((u) => ({ bytes: u.bytes, args: u.explicit ? ['--delimiter', u.delimiter] : [] })),
    fc
      .tuple(fc.constantFrom('', 'phone\n', 'a,phone\n'), fc.uint8Array({ maxLength: 512 }))
      .map(([head, tail]) => ({ bytes: Buffer.concat([Buffer.from(head), tail]), args: [] as string[] })),
  );

function argsFor(dir: string, extra: string[]): string[] {
  return matchArgs({
    index: platform.indexFile,
    upload: join(dir, 'upload.csv'),
    dir,
    outputs: ['report', 'rejects'],
    minAudience: 3,
    // A ledger of its own per run, outside `dir` (whose files the checks list).
    extra: ['--ledger', join(scratchDir('rollcall-fuzz-ledger-'), 'ledger.jsonl'), ...extra],
  });
}

describe('fuzz: the CLI', () => {
  test('in process (main): exit 0/2/3, no trace, buckets add up, no partial output', async () => {
    await fc.assert(
      fc.asyncProperty(
        cliInput(() => phonePool),
        async (input) => {
          const dir = scratchDir('rollcall-fuzz-cli-');
          writeUpload(dir, input.bytes);
          checkRun(await rollcallInProcess(argsFor(dir, input.args)), dir);
        },
      ),
      { numRuns: 12, interruptAfterTimeLimit: 10_000 },
    );
  });

  test('the spawned binary, a few runs', () => {
    fc.assert(
      fc.property(
        cliInput(() => phonePool),
        (input) => {
          const dir = scratchDir('rollcall-fuzz-bin-');
          writeUpload(dir, input.bytes);
          checkRun(rollcall(argsFor(dir, input.args)), dir);
        },
      ),
      { numRuns: 2 },
    );
  });
});
