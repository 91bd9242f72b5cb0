import { ErrorCodes } from '@rollcall/errors';
import { buildIndexFromRows } from '@rollcall/index';
import { describe, expect, test, vi } from 'vitest';
import { createMatcher, matchUpload } from '../src/index.js';
import { fixedCase } from './arbitraries.js';
import { withFaults } from './fixtures/faults.js';

vi.mock('../../threads/src/index.ts', async (original) =>
  (await import('./fixtures/faults.js')).withFaultyJoinWorker(original),
);

const sample = fixedCase(42, 600);

describe('worker faults', () => {
  test('a worker that dies mid-job: the batch is retried and the audience is exact', async () => {
    const c = sample!;
    const { reader } = await buildIndexFromRows(c.index);
    const options = {
      index: reader,
      upload: c.cells,
      defaultCountry: c.country,
      minAudience: 1,
      batchSize: 16,
      threads: 2,
    };
    const clean = await matchUpload(options);
    const faulty = await withFaults({ crashOnSeq: 2 }, () => matchUpload(options));
    expect(faulty.report.rows).toBe(c.cells.length);
    expect({ ...faulty.report, timings_ms: null, rows_per_second: null }).toEqual({
      ...clean.report,
      timings_ms: null,
      rows_per_second: null,
    });
    expect(faulty.audience).toEqual(clean.audience);
  });

  test('a batch that fails on every attempt fails the job with ERR_WORKER_FAILED, never a short audience', async () => {
    const c = sample!;
    const { reader } = await buildIndexFromRows(c.index);
    await expect(
      withFaults({ failOnSeq: 1 }, () =>
        matchUpload({
          index: reader,
          upload: c.cells,
          defaultCountry: c.country,
          minAudience: 1,
          batchSize: 16,
        }),
      ),
    ).rejects.toMatchObject({ code: ErrorCodes.WORKER_FAILED });
  });

  test('the same upload twice gives identical results, whatever the thread count', async () => {
    const c = sample!;
    const { reader } = await buildIndexFromRows(c.index);
    const results = [];
    for (const threads of [1, 2, 3]) {
      const r = await matchUpload({
        index: reader,
        upload: c.cells,
        defaultCountry: c.country,
        minAudience: 1,
        batchSize: 7,
        threads,
      });
      results.push({
        audience: r.audience,
        counts: [r.report.rows, r.report.unique, r.report.matched, r.report.audience],
      });
    }
    expect(results[1]).toEqual(results[0]);
    expect(results[2]).toEqual(results[0]);
  });
});

describe('library arguments and privacy', () => {
  test('bad arguments fail at once with coded errors', async () => {
    const { reader } = await buildIndexFromRows([{ phone: '+447400123456', userId: 5n, optedOut: false }]);
    const matcher = await createMatcher({ index: reader, threads: 1 });
    try {
      await expect(matcher.match({ upload: ['x'], defaultCountry: 'XX' })).rejects.toMatchObject({
        code: ErrorCodes.UNKNOWN_COUNTRY,
      });
      await expect(
        matcher.match({ upload: ['x'], defaultCountry: 'GB', minAudience: 0 }),
      ).rejects.toMatchObject({
        code: ErrorCodes.INVALID_ARGUMENT,
      });
      await expect(
        matcher.match({ upload: ['x'], defaultCountry: 'GB', hashed: 'meta' }),
      ).rejects.toMatchObject({
        code: ErrorCodes.INDEX_MISSING_SECTION,
      });
    } finally {
      await matcher.close();
    }
    await expect(createMatcher({ index: reader, threads: 0 })).rejects.toMatchObject({
      code: ErrorCodes.INVALID_ARGUMENT,
    });
  });

  test('suppression cannot be sidestepped through the library: no audience, counts withheld', async () => {
    const { reader } = await buildIndexFromRows([
      { phone: '+447400123456', userId: 2n ** 64n - 1n, optedOut: false },
      { phone: '+447400123457', userId: 2n ** 53n + 1n, optedOut: true },
    ]);
    const r = await matchUpload({
      index: reader,
      upload: ['07400 123456', '+447400123457', 'junk'],
      defaultCountry: 'GB',
    });
    expect(r.audience).toBeNull();
    expect(r.report.suppressed).toBe(true);
    expect(r.report.min_audience).toBe(100);
    expect([r.report.matched, r.report.opted_out_dropped, r.report.audience, r.report.match_rate]).toEqual([
      null,
      null,
      null,
      null,
    ]);
    expect(JSON.stringify(r.report)).not.toContain('18446744073709551615');
    expect(r.report.rows).toBe(3);
    const open = await matchUpload({
      index: reader,
      upload: ['07400 123456', '+447400123457'],
      defaultCountry: 'GB',
      minAudience: 1,
    });
    expect(open.audience).toEqual(new BigUint64Array([2n ** 64n - 1n]));
    expect(open.audit.opted_out_dropped).toBe(1);
  });

  test('one matcher serves many matches (the pool is reused)', async () => {
    const { reader } = await buildIndexFromRows([{ phone: '+447400123456', userId: 9n, optedOut: false }]);
    const matcher = await createMatcher({ index: reader, threads: 2 });
    try {
      for (let i = 0; i < 200; i++) {
        const r = await matcher.match({
          upload: ['07400123456', '+44 7400 123456', 'x'],
          defaultCountry: 'GB',
          minAudience: 1,
        });
        expect([...(r.audience ?? [])]).toEqual([9n]);
        expect(r.report.unique).toBe(1);
      }
    } finally {
      await matcher.close();
    }
  });
});
