import fc from 'fast-check';
import examples from 'libphonenumber-js/examples.mobile.json';
import { type CountryCode, getCountries, getExampleNumber } from 'libphonenumber-js/max';
import { describe, expect, it } from 'vitest';
import {
  type NormalizeRowsOutput,
  normalizeBatch,
  normalizePhone,
  normalizePhoneReference,
  normalizeRows,
  reasonCode,
  resolveCountry,
} from '../src/index.js';

function output(n: number): NormalizeRowsOutput {
  return { keys: new Float64Array(n), reasons: new Uint8Array(n), guessed: new Uint8Array(n) };
}

/** Cell i of `out` as [key, reason, guessed]. */
function entry(out: NormalizeRowsOutput, i: number): [key: number, reason: number, guessed: number] {
  return [out.keys[i]!, out.reasons[i]!, out.guessed[i]!];
}

const OK = 0;

describe('normalizeRows: each row in its own country', () => {
  // Three phone columns a row: mobile, home, work.
  const width = 3;
  const rows: [country: string, cells: [string, string, string]][] = [
    ['GB', ['07400 123456', '+254712123456', '']],
    ['Kenya', ['0712 123456', '447400123456', 'N/A']],
    [' deu ', ['01512 3456789', '', '+33 6 12 34 56 78']],
    // Blank: the default country (FR here).
    ['', ['06 12 34 56 78', '2015550123', '']],
    // Unknown: no country; only `+` spellings and the second reading.
    ['Narnia', ['0712 123456', '+254712123456', '254712123456']],
    ['UK', ['07400 123456', '', '']],
  ];
  const cells = rows.flatMap(([, row]) => row);
  const countries = rows.map(([country]) => country);

  it('reads national numbers in the row’s country, `+` numbers anywhere', () => {
    const out = output(cells.length);
    normalizeRows(cells, width, countries, { defaultCountry: 'FR' }, out);
    const got = cells.map((_, i) => entry(out, i));
    const INVALID_COUNTRY = reasonCode('INVALID_COUNTRY');
    const EMPTY = reasonCode('EMPTY');
    expect(got).toEqual([
      [447400123456, OK, 0],
      [254712123456, OK, 0],
      [0, EMPTY, 0],
      [254712123456, OK, 0],
      [447400123456, OK, 1],
      [0, reasonCode('NOT_A_NUMBER'), 0],
      [4915123456789, OK, 0],
      [0, EMPTY, 0],
      [33612345678, OK, 0],
      [33612345678, OK, 0],
      [2015550123, OK, 1],
      [0, EMPTY, 0],
      [0, INVALID_COUNTRY, 0],
      [254712123456, OK, 0],
      [254712123456, OK, 1],
      [447400123456, OK, 0],
      [0, EMPTY, 0],
      [0, EMPTY, 0],
    ]);
  });

  it('strict: a guess is MISSING_PLUS, every other cell as before', () => {
    const lenient = output(cells.length);
    const strict = output(cells.length);
    normalizeRows(cells, width, countries, { defaultCountry: 'FR' }, lenient);
    normalizeRows(cells, width, countries, { defaultCountry: 'FR', strict: true }, strict);
    cells.forEach((_, i) => {
      if (lenient.guessed[i] === 1) {
        expect(entry(strict, i)).toEqual([0, reasonCode('MISSING_PLUS'), 0]);
      } else {
        expect(entry(strict, i)).toEqual(entry(lenient, i));
      }
    });
    expect([...strict.guessed]).toEqual(cells.map(() => 0));
  });

  it('with no default country, a blank country cell means no country', () => {
    const out = output(cells.length);
    normalizeRows(cells, width, countries, { defaultCountry: null }, out);
    // Row 3 (blank): its national number is INVALID_COUNTRY; `2015550123` is still guessed.
    expect([entry(out, 9), entry(out, 10)]).toEqual([
      [0, reasonCode('INVALID_COUNTRY'), 0],
      [2015550123, OK, 1],
    ]);
  });

  it('without a countries column, every row is read in the default country', () => {
    const out = output(cells.length);
    normalizeRows(cells, width, undefined, { defaultCountry: 'KE' }, out);
    const batch = normalizeBatch(cells, { defaultCountry: 'KE' });
    expect([...out.keys]).toEqual([...batch.keys]);
    expect([...out.reasons]).toEqual([...batch.reasons]);
  });

  it('an absent country cell (not a string) means the default country', () => {
    const out = output(2);
    normalizeRows(
      ['0712 123456', '0712 123456'],
      1,
      [undefined as unknown as string, 'GB'],
      { defaultCountry: 'KE' },
      out,
    );
    expect([entry(out, 0), entry(out, 1)]).toEqual([
      [254712123456, OK, 0],
      [0, reasonCode('INVALID_NUMBER'), 0],
    ]);
  });

  it('overwrites what the arrays held, and leaves the rest of them alone', () => {
    const out = {
      keys: new Float64Array(4).fill(7),
      reasons: new Uint8Array(4).fill(9),
      guessed: new Uint8Array(4).fill(5),
    };
    normalizeRows(['N/A', '447400123456'], 1, undefined, { defaultCountry: 'KE' }, out);
    expect([entry(out, 0), entry(out, 1), entry(out, 2)]).toEqual([
      [0, reasonCode('NOT_A_NUMBER'), 0],
      [447400123456, OK, 1],
      [7, 9, 5],
    ]);
  });

  it('handles no rows', () => {
    expect(() => normalizeRows([], 2, [], { defaultCountry: null }, output(0))).not.toThrow();
  });
});

