import fc from 'fast-check';
import examples from 'libphonenumber-js/examples.mobile.json';
import {
  type CountryCode,
  getCountries,
  getExampleNumber,
  type PhoneNumber,
  parsePhoneNumberWithError,
} from 'libphonenumber-js/max';
import metadata from 'libphonenumber-js/max/metadata';
import { describe, expect, it } from 'vitest';
import {
  e164ToKey,
  keyToE164,
  normalizeBatch,
  normalizePhone,
  REJECT_REASONS,
  reasonCode,
} from '../src/index.js';

// Modest run counts: each run parses a handful of times; the suite stays well under a second or two.
const RUNS = { numRuns: 300 };

const COUNTRIES = getCountries().filter((c) => getExampleNumber(c, examples) !== undefined);

/** A country and a valid (mobile) number of it: its example number with the last 3 digits varied. */
const validNumber: fc.Arbitrary<{ country: CountryCode; phone: PhoneNumber }> = fc
  .tuple(fc.constantFrom(...COUNTRIES), fc.integer({ min: 0, max: 999 }))
  .map(([country, tail]) => {
    const example = getExampleNumber(country, examples)!;
    const digits = example.number.slice(0, -3) + String(tail).padStart(3, '0');
    return { country, phone: parsePhoneNumberWithError(digits, { extract: false }) };
  })
  .filter(({ phone }) => phone.isValid());

const anyCountry = fc.constantFrom(...COUNTRIES);

// Countries whose international dialling prefix is one fixed string (`00`, `011`, `000`, …).
// Elsewhere the prefix is a pattern with carrier codes (Hong Kong: `00`, `001`, `002`, …), so
// the out-of-country spelling libphonenumber-js prints can mean another number there (`00 247…`
// dialled in Hong Kong is carrier 002, then +47…): Google's libphonenumber reads it so too.
const FIXED_IDD_COUNTRIES = COUNTRIES.filter((c) => /^[0-9]+$/.test(String(metadata.countries[c]?.[1])));

describe('properties of normalizePhone', () => {
  it('reads back every format libphonenumber-js prints for a valid number', () => {
    fc.assert(
      fc.property(
        validNumber,
        anyCountry,
        fc.constantFrom(...FIXED_IDD_COUNTRIES),
        (number, elsewhere, dialFrom) => {
          const { country, phone } = number;
          const expected = { ok: true, e164: phone.number, key: e164ToKey(phone.number as never) };
          const home = phone.country ?? country;
          const spellings: [string, CountryCode][] = [
            [phone.format('E.164'), elsewhere],
            [phone.format('INTERNATIONAL'), elsewhere],
            [phone.format('NATIONAL'), home],
            [phone.format('RFC3966'), elsewhere],
          ];
          // As dialled from another country (formatOutOfCountryCallingNumber), read there.
          const dialled = phone.format('IDD', { fromCountry: dialFrom });
          if (dialled) spellings.push([dialled, dialFrom]);
          for (const [cell, defaultCountry] of spellings) {
            expect({ cell, defaultCountry, result: normalizePhone(cell, { defaultCountry }) }).toEqual({
              cell,
              defaultCountry,
              result: expected,
            });
          }
        },
      ),
      RUNS,
    );
  });

  it('is idempotent: an E.164 result normalises to itself under any default country', () => {
    const phoneLike = fc.oneof(
      validNumber.map(({ phone }) => phone.formatNational()),
      validNumber.map(({ phone }) => phone.number.slice(1)),
      fc.stringMatching(/^\+?[0-9 ().-]{2,20}$/),
    );
    fc.assert(
      fc.property(phoneLike, anyCountry, anyCountry, (cell, first, second) => {
        const once = normalizePhone(cell, { defaultCountry: first });
        if (!once.ok) return;
        // The same number, no longer a guess: E.164 is read as written.
        expect(normalizePhone(once.e164, { defaultCountry: second })).toEqual({
          ok: true,
          e164: once.e164,
          key: once.key,
        });
      }),
      RUNS,
    );
  });

  it('never throws on a row and returns a well-formed result', () => {
    const cell = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.stringMatching(/^(tel:)?[+＋]{0,2}[0-9０-９ ()./;=a-z+-]{0,30}$/),
    );
    fc.assert(
      fc.property(cell, anyCountry, (text, defaultCountry) => {
        const result = normalizePhone(text, { defaultCountry });
        if (result.ok) {
          expect(result.e164).toMatch(/^\+[1-9][0-9]{1,14}$/);
          expect(result.key).toBe(Number(result.e164.slice(1)));
          expect(keyToE164(result.key)).toBe(result.e164);
        } else {
          expect(REJECT_REASONS).toContain(result.reason);
          expect(['NOT_A_HASH', 'MALFORMED_ROW']).not.toContain(result.reason);
        }
      }),
      RUNS,
    );
  });

  it('a batch equals normalizePhone cell by cell', () => {
    const cells = fc.array(
      fc.oneof(
        validNumber.map(({ phone }) => phone.formatInternational()),
        fc.string({ maxLength: 16 }),
      ),
      { maxLength: 30 },
    );
    fc.assert(
      fc.property(cells, anyCountry, (batch, defaultCountry) => {
        const { keys, reasons } = normalizeBatch(batch, { defaultCountry });
        batch.forEach((cell, i) => {
          const single = normalizePhone(cell, { defaultCountry });
          expect([keys[i], reasons[i]]).toEqual(single.ok ? [single.key, 0] : [0, reasonCode(single.reason)]);
        });
      }),
      { numRuns: 100 },
    );
  });
});
