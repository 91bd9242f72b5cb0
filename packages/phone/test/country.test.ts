import { describe, expect, it } from 'vitest';
import { assertCountry, type CountryCode, normalizeBatch, normalizePhone } from '../src/index.js';

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

  it('a lower-case known country is accepted', () => {
    expect(normalizePhone('0712 123456', { defaultCountry: 'ke' as CountryCode }).ok).toBe(true);
  });
});
