import fc from 'fast-check';
import countryNames from 'i18n-iso-countries';
import { getCountries } from 'libphonenumber-js/max';
import { describe, expect, it } from 'vitest';
import {
  assertCountry,
  type CountryCode,
  normalizeBatch,
  normalizePhone,
  resolveCountry,
} from '../src/index.js';

const unknownCountry = expect.objectContaining({ code: 'ERR_UNKNOWN_COUNTRY', option: 'defaultCountry' });

describe('assertCountry', () => {
  it.each([
    ['KE', 'KE'],
    ['ke', 'KE'],
    [' gb\t', 'GB'],
    ['Zw', 'ZW'],
  ])('%j → %s', (input, expected) => {
    expect(assertCountry(input)).toBe(expected);
  });

  it.each(['', '  ', 'XX', 'UK', 'KEN', '001', 'K E', '+254'])('%j throws ERR_UNKNOWN_COUNTRY', (input) => {
    expect(() => assertCountry(input)).toThrow(unknownCountry);
  });

  it('throws ERR_UNKNOWN_COUNTRY for a value that is not a string', () => {
    expect(() => assertCountry(undefined as unknown as string)).toThrow(unknownCountry);
    expect(() => assertCountry(254 as unknown as string)).toThrow(unknownCountry);
  });
});

describe('an unknown default country is an argument error, never a row rejection', () => {
  const defaultCountry = 'XX' as CountryCode;

  it('normalizePhone throws, even for a cell that needs no country', () => {
    expect(() => normalizePhone('+254712123456', { defaultCountry })).toThrow(unknownCountry);
  });

  it('normalizeBatch throws, even for an empty batch', () => {
    expect(() => normalizeBatch([], { defaultCountry })).toThrow(unknownCountry);
  });

  it('a missing default country throws; only null means "no country"', () => {
    const missing = undefined as unknown as CountryCode;
    expect(() => normalizePhone('+254712123456', { defaultCountry: missing })).toThrow(unknownCountry);
    expect(normalizePhone('+254712123456', { defaultCountry: null }).ok).toBe(true);
  });

  it('a lower-case known country is accepted', () => {
    expect(normalizePhone('0712 123456', { defaultCountry: 'ke' as CountryCode }).ok).toBe(true);
  });
});

