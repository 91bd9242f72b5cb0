/** The page's text, without a browser: escaping, withholding, self-containment, every section's cases. */
import type { MatchReport } from '@rollcall/join';
import { describe, expect, test } from 'vitest';
import { escapeHtml, html } from '../src/html.js';
import { REASON_DESCRIPTIONS, renderReportHtml } from '../src/index.js';

/** A released report, as buildReport makes them; tests change what they need. */
function sampleReport(overrides: Partial<MatchReport> = {}): MatchReport {
  return {
    rows: 3000,
    invalid: 258,
    valid: 2742,
    unique: 1940,
    matched: 1010,
    opted_out_dropped: 245,
    audience: 765,
    invalid_by_reason: {
      EMPTY: 33,
      NOT_A_NUMBER: 137,
      TOO_SHORT: 26,
      TOO_LONG: 16,
      INVALID_COUNTRY: 14,
      INVALID_NUMBER: 32,
      NOT_A_HASH: 0,
      MALFORMED_ROW: 0,
      OVER_15_DIGITS: 0,
      MISSING_PLUS: 0,
    },
    match_rate: 0.520619,
    suppressed: false,
    suppression_reason: null,
    min_audience: 1,
    default_country: 'KE',
    hashed: null,
    upload: { file: '/data/ke-shop.csv', phone_column: 'Phone Number', encoding: 'utf-8', delimiter: ',' },
    index: {
      entries: 20000,
      built_at: '2025-11-22T02:56:17.000Z',
      metadata_version: '1.13.16',
      source: 'csv',
    },
    phone_metadata: { library: 'libphonenumber-js', version: '1.13.16', metadata: 'max' },
    threads: 2,
    timings_ms: { index_load: 1033.2, join: 1453.8, finalize: 26.3, total: 1531.8 },
    rows_per_second: 2064,
    rollcall_version: '0.1.0',
    by_country: [
      { country: 'KE', calling_code: '254', unique: 1500, matched: 900 },
      { country: 'GB', calling_code: '44', unique: 400, matched: 100 },
      { country: '001', calling_code: '800', unique: 30, matched: 10 },
      { country: null, calling_code: '7', unique: 10, matched: 0 },
    ],
    reject_examples: {
      NOT_A_NUMBER: [
        { line: 12, cell: '#REF!' },
        { line: 29, cell: '=cmd|•••••A0' },
      ],
      TOO_LONG: [{ line: 80, cell: '12345•••••12' }],
    },
    ...overrides,
  };
}

/** The page's visible text, roughly: tags dropped, entities left as they are. */
function textOf(page: string): string {
  return page
    .replace(/<style>[\s\S]*?<\/style>/, '')
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ');
}

describe('html``', () => {
  test('escapes every interpolation, and nests fragments as they are', () => {
    const inner = html`<b>${'<i>'}</b>`;
    expect(html`<p title="${'" onmouseover="x'}">${inner}${['&', null, false, 1]}</p>`.value).toBe(
      '<p title="&quot; onmouseover=&quot;x"><b>&lt;i&gt;</b>&amp;1</p>',
    );
    expect(escapeHtml(`<>&"'`)).toBe('&lt;&gt;&amp;&quot;&#39;');
  });
});

