import examples from 'libphonenumber-js/examples.mobile.json';
import { type CountryCode, getCountries, getExampleNumber } from 'libphonenumber-js/max';
import { describe, expect, it } from 'vitest';
import {
  compareWithReference,
  countryFacts,
  type DifferentialBlock,
  generateDifferentialBlocks,
} from './differential.js';

// The CI sample; bench/phone/normalize.bench.ts runs a million cells.
const SAMPLE_CELLS = 25_000;

describe('normalizePhone, normalizeBatch and normalizeRows against normalizePhoneReference', () => {
  it('agree on every spelling of every country’s example number', () => {
    const facts = new Map(countryFacts().map((f) => [f.country, f]));
    const blocks: DifferentialBlock[] = [];
    for (const country of getCountries()) {
      const phone = getExampleNumber(country, examples)!;
      const f = facts.get(country)!;
      const intl = phone.formatInternational();
      const nsn = phone.nationalNumber;
      const cc = phone.countryCallingCode;
      const cells = [
        phone.number,
        intl,
        intl.replaceAll(' ', '-'),
        intl.replaceAll(' ', '.'),
        `(+${cc}) ${nsn}`,
        `+${cc} (${f.trunk ?? ''}) ${nsn}`,
        phone.formatNational(),
        nsn,
        `${f.trunk ?? ''}${nsn}`,
        `${cc}${nsn}`,
        ...f.idds.map((idd) => `${idd} ${cc} ${nsn}`),
        phone.getURI(),
        `tel:${intl.replaceAll(' ', '-')}`,
        `\u00A0 ${intl}\t`,
      ];
      // Read at home, in a country sharing the calling code, and in an unrelated one.
      const sibling = f.siblings.find((c) => c !== country) ?? country;
      for (const defaultCountry of new Set<CountryCode>([country, sibling, 'KE'])) {
        blocks.push({ defaultCountry, cells });
      }
      // Strictly (guesses refused) and with no country (only `+` spellings read).
      blocks.push({ defaultCountry: 'KE', strict: true, cells });
      blocks.push({ defaultCountry: null, cells });
    }
    const report = compareWithReference(blocks);
    expect(report.examples).toEqual([]);
    expect(report.differences).toBe(0);
    // Most of these are valid numbers the fast path answers itself: the check is not vacuous.
    expect(report.valid / report.cells).toBeGreaterThan(0.5);
    expect(report.fastAnswered / report.cells).toBeGreaterThan(0.8);
    // `${cc}${nsn}` read abroad or with no country: the flag is compared on real guesses.
    expect(report.guessed).toBeGreaterThan(200);
  });

  it(`agree on ${SAMPLE_CELLS} generated cells: every spelling, every country, random default countries`, () => {
    const blocks = generateDifferentialBlocks(SAMPLE_CELLS, 0x5eed);
    const report = compareWithReference(blocks);
    expect(report.examples).toEqual([]);
    expect(report.differences).toBe(0);
    expect(report.cells).toBe(SAMPLE_CELLS);
    // About 390 uploads of 64 cells, each under a random one of the 245 countries (a quarter of
    // them read with none, a quarter strictly).
    expect(new Set(blocks.map((b) => b.defaultCountry)).size).toBeGreaterThan(150);
    expect(blocks.filter((b) => b.defaultCountry === null).length).toBeGreaterThan(80);
    expect(blocks.filter((b) => b.strict).length).toBeGreaterThan(120);
    expect(report.valid / report.cells).toBeGreaterThan(0.3);
    expect(report.guessed).toBeGreaterThan(100);
    expect(report.fastAnswered / report.cells).toBeGreaterThan(0.7);
  });

  it('generates the same cells for the same seed, and others for another', () => {
    const cells = (seed: number) =>
      generateDifferentialBlocks(500, seed).flatMap((b) => [b.defaultCountry, ...b.cells]);
    expect(cells(1)).toEqual(cells(1));
    expect(cells(2)).not.toEqual(cells(1));
  });
});
