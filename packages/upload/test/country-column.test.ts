import { describe, expect, it } from 'vitest';
import { detectColumns, detectCountryColumn, isCountryHeader } from '../src/index.js';
import { coded } from './helpers.js';

describe('isCountryHeader', () => {
  it.each([
    'country',
    'Country',
    'COUNTRY',
    '  Country  ',
    'country code',
    'Country Code',
    'country_code',
    'countryCode',
    'COUNTRYCODE',
    'country-code',
    'country_cd',
    'ctry',
    'CTRY',
    'cntry',
    'nation',
    'Land',
    'Landcode',
    'pays',
    'Code pays',
    'país',
    'País',
    'Código de país',
    'paese',
    'Country ISO',
    'country_iso2',
    'countryIso2',
    'ISO country code',
    'Country (ISO 3166-1 alpha-2)',
    'country alpha 3',
    'Country name',
    'Country/Region',
    'ISO',
    'iso2',
    'ISO 3166-1 alpha-2',
    'iso_3166_1_alpha_2',
  ])('%j names the country', (header) => {
    expect(isCountryHeader(header)).toBe(true);
  });

  it.each([
    // Calling codes, not countries.
    'Phone country code',
    'phone_country_code',
    'Mobile country code',
    'Country calling code',
    'Country dial code',
    'Dial code',
    'Dialing code',
    'Country prefix',
    'ISD code',
    // Other things.
    'Billing country',
    'Country of birth',
    'Nationality',
    'Landline',
    'Island',
    'Code',
    'Name',
    'CT',
    'ST',
    'ZIP',
    'Region',
    'phone',
    'EXTERN_ID',
    '',
    'country'.repeat(10),
  ])('%j does not', (header) => {
    expect(isCountryHeader(header)).toBe(false);
  });
});

describe('detectCountryColumn', () => {
  it.each([
    [['phone', 'Country'], 1],
    [['phone', 'Phone country code', 'ctry'], 2],
    [['phone', 'Phone country code'], null],
    [['phone', 'email'], null],
    [
      [
        'PHONE',
        'COUNTRY',
        'EXTERN_ID',
        'EMAIL',
        'FN',
        'LN',
        'ZIP',
        'CT',
        'ST',
        'DOB',
        'DOBY',
        'GEN',
        'MADID',
      ],
      1,
    ],
  ])('%j → %j', (headers, index) => {
    expect(detectCountryColumn(headers)).toBe(index);
  });

  it('several country headers are ERR_BAD_INPUT naming them and asking for --country-column', () => {
    const error = (() => {
      try {
        detectCountryColumn(['phone', 'Country', 'Country Code', 'email'], { file: 'up.csv', line: 3 });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toEqual(coded('ERR_BAD_INPUT', { position: { file: 'up.csv', line: 3 } }));
    expect(error!.message).toContain('"Country", "Country Code"');
    expect(error!.message).toContain('--country-column');
    expect(error!.message).not.toContain('email');
  });

  it('never takes an excluded column', () => {
    expect(detectCountryColumn(['Country', 'ctry'], { exclude: [0] })).toBe(1);
  });
});

describe('detectColumns', () => {
  const headers = [
    'Name',
    'Phone',
    'Mobile',
    'Work Phone',
    'Phone country code',
    'Country',
    'Billing Country',
  ];

  it('finds every phone column and the country column', () => {
    expect(detectColumns(headers)).toEqual({ phoneColumns: [1, 2, 3], countryColumn: 5 });
  });

  it.each([
    [{ countryColumn: false as const }, null],
    [{ countryColumn: 'billing country' }, 6],
    [{ countryColumn: ' NAME ' }, 0],
  ])('countryColumn %j → %j', (options, countryColumn) => {
    expect(detectColumns(headers, options).countryColumn).toBe(countryColumn);
  });

  it.each([
    [{ countryColumn: 'Nation' }, 'has no column'],
    [{ countryColumn: '' }, 'empty'],
    [{ countryColumn: 'Mobile' }, 'also a phone column'],
    [{ phoneColumn: ['Phone', 'Country'], countryColumn: 'country' }, 'also a phone column'],
  ])('%j is ERR_INVALID_ARGUMENT naming countryColumn', (options, why) => {
    expect(() => detectColumns(headers, options)).toThrow(
      expect.objectContaining({
        code: 'ERR_INVALID_ARGUMENT',
        option: 'countryColumn',
        message: expect.stringContaining(why),
      }),
    );
  });

  it('a phone column named explicitly is never taken as the country', () => {
    expect(detectColumns(['ctry', 'Country'], { phoneColumn: 'ctry' })).toEqual({
      phoneColumns: [0],
      countryColumn: 1,
    });
  });

  it('duplicate country headers make detection ask', () => {
    expect(() => detectColumns(['phone', 'country', 'COUNTRY'])).toThrow(
      expect.objectContaining({ code: 'ERR_BAD_INPUT' }),
    );
    expect(detectColumns(['phone', 'country', 'COUNTRY'], { countryColumn: false }).countryColumn).toBe(null);
  });
});