describe('renderReportHtml', () => {
  test('is one self-contained page: no script, no link, nothing fetched, a CSP that forbids it', () => {
    const page = renderReportHtml(sampleReport());
    expect(page.startsWith('<!doctype html>')).toBe(true);
    expect(page).toContain(
      `http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"`,
    );
    for (const forbidden of [
      /<script/i,
      /<link/i,
      /<img/i,
      /<iframe/i,
      /\ssrc=/i,
      /\shref=/i,
      /url\(/i,
      /@import/i,
      /@font-face/i,
      /https?:\/\//i,
    ]) {
      expect(page).not.toMatch(forbidden);
    }
  });

  test('text from the upload is escaped: a file name, a header, a cell can never be markup', () => {
    const page = renderReportHtml(
      sampleReport({
        upload: {
          file: '/tmp/<script>alert(1)</script>.csv',
          phone_column: '"><img src=x onerror=alert(1)>',
          encoding: 'utf-8',
          delimiter: ';',
        },
        reject_examples: { NOT_A_NUMBER: [{ line: 2, cell: '<b onclick="x">' }] },
      }),
    );
    expect(page).not.toMatch(/<script/i);
    expect(page).not.toMatch(/<img/i);
    expect(page).not.toContain('<b onclick');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;.csv');
    expect(page).toContain('&lt;b onclick=&quot;x&quot;&gt;');
  });

  test('never shows a whole number, even from a hand-made report that holds one', () => {
    const page = renderReportHtml(
      sampleReport({
        upload: { file: null, phone_column: '+447400123456', encoding: null, delimiter: null },
        reject_examples: {
          INVALID_NUMBER: [{ line: 7, cell: '+263712345637' }],
          TOO_LONG: [{ line: 8, cell: "=cmd|' /C calc'!A0 +254712345678" }],
        },
      }),
    );
    expect(page).not.toContain('447400123456');
    expect(page).not.toContain('263712345637');
    expect(page).not.toContain('254712345678');
    expect(page).toContain('+2637•••••37');
    expect(page).toContain('+4474•••••56');
  });

  test('a suppressed report shows none of the withheld counts, whatever the object holds', () => {
    // A report made by hand (or by a bug) that is suppressed yet still carries the counts.
    const page = renderReportHtml(
      sampleReport({
        suppressed: true,
        suppression_reason: 'the audience is smaller than the minimum of 100',
        min_audience: 100,
        matched: 987_654,
        opted_out_dropped: 876_543,
        audience: 765_432,
        match_rate: 0.654321,
        by_country: [{ country: 'KE', calling_code: '254', unique: 1940, matched: 543_210 }],
      }),
    );
    const text = textOf(page);
    for (const secret of [
      '987,654',
      '987654',
      '876,543',
      '876543',
      '765,432',
      '765432',
      '543,210',
      '543210',
      '65.4%',
    ]) {
      expect(page).not.toContain(secret);
    }
    expect(text).toContain('Suppressed.');
    expect(text).toContain('The audience is smaller than the minimum of 100.');
    expect(page).toContain('data-value="suppressed"');
    // Six withheld figures in the summary and funnel (matched, rate, audience; matched, dropped,
    // audience), and matched and rate in the one country row.
    expect(page.match(/data-value="withheld"/g)?.length).toBe(3 + 3 + 2);
  });

  test('the funnel and the reasons carry their counts and shares', () => {
    const page = renderReportHtml(sampleReport());
    expect(page).toContain('data-field="rows" data-value="3000">3,000<');
    expect(page).toContain('data-field="matched_share" data-value="52.1%"');
    expect(page).toContain('data-field="opted_out_share" data-value="24.3%"');
    // Reasons with rows, largest first; the others named once.
    const order = [...page.matchAll(/data-reason="([A-Z_]+)"/g)].map((m) => m[1]);
    expect(order).toEqual([
      'NOT_A_NUMBER',
      'EMPTY',
      'INVALID_NUMBER',
      'TOO_SHORT',
      'TOO_LONG',
      'INVALID_COUNTRY',
    ]);
    expect(textOf(page)).toContain('No row was NOT_A_HASH , MALFORMED_ROW , OVER_15_DIGITS , MISSING_PLUS .');
    for (const reason of order) expect(page).toContain(escapeHtml(REASON_DESCRIPTIONS[reason as 'EMPTY']));
    expect(page).toContain('line 29</span><code class="example-cell">=cmd|•••••A0</code>');
  });

  test('countries: names, calling codes, rates; a non-geographic code and an undetermined region', () => {
    const text = textOf(renderReportHtml(sampleReport()));
    expect(text).toContain('Kenya KE · +254 1,500 900 60.0%');
    expect(text).toContain('United Kingdom GB · +44 400 100 25.0%');
    expect(text).toContain('International (non-geographic) +800 30 10 33.3%');
    expect(text).toContain('Region not determined +7 10 0 0.0%');
  });

  test('more than 20 countries: the rest fold away under a summary', () => {
    const by_country = Array.from({ length: 23 }, (_, i) => ({
      country: 'KE',
      calling_code: '254',
      unique: 100 - i,
      matched: 1,
    }));
    const page = renderReportHtml(sampleReport({ by_country }));
    expect(page).toContain('<summary>3 more countries</summary>');
    expect(page.match(/<tr data-country=/g)?.length).toBe(23);
  });

  test.each([
    [null, 'Not known for hashed uploads'],
    [undefined, 'has no per-country counts'],
    [[], 'No valid numbers.'],
  ] as const)('by_country %j: says why there is no table', (byCountry, says) => {
    const page = renderReportHtml(sampleReport({ by_country: byCountry as MatchReport['by_country'] }));
    expect(page).toContain(says);
    expect(page).not.toContain('<table');
  });

  test('a report without rejects or examples still reads', () => {
    const page = renderReportHtml(
      sampleReport({
        invalid: 0,
        valid: 3000,
        invalid_by_reason: {
          EMPTY: 0,
          NOT_A_NUMBER: 0,
          TOO_SHORT: 0,
          TOO_LONG: 0,
          INVALID_COUNTRY: 0,
          INVALID_NUMBER: 0,
          NOT_A_HASH: 0,
          MALFORMED_ROW: 0,
          OVER_15_DIGITS: 0,
          MISSING_PLUS: 0,
        },
        reject_examples: undefined,
      }),
    );
    expect(textOf(page)).toContain('No row was rejected.');
    expect(page).not.toContain('data-reason=');
  });

  test('the run: every stage and its time, the index, the throughput', () => {
    const text = textOf(renderReportHtml(sampleReport()));
    expect(text).toContain('20,000 entries, from a CSV source, built in memory');
    expect(text).toContain('2025-11-22 02:56:17 UTC');
    expect(text).toContain('libphonenumber-js 1.13.16');
    expect(text).toContain('Index load 1.03 s');
    expect(text).toContain('Join (read, normalise, probe) 1.45 s');
    expect(text).toContain('Finalize (count, sort) 26.3 ms');
    expect(text).toContain('Other (open upload, report) 51.7 ms');
    expect(text).toContain('2,064 rows/s during the join');
    expect(text).toContain('utf-8, comma (,)');
  });
});
