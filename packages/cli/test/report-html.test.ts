/**
 * `rollcall match --report-html`: one self-contained page, written atomically with the other
 * outputs, for a released and a suppressed match; never a phone number or a user id on it.
 * (The page in a real browser: packages/report/test/browser.test.ts.)
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { matchArgs, ROOT, rollcall, tempDir } from './helpers.js';

const SET = join(ROOT, 'fixtures/conformance');

/**
 * A match of a conformance upload (its name, or a path) against `index` (default the conformance
 * index CSV), its audience in `dir`, with `extra` the only other arguments.
 */
function match(
  dir: string,
  upload: string,
  country: string,
  extra: string[],
  index = join(SET, 'index.csv'),
) {
  const path = upload.includes('/') ? upload : join(SET, 'uploads', `${upload}.csv`);
  return rollcall(
    matchArgs({
      index,
      upload: path,
      dir,
      country,
      outputs: [],
      minAudience: null,
      threads: null,
      quiet: false,
      extra,
    }),
  );
}

describe('rollcall match --report-html', () => {
  test('a released match: the page beside the JSON report, and the summary says where', () => {
    const dir = tempDir();
    const html = join(dir, 'report.html');
    const r = match(dir, 'ke-shop', 'KE', [
      '--min-audience',
      '1',
      '--report',
      join(dir, 'report.json'),
      '--report-html',
      html,
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`HTML report written to ${html}`);
    expect(readdirSync(dir).sort()).toEqual(['audience.txt', 'report.html', 'report.json']);
    const page = readFileSync(html, 'utf8');
    expect(page.startsWith('<!doctype html>')).toBe(true);
    expect(page).toContain('data-value="released"');
    expect(page).toContain('<title>rollcall match report — ke-shop.csv</title>');
  });

  test('no phone number and no user id anywhere on the page', () => {
    const dir = tempDir();
    const html = join(dir, 'report.html');
    const r = match(dir, 'ke-shop', 'KE', ['--min-audience', '1', '--report-html', html, '--quiet']);
    expect(r.status).toBe(0);
    const page = readFileSync(html, 'utf8');
    // Raw values in data-value attributes are counts; everything else a person reads.
    const shown = page.replace(/ data-value="[^"]*"/g, '');
    expect(shown).not.toMatch(/\d{7,}/);
    const ids = readFileSync(join(dir, 'audience.txt'), 'utf8').trim().split('\n');
    expect(ids.length).toBeGreaterThan(0);
    // (Ids are random 64-bit values; a short one could occur in any text, and the check above covers it.)
    for (const id of ids.filter((i) => i.length >= 7)) expect(page).not.toContain(id);
    const numbers = readFileSync(join(SET, 'expected', 'ke-shop.truth.jsonl'), 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => (JSON.parse(line) as [string, string | null])[1])
      .filter((e164): e164 is string => e164 !== null);
    for (const e164 of numbers) expect(page).not.toContain(e164.slice(1));
  });

  test('a suppressed match still writes the page (exit 3), which withholds the counts', () => {
    const dir = tempDir();
    const html = join(dir, 'report.html');
    const r = match(dir, 'mx-tiny', 'MX', [
      '--report',
      join(dir, 'report.json'),
      '--report-html',
      html,
      '--quiet',
    ]);
    expect(r.status).toBe(3);
    expect(readdirSync(dir).sort()).toEqual(['report.html', 'report.json']);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(report.suppressed).toBe(true);
    for (const c of report.by_country) expect(c.matched).toBeNull();
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('data-value="suppressed"');
    expect(page).toContain('<strong>Suppressed.</strong>');
    expect(page).not.toContain('data-value="released"');
  });

  test('refuses a path that is also --report or --upload, before writing anything', () => {
    const dir = tempDir();
    const same = join(dir, 'report.out');
    const r = match(dir, 'mx-tiny', 'MX', ['--report', same, '--report-html', same]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--report-html');
    expect(readdirSync(dir)).toEqual([]);

    const upload = join(dir, 'upload.csv');
    writeFileSync(upload, readFileSync(join(SET, 'uploads', 'mx-tiny.csv')));
    const before = statSync(upload).mtimeMs;
    const u = match(dir, upload, 'MX', ['--report-html', upload]);
    expect(u.status).toBe(2);
    expect(u.stderr).toContain('--report-html');
    expect(readFileSync(upload)).toEqual(readFileSync(join(SET, 'uploads', 'mx-tiny.csv')));
    expect(statSync(upload).mtimeMs).toBe(before);
    expect(readdirSync(dir)).toEqual(['upload.csv']);
  });

  test('a match that fails leaves no page and no temporary file', () => {
    const dir = tempDir();
    const r = match(
      dir,
      'mx-tiny',
      'MX',
      ['--report-html', join(dir, 'report.html')],
      join(dir, 'missing.idx'),
    );
    expect(r.status).toBe(2);
    expect(readdirSync(dir)).toEqual([]);
  });

  test('an existing page is replaced whole, never left half-written', () => {
    const dir = tempDir();
    const html = join(dir, 'report.html');
    writeFileSync(html, 'old page');
    const r = match(dir, 'mx-tiny', 'MX', ['--min-audience', '1', '--report-html', html, '--quiet']);
    expect(r.status).toBe(0);
    const page = readFileSync(html, 'utf8');
    expect(page.startsWith('<!doctype html>')).toBe(true);
    expect(page.trimEnd().endsWith('</html>')).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(['audience.txt', 'report.html']);
  });
});
