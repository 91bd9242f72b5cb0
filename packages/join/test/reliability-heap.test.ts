/**
 * Many matches in one process: a long-lived Matcher (one index, one worker pool) runs 1,000 small
 * matches without its memory growing, and without piling listeners on a long-lived AbortSignal
 * (a server passes its shutdown signal to every match).
 */
import { getEventListeners } from 'node:events';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { buildIndexFromRows } from '@rollcall/index';
import { describe, expect, test } from 'vitest';
import { createMatcher } from '../src/index.js';
import { fixedCase } from './arbitraries.js';

// `gc` without starting node with --expose-gc: the flag takes effect for contexts made after it.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap in use after full collections (the least of three readings, to shed what is in flight). */
function settledHeap(): number {
  let least = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 3; i++) {
    gc();
    least = Math.min(least, process.memoryUsage().heapUsed);
  }
  return least;
}

const MATCHES = 1000;
/** Growth allowed between match 100 and match 1,000: a leak of 1 KiB a match (900 KiB) shows. */
const MARGIN_BYTES = 768 * 1024;

describe('1,000 consecutive matches on one Matcher', () => {
  test('heap after GC at match 1,000 is within 768 KiB of match 100; no listeners pile up', async () => {
    const c = fixedCase(7, 300);
    const { reader } = await buildIndexFromRows(c.index);
    const matcher = await createMatcher({ index: reader, threads: 2 });
    const shutdown = new AbortController();
    const rejects = join(tmpdir(), `rollcall-heap-${process.pid}.csv`);
    const heap: Record<number, number> = {};
    const listeners: Record<number, number> = {};
    let firstReport: unknown;
    try {
      for (let i = 1; i <= MATCHES; i++) {
        const { report, audience } = await matcher.match({
          // A fresh array each time, as a caller would build one per request.
          upload: c.cells.map((cell) => `${cell}`),
          defaultCountry: c.country,
          minAudience: 1,
          batchSize: 64,
          signal: shutdown.signal,
          // 1,000 answers in a row: this test is about memory, not the daily budget.
          privacy: { maxQueriesPerDay: 1_000_000 },
          // Every tenth match also writes a rejects file.
          ...(i % 10 === 0 ? { rejects } : {}),
          onProgress: () => {},
        });
        const counts = [report.rows, report.unique, report.matched, report.audience, audience?.length];
        firstReport ??= counts;
        // Every match gives the same answer: the reused pool carries nothing from one match to the next.
        if (i % 100 === 0) expect(counts).toEqual(firstReport);
        if (i === 100 || i === MATCHES) {
          heap[i] = settledHeap();
          listeners[i] = getEventListeners(shutdown.signal, 'abort').length;
        }
      }
      expect(readFileSync(rejects, 'utf8').startsWith('line,cell,reason\n')).toBe(true);
    } finally {
      await matcher.close();
      rmSync(rejects, { force: true });
    }
    const growth = heap[MATCHES]! - heap[100]!;
    console.info(
      `heap after GC: ${(heap[100]! / 2 ** 20).toFixed(2)} MiB at match 100, ${(heap[MATCHES]! / 2 ** 20).toFixed(2)} MiB at match ${MATCHES} (${(growth / 1024).toFixed(0)} KiB)`,
    );
    expect(growth).toBeLessThan(MARGIN_BYTES);
    expect(listeners[MATCHES]).toBe(listeners[100]);
    expect(listeners[MATCHES]).toBe(0);
  });
});
