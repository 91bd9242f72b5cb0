/**
 * The privacy attack suite, in quick mode against the real CLI: its results have the shape the
 * JSON file promises, and honest uploads are never refused. No timing, and no accuracy bound: with
 * 16 targets an accuracy has a standard error of 0.125, and the ledger's secret (so the noise) is new
 * every run; the full run (200 targets) is where accuracy is measured.
 */
import { describe, expect, test } from 'vitest';
import { boxLeastSquares, score } from '../privacy/strategies.js';
import { formatTable, type PrivacyResults, runPrivacySuite } from '../privacy/suite.js';

describe('privacy attacks, quick', () => {
  let results: PrivacyResults;

  test('runs every attack in both budget regimes and the honest uploads', { timeout: 900_000 }, async () => {
    results = await runPrivacySuite({ targets: 16, quick: true });
    expect(results.world).toMatchObject({ targets: 16, members: 8 });
    expect(results.attacks.map((a) => a.name)).toEqual(
      expect.arrayContaining(['pair', 'averaging', 'step', 'floor']),
    );
    for (const a of results.attacks) {
      for (const run of [a.withinBudget, a.budgetNotCounted]) {
        if (run === null) continue;
        expect(run.targets).toBe(16);
        expect(run.correct).toBeGreaterThanOrEqual(0);
        expect(run.correct).toBeLessThanOrEqual(16);
        expect(run.accuracy).toBeCloseTo(run.correct / 16, 10);
        expect(run.uploads).toBeGreaterThan(0);
        expect(run.refused).toBeGreaterThanOrEqual(0);
        expect(run.refused).toBeLessThanOrEqual(run.uploads);
        expect(run.coinFlips).toBeLessThanOrEqual(16);
        expect(run.identities).toBeGreaterThanOrEqual(1);
        expect(run.membersFlagged).toBeLessThanOrEqual(8);
        expect(run.othersFlagged).toBeLessThanOrEqual(8);
        expect(run.correct).toBe(run.membersFlagged + (8 - run.othersFlagged));
      }
      expect(a.signal).not.toBe('');
    }
    expect(results.cli.runs).toBeGreaterThan(16);
  });

  test('honest uploads are never refused, nor suppressed', () => {
    const h = results.honest;
    expect(h.uploads).toBe(results.plan.honestUploads);
    expect(h.refused).toBe(0);
    expect(h.suppressed).toBe(0);
    expect(h.audienceMin).toBeGreaterThanOrEqual(1000);
    expect(h.errorMedian).toBeLessThanOrEqual(h.errorMax);
    expect(Number.isFinite(h.errorMax)).toBe(true);
  });

  test('the table names every attack and both regimes', () => {
    const table = formatTable(results);
    for (const a of results.attacks) expect(table).toContain(`| ${a.name} | within budget |`);
    expect(table).toContain('budget not counted');
    expect(table).toContain('audience error, median');
  });
});

describe('attack arithmetic', () => {
  test('a null guess is a coin flip; the others are scored', () => {
    const order = [
      { e164: '+447400000001', member: true },
      { e164: '+447400000002', member: false },
      { e164: '+447400000003', member: true },
    ];
    const r = score(order, [true, true, null], () => 0.1);
    expect(r).toEqual({ correct: 2, coinFlips: 1, membersFlagged: 2, othersFlagged: 1 });
  });

  test('least squares in [0, 1] recovers shares from noiseless sums', () => {
    const truth = [1, 0, 1, 1, 0, 0];
    const rows: boolean[][] = [];
    const y: number[] = [];
    for (let m = 1; m < 2 ** truth.length; m++) {
      const row = truth.map((_, j) => ((m >> j) & 1) === 1);
      rows.push(row);
      y.push(row.reduce((s, inc, j) => s + (inc ? truth[j]! : 0), 0));
    }
    const x = boxLeastSquares(rows, y, truth.length);
    for (const [j, v] of x.entries()) expect(v).toBeCloseTo(truth[j]!, 3);
  });
});
