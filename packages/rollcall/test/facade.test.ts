import { describe, expect, test } from 'vitest';
import * as rollcall from '../src/index.js';

describe('the public facade', () => {
  test('matches an in-memory upload against an index built from rows, end to end', async () => {
    const { reader } = await rollcall.buildIndexFromRows(
      Array.from({ length: 150 }, (_, i) => ({
        phone: `+4474001${String(i).padStart(5, '0')}`,
        userId: 2n ** 63n + BigInt(i),
        optedOut: i % 10 === 0,
      })),
    );
    const cells = Array.from({ length: 150 }, (_, i) => `07400 1${String(i).padStart(5, '0')}`);
    const { audience, report, audit } = await rollcall.matchUpload({
      index: reader,
      upload: cells,
      defaultCountry: 'GB',
      threads: 1,
    });
    expect(report.rows).toBe(150);
    // The exact counts are the operator's audit; the advertiser's report has protected estimates.
    expect([audit.matched, audit.opted_out_dropped, audit.audience]).toEqual([150, 15, 135]);
    expect(Math.abs(report.audience! - 135)).toBeLessThanOrEqual(100);
    expect(report.audience_lower).toBeLessThanOrEqual(report.audience!);
    expect(audience?.[0]).toBe(2n ** 63n + 1n);
    expect(audience?.at(-1)).toBe(2n ** 63n + 149n);
  });

  test('exposes coded errors', () => {
    expect(() => rollcall.assertCountry('ZZ')).toThrowError(rollcall.RollcallError);
    try {
      rollcall.assertCountry('ZZ');
    } catch (err) {
      expect(rollcall.isRollcallError(err, rollcall.ErrorCodes.UNKNOWN_COUNTRY)).toBe(true);
    }
  });
});
