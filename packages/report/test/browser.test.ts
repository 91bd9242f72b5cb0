/**
 * The HTML report as a person sees it: the real CLI writes it for the conformance set, headless
 * Chromium (Debian's `chromium`, driven by playwright-core) opens it, and the numbers on the page
 * are read back and compared with the JSON report of the same run. Screenshots at a desktop and a
 * phone width go to `test-output/` (gitignored) for a person to look at.
 */
// biome-ignore-all lint/performance/useDomNodeTextContent: the rendered text is what a person reads, so it is what is checked
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { MatchReport } from '@rollcall/join';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ROOT, rollcall, tempDir } from '../../cli/test/helpers.js';

/** The little of the DOM the checks below use in the page (this repository's TypeScript has no DOM library). */
interface PageElement {
  tagName: string;
  innerText: string;
  getAttribute(name: string): string | null;
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
  getBoundingClientRect(): { right: number };
}
interface PageGlobal {
  innerWidth: number;
  document: PageElement & { documentElement: { scrollWidth: number } };
}

const CHROMIUM = '/usr/bin/chromium';
const SKIP = existsSync(CHROMIUM)
  ? undefined
  : `${CHROMIUM} is absent; install it with: apt-get update && apt-get install -y chromium`;
if (SKIP !== undefined) console.warn(`report browser test skipped: ${SKIP}`);

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const SET = join(ROOT, 'fixtures/conformance');
const SHOTS = join(ROOT, 'test-output');
const WIDTHS = [1280, 390] as const;

interface Case {
  name: string;
  html: string;
  report: MatchReport;
}

/** Runs the real CLI on a conformance upload; returns the page and the JSON report it wrote. */
function runCase(upload: string, country: string, extra: string[], label: string, status: number): Case {
  const dir = tempDir('rollcall-report-');
  const html = join(dir, 'report.html');
  const json = join(dir, 'report.json');
  const r = rollcall([
    'match',
    '--index',
    join(SET, 'index.csv'),
    '--upload',
    join(SET, 'uploads', `${upload}.csv`),
    '--country',
    country,
    '--out',
    join(dir, 'audience.txt'),
    '--report',
    json,
    '--report-html',
    html,
    '--quiet',
    ...extra,
  ]);
  expect({ status: r.status, stderr: status === 0 ? r.stderr : '' }).toEqual({ status, stderr: '' });
  return { name: label, html, report: JSON.parse(readFileSync(json, 'utf8')) as MatchReport };
}

/** A count as the page writes it, read back: `1,940` → 1940. */
function count(text: string): number {
  expect(text).toMatch(/^\d{1,3}(,\d{3})*$/);
  return Number(text.replace(/,/g, ''));
}

/** A rate as the page writes it, read back: `52.1%` → 0.521. */
function rate(text: string): number {
  expect(text).toMatch(/^\d{1,3}\.\d%$/);
  return Number.parseFloat(text) / 100;
}

async function field(page: Page, scope: string, name: string): Promise<string> {
  return (await page.locator(`${scope} [data-field="${name}"]`).first().innerText()).trim();
}

