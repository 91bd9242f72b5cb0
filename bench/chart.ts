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

/** A chart's SVG document: white ground, title and subtitle at the top, then `body`. Self-contained. */
function svgDocument(o: {
  width: number;
  height: number;
  title: string;
  subtitle: string;
  subtitleSize: number;
  subtitleMax: number;
  body: string;
}): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${o.width}" height="${o.height}" viewBox="0 0 ${o.width} ${o.height}" font-family="${FONT}" role="img" aria-label="${escapeXml(o.title)}">
<title>${escapeXml(o.title)}</title>
<rect width="${o.width}" height="${o.height}" fill="#ffffff"/>
<text x="${PAD}" y="30" font-size="17" font-weight="700" fill="${COLORS.ink}">${escapeXml(o.title)}</text>
<text x="${PAD}" y="50" font-size="${o.subtitleSize}" fill="${COLORS.muted}">${escapeXml(shorten(o.subtitle, o.subtitleMax))}</text>
${o.body}
</svg>
`;
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
  const body = `${axis.join('\n')}\n${parts.join('\n')}`;
  return svgDocument({ width: WIDTH, height, title, subtitle, subtitleSize: 11.5, subtitleMax: 140, body });
}

/** One size series of the scaling bench: a point a size, each with its rates and peak RSS. */
export interface ScalingSeries {
  /** What the size counts, e.g. `upload rows (2M-entry index)`. */
  title: string;
  points: ReadonlyArray<{ size: number; wholeHz: number; matchHz: number; rssMiB: number }>;
}

/** What {@link scalingChartSvg} draws. */
export interface ScalingRun {
  machine: BenchRun['machine'];
  date: string;
  /** The point every ratio is against, named. */
  baseline: string;
  /** Its whole-process rows/s: the band is within 20% of it. */
  baselineHz: number;
  series: readonly ScalingSeries[];
}

const PANEL_W = 410;
const PANEL_H = 250;
/** From one panel's left edge to the next: room for the right axis's labels. */
const PANEL_STRIDE = PANEL_W + 70;

function shortSize(n: number): string {
  return n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1_000 ? `${n / 1_000}k` : String(n);
}

/** A round axis maximum at or above `v`: 1, 2 or 5 times a power of ten. */
function niceMax(v: number): number {
  const p = 10 ** Math.floor(Math.log10(Math.max(v, 1e-9)));
  return [1, 2, 5, 10].map((k) => k * p).find((m) => m >= v) ?? 10 * p;
}

/**
 * The scaling chart: a panel a series, size on a log axis; rows/s of the whole process (blue) and
 * of the match alone (green) on the left axis, peak RSS (grey, dashed) on the right. The band is
 * within 20% of the baseline's whole-process rate, where the issue wants every size.
 * Self-contained SVG, as {@link benchChartSvg}.
 */
export function scalingChartSvg(run: ScalingRun): string {
  const width = PAD * 2 + 50 + run.series.length * PANEL_STRIDE;
  const height = HEADER + PANEL_H + 70;
  const parts: string[] = [];
  run.series.forEach((s, k) => {
    const left = PAD + 50 + k * PANEL_STRIDE;
    const right = left + PANEL_W - 100;
    const top = HEADER + 20;
    const bottom = top + PANEL_H - 40;
    const sizes = s.points.map((p) => p.size);
    const lo = Math.log10(Math.min(...sizes));
    const hi = Math.max(lo + 1, Math.log10(Math.max(...sizes)));
    const x = (size: number) => left + ((Math.log10(size) - lo) / (hi - lo)) * (right - left);
    const hzMax = niceMax(Math.max(...s.points.flatMap((p) => [p.wholeHz, p.matchHz])));
    const rssMax = niceMax(Math.max(...s.points.map((p) => p.rssMiB)));
    const yHz = (hz: number) => bottom - (hz / hzMax) * (bottom - top);
    const yRss = (mib: number) => bottom - (mib / rssMax) * (bottom - top);
    const line = (ys: number[], color: string, dash = '') =>
      `<polyline fill="none" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''} points="${s.points.map((p, i) => `${x(p.size).toFixed(1)},${ys[i]!.toFixed(1)}`).join(' ')}"/>` +
      s.points
        .map(
          (p, i) =>
            `<circle cx="${x(p.size).toFixed(1)}" cy="${ys[i]!.toFixed(1)}" r="3.5" fill="${color}"/>`,
        )
        .join('');
    parts.push(`<g class="series" data-title="${escapeXml(s.title)}">`);
    parts.push(
      `<text x="${left}" y="${top - 10}" font-size="13" font-weight="700" fill="${COLORS.ink}">${escapeXml(s.title)}</text>`,
    );
    {
      const y1 = yHz(Math.min(hzMax, run.baselineHz * 1.2));
      const y2 = yHz(Math.min(hzMax, run.baselineHz * 0.8));
      parts.push(
        `<rect x="${left}" y="${y1.toFixed(1)}" width="${right - left}" height="${(y2 - y1).toFixed(1)}" fill="${COLORS.faster}" opacity="0.08"/>`,
      );
    }
    for (let i = 0; i <= 4; i++) {
      const gy = bottom - (i / 4) * (bottom - top);
      parts.push(
        `<line x1="${left}" x2="${right}" y1="${gy.toFixed(1)}" y2="${gy.toFixed(1)}" stroke="${COLORS.grid}"/>`,
        `<text x="${left - 6}" y="${(gy + 4).toFixed(1)}" font-size="10.5" text-anchor="end" fill="${COLORS.muted}">${escapeXml(shortSize((hzMax * i) / 4))}</text>`,
        `<text x="${right + 6}" y="${(gy + 4).toFixed(1)}" font-size="10.5" fill="${COLORS.muted}">${Math.round((rssMax * i) / 4)}</text>`,
      );
    }
    for (const p of s.points) {
      parts.push(
        `<text x="${x(p.size).toFixed(1)}" y="${bottom + 16}" font-size="10.5" text-anchor="middle" fill="${COLORS.muted}">${shortSize(p.size)}</text>`,
      );
    }
    parts.push(
      `<text x="${left - 6}" y="${top - 26}" font-size="10.5" text-anchor="end" fill="${COLORS.muted}">rows/s</text>`,
      `<text x="${right + 6}" y="${top - 26}" font-size="10.5" fill="${COLORS.muted}">peak RSS, MiB</text>`,
      line(
        s.points.map((p) => yRss(p.rssMiB)),
        COLORS.muted,
        '5 4',
      ),
      line(
        s.points.map((p) => yHz(p.matchHz)),
        COLORS.met,
      ),
      line(
        s.points.map((p) => yHz(p.wholeHz)),
        COLORS.faster,
      ),
      '</g>',
    );
  });
  const legendY = HEADER + PANEL_H + 40;
  const legend = (
    [
      [0, COLORS.faster, 'whole process (start-up, index load, read, match, write)'],
      [380, COLORS.met, 'the match alone (join + finalize)'],
      [620, COLORS.muted, 'peak RSS of the process (dashed)'],
    ] as const
  )
    .map(
      ([dx, color, label]) =>
        `<rect x="${PAD + dx}" y="${legendY - 9}" width="14" height="4" fill="${color}"/><text x="${PAD + dx + 20}" y="${legendY - 3}" font-size="11" fill="${COLORS.ink}">${escapeXml(label)}</text>`,
    )
    .join('\n');
  const m = run.machine;
  const title = 'rollcall match: rows/s and peak RSS against size';
  const subtitle = `${run.date.slice(0, 10)} · ${m.cores} cores, ${m.cpu}, Node ${m.node} · built CLI, 2 threads, medians · band: ±20% of the whole-process rate at ${run.baseline}`;
  const body = `${parts.join('\n')}\n${legend}`;
  return svgDocument({ width, height, title, subtitle, subtitleSize: 11, subtitleMax: 150, body });
}
