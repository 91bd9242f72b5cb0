import { basename } from 'node:path';
import { type CountryCount, exampleCell, type MatchReport, type RejectExample } from '@rollcall/join';
import { REJECT_REASONS, type RejectReason, redactIfNumeric } from '@rollcall/phone';
import { delimiterName, formatCount, formatMs, formatPercent, formatRate, regionName } from './format.js';
import { html, type SafeHtml } from './html.js';
import { PAGE_CSS } from './style.js';

/** What each reject reason means, in words a person who made the upload understands. */
export const REASON_DESCRIPTIONS: Readonly<Record<RejectReason, string>> = {
  EMPTY: 'The phone cell is blank.',
  NOT_A_NUMBER: 'Text that is not a phone number: words, formulas, symbols.',
  TOO_SHORT: 'Fewer digits than any number of its country.',
  TOO_LONG: 'More digits than any number of its country.',
  INVALID_COUNTRY: 'An international number whose country calling code does not exist.',
  INVALID_NUMBER: 'A possible length, but not a real number range of its country.',
  NOT_A_HASH: 'Not a SHA-256 hex digest (hashed uploads).',
  MALFORMED_ROW: 'The row has a different number of columns than the header.',
  OVER_15_DIGITS:
    'A number valid in its country but longer than the 15 digits of E.164, which the platform holds; it cannot be on the platform.',
  MISSING_PLUS:
    'Digits that read as a number only with a country code in front and no +; refused because the upload was matched in strict mode.',
};

// Countries shown before the rest fold into "more countries".
const COUNTRIES_SHOWN = 20;
// Bars are drawn in a 1000-unit-wide viewBox stretched to the column; a count above zero is
// never drawn thinner than this, so it does not vanish next to a large one.
const BAR_UNITS = 1000;
const MIN_BAR_UNITS = 3;

/**
 * The match report as one self-contained HTML page: funnel, reject reasons with redacted
 * examples, countries with their match rates, and the run. It loads nothing (no script, font or
 * image; a Content-Security-Policy forbids it) and, for a suppressed match, shows none of the
 * withheld counts — whatever the report object holds. Returns the page's text.
 */
