import { buildIndexFromRows } from '@rollcall/index';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { createMatcher } from '../src/index.js';
import { joinCase } from './arbitraries.js';
import { referenceJoin } from './reference.js';

describe('the parallel join equals a plain Map/Set join', () => {
  test('for every thread count and batch size (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(joinCase, fc.integer({ min: 1, max: 64 }), async (c, batchSize) => {
        const { reader } = await buildIndexFromRows(c.index);
        const expected = referenceJoin(c.index, c.cells, c.country);
        for (const threads of [1, 2]) {
          const matcher = await createMatcher({ index: reader, threads });
          try {
            const { audience, report, audit } = await matcher.match({
              upload: c.cells,
              defaultCountry: c.country,
              minAudience: 1,
              batchSize,
            });
            const counts = {
              rows: report.rows,
              invalid: report.invalid,
              valid: report.valid,
              unique: report.unique,
            };
            expect(counts).toEqual({
              rows: expected.rows,
              invalid: expected.invalid,
              valid: expected.valid,
              unique: expected.unique,
            });
            // The exact platform-side counts are the operator's audit (the report holds estimates).
            expect([audit.matched, audit.opted_out_dropped, audit.audience]).toEqual([
              expected.matched,
              expected.optedOutDropped,
              expected.audience.length,
            ]);
            if (expected.audience.length >= 1) {
              expect(report.suppressed).toBe(false);
              expect(audience === null ? null : [...audience]).toEqual(expected.audience);
            } else {
              // An empty audience is below any floor: suppressed, and the counts are withheld.
              expect(report.suppressed).toBe(true);
              expect(audience).toBeNull();
              expect([report.matched, report.opted_out_dropped, report.audience]).toEqual([null, null, null]);
            }
          } finally {
            await matcher.close();
          }
        }
      }),
      { numRuns: 12, interruptAfterTimeLimit: 40_000 },
    );
  });
});
