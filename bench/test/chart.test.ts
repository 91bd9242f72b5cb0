/** The bench chart: one bar a figure, as a multiple of its baseline, 1× marked; self-contained SVG. */
import { describe, expect, test } from 'vitest';
import { type BenchRun, benchChartSvg, type ScalingRun, scalingChartSvg } from '../chart.js';

const machine = { cores: 2, cpu: 'Test CPU', node: 'v20.20.2', platform: 'linux-x64' };

function run(results: BenchRun['results'], quick = false): BenchRun {
  return { machine, quick, date: '2025-11-22T03:00:00.000Z', results };
}

const RESULTS: BenchRun['results'] = [
  { suite: 'index', name: 'baseline probe: Map.get', hz: 1_000_000, unit: 'probes/s' },
  {
    suite: 'index',
    name: 'probe: probeBatch',
    hz: 2_480_000,
    unit: 'probes/s',
    baseline: 'Map.get',
    ratio: 2.48,
  },
  {
    suite: 'join',
    name: 'pool probe, 2 threads',
    hz: 537_843,
    unit: 'probes/s',
    baseline: 'Map join',
    ratio: 0.31,
    target: 5,
  },
  {
    suite: 'join',
    name: 'end to end <2 threads>',
    hz: 47_236,
    unit: 'rows/s',
    baseline: 'plain & simple',
    ratio: 4.39,
    target: 4,
  },
];

describe('benchChartSvg', () => {
  test('one bar for each figure with a baseline (the baselines are the 1× line), grouped by suite', () => {
    const svg = benchChartSvg(run(RESULTS));
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<g class="figure"/g)?.length).toBe(3);
    expect(svg.match(/<g /g)?.length).toBe(svg.match(/<\/g>/g)?.length);
    expect(svg).toContain('>2.48×<');
    expect(svg).toContain('>0.31×<');
    expect(svg).toContain('>4.39×<');
    expect(svg).toContain('>target 5×<');
    expect(svg).toContain('>1×<');
    expect(svg).toContain('>index<');
    expect(svg).toContain('>join<');
    expect(svg).toContain('2 cores, Test CPU, Node v20.20.2');
    expect(svg).not.toContain('baseline probe: Map.get');
  });

  test('a bar grows right of 1× when faster and left when slower', () => {
    const svg = benchChartSvg(run(RESULTS));
    const one = Number(/<line x1="([\d.]+)"[^>]*stroke-dasharray/.exec(svg)![1]);
    const bars = [...svg.matchAll(/<rect x="([\d.]+)" y="\d+" width="([\d.]+)" height="18"/g)].map((m) => ({
      x: Number(m[1]),
      width: Number(m[2]),
    }));
    expect(bars.length).toBe(3);
    // probeBatch 2.48×: starts at 1×; pool probe 0.31×: ends at 1×.
    expect(bars[0]!.x).toBeCloseTo(one, 0);
    expect(bars[1]!.x + bars[1]!.width).toBeCloseTo(one, 0);
  });

  test('text is escaped and nothing is fetched', () => {
    const svg = benchChartSvg(run(RESULTS));
    expect(svg).toContain('end to end &#60;2 threads&#62;');
    expect(svg).toContain('plain &#38; simple');
    expect(svg).not.toMatch(/<script|href=|src=|url\(|@import|<image/i);
  });

  test('a run without any baseline figure says so; a quick run says it is one', () => {
    const svg = benchChartSvg(run([RESULTS[0]!], true));
    expect(svg).toContain('No figure with a baseline in this run.');
    expect(svg).toContain('(quick run)');
  });
});

describe('scalingChartSvg', () => {
  const scaling: ScalingRun = {
    machine,
    date: '2026-11-29T12:00:00.000Z',
    baseline: '1M-row upload, 2M-entry index',
    baselineHz: 350_000,
    series: [
      {
        title: 'upload rows <2M index>',
        points: [
          { size: 100_000, wholeHz: 150_000, matchHz: 400_000, rssMiB: 300 },
          { size: 1_000_000, wholeHz: 350_000, matchHz: 420_000, rssMiB: 420 },
          { size: 20_000_000, wholeHz: 390_000, matchHz: 410_000, rssMiB: 480 },
        ],
      },
      {
        title: 'index entries',
        points: [
          { size: 1_000_000, wholeHz: 360_000, matchHz: 430_000, rssMiB: 400 },
          { size: 50_000_000, wholeHz: 200_000, matchHz: 300_000, rssMiB: 1_600 },
        ],
      },
    ],
  };

  test('a panel a series; three lines a panel, a point for each size; sizes labelled', () => {
    const svg = scalingChartSvg(scaling);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.match(/<g class="series"/g)?.length).toBe(2);
    expect(svg.match(/<polyline /g)?.length).toBe(6);
    expect(svg.match(/<circle /g)?.length).toBe(3 * (3 + 2));
    for (const label of ['>100k<', '>1M<', '>20M<', '>50M<']) expect(svg).toContain(label);
    expect(svg).toContain('upload rows &#60;2M index&#62;');
    expect(svg).not.toMatch(/<script|href=|src=|url\(|@import|<image/i);
  });

  test('a faster size sits higher; sizes go left to right on a log axis', () => {
    const svg = scalingChartSvg(scaling);
    // The first series' whole-process line is the third polyline (RSS, match, whole).
    const points = [...svg.matchAll(/<polyline [^>]*points="([^"]+)"/g)][2]![1]!
      .split(' ')
      .map((p) => p.split(',').map(Number) as [number, number]);
    expect(points.length).toBe(3);
    expect(points[0]![0]).toBeLessThan(points[1]![0]);
    expect(points[1]![0]).toBeLessThan(points[2]![0]);
    // 100k → 1M is one decade, 1M → 20M is 1.3 decades.
    expect((points[2]![0] - points[1]![0]) / (points[1]![0] - points[0]![0])).toBeCloseTo(Math.log10(20), 1);
    // SVG y grows downward: 390k rows/s is drawn above 150k.
    expect(points[2]![1]).toBeLessThan(points[0]![1]);
  });
});
