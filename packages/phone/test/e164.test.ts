import { describe, expect, it } from 'vitest';
import { isValidE164, normalizePhone, type PhoneKey, parseE164Strict } from '../src/index.js';

describe('parseE164Strict', () => {
  it.each<[string, number]>([
    ['+447400925334', 447400925334],
    ['+254712123456', 254712123456],
    ['+12015550123', 12015550123],
    // Syntax only: a known country code and at most 15 digits, valid range or not.
    ['+10000000000', 10000000000],
    ['+447400123456789', 447400123456789],
    // Non-geographic calling codes.
    ['+80012345678', 80012345678],
    ['+882123456789', 882123456789],
    ['+870773111632', 870773111632],
  ])('%s → %d', (text, key) => {
    expect(parseE164Strict(text)).toBe(key);
  });

  it.each([
    '',
    '+',
    '447400925334',
    ' +447400925334',
    '+447400925334 ',
    '+44 7400 925334',
    '+44-7400-925334',
    '++447400925334',
    '\uFF0B447400925334',
    '+4474009253341234', // 16 digits
    '+0447400925334',
    '+999123456',
    '+44',
    '+441',
    'tel:+447400925334',
    '+447400925334;ext=1',
    '+٤٤٧٤٠٠٩٢٥٣٣٤',
  ])('%j → undefined', (text) => {
    expect(parseE164Strict(text)).toBeUndefined();
  });
});

describe('isValidE164', () => {
  it.each<[number, boolean]>([
    [447400925334, true],
    [254712123456, true],
    [12015550123, true],
    [10000000000, false],
    [254812123456, false],
    [4474001234567, false],
    [999123456, false],
    [0, false],
    [-447400925334, false],
    [447400925334.5, false],
    [Number.NaN, false],
    [1e16, false],
  ])('%d → %s', (key, valid) => {
    expect(isValidE164(key as PhoneKey)).toBe(valid);
  });

  it('agrees with normalizePhone on E.164 text', () => {
    for (const key of [447400925334, 254712123456, 10000000000, 254812123456, 80012345678]) {
      expect(isValidE164(key as PhoneKey)).toBe(normalizePhone(`+${key}`, { defaultCountry: 'KE' }).ok);
    }
  });
});
