import { describe, expect, test } from 'vitest';
import {
  keyedDiscreteLaplace,
  keyedUniform,
  MemoryLedger,
  PrivacyBudgetError,
  protect,
  setFingerprint,
  similarity,
  sketchOf,
} from '../src/index.js';

const secret = new Uint8Array(32).fill(7);

/** Ascending distinct keys start, start+1, …, start+n−1 (as phone keys are: integers in doubles). */
function keys(start: number, n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => 447_400_000_000 + start + i);
}

describe('keyed randomness', () => {
  test('the same question draws the same value; another question another', () => {
    expect(keyedUniform(secret, 'a', 'b')).toBe(keyedUniform(secret, 'a', 'b'));
    expect(keyedUniform(secret, 'a', 'b')).not.toBe(keyedUniform(secret, 'ab', ''));
    expect(keyedDiscreteLaplace(secret, 5, 50, 'x')).toBe(keyedDiscreteLaplace(secret, 5, 50, 'x'));
  });

  test('two-sided geometric noise: centred, scale as asked, clamped', () => {
    const b = 5;
    let sum = 0;
    let abs = 0;
    const n = 20_000;
    for (let i = 0; i < n; i++) {
      const x = keyedDiscreteLaplace(secret, b, 50, 'draw', String(i));
      expect(Math.abs(x)).toBeLessThanOrEqual(50);
      expect(Number.isInteger(x)).toBe(true);
      sum += x;
      abs += Math.abs(x);
    }
    // E|X| of the discrete Laplace with α = e^(−1/b) is 2α / (1 − α²) ≈ b for b = 5.
    const alpha = Math.exp(-1 / b);
    expect(Math.abs(sum / n)).toBeLessThan(0.25);
    expect(abs / n).toBeGreaterThan(0.9 * ((2 * alpha) / (1 - alpha * alpha)));
    expect(abs / n).toBeLessThan(1.1 * ((2 * alpha) / (1 - alpha * alpha)));
  });

  test('a set fingerprint ignores order and repeats', () => {
    expect(setFingerprint(Float64Array.of(1, 2, 2, 3))).toBe(setFingerprint(Float64Array.of(1, 2, 3)));
    expect(setFingerprint(Float64Array.of(1, 2, 3))).not.toBe(setFingerprint(Float64Array.of(1, 2, 4)));
    expect(setFingerprint(['a', 'a', 'b'])).toBe(setFingerprint(['a', 'b']));
  });
});

describe('similarity sketches', () => {
  const seeds: [number, number] = [11, 22];
  test('exact for sets smaller than the sketch', () => {
    const a = sketchOf(keys(0, 100), seeds);
    const b = sketchOf(keys(10, 100), seeds);
    expect(similarity(a, b)).toBeCloseTo(90 / 110, 10);
    expect(similarity(a, a)).toBe(1);
    expect(similarity(sketchOf(new Float64Array(0), seeds), sketchOf(new Float64Array(0), seeds))).toBe(1);
  });

  test('close to the true Jaccard for large sets', () => {
    for (const [overlap, n] of [
      [0.95, 20_000],
      [0.5, 50_000],
    ] as const) {
      const shift = Math.round(n * (1 - overlap));
      const truth = (n - shift) / (n + shift);
      const est = similarity(sketchOf(keys(0, n), seeds), sketchOf(keys(shift, n), seeds));
      expect(Math.abs(est - truth)).toBeLessThan(0.05);
    }
  });
});

function exact(audience: number, matched = audience + 10) {
  return { matched, optedOutDropped: 10, audience, byCountry: [] };
}

