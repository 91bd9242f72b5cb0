/** How the page writes numbers, shares, durations and names; the tests read the page back with these. */

const COUNT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** A count with thousands separators: `1,940`. */
export function formatCount(n: number): string {
  return COUNT.format(n);
}

/** `part` as a percentage of `whole`, one decimal (`52.1%`); `—` when `whole` is 0. */
export function formatPercent(part: number, whole: number): string {
  return whole > 0 ? formatRate(part / whole) : '—';
}

/** A rate in [0, 1] as a percentage, one decimal: `0.520619` → `52.1%`. */
export function formatRate(rate: number): string {
  return `${(rate * 100).toFixed(1)}%`;
}

/** Milliseconds as the page shows them: `12.3 ms`, `4.56 s` from 10 s on `45.6 s`. */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  return ms < 10_000 ? `${(ms / 1000).toFixed(2)} s` : `${(ms / 1000).toFixed(1)} s`;
}

const REGION_NAMES = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'code' });

/** English name of a region of `by_country`: `KE` → `Kenya`; `001` and null have names of their own. */
export function regionName(country: string | null): string {
  if (country === null) return 'Region not determined';
  if (country === '001') return 'International (non-geographic)';
  try {
    return REGION_NAMES.of(country) ?? country;
  } catch {
    return country;
  }
}

/** A delimiter as a person reads it: `,` → `comma (,)`, tab → `tab`. */
export function delimiterName(delimiter: string | null): string {
  switch (delimiter) {
    case null:
      return '—';
    case ',':
      return 'comma (,)';
    case ';':
      return 'semicolon (;)';
    case '\t':
      return 'tab';
    case '|':
      return 'pipe (|)';
    default:
      return JSON.stringify(delimiter);
  }
}