export function renderReportHtml(report: MatchReport): string {
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="referrer" content="no-referrer">
<meta name="generator" content="rollcall ${report.rollcall_version}">
<title>rollcall match report — ${uploadName(report)}</title>
<style>${PAGE_CSS}</style>
</head>
<body>
<main>
${header(report)}
${summary(report)}
${funnel(report)}
${rejects(report)}
${countries(report)}
${run(report)}
<footer>
<p>Made by rollcall ${report.rollcall_version} from the match report. Phone numbers on this page are redacted
(<code>+2637•••••37</code>). This page loads nothing from anywhere: no scripts, fonts or images.</p>
</footer>
</main>
</body>
</html>
`;
  return page.value;
}

/** The counts a suppressed report withholds, read so that no view of this page can show them. */
interface Released {
  matched: number | null;
  optedOutDropped: number | null;
  audience: number | null;
  matchRate: number | null;
}

function released(report: MatchReport): Released {
  // Defence in depth: a suppressed report should already hold nulls; the page never relies on it.
  if (report.suppressed) return { matched: null, optedOutDropped: null, audience: null, matchRate: null };
  return {
    matched: report.matched,
    optedOutDropped: report.opted_out_dropped,
    audience: report.audience,
    matchRate: report.match_rate,
  };
}

function uploadName(report: MatchReport): string {
  return report.upload.file !== null ? basename(report.upload.file) : 'uploaded cells';
}

function header(report: MatchReport): SafeHtml {
  const status = report.suppressed
    ? html`<div class="status status-suppressed" data-field="status" data-value="suppressed">
<strong>Suppressed.</strong> ${sentence(report.suppression_reason ?? 'the audience is below the minimum')}
No audience file was written. Withheld on this page: matched numbers, opted-out numbers dropped, the
audience, the match rate, and matched numbers by country.</div>`
    : html`<div class="status status-released" data-field="status" data-value="released">
<strong>Released.</strong> The audience of about ${formatCount(report.audience ?? 0)} users is at least the minimum of
${formatCount(report.min_audience)}, so it was written. Counts marked ≈ depend on the platform and are
protected estimates: the true value lies within the bounds shown with 95% probability.</div>`;
  return html`<header>
<p class="eyebrow">rollcall match report</p>
<h1>${uploadName(report)}</h1>
<p class="sub">Default country <strong data-field="default_country">${report.default_country ?? 'none (each row gives its own)'}</strong>
· minimum audience <strong data-field="min_audience">${formatCount(report.min_audience)}</strong>
${report.hashed !== null ? html`· hashed upload (<strong>${report.hashed}</strong> convention)` : ''}</p>
${status}
</header>`;
}

function sentence(text: string): string {
  const t = text.trim();
  return `${t.charAt(0).toUpperCase()}${t.slice(1)}${/[.!?]$/.test(t) ? '' : '.'}`;
}

/** A number with its field name and raw value, for people and for tests reading the page back. */
function num(field: string, value: number | null): SafeHtml {
  if (value === null)
    return html`<span class="withheld" data-field="${field}" data-value="withheld">withheld</span>`;
  return html`<span data-field="${field}" data-value="${String(value)}">${formatCount(value)}</span>`;
}

/**
 * A protected estimate: `≈ 842 (827–857)`. The value keeps its field name (as `num`); the bounds
 * are `<field>_lower` / `<field>_upper`.
 */
function est(field: string, value: number | null, lower?: number | null, upper?: number | null): SafeHtml {
  if (value === null) return num(field, null);
  const bounds =
    lower != null && upper != null
      ? html` <span class="bounds">(<span data-field="${field}_lower" data-value="${String(lower)}">${formatCount(lower)}</span>–<span data-field="${field}_upper" data-value="${String(upper)}">${formatCount(upper)}</span>)</span>`
      : html``;
  return html`≈ ${num(field, value)}${bounds}`;
}

function rate(field: string, value: number | null, withheld: boolean): SafeHtml {
  if (withheld)
    return html`<span class="withheld" data-field="${field}" data-value="withheld">withheld</span>`;
  if (value === null) return html`<span data-field="${field}" data-value="none">—</span>`;
  return html`<span data-field="${field}" data-value="${String(value)}">${formatRate(value)}</span>`;
}

function summary(report: MatchReport): SafeHtml {
  const r = released(report);
  const card = (label: string, value: SafeHtml, note: string): SafeHtml =>
    html`<div class="card"><p class="card-label">${label}</p><p class="card-value">${value}</p><p class="card-note">${note}</p></div>`;
  return html`<section id="summary" aria-label="Key figures">
<div class="cards">
${card('Rows', num('rows', report.rows), 'data rows read')}
${card('Valid', num('valid', report.valid), `${formatPercent(report.valid, report.rows)} of rows`)}
${card('Unique numbers', num('unique', report.unique), report.hashed !== null ? 'distinct digests' : 'distinct valid numbers')}
${card('Matched', est('matched', r.matched, report.matched_lower, report.matched_upper), 'numbers found on the platform (estimate)')}
${card('Match rate', rate('match_rate', r.matchRate, report.suppressed), 'matched ÷ unique')}
${card('Audience', est('audience', r.audience, report.audience_lower, report.audience_upper), 'people (distinct user ids; estimate)')}
</div>
</section>`;
}

/** A horizontal bar, centred so that the steps read as a funnel; `null` draws the withheld placeholder. */
function bar(value: number | null, whole: number, kind: string, centred = true): SafeHtml {
  if (value === null) {
    // A fixed, full-width hatched outline: its size says nothing about the withheld count.
    return html`<svg class="bar bar-withheld" viewBox="0 0 ${BAR_UNITS} 24" preserveAspectRatio="none" aria-hidden="true"><rect x="1" y="1" width="${BAR_UNITS - 2}" height="22" /></svg>`;
  }
  const units = whole > 0 ? Math.max(value > 0 ? MIN_BAR_UNITS : 0, (BAR_UNITS * value) / whole) : 0;
  const x = centred ? (BAR_UNITS - units) / 2 : 0;
  return html`<svg class="bar bar-${kind}" viewBox="0 0 ${BAR_UNITS} 24" preserveAspectRatio="none" aria-hidden="true"><rect class="track" x="0" y="0" width="${BAR_UNITS}" height="24" /><rect class="fill" x="${x.toFixed(1)}" y="0" width="${units.toFixed(1)}" height="24" /></svg>`;
}

function funnel(report: MatchReport): SafeHtml {
  const r = released(report);
  const unit = report.hashed !== null ? 'digests' : 'numbers';
  const step = (
    field: string,
    label: string,
    value: number | null,
    share: SafeHtml | string,
    note: SafeHtml | string,
    kind: 'flow' | 'drop' | 'people',
  ): SafeHtml => html`<li class="step step-${kind}">
<div class="step-head"><span class="step-label">${label}</span>${num(field, value)}<span class="step-share">${share}</span></div>
${bar(value, report.rows, kind)}
<p class="step-note">${note}</p>
</li>`;
  const shareOf = (field: string, part: number | null, whole: number | null, of: string): SafeHtml =>
    part === null || whole === null
      ? html`<span class="withheld">withheld</span>`
      : html`<span data-field="${field}" data-value="${formatPercent(part, whole)}">${formatPercent(part, whole)}</span> of ${of}`;
  return html`<section id="funnel">
<h2>From rows to audience</h2>
<ol class="funnel">
${step('rows', 'Rows read', report.rows, 'all data rows', 'The header and blank lines are not rows.', 'flow')}
${step('valid', 'Valid', report.valid, shareOf('valid_share', report.valid, report.rows, 'rows'), html`${formatCount(report.invalid)} rejected — see why below.`, 'flow')}
${step('unique', `Unique ${unit}`, report.unique, shareOf('unique_share', report.unique, report.valid, 'valid'), `${formatCount(report.valid - report.unique)} repeats of a ${unit === 'numbers' ? 'number' : 'digest'} already counted.`, 'flow')}
${step('matched', 'Matched', r.matched, shareOf('matched_share', r.matched, report.unique, 'unique — the match rate'), 'Found in the platform’s index.', 'flow')}
${step('opted_out_dropped', 'Opted out, dropped', r.optedOutDropped, shareOf('opted_out_share', r.optedOutDropped, r.matched, 'matched'), 'Matched numbers whose user opted out: never in an audience.', 'drop')}
${step('audience', 'Audience', r.audience, 'people', 'Distinct user ids: a person matched under two numbers counts once; one who opted out under any number is dropped.', 'people')}
</ol>
</section>`;
}

function rejects(report: MatchReport): SafeHtml {
  const present = REJECT_REASONS.filter((reason) => (report.invalid_by_reason[reason] ?? 0) > 0).sort(
    (a, b) => report.invalid_by_reason[b] - report.invalid_by_reason[a],
  );
  const absent = REJECT_REASONS.filter((reason) => (report.invalid_by_reason[reason] ?? 0) === 0);
  const largest = present.length > 0 ? report.invalid_by_reason[present[0]!] : 0;
  const items = present.map((reason) => {
    const count = report.invalid_by_reason[reason];
    const examples = report.reject_examples?.[reason] ?? [];
    return html`<li class="reason" data-reason="${reason}">
<div class="reason-head"><code class="reason-code">${reason}</code>${num('count', count)}<span class="reason-share">${formatPercent(count, report.rows)} of rows</span></div>
<p class="reason-desc">${REASON_DESCRIPTIONS[reason]}</p>
${bar(count, largest, 'reject', false)}
${examples.length > 0 ? html`<ul class="examples" aria-label="examples">${examples.map(example)}</ul>` : ''}
</li>`;
  });
  return html`<section id="rejects">
<h2>Why rows were rejected</h2>
<p class="lead">${
    report.invalid === 0
      ? 'No row was rejected.'
      : html`<span data-field="invalid" data-value="${String(report.invalid)}">${formatCount(report.invalid)}</span> of ${formatCount(report.rows)} rows (${formatPercent(report.invalid, report.rows)}) were rejected. Examples are the first rows of each reason, with anything that could be a number masked (<code>•••••</code>); ask for <code>--rejects</code> to get every rejected row.`
  }</p>
${items.length > 0 ? html`<ol class="reasons">${items}</ol>` : ''}
${present.length > 0 && absent.length > 0 ? html`<p class="muted">No row was ${absent.map((reason, i) => html`${i > 0 ? ', ' : ''}<code>${reason}</code>`)}.</p>` : ''}
</section>`;
}

function example(e: RejectExample): SafeHtml {
  // The report holds shown cells already; showing again is a no-op for them and keeps a hand-made
  // report from ever putting a whole number on the page.
  return html`<li data-field="example"><span class="example-line">line ${formatCount(e.line)}</span><code class="example-cell">${exampleCell(e.cell)}</code></li>`;
}

function countries(report: MatchReport): SafeHtml {
  const list = report.by_country;
  let body: SafeHtml;
  if (list === null) {
    body = html`<p class="muted">Not known for hashed uploads: a digest that did not match has no known number, so no country.</p>`;
  } else if (list === undefined) {
    body = html`<p class="muted">This report has no per-country counts (it was made by an older rollcall).</p>`;
  } else if (list.length === 0) {
    body = html`<p class="muted">No valid numbers.</p>`;
  } else {
    const largest = list[0]!.unique;
    const shown = list.slice(0, COUNTRIES_SHOWN);
    const rest = list.slice(COUNTRIES_SHOWN);
    const table = (rows: readonly CountryCount[]): SafeHtml => html`<table class="countries">
<thead><tr><th scope="col">Country</th><th scope="col" class="bar-col">Numbers and matched</th><th scope="col" class="num">Numbers</th><th scope="col" class="num">Matched</th><th scope="col" class="num">Match rate</th></tr></thead>
<tbody>${rows.map((c) => countryRow(c, largest, report.suppressed))}</tbody>
</table>`;
    body = html`<p class="lead">${formatCount(report.unique)} distinct valid numbers from ${formatCount(list.length)} ${list.length === 1 ? 'country' : 'countries'}, each by the region of its number (libphonenumber-js), largest first.${report.suppressed ? ' Matched counts are withheld because the match was suppressed.' : ''}</p>
${table(shown)}
${rest.length > 0 ? html`<details><summary>${formatCount(rest.length)} more ${rest.length === 1 ? 'country' : 'countries'}</summary>${table(rest)}</details>` : ''}
<p class="legend"><span class="swatch swatch-unique"></span>numbers${report.suppressed ? '' : html` <span class="swatch swatch-matched"></span>matched`}</p>`;
  }
  return html`<section id="countries">
<h2>Where the valid numbers are from</h2>
${body}
</section>`;
}

function countryRow(c: CountryCount, largest: number, suppressed: boolean): SafeHtml {
  const matched = suppressed ? null : c.matched;
  const width = largest > 0 ? Math.max(MIN_BAR_UNITS, (BAR_UNITS * c.unique) / largest) : 0;
  const matchedWidth = matched !== null && c.unique > 0 ? (width * matched) / c.unique : 0;
  return html`<tr data-country="${c.country ?? 'none'}" data-calling-code="${c.calling_code}">
<th scope="row"><span class="country-name">${regionName(c.country)}</span><span class="country-code">${c.country !== null && c.country !== '001' ? `${c.country} · ` : ''}+${c.calling_code}</span></th>
<td class="bar-col"><svg class="bar bar-country" viewBox="0 0 ${BAR_UNITS} 16" preserveAspectRatio="none" aria-hidden="true"><rect class="fill" x="0" y="0" width="${width.toFixed(1)}" height="16" />${matched !== null ? html`<rect class="matched" x="0" y="0" width="${matchedWidth.toFixed(1)}" height="16" />` : ''}</svg></td>
<td class="num">${num('unique', c.unique)}</td>
<td class="num">${num('matched', matched)}</td>
<td class="num">${rate('match_rate', matched !== null && c.unique > 0 ? matched / c.unique : null, matched === null)}</td>
</tr>`;
}

function run(report: MatchReport): SafeHtml {
  const t = report.timings_ms;
  // What the match spent outside the join and the finalize step (opening the upload, the report).
  const other = Math.max(0, Math.round((t.total - t.join - t.finalize) * 10) / 10);
  const stages: Array<[field: string, label: string, ms: number]> = [
    ['index_load', 'Index load', t.index_load],
    ['join', 'Join (read, normalise, probe)', t.join],
    ['finalize', 'Finalize (count, sort)', t.finalize],
    ['other', 'Other (open upload, report)', other],
  ];
  const whole = stages.reduce((sum, [, , ms]) => sum + ms, 0);
  let x = 0;
  const segments = stages.map(([field, , ms], i) => {
    const w = whole > 0 ? (BAR_UNITS * ms) / whole : 0;
    const seg = html`<rect class="stage stage-${String(i)}" data-stage="${field}" x="${x.toFixed(1)}" y="0" width="${w.toFixed(1)}" height="24" />`;
    x += w;
    return seg;
  });
  const upload = report.upload;
  // A file without a header row has a phone number where the header should be (digits of any script).
  const columns = (upload.phone_columns ?? (upload.phone_column === null ? [] : [upload.phone_column])).map(
    (h) => redactIfNumeric(h),
  );
  const column = columns.length === 0 ? '—' : columns.join(', ');
  const byColumn = report.numbers?.by_column ?? [];
  const indexKind: Record<string, string> = {
    file: 'a built index file',
    csv: 'a CSV source, built in memory',
    reader: 'an index opened by the caller',
  };
  const fact = (label: string, value: SafeHtml | string): SafeHtml =>
    html`<div class="fact"><dt>${label}</dt><dd>${value}</dd></div>`;
  return html`<section id="run">
<h2>The run</h2>
<dl class="facts">
${fact('Index', html`${num('index_entries', report.index.entries)} entries, from ${indexKind[report.index.source] ?? report.index.source}`)}
${fact('Index built', html`<time data-field="index_built_at" data-value="${report.index.built_at}" datetime="${report.index.built_at}">${report.index.built_at.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC')}</time>`)}
${fact('Index phone metadata', html`<span data-field="index_metadata_version" data-value="${report.index.metadata_version}">libphonenumber-js ${report.index.metadata_version}</span>`)}
${fact('Upload phone metadata', `${report.phone_metadata.library} ${report.phone_metadata.version} (${report.phone_metadata.metadata})`)}
${fact('Upload', html`<span class="path">${upload.file ?? 'uploaded cells'}</span>`)}
${fact(columns.length > 1 ? 'Phone columns' : 'Phone column', html`<code>${column}</code>`)}
${upload.country_column != null ? fact('Country column', html`<code>${redactIfNumeric(upload.country_column)}</code>`) : ''}
${
  byColumn.length > 1
    ? fact(
        'Numbers by column',
        html`${byColumn.map((c, i) => html`${i > 0 ? ', ' : ''}<code>${c.column}</code> ${num(`column_${String(i)}_valid`, c.valid)} valid of ${num(`column_${String(i)}_numbers`, c.numbers)}`)}`,
      )
    : ''
}
${
  (report.read_as_international ?? 0) > 0
    ? fact(
        'Read as international',
        html`${num('read_as_international', report.read_as_international ?? 0)} rows whose digits were read with a country code but no + (a guess; <code>--strict</code> refuses it)`,
      )
    : ''
}
${fact('Encoding, delimiter', `${upload.encoding ?? '—'}, ${delimiterName(upload.delimiter)}`)}
${fact('Threads', num('threads', report.threads))}
${fact('Throughput', html`${num('rows_per_second', report.rows_per_second)} rows/s during the join`)}
${fact('rollcall', report.rollcall_version)}
</dl>
<h3>Time by stage</h3>
<svg class="bar bar-stages" viewBox="0 0 ${BAR_UNITS} 24" preserveAspectRatio="none" role="img" aria-label="time by stage">${segments}</svg>
<ul class="stages">
${stages.map(
  ([field, label, ms], i) =>
    html`<li><span class="swatch stage-${String(i)}"></span>${label} <span class="ms" data-field="${field}_ms" data-value="${String(ms)}">${formatMs(ms)}</span></li>`,
)}
</ul>
<p class="muted">Match total <span data-field="total_ms" data-value="${String(t.total)}">${formatMs(t.total)}</span>, after loading the index.</p>
</section>`;
}
