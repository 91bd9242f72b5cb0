import type { CountryCode } from 'libphonenumber-js/max';
import { describe, expect, it } from 'vitest';
import { normalizeFast } from '../src/fast.js';
import { normalizePhone, normalizePhoneReference } from '../src/index.js';
import { countryPlan } from '../src/plans.js';

describe('normalizePhone: the cases libphonenumber-js decides with care', () => {
  it.each<[cell: string, defaultCountry: CountryCode, e164: string]>([
    // Calling codes shared by several countries: leading digits or number types pick the country.
    ['+1 684 733 1234', 'US', '+16847331234'], // AS
    ['+1 204 234 5678', 'US', '+12042345678'], // CA
    ['+1 340 642 1234', 'GB', '+13406421234'], // VI
    ['+7 701 234 5678', 'RU', '+77012345678'], // KZ
    ['+7 912 345 6789', 'KZ', '+79123456789'], // RU
    ['+44 7624 123456', 'GB', '+447624123456'], // IM
    ['+47 79 12 34 56', 'NO', '+4779123456'], // SJ
    ['+61 8 9162 1234', 'AU', '+61891621234'], // CC
    ['+61 8 9164 1234', 'AU', '+61891641234'], // CX
    ['+262 269 61 12 34', 'FR', '+262269611234'], // YT
    ['+590 690 00 12 34', 'FR', '+590690001234'], // GP
    ['+590 590 27 12 34', 'FR', '+590590271234'], // BL
    ['+599 9 518 1234', 'NL', '+59995181234'], // CW
    ['+599 318 1234', 'NL', '+5993181234'], // BQ
    ['+358 18 12345', 'FI', '+3581812345'], // AX
    ['+39 06 698 12345', 'IT', '+390669812345'], // VA
    // Trunk prefixes rewritten by a transform rule, carrier codes, IDD prefixes.
    ['011 15-2345-6789', 'AR', '+5491123456789'],
    ['0 11 15 2345 6789', 'AR', '+5491123456789'],
    ['0 15 11 96123 4567', 'BR', '+5511961234567'],
    ['(11) 96123-4567', 'BR', '+5511961234567'],
    ['8 (912) 345-67-89', 'RU', '+79123456789'],
    ['8 800 555 35 35', 'RU', '+78005553535'],
    ['810 44 7400 123456', 'RU', '+447400123456'],
    ['0011 44 7400 123456', 'AU', '+447400123456'],
    ['0015 44 7400 123456', 'BR', '+447400123456'],
    ['0549 912345', 'SM', '+3780549912345'],
    // A trunk prefix written after the country code; the country code without `+`.
    ['+44 (0) 7400 123456', 'KE', '+447400123456'],
    ['440 7400 123456', 'GB', '+447400123456'],
    ['4407400123456', 'GB', '+447400123456'],
    // Non-geographic calling codes.
    ['+800 1234 5678', 'KE', '+80012345678'],
    ['+882 16 12345', 'KE', '+8821612345'],
  ])('%j (default %s) → %s, as the reference', (cell, defaultCountry, e164) => {
    const result = normalizePhone(cell, { defaultCountry });
    expect(result).toEqual({ ok: true, e164, key: Number(e164.slice(1)) });
    expect(result).toEqual(normalizePhoneReference(cell, { defaultCountry }));
  });

  it.each<[cell: string, defaultCountry: CountryCode]>([
    ['+44 7700 900123', 'IM'],
    ['+262 639 12 34 56', 'RE'],
    ['+290 8 1234', 'SH'],
    ['2345678', 'VI'],
    ['200 12 345', 'MG'],
    ['12', 'KE'],
    ['1', 'KE'],
    ['+1', 'KE'],
    ['(1)2', 'KE'],
    ['(+)', 'KE'],
    ['+0 712 123456', 'KE'],
    ['000 0 712 123456', 'KE'],
  ])('%j (default %s) is rejected with the reference’s reason', (cell, defaultCountry) => {
    const result = normalizePhone(cell, { defaultCountry });
    expect(result.ok).toBe(false);
    expect(result).toEqual(normalizePhoneReference(cell, { defaultCountry }));
  });
});

describe('the fast path', () => {
  const ke = countryPlan('KE');

  it.each([
    '+254712123456',
    '0712 123456',
    '(0712) 123-456',
    '  +254 712 123 456 ',
    'tel:+254-712-123456',
    '(+254) 712 123456',
    '\uFF0B254712123456',
    '000 44 7400 123456',
    '12',
    'N/A',
    '',
  ])('answers the plain cell %j itself', (cell) => {
    expect(normalizeFast(cell, ke, false)).toEqual(normalizePhoneReference(cell, { defaultCountry: 'KE' }));
  });

  it.each([
    '\uFF10712123456', // full-width digits
    '0712123456 ext. 5',
    '0712123456#',
    'tel:0712123456;phone-context=+254',
    '0712\u2013123456', // en dash
    '+254 712 123456\u00AD', // soft hyphen inside
    '0712a123456',
    '1'.repeat(220),
  ])('leaves %j to the reference', (cell) => {
    expect(normalizeFast(cell, ke, false)).toBeUndefined();
  });
});

describe('determinism', () => {
  it('reads a cell holding a phone-context the same whatever was read before it', () => {
    // libphonenumber-js validates the context with RegExps that keep state between calls.
    const options = { defaultCountry: 'GB' as const };
    for (const cell of [
      ';phone-context=+44',
      '7400123456;phone-context=+44',
      '07400123456;phone-context=example.com',
    ]) {
      const first = normalizePhoneReference(cell, options);
      expect(normalizePhoneReference(cell, options)).toEqual(first);
      expect(normalizePhone(cell, options)).toEqual(first);
      expect(normalizePhone(cell, options)).toEqual(first);
    }
  });

  it('does not carry a rejection remembered under one default country into another', () => {
    // Full-width digits go to the reference, whose rejections are remembered per country.
    const cell = '\uFF10\uFF17\uFF11\uFF12\uFF11\uFF12\uFF13\uFF14\uFF15\uFF16';
    expect(normalizePhone(cell, { defaultCountry: 'GB' }).ok).toBe(false);
    expect(normalizePhone(cell, { defaultCountry: 'GB' }).ok).toBe(false);
    expect(normalizePhone(cell, { defaultCountry: 'KE' })).toEqual({
      ok: true,
      e164: '+254712123456',
      key: 254712123456,
    });
  });
});