describe.skipIf(SKIP !== undefined)('the HTML report in headless Chromium', () => {
  let browser: Browser;
  let released: Case;
  let suppressed: Case;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    released = runCase('ke-shop', 'KE', ['--min-audience', '1'], 'ke-shop', 0);
    suppressed = runCase('mx-tiny', 'MX', [], 'mx-tiny-suppressed', 3);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  });

  afterAll(async () => {
    await browser?.close();
  });

  /** Opens a page with every request recorded and anything but the page itself refused. */
  async function open(
    c: Case,
    width: number,
  ): Promise<{ page: Page; context: BrowserContext; requests: string[] }> {
    const context = await browser.newContext({ viewport: { width, height: 900 } });
    const requests: string[] = [];
    const url = pathToFileURL(c.html).href;
    context.on('request', (request) => requests.push(request.url()));
    await context.route('**/*', (route) =>
      route.request().url() === url ? route.continue() : route.abort(),
    );
    const page = await context.newPage();
    await page.goto(url, { waitUntil: 'networkidle' });
    return { page, context, requests };
  }

  test('the request recorder sees a page that does load something (control)', async () => {
    const context = await browser.newContext();
    const requests: string[] = [];
    context.on('request', (request) => requests.push(request.url()));
    await context.route('**/*', (route) => route.abort());
    const page = await context.newPage();
    const seen = page.waitForEvent('request');
    await page.setContent('<img src="http://example.invalid/pixel.png">');
    await seen;
    expect(requests).toEqual(['http://example.invalid/pixel.png']);
    await context.close();
  });

  for (const width of WIDTHS) {
    test(`ke-shop at ${width} px: nothing but the page is requested, nothing overflows; screenshot`, async () => {
      const { page, context, requests } = await open(released, width);
      expect(requests).toEqual([pathToFileURL(released.html).href]);
      const layout = await page.evaluate(() => {
        const w = globalThis as unknown as PageGlobal;
        return {
          scrollWidth: w.document.documentElement.scrollWidth,
          viewport: w.innerWidth,
          // Anything drawn beyond the right edge (text, a bar, a table cell).
          overflowing: Array.from(w.document.querySelectorAll('main *'))
            .filter((el) => el.getBoundingClientRect().right > w.innerWidth + 0.5)
            .map((el) => el.tagName),
        };
      });
      expect(layout.scrollWidth).toBeLessThanOrEqual(layout.viewport);
      expect(layout.overflowing).toEqual([]);
      await page.screenshot({ path: join(SHOTS, `report-${released.name}-${width}.png`), fullPage: true });
      await context.close();
    });

    test(`mx-tiny (suppressed) at ${width} px: nothing but the page is requested, nothing overflows; screenshot`, async () => {
      const { page, context, requests } = await open(suppressed, width);
      expect(requests).toEqual([pathToFileURL(suppressed.html).href]);
      const scrollWidth = await page.evaluate(
        () => (globalThis as unknown as PageGlobal).document.documentElement.scrollWidth,
      );
      expect(scrollWidth).toBeLessThanOrEqual(width);
      await page.screenshot({ path: join(SHOTS, `report-${suppressed.name}-${width}.png`), fullPage: true });
      await context.close();
    });
  }

  test('ke-shop: every number on the page equals the JSON report', async () => {
    const { page, context } = await open(released, 1280);
    const r = released.report;
    expect(await page.locator('[data-field="status"]').getAttribute('data-value')).toBe('released');

    // The key figures and the funnel.
    for (const scope of ['#summary', '#funnel']) {
      expect(count(await field(page, scope, 'rows'))).toBe(r.rows);
      expect(count(await field(page, scope, 'valid'))).toBe(r.valid);
      expect(count(await field(page, scope, 'unique'))).toBe(r.unique);
      expect(count(await field(page, scope, 'matched'))).toBe(r.matched);
      expect(count(await field(page, scope, 'audience'))).toBe(r.audience);
    }
    expect(count(await field(page, '#funnel', 'opted_out_dropped'))).toBe(r.opted_out_dropped);
    expect(rate(await field(page, '#summary', 'match_rate'))).toBeCloseTo(r.match_rate!, 3);
    expect(rate(await field(page, '#funnel', 'valid_share'))).toBeCloseTo(r.valid / r.rows, 3);
    expect(rate(await field(page, '#funnel', 'unique_share'))).toBeCloseTo(r.unique / r.valid, 3);
    expect(rate(await field(page, '#funnel', 'matched_share'))).toBeCloseTo(r.matched! / r.unique, 3);
    expect(rate(await field(page, '#funnel', 'opted_out_share'))).toBeCloseTo(
      r.opted_out_dropped! / r.matched!,
      3,
    );

    // Reject reasons: one bar for each reason that has rows, with its examples.
    expect(count(await field(page, '#rejects', 'invalid'))).toBe(r.invalid);
    const shownReasons = await page
      .locator('#rejects [data-reason]')
      .evaluateAll((els) => els.map((el) => el.getAttribute('data-reason')));
    const withRows = Object.entries(r.invalid_by_reason).filter(([, n]) => n > 0);
    expect([...shownReasons].sort()).toEqual(withRows.map(([reason]) => reason).sort());
    for (const [reason, n] of withRows) {
      const item = page.locator(`#rejects [data-reason="${reason}"]`);
      expect(count((await item.locator('[data-field="count"]').innerText()).trim())).toBe(n);
      const examples = await item.locator('[data-field="example"]').allInnerTexts();
      const expected = r.reject_examples?.[reason as 'TOO_SHORT'] ?? [];
      expect(examples.length).toBe(expected.length);
      expected.forEach((e, i) => {
        expect(examples[i]).toContain(`line ${e.line.toLocaleString('en-US')}`);
        expect(examples[i]).toContain(e.cell);
      });
    }

    // Countries, in the report's order, with their match rates.
    const rows = await page.locator('#countries tbody tr').evaluateAll((trs) =>
      trs.map((tr) => ({
        country: tr.getAttribute('data-country'),
        callingCode: tr.getAttribute('data-calling-code'),
        unique: (tr.querySelector('[data-field="unique"]') as PageElement).innerText.trim(),
        matched: (tr.querySelector('[data-field="matched"]') as PageElement).innerText.trim(),
        rate: (tr.querySelector('[data-field="match_rate"]') as PageElement).innerText.trim(),
      })),
    );
    expect(rows.length).toBe(r.by_country!.length);
    r.by_country!.forEach((c, i) => {
      const row = rows[i]!;
      expect({ country: row.country, callingCode: row.callingCode }).toEqual({
        country: c.country,
        callingCode: c.calling_code,
      });
      expect(count(row.unique)).toBe(c.unique);
      expect(count(row.matched)).toBe(c.matched);
      expect(rate(row.rate)).toBeCloseTo(c.matched! / c.unique, 3);
    });

    // The run.
    expect(count(await field(page, '#run', 'index_entries'))).toBe(r.index.entries);
    expect(await page.locator('[data-field="index_built_at"]').getAttribute('datetime')).toBe(
      r.index.built_at,
    );
    expect(await field(page, '#run', 'index_metadata_version')).toContain(r.index.metadata_version);
    expect(count(await field(page, '#run', 'threads'))).toBe(r.threads);
    expect(count(await field(page, '#run', 'rows_per_second'))).toBe(r.rows_per_second);
    for (const stage of ['index_load', 'join', 'finalize'] as const) {
      const shown = await page.locator(`[data-field="${stage}_ms"]`).getAttribute('data-value');
      expect(Number(shown)).toBe(r.timings_ms[stage]);
    }
    await context.close();
  });

  test('mx-tiny: says it was suppressed and why, and shows none of the withheld counts', async () => {
    const { page, context } = await open(suppressed, 1280);
    const r = suppressed.report;
    expect(r.suppressed).toBe(true);
    const status = page.locator('[data-field="status"]');
    expect(await status.getAttribute('data-value')).toBe('suppressed');
    const statusText = await status.innerText();
    expect(statusText).toContain('Suppressed');
    expect(statusText).toContain(`minimum of ${r.min_audience}`);

    // Upload-only counts stay; every count the report withholds reads "withheld".
    expect(count(await field(page, '#summary', 'rows'))).toBe(r.rows);
    expect(count(await field(page, '#summary', 'unique'))).toBe(r.unique);
    for (const name of ['matched', 'audience', 'match_rate']) {
      expect(await field(page, '#summary', name)).toBe('withheld');
    }
    for (const name of ['matched', 'opted_out_dropped', 'audience']) {
      expect(await field(page, '#funnel', name)).toBe('withheld');
    }
    const countries = await page.locator('#countries tbody tr').evaluateAll((trs) =>
      trs.map((tr) => ({
        unique: (tr.querySelector('[data-field="unique"]') as PageElement).innerText.trim(),
        matched: (tr.querySelector('[data-field="matched"]') as PageElement).innerText.trim(),
        rate: (tr.querySelector('[data-field="match_rate"]') as PageElement).innerText.trim(),
      })),
    );
    expect(countries.length).toBe(r.by_country!.length);
    expect(countries.map((c) => count(c.unique))).toEqual(r.by_country!.map((c) => c.unique));
    for (const c of countries) expect([c.matched, c.rate]).toEqual(['withheld', 'withheld']);
    // No withheld bar is drawn to scale: the placeholder is the same for every withheld step.
    const bars = await page
      .locator('#funnel .bar-withheld rect')
      .evaluateAll((rects) => rects.map((rect) => rect.getAttribute('width')));
    expect(bars.length).toBe(3);
    expect(new Set(bars).size).toBe(1);

    // What the page says at all must not tell the withheld counts: with --min-audience 1, mx-tiny
    // matches 13 numbers, drops 5 and releases 8 people; the page never says "13 matched" etc.
    const expected = JSON.parse(readFileSync(join(SET, 'expected', 'mx-tiny.json'), 'utf8')) as {
      matched: number;
    };
    const text = await page.locator('#summary, #funnel, #countries').allInnerTexts();
    expect(text.join('\n')).not.toMatch(new RegExp(`\\b${expected.matched}\\b`));
    await context.close();
  });
});
