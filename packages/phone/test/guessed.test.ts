import fc from 'fast-check';
import examples from 'libphonenumber-js/examples.mobile.json';
import { getCountries, getExampleNumber } from 'libphonenumber-js/max';
import { describe, expect, it } from 'vitest';
import { type NormalizeResult, normalizePhone, normalizePhoneReference } from '../src/index.js';

/** A valid result, guessed or not. */
function valid(e164: string, guessed = false): NormalizeResult {
  const result = { ok: true, e164, key: Number(e164.slice(1)) } as NormalizeResult;
  return guessed ? ({ ...result, international: true } as NormalizeResult) : result;
}

function rejected(reason: string): NormalizeResult {
  return { ok: false, reason } as NormalizeResult;
}

describe('no default country (null): only `+` spellings are read', () => {
  it.each<[cell: string, lenient: NormalizeResult, strict: NormalizeResult]>([
    ['+254712123456', valid('+254712123456'), valid('+254712123456')],
    ['+254 712 123 456', valid('+254712123456'), valid('+254712123456')],
    ['(+254) 712 123456', valid('+254712123456'), valid('+254712123456')],
    ['\uFF0B254712123456', valid('+254712123456'), valid('+254712123456')],
    ['tel:+254-712-123456', valid('+254712123456'), valid('+254712123456')],
    // A `+CC` phone-context completes the local number: read as written.
    ['tel:712123456;phone-context=+254', valid('+254712123456'), valid('+254712123456')],
    // A national number has no country to be read in: INVALID_COUNTRY.
    ['0712 123456', rejected('INVALID_COUNTRY'), rejected('INVALID_COUNTRY')],
    ['(0712) 123-456', rejected('INVALID_COUNTRY'), rejected('INVALID_COUNTRY')],
    ['tel:0712123456;phone-context=example.com', rejected('INVALID_COUNTRY'), rejected('INVALID_COUNTRY')],
    // An IDD prefix needs a country too (whose prefix is it?); and `+00…` is no calling code.
    ['00254712123456', rejected('INVALID_COUNTRY'), rejected('INVALID_COUNTRY')],
    // A country code without `+`: the second reading applies, a guess.
    ['254712123456', valid('+254712123456', true), rejected('MISSING_PLUS')],
    ['254 712 123 456', valid('+254712123456', true), rejected('MISSING_PLUS')],
    ['447400123456', valid('+447400123456', true), rejected('MISSING_PLUS')],
    // Junk keeps its reason.
    ['', rejected('EMPTY'), rejected('EMPTY')],
    ['N/A', rejected('NOT_A_NUMBER'), rejected('NOT_A_NUMBER')],
    ['1', rejected('TOO_SHORT'), rejected('TOO_SHORT')],
    ['12', rejected('INVALID_COUNTRY'), rejected('INVALID_COUNTRY')],
    ['+999 123 4567', rejected('INVALID_COUNTRY'), rejected('INVALID_COUNTRY')],
    ['+44 7400 12345', rejected('INVALID_NUMBER'), rejected('INVALID_NUMBER')],
  ])('%j → %o, strict → %o', (cell, lenient, strict) => {
    expect(normalizePhone(cell, { defaultCountry: null })).toStrictEqual(lenient);
    expect(normalizePhoneReference(cell, { defaultCountry: null })).toStrictEqual(lenient);
    expect(normalizePhone(cell, { defaultCountry: null, strict: true })).toStrictEqual(strict);
    expect(normalizePhoneReference(cell, { defaultCountry: null, strict: true })).toStrictEqual(strict);
  });
});

const COUNTRIES = getCountries().filter((c) => getExampleNumber(c, examples) !== undefined);

/** Cells that are or look like numbers of any country, in spellings that may be guessed. */
const cell: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...COUNTRIES).chain((country) => {
    const phone = getExampleNumber(country, examples)!;
    return fc.constantFrom(
      phone.number,
      phone.number.slice(1),
      phone.formatInternational().slice(1),
      phone.formatNational(),
      phone.nationalNumber,
      `tel:${phone.number}`,
      `\uFF10${phone.number.slice(1)}`,
    );
  }),
  fc.stringMatching(/^\+?[0-9][0-9 ().-]{4,16}$/),
);
const defaultCountry = fc.option(fc.constantFrom(...COUNTRIES), { nil: null });

describe('strict against lenient', () => {
  it('differ only where the lenient reading was a guess: strict says MISSING_PLUS there', () => {
    let guesses = 0;
    fc.assert(
      fc.property(cell, defaultCountry, (text, country) => {
        const lenient = normalizePhone(text, { defaultCountry: country });
        const strict = normalizePhone(text, { defaultCountry: country, strict: true });
        expect(normalizePhoneReference(text, { defaultCountry: country })).toStrictEqual(lenient);
        expect(normalizePhoneReference(text, { defaultCountry: country, strict: true })).toStrictEqual(
          strict,
        );
        if (lenient.ok && lenient.international) {
          guesses++;
          expect(strict).toEqual({ ok: false, reason: 'MISSING_PLUS' });
          // A guess is only made of a cell that starts with a digit, never of a `+` spelling.
          expect(text.trim()).toMatch(/^(tel:)?[0-9\uFF10-\uFF19]/);
        } else if (!strict.ok && strict.reason === 'MISSING_PLUS') {
          // The guess would have been valid but longer than 15 digits.
          expect(lenient).toEqual({ ok: false, reason: 'OVER_15_DIGITS' });
        } else {
          expect(strict).toStrictEqual(lenient);
        }
      }),
      { numRuns: 1500 },
    );
    expect(guesses).toBeGreaterThan(50);
  });

  it('the cache of rejected cells keeps strict and lenient apart', () => {
    // Full-width digits go to the reference, whose rejections are remembered.
    const cell = '\uFF14\uFF14\uFF17\uFF14\uFF10\uFF10\uFF19\uFF12\uFF15\uFF13\uFF13\uFF14'; // 447400925334
    const guessed = valid('+447400925334', true);
    for (let round = 0; round < 3; round++) {
      expect(normalizePhone(cell, { defaultCountry: 'KE', strict: true })).toEqual(rejected('MISSING_PLUS'));
      expect(normalizePhone(cell, { defaultCountry: 'KE' })).toStrictEqual(guessed);
      expect(normalizePhone(cell, { defaultCountry: null, strict: true })).toEqual(rejected('MISSING_PLUS'));
      expect(normalizePhone(cell, { defaultCountry: null })).toStrictEqual(guessed);
    }
  });
});