describe('normalizeRows: bad arguments throw coded errors naming the option', () => {
  const argument = (option: string) => expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', option });

  it.each([0, -1, 1.5, Number.NaN])('width %d', (width) => {
    expect(() => normalizeRows(['1', '2'], width, undefined, { defaultCountry: 'KE' }, output(2))).toThrow(
      argument('width'),
    );
  });

  it('cells that are not whole rows', () => {
    expect(() => normalizeRows(['1', '2', '3'], 2, undefined, { defaultCountry: 'KE' }, output(3))).toThrow(
      argument('cells'),
    );
  });

  it('fewer country cells than rows', () => {
    expect(() => normalizeRows(['1', '2', '3', '4'], 2, ['GB'], { defaultCountry: 'KE' }, output(4))).toThrow(
      argument('countries'),
    );
  });

  it.each(['keys', 'reasons', 'guessed'] as const)('out.%s too short or of the wrong type', (name) => {
    const short = { ...output(2), [name]: name === 'keys' ? new Float64Array(1) : new Uint8Array(1) };
    expect(() => normalizeRows(['1', '2'], 1, undefined, { defaultCountry: 'KE' }, short)).toThrow(
      argument(`out.${name}`),
    );
    const wrong = { ...output(2), [name]: [0, 0] as unknown as Uint8Array };
    expect(() => normalizeRows(['1', '2'], 1, undefined, { defaultCountry: 'KE' }, wrong)).toThrow(
      argument(`out.${name}`),
    );
  });

  it('an unknown default country', () => {
    expect(() => normalizeRows([], 1, undefined, { defaultCountry: 'XX' as CountryCode }, output(0))).toThrow(
      expect.objectContaining({ code: 'ERR_UNKNOWN_COUNTRY', option: 'defaultCountry' }),
    );
  });
});

const COUNTRIES = getCountries().filter((c) => getExampleNumber(c, examples) !== undefined);

/** A phone cell: a number of some country in some spelling, or junk. */
const phoneCell: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...COUNTRIES).chain((country) => {
    const phone = getExampleNumber(country, examples)!;
    return fc.constantFrom(
      phone.number,
      phone.number.slice(1),
      phone.formatInternational(),
      phone.formatNational(),
      phone.nationalNumber,
      phone.getURI(),
    );
  }),
  fc.constantFrom('', ' ', 'N/A', '12', '\uFF10\uFF17\uFF11\uFF12', '0712 x 2', '+'),
  fc.stringMatching(/^\+?[0-9 ().-]{1,16}$/),
);

/** A country cell: a code or name of some country, blank, or unknown. */
const countryCell: fc.Arbitrary<string> = fc.oneof(
  fc
    .constantFrom(...COUNTRIES)
    .chain((country) => fc.constantFrom(country, country.toLowerCase(), ` ${country} `)),
  fc.constantFrom('', '  ', 'Narnia', 'XX', 'UK', 'Germany', 'united states', 'KEN', 'Congo'),
);

describe('normalizeRows equals normalizePhone cell by cell', () => {
  it('in the row’s country, or the default, or none', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }).chain((width) =>
          fc.tuple(
            fc.constant(width),
            fc.array(fc.tuple(fc.array(phoneCell, { minLength: width, maxLength: width }), countryCell), {
              maxLength: 12,
            }),
          ),
        ),
        fc.option(fc.constantFrom(...COUNTRIES), { nil: null }),
        fc.boolean(),
        fc.boolean(),
        ([width, rows], defaultCountry, strict, withCountries) => {
          const cells = rows.flatMap(([row]) => row);
          const countries = withCountries ? rows.map(([, country]) => country) : undefined;
          const out = output(cells.length);
          normalizeRows(cells, width, countries, { defaultCountry, strict }, out);
          cells.forEach((cell, i) => {
            const row = Math.floor(i / width);
            const resolved = countries === undefined ? null : resolveCountry(countries[row]!);
            const country = resolved === null ? defaultCountry : (resolved ?? null);
            const options = { defaultCountry: country, strict };
            const expected = normalizePhone(cell, options);
            expect(normalizePhoneReference(cell, options)).toStrictEqual(expected);
            expect({ cell, country, got: entry(out, i) }).toEqual({
              cell,
              country,
              got: expected.ok
                ? [expected.key, 0, expected.international ? 1 : 0]
                : [0, reasonCode(expected.reason), 0],
            });
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