describe('resolveCountry', () => {
  it.each<[string, CountryCode]>([
    // Alpha-2, any case, surrounding whitespace (NBSP and zero-width included).
    ['GB', 'GB'],
    ['gb', 'GB'],
    [' GB ', 'GB'],
    ['\u00A0ke\t', 'KE'],
    ['\u200BDe\u200B', 'DE'],
    // Codes libphonenumber-js knows beyond ISO 3166-1: Kosovo, Ascension, Tristan da Cunha.
    ['XK', 'XK'],
    ['ac', 'AC'],
    // `UK` is not ISO (the United Kingdom is GB), but spreadsheets write it: taken for GB.
    ['UK', 'GB'],
    ['uk', 'GB'],
    // Alpha-3.
    ['GBR', 'GB'],
    ['deu', 'DE'],
    [' Ken ', 'KE'],
    ['USA', 'US'],
    // English names: short, official, aliases; any case, accents and spacing.
    ['Germany', 'DE'],
    ['united kingdom', 'GB'],
    ['UNITED KINGDOM', 'GB'],
    ['United  Kingdom', 'GB'],
    ['Great Britain', 'GB'],
    ['United States', 'US'],
    ['United States of America', 'US'],
    ['U.S.A.', 'US'],
    ['UAE', 'AE'],
    ['Kenya', 'KE'],
    ["Côte d'Ivoire", 'CI'],
    ["Cote d'Ivoire", 'CI'],
    ['Côte d\u2019Ivoire', 'CI'],
    ['Ivory Coast', 'CI'],
    ['Türkiye', 'TR'],
    ['Turkey', 'TR'],
    ['Curacao', 'CW'],
    ['Republic of the Congo', 'CG'],
    ['Democratic Republic of the Congo', 'CD'],
    ['South Korea', 'KR'],
    ['Korea, Republic of', 'KR'],
    ['Russia', 'RU'],
    ['Kosovo', 'XK'],
    // Without the bracketed part of the data's name.
    ['Falkland Islands', 'FK'],
    ['Falkland Islands (Malvinas)', 'FK'],
    ['Sint Maarten', 'SX'],
  ])('%j → %s', (text, country) => {
    expect(resolveCountry(text)).toBe(country);
  });

  it.each(['', ' ', '\t\r\n', '\u00A0', '\u200B', '\uFEFF'])('%j (blank) → null', (text) => {
    expect(resolveCountry(text)).toBeNull();
  });

  it.each([
    'Narnia',
    'XX',
    'ZZ',
    '12',
    '826', // numeric codes are not read
    'GB1',
    'G B',
    'GBRR',
    'N/A',
    '-',
    'England', // not a country of ISO 3166-1
    'Congo', // CG and CD: neither
    'Virgin Islands', // VG and VI: neither
    'AQ', // Antarctica: ISO, but no numbering plan in libphonenumber-js
    'ATA',
    'Antarctica',
    'x'.repeat(200),
  ])('%j → undefined (unknown)', (text) => {
    expect(resolveCountry(text)).toBeUndefined();
  });

  it('is null for an absent cell (not a string)', () => {
    expect(resolveCountry(undefined as unknown as string)).toBeNull();
    expect(resolveCountry(null as unknown as string)).toBeNull();
  });

  it('gives the same answer from its cache as on the first call, past the cache bound', () => {
    const texts = ['gb', 'Narnia', '', 'GBR', 'germany'];
    const first = texts.map(resolveCountry);
    // More distinct texts than the cache holds, so that it is cleared in between.
    for (let i = 0; i < 3000; i++) resolveCountry(`unknown ${i}`);
    expect(texts.map(resolveCountry)).toEqual(first);
    expect(texts.map(resolveCountry)).toEqual(['GB', undefined, null, 'GB', 'DE']);
  });

  const supported = getCountries();

  it('reads every country libphonenumber-js supports by its alpha-2 code, and only those', () => {
    for (const country of supported) expect(resolveCountry(country.toLowerCase())).toBe(country);
    const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    for (const a of letters) {
      for (const b of letters) {
        const result = resolveCountry(a + b);
        if (a + b === 'UK') expect(result).toBe('GB');
        else expect(result).toBe((supported as string[]).includes(a + b) ? a + b : undefined);
      }
    }
  });

  it('reads every supported country by any spelling of its alpha-3 code or English name', () => {
    const spellings = supported.flatMap((country) => {
      const names = countryNames.getName(country, 'en', { select: 'all' }) ?? [];
      const alpha3 = countryNames.alpha2ToAlpha3(country);
      return [...names, ...(alpha3 === undefined ? [] : [alpha3])]
        .filter((text) => text !== 'Congo')
        .map((text) => ({ country, text }));
    });
    expect(spellings.length).toBeGreaterThan(2 * supported.length);
    // Random case per letter and random whitespace around.
    const respelled = fc.tuple(
      fc.constantFrom(...spellings),
      fc.array(fc.boolean(), { minLength: 60, maxLength: 60 }),
      fc.constantFrom('', ' ', '  ', '\t', '\u00A0'),
      fc.constantFrom('', ' ', '\r\n', '\u200B'),
    );
    fc.assert(
      fc.property(respelled, ([{ country, text }, upper, before, after]) => {
        const cased = [...text]
          .map((c, i) => (upper[i % upper.length] ? c.toUpperCase() : c.toLowerCase()))
          .join('');
        expect(resolveCountry(before + cased + after)).toBe(country);
      }),
      { numRuns: 500 },
    );
  });

  it('returns only null, undefined or a country libphonenumber-js supports, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 12 }), (text) => {
        const result = resolveCountry(text);
        if (result !== null && result !== undefined) expect(supported).toContain(result);
        if (text.trim() === '') expect(result).toBeNull();
      }),
      { numRuns: 500 },
    );
  });
});
