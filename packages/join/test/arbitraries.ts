import fc from 'fast-check';
import { GENERATOR_COUNTRIES, messySpelling, prng, randomE164 } from '../../../fixtures/generate.js';
import type { IndexRow } from './reference.js';

const JUNK = [
  '',
  '  ',
  'N/A',
  '#REF!',
  'call me on 07400123456',
  '=HYPERLINK("x")',
  '+',
  '12',
  '☎️',
  '+999 123 4567',
];

/** An index and an upload drawn from one pool of numbers, so that matches, misses and repeats all occur. */
export interface JoinCase {
  country: (typeof GENERATOR_COUNTRIES)[number];
  index: IndexRow[];
  cells: string[];
}

export const joinCase: fc.Arbitrary<JoinCase> = fc
  .record({
    seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    country: fc.constantFrom(...GENERATOR_COUNTRIES),
    poolSize: fc.integer({ min: 1, max: 300 }),
    ids: fc.array(fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }), { minLength: 300, maxLength: 300 }),
    optedOut: fc.array(fc.boolean(), { minLength: 300, maxLength: 300 }),
    inIndex: fc.array(fc.boolean(), { minLength: 300, maxLength: 300 }),
    picks: fc.array(fc.oneof(fc.nat(299), fc.constantFrom(...JUNK)), { maxLength: 400, size: 'large' }),
    sharedIds: fc.boolean(),
  })
  .map(({ seed, country, poolSize, ids, optedOut, inIndex, picks, sharedIds }) => {
    const rand = prng(seed);
    const pool = new Set<string>();
    while (pool.size < poolSize) {
      const c =
        rand() < 0.6 ? country : GENERATOR_COUNTRIES[Math.floor(rand() * GENERATOR_COUNTRIES.length)]!;
      pool.add(randomE164(rand, c));
    }
    const phones = [...pool];
    const index: IndexRow[] = [];
    phones.forEach((phone, i) => {
      // With sharedIds some users own two numbers, to pin how opt-outs and de-duplication combine.
      if (inIndex[i])
        index.push({ phone, userId: sharedIds ? ids[i % 37]! : ids[i]!, optedOut: optedOut[i]! });
    });
    const cells = picks.map((p) => {
      if (typeof p === 'string') return p;
      const phone = phones[p % phones.length]!;
      try {
        return messySpelling(rand, phone, country);
      } catch {
        return phone;
      }
    });
    return { country, index, cells };
  });

/** A fixed, larger case for fault and determinism tests: same seed, same case. */
export function fixedCase(seed: number, rows: number): JoinCase {
  const rand = prng(seed);
  const country = 'GB';
  const phones = new Set<string>();
  while (phones.size < 400) {
    const c = rand() < 0.6 ? country : GENERATOR_COUNTRIES[Math.floor(rand() * GENERATOR_COUNTRIES.length)]!;
    phones.add(randomE164(rand, c));
  }
  const pool = [...phones];
  const index: IndexRow[] = pool
    .filter(() => rand() < 0.6)
    .map((phone, i) => ({
      phone,
      userId: (BigInt(i + 1) * 0x9e3779b97f4a7c15n) % 2n ** 64n || 1n,
      optedOut: rand() < 0.2,
    }));
  const cells: string[] = [];
  for (let i = 0; i < rows; i++) {
    if (rand() < 0.1) cells.push(JUNK[Math.floor(rand() * JUNK.length)]!);
    else {
      const phone = pool[Math.floor(rand() * pool.length)]!;
      try {
        cells.push(messySpelling(rand, phone, country));
      } catch {
        cells.push(phone);
      }
    }
  }
  return { country, index, cells };
}
