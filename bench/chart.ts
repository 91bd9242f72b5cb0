/**
 * Draws a bench run as one SVG: each figure's throughput as a multiple of its baseline (measured in
 * the same run), on a log scale around 1× — faster to the right, slower to the left — with the
 * target when the issue sets one. Self-contained (no font, script or link), so a README can show it.
 */
import type { BenchResult } from './result.js';

/** A bench run as `run.ts` writes it to JSON. */
export interface BenchRun {
  machine: { cores: number; cpu: string; node: string; platform: string };
  quick: boolean;
  date: string;
  results: readonly BenchResult[];
}

const WIDTH = 900;
const PAD = 24;
const LABEL_WIDTH = 330;
const PLOT_LEFT = PAD + LABEL_WIDTH;
const PLOT_RIGHT = WIDTH - PAD - 70; // room for the ratio text right of the longest bar
const ROW = 40;
const SUITE_GAP = 30;
const HEADER = 78;
const AXIS = 34;
const FONT = 'system-ui, -apple-system, Segoe UI, Roboto, Helvetica, Arial, sans-serif';
const COLORS = {
  faster: '#2b6cd4',
  slower: '#c8463b',
  met: '#1d8559',
  missed: '#d08516',
  ink: '#1c2326',
  muted: '#5d6970',
  grid: '#e2e5e7',
};

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function formatHz(r: BenchResult): string {
  return `${Math.round(r.hz).toLocaleString('en-US')} ${r.unit ?? 'ops/s'}`;
}

function formatRatio(ratio: number): string {
  return ratio >= 10 ? `${ratio.toFixed(0)}×` : `${ratio.toFixed(2)}×`;
}

/** The SVG text of a bench run's chart. Figures without a baseline are the baselines: they are the 1× line. */
export function benchChartSvg(run: BenchRun): string {
  const figures = run.results.filter(
    (r) => r.ratio !== undefined && Number.isFinite(r.ratio) && r.ratio > 0 && r.baseline !== undefined,
  );
  const suites = [...new Set(figures.map((r) => r.suite))];
  // The axis spans powers of two around every ratio and target, and always 1/2× … 2×.
  const values = figures.flatMap((r) => [r.ratio!, ...(r.target !== undefined ? [r.target] : [])]);
  const lo = Math.min(-1, Math.floor(Math.log2(Math.min(1, ...values))));
  const hi = Math.max(1, Math.ceil(Math.log2(Math.max(1, ...values))));
  const x = (ratio: number): number =>
    PLOT_LEFT + ((Math.log2(ratio) - lo) / (hi - lo)) * (PLOT_RIGHT - PLOT_LEFT);
  const one = x(1);

  const parts: string[] = [];
  let y = HEADER;
  for (const suite of suites) {
    parts.push(
      `<text x="${PAD}" y="${y + 14}" font-size="13" font-weight="700" fill="${COLORS.ink}">${escapeXml(suite)}</text>`,
    );
    y += SUITE_GAP - 6;
    for (const r of figures.filter((f) => f.suite === suite)) {
      const ratio = r.ratio!;
      const end = x(ratio);
      const color =
        r.target !== undefined
          ? ratio >= r.target
            ? COLORS.met
            : COLORS.missed
          : ratio >= 1
            ? COLORS.faster
            : COLORS.slower;
      const barY = y + 8;
      parts.push(
        `<g class="figure" data-name="${escapeXml(r.name)}" data-ratio="${ratio}">`,
        `<text x="${PAD}" y="${y + 16}" font-size="12.5" fill="${COLORS.ink}">${escapeXml(shorten(r.name, 46))}</text>`,
        `<text x="${PAD}" y="${y + 31}" font-size="11" fill="${COLORS.muted}">${escapeXml(shorten(`${formatHz(r)} vs ${r.baseline}`, 56))}</text>`,
        `<rect x="${Math.min(one, end).toFixed(1)}" y="${barY}" width="${Math.max(1, Math.abs(end - one)).toFixed(1)}" height="18" rx="2" fill="${color}"/>`,
        `<text x="${(Math.max(one, end) + 6).toFixed(1)}" y="${barY + 13}" font-size="12" font-weight="700" fill="${COLORS.ink}">${escapeXml(formatRatio(ratio))}</text>`,
      );
      if (r.target !== undefined) {
        const tx = x(r.target);
        parts.push(
          `<line x1="${tx.toFixed(1)}" x2="${tx.toFixed(1)}" y1="${barY - 4}" y2="${barY + 22}" stroke="${COLORS.ink}" stroke-width="2"/>`,
          `<text x="${(tx + 3).toFixed(1)}" y="${barY - 5}" font-size="10" fill="${COLORS.muted}">target ${escapeXml(String(r.target))}×</text>`,
        );
      }
      parts.push('</g>');
      y += ROW;
    }
    y += 6;
  }
  if (figures.length === 0) {
    parts.push(
      `<text x="${PAD}" y="${y + 20}" font-size="13" fill="${COLORS.muted}">No figure with a baseline in this run.</text>`,
    );
    y += 40;
  }

  // The axis: a grid line per power of two, 1× (the baseline) emphasised.
  const top = HEADER - 8;
  const axis: string[] = [];
  for (let p = lo; p <= hi; p++) {
    const ratio = 2 ** p;
    const gx = x(ratio);
    const label = ratio >= 1 ? `${ratio}×` : `1/${2 ** -p}×`;
    axis.push(
      `<line x1="${gx.toFixed(1)}" x2="${gx.toFixed(1)}" y1="${top}" y2="${y}" stroke="${p === 0 ? COLORS.ink : COLORS.grid}" stroke-width="${p === 0 ? 1.5 : 1}"${p === 0 ? ' stroke-dasharray="4 3"' : ''}/>`,
      `<text x="${gx.toFixed(1)}" y="${y + 16}" font-size="11" text-anchor="middle" fill="${COLORS.muted}">${label}</text>`,
    );
  }
  const height = y + AXIS;
  const m = run.machine;
  const title = `rollcall benchmarks${run.quick ? ' (quick run)' : ''}: throughput against each baseline`;
  const subtitle = `${run.date.slice(0, 10)} · ${m.cores} cores, ${m.cpu}, Node ${m.node} (${m.platform}) · log scale, baseline = 1×`;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="${FONT}" role="img" aria-label="${escapeXml(title)}">
<title>${escapeXml(title)}</title>
<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>
<text x="${PAD}" y="30" font-size="17" font-weight="700" fill="${COLORS.ink}">${escapeXml(title)}</text>
<text x="${PAD}" y="50" font-size="11.5" fill="${COLORS.muted}">${escapeXml(shorten(subtitle, 140))}</text>
${axis.join('\n')}
${parts.join('\n')}
</svg>
`;
}
