/**
 * The never-matchable count judged on worker threads equals the count judged on one thread:
 * through the ring directly (tiny blocks, so keys cross every slot many times) and through builds.
 */
import { ErrorCodes } from '@rollcall/errors';
import { isValidE164, type PhoneKey } from '@rollcall/phone';
import { describe, expect, test } from 'vitest';
import { buildIndexFromRows, buildIndexInMemory } from '../src/index.js';
import { ValidityCounter } from '../src/validity.js';
import { csvOf, makeRows, prng, tempDir, writeText } from './helpers.js';

/** Keys of which about a third are in no valid range. */
function mixedKeys(n: number, seed: number): number[] {
  const rand = prng(seed);
  return Array.from({ length: n }, () => {
    const r = rand();
    const national = Math.floor(rand() * 1e9);
    // GB mobiles (valid), +44 1 with too few digits (invalid), US 555-01xx style and random +1.
    return r < 0.4
      ? 447_000_000_000 + national
      : r < 0.7
        ? 4_412_000 + (national % 1000)
        : 10_000_000_000 + national;
  });
}

describe('ValidityCounter', () => {
  const keys = mixedKeys(3000, 7);
  const expected = keys.filter((k) => !isValidE164(k as PhoneKey)).length;

  test.each([
    ['on the calling thread', { threads: 0 }],
    ['2 workers, the builder helping', { threads: 2, blockKeys: 16, ringBlocks: 4 }],
    [
      '2 workers alone (the builder judges only when the ring is full)',
      { threads: 2, blockKeys: 16, ringBlocks: 4, builderJudges: false },
    ],
    ['1 worker, one-key blocks', { threads: 1, blockKeys: 1, ringBlocks: 2 }],
  ])('%s: the same count as judging each key', async (_name, options) => {
    expect(expected).toBeGreaterThan(500);
    const counter = new ValidityCounter(options);
    try {
      for (const k of keys) counter.add(k as PhoneKey);
      expect(await counter.total()).toBe(expected);
    } finally {
      await counter.close();
    }
  });

  test('no keys: 0, and close stops idle workers', async () => {
    const counter = new ValidityCounter({ threads: 2 });
    expect(await counter.total()).toBe(0);
    await counter.close();
    const idle = new ValidityCounter({ threads: 2 });
    await idle.close();
  });
});

describe('a build counts the same never-matchable entries whatever its threads', () => {
  const rows = [
    ...makeRows(2000, 11),
    { phone: '+4412', userId: 5n, optedOut: false },
    { phone: '+10000000000', userId: 6n, optedOut: true },
  ];

  test('from rows and from a CSV: identical headers and tables with 0, 1 and 2 threads', async () => {
    const csv = writeText(tempDir(), 'v.csv', csvOf(rows));
    const images: Uint8Array[] = [];
    for (const threads of [0, 1, 2]) {
      const a = await buildIndexFromRows(rows, { threads, builtAt: 1 });
      const b = await buildIndexInMemory(csv, { threads, builtAt: 1 });
      expect(a.report.neverMatchable).toBe(b.report.neverMatchable);
      images.push(new Uint8Array(a.reader.buffer), new Uint8Array(b.reader.buffer));
    }
    const expected = rows.filter((r) => !isValidE164(Number(r.phone.slice(1)) as PhoneKey)).length;
    expect(expected).toBeGreaterThanOrEqual(2);
    const { report } = await buildIndexFromRows(rows, { threads: 2 });
    expect(report.neverMatchable).toBe(expected);
    for (const image of images) expect(Buffer.from(image).equals(Buffer.from(images[0]!))).toBe(true);
  });

  test('threads must be an integer from 0 to 256', async () => {
    for (const threads of [-1, 1.5, 257, Number.NaN]) {
      await expect(buildIndexFromRows(rows, { threads })).rejects.toMatchObject({
        code: ErrorCodes.INVALID_ARGUMENT,
        option: 'threads',
      });
    }
  });
});
