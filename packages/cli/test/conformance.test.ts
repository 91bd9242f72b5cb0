/**
 * The conformance set (fixtures/conformance): uploads whose expected reports and audiences were
 * computed by construction with Google's reference libphonenumber. It pins the exact semantics.
 * Its exact counts are the operator's view: they are checked in the `--audit` output; the
 * advertiser's report holds the upload-only counts exactly and the platform-side ones as estimates.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { matchArgs, outputPath, ROOT, readJsonOutput, rollcall, tempDir } from './helpers.js';

const SET = join(ROOT, 'fixtures/conformance');
const names = readdirSync(join(SET, 'uploads')).map((f) => f.replace(/\.csv$/, ''));

interface Expected {
  default_country: string;
  rows: number;
  invalid: number;
  valid: number;
  unique: number;
  matched: number;
  opted_out_dropped: number;
  audience: number;
}

describe('conformance set', () => {
  test('has uploads', () => {
    expect(names.length).toBeGreaterThanOrEqual(4);
  });

  for (const name of names) {
    test(`${name}: audit counts and audience byte for byte (--min-audience 1); the report estimates`, () => {
      const expected = JSON.parse(readFileSync(join(SET, 'expected', `${name}.json`), 'utf8')) as Expected;
      const dir = tempDir();
      const r = rollcall(
        matchArgs({
          index: join(SET, 'index.csv'),
          upload: join(SET, 'uploads', `${name}.csv`),
          dir,
          country: expected.default_country,
          outputs: ['report', 'audit'],
          threads: null,
        }),
      );
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const audit = readJsonOutput(dir, 'audit');
      const report = readJsonOutput(dir, 'report');
      for (const key of [
        'rows',
        'invalid',
        'valid',
        'unique',
        'matched',
        'opted_out_dropped',
        'audience',
      ] as const) {
        expect({ key, value: audit[key] }).toEqual({ key, value: expected[key] });
      }
      for (const key of ['rows', 'invalid', 'valid', 'unique'] as const) {
        expect({ key, value: report[key] }).toEqual({ key, value: expected[key] });
      }
      for (const key of ['matched', 'opted_out_dropped', 'audience'] as const) {
        // A protected estimate: near the truth (the noise is clamped at ±100), inside its bounds.
        expect(Math.abs(report[key] - expected[key])).toBeLessThanOrEqual(100);
        expect(report[`${key}_lower`]).toBeLessThanOrEqual(report[key]);
        expect(report[`${key}_upper`]).toBeGreaterThanOrEqual(report[key]);
      }
      expect(readFileSync(outputPath(dir, 'audience'))).toEqual(
        readFileSync(join(SET, 'expected', `${name}.audience`)),
      );
    });
  }

  test('mx-tiny with the default --min-audience is suppressed: exit 3, no audience, counts withheld', () => {
    const dir = tempDir();
    const r = rollcall(
      matchArgs({
        index: join(SET, 'index.csv'),
        upload: join(SET, 'uploads', 'mx-tiny.csv'),
        dir,
        country: 'MX',
        outputs: ['report'],
        minAudience: null,
        threads: null,
      }),
    );
    expect(r.status).toBe(3);
    expect(existsSync(outputPath(dir, 'audience'))).toBe(false);
    const report = readJsonOutput(dir, 'report');
    expect(report.suppressed).toBe(true);
    expect(report.matched).toBeNull();
    expect(report.opted_out_dropped).toBeNull();
    expect(report.audience).toBeNull();
    expect(report.match_rate).toBeNull();
    expect(report.rows).toBe(30);
    expect(readdirSync(dir).sort()).toEqual(['report.json']);
  });

  test('a built index file gives the same audience and counts as the CSV source', () => {
    const dir = tempDir();
    const idx = join(dir, 'platform.idx');
    const build = rollcall(['index', 'build', join(SET, 'index.csv'), '-o', idx, '--quiet']);
    expect(build.stderr).toBe('');
    expect(build.status).toBe(0);
    const inspect = rollcall(['index', 'inspect', idx, '--json']);
    expect(inspect.status).toBe(0);
    expect(JSON.parse(inspect.stdout)).toMatchObject({ entries: 20_000, sound: true });
    for (const name of ['ke-shop', 'de-clinic']) {
      const expected = JSON.parse(readFileSync(join(SET, 'expected', `${name}.json`), 'utf8')) as Expected;
      const runDir = join(dir, name);
      mkdirSync(runDir);
      const r = rollcall(
        matchArgs({
          index: idx,
          upload: join(SET, 'uploads', `${name}.csv`),
          dir: runDir,
          country: expected.default_country,
          outputs: ['report', 'audit'],
        }),
      );
      expect(r.status).toBe(0);
      const report = readJsonOutput(runDir, 'report');
      const audit = readJsonOutput(runDir, 'audit');
      expect([audit.rows, audit.unique, audit.matched, audit.audience]).toEqual([
        expected.rows,
        expected.unique,
        expected.matched,
        expected.audience,
      ]);
      expect(report.index.source).toBe('file');
      expect(readFileSync(outputPath(runDir, 'audience'))).toEqual(
        readFileSync(join(SET, 'expected', `${name}.audience`)),
      );
    }
  });
});
