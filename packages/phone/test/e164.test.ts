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

describe('isValidE164 (fast) equals isValidE164Reference (libphonenumber-js alone)', () => {
  it('on every phone of the conformance index and on mutations of them', async () => {
    const { readFileSync } = await import('node:fs');
    const { isValidE164Reference } = await import('../src/index.js');
    const text = readFileSync(new URL('../../../fixtures/conformance/index.csv', import.meta.url), 'utf8');
    const keys: number[] = [];
    for (const line of text.split('\n').slice(1)) {
      const phone = line.split(',')[0];
      if (!phone) continue;
      const key = Number(phone.slice(1));
      // The number itself, its last digit changed, one digit more and one fewer.
      keys.push(key, key - (key % 10) + ((key + 3) % 10), key * 10 + 7, Math.floor(key / 10));
    }
    let valid = 0;
    for (const key of keys) {
      const fast = isValidE164(key as PhoneKey);
      expect([key, fast]).toEqual([key, isValidE164Reference(key as PhoneKey)]);
      if (fast) valid++;
    }
    // Both outcomes occur, so the equality is not vacuous.
    expect(valid).toBeGreaterThan(keys.length / 5);
    expect(valid).toBeLessThan(keys.length);
  });
});