describe('protect', () => {
  test('the same upload asked twice gets the same answer; the exact count is not it', async () => {
    const ledger = new MemoryLedger();
    const input = {
      advertiser: 'acme',
      ledger,
      exact: exact(1000),
      minAudience: 100,
      uploadFingerprint: 'u1',
      matchedKeys: keys(0, 1010),
    };
    const a = await protect(input);
    const b = await protect(input);
    expect(b.released).toEqual(a.released);
    expect(a.decision.kind).toBe('fresh');
    expect(b.decision.kind).toBe('reused');
    const est = a.released.audience!;
    expect(est.lower).toBeLessThanOrEqual(est.value);
    expect(est.upper).toBeGreaterThanOrEqual(est.value);
    expect(Math.abs(est.value - 1000)).toBeLessThanOrEqual(100);
  });

  test('one number more or less, under any padding, gets the earlier release again', async () => {
    const ledger = new MemoryLedger();
    const base = { advertiser: 'acme', ledger, minAudience: 100 };
    const first = await protect({
      ...base,
      exact: exact(300),
      uploadFingerprint: 'B',
      matchedKeys: keys(0, 310),
    });
    for (let i = 0; i < 20; i++) {
      const withT = await protect({
        ...base,
        exact: exact(301),
        uploadFingerprint: `B+P${i}+t`,
        matchedKeys: keys(0, 311),
      });
      expect(withT.released).toEqual(first.released);
    }
  });

  test('different uploads get fresh estimates; past the budget a new one is refused with a coded error', async () => {
    const ledger = new MemoryLedger();
    const policy = { maxQuestionsPerDay: 5 };
    for (let i = 0; i < 5; i++) {
      const r = await protect({
        advertiser: 'acme',
        ledger,
        policy,
        exact: exact(2000),
        minAudience: 100,
        uploadFingerprint: `u${i}`,
        matchedKeys: keys(i * 100_000, 2010),
      });
      expect(r.decision.kind).toBe('fresh');
    }
    const refused = protect({
      advertiser: 'acme',
      ledger,
      policy,
      exact: exact(2000),
      minAudience: 100,
      uploadFingerprint: 'u-new',
      matchedKeys: keys(9_000_000, 2010),
    });
    await expect(refused).rejects.toBeInstanceOf(PrivacyBudgetError);
    await expect(refused).rejects.toMatchObject({ code: 'ERR_PRIVACY_BUDGET' });
    // An earlier upload is still answered (even when its platform-side set changed: the refusal
    // depends only on what was sent), and another advertiser has its own budget.
    const again = await protect({
      advertiser: 'acme',
      ledger,
      policy,
      exact: exact(2000),
      minAudience: 100,
      uploadFingerprint: 'u0',
      matchedKeys: keys(0, 2010),
    });
    expect(again.decision.kind).toBe('reused');
    const other = await protect({
      advertiser: 'globex',
      ledger,
      policy,
      exact: exact(2000),
      minAudience: 100,
      uploadFingerprint: 'u-new',
      matchedKeys: keys(9_000_000, 2010),
    });
    expect(other.decision.kind).toBe('fresh');
  });

  test('past the budget, refusal does not depend on the platform: t + strangers is refused whether t is a member or not', async () => {
    for (const member of [false, true]) {
      const ledger = new MemoryLedger();
      const policy = { maxQuestionsPerDay: 3 };
      const base = { advertiser: 'prober', ledger, policy, minAudience: 100 };
      // Spend the budget on uploads of strangers only (an empty platform-side set).
      for (let i = 0; i < 3; i++) {
        await protect({
          ...base,
          exact: exact(0, 0),
          uploadFingerprint: `strangers-${i}`,
          matchedKeys: keys(0, 0),
        });
      }
      const probe = protect({
        ...base,
        exact: member ? exact(1, 1) : exact(0, 0),
        uploadFingerprint: 't+strangers',
        matchedKeys: member ? keys(5, 1) : keys(0, 0),
      });
      await expect(probe).rejects.toMatchObject({ code: 'ERR_PRIVACY_BUDGET' });
    }
  });

  test('honest audiences of 1,000 or more: within ±5% at the median and ±10% always', async () => {
    const ledger = new MemoryLedger();
    const errors: number[] = [];
    for (let i = 0; i < 200; i++) {
      const size = 1000 + ((i * 7919) % 9000);
      const r = await protect({
        advertiser: 'honest',
        ledger,
        policy: { maxQuestionsPerDay: 1000 },
        exact: exact(size),
        minAudience: 100,
        uploadFingerprint: `list-${i}`,
        matchedKeys: keys(i * 1_000_000, size + 10),
      });
      expect(r.released.suppressed).toBe(false);
      errors.push(Math.abs(r.released.audience!.value - size) / size);
    }
    errors.sort((a, b) => a - b);
    expect(errors[errors.length >> 1]!).toBeLessThanOrEqual(0.05);
    expect(errors[errors.length - 1]!).toBeLessThanOrEqual(0.1);
  });

  test('the floor moves by a secret offset: members just under the minimum are sometimes released', async () => {
    let released = 0;
    const ledger = new MemoryLedger();
    for (let i = 0; i < 200; i++) {
      const r = await protect({
        advertiser: `adv${i}`,
        ledger,
        exact: exact(95),
        minAudience: 100,
        uploadFingerprint: `l${i}`,
        matchedKeys: keys(i * 1000, 105),
      });
      if (!r.released.suppressed) released++;
      expect(r.decision.floor).toBeGreaterThanOrEqual(75);
      expect(r.decision.floor).toBeLessThanOrEqual(125);
    }
    expect(released).toBeGreaterThan(20);
    expect(released).toBeLessThan(180);
  });
});
