import examples from 'libphonenumber-js/examples.mobile.json';
import { type CountryCode, getExampleNumber, type PhoneNumber } from 'libphonenumber-js/max';
import { describe, expect, it } from 'vitest';
import {
  type NormalizeResult,
  normalizeBatch,
  normalizePhone,
  normalizePhoneReference,
  REJECT_REASONS,
  type RejectReason,
  reasonCode,
  reasonOfCode,
} from '../src/index.js';

/**
 * The countries of the table: each with the international dialling prefix a caller there
 * dials, its trunk prefix (if national numbers are written with one), and another country to
 * upload the number under, for the spellings that cross borders.
 */
const COUNTRIES: { country: CountryCode; idd: string; trunk?: string; abroad: CountryCode }[] = [
  { country: 'ZW', idd: '00', trunk: '0', abroad: 'KE' },
  { country: 'ZA', idd: '00', trunk: '0', abroad: 'GB' },
  { country: 'NG', idd: '009', trunk: '0', abroad: 'ZA' },
  { country: 'KE', idd: '000', trunk: '0', abroad: 'US' },
  { country: 'IN', idd: '00', trunk: '0', abroad: 'KE' },
  { country: 'ID', idd: '009', trunk: '0', abroad: 'KE' },
  // Brazil dials abroad through a chosen carrier: 00 + carrier code (15 here) + country code.
  { country: 'BR', idd: '0015', trunk: '0', abroad: 'MX' },
  { country: 'MX', idd: '00', abroad: 'BR' },
  { country: 'AR', idd: '00', trunk: '0', abroad: 'KE' },
  { country: 'US', idd: '011', trunk: '1', abroad: 'GB' },
  { country: 'GB', idd: '00', trunk: '0', abroad: 'KE' },
  { country: 'DE', idd: '00', trunk: '0', abroad: 'KE' },
  { country: 'FR', idd: '00', trunk: '0', abroad: 'NG' },
  { country: 'ES', idd: '00', abroad: 'IN' },
  { country: 'JP', idd: '010', trunk: '0', abroad: 'KE' },
  { country: 'AU', idd: '0011', trunk: '0', abroad: 'ZW' },
  { country: 'RU', idd: '810', trunk: '8', abroad: 'KE' },
];

/** Every spelling of one number the normaliser must read, with the default country it is read in. */
function spellings(
  phone: PhoneNumber,
  { country, idd, trunk, abroad }: (typeof COUNTRIES)[number],
): [spelling: string, cell: string, defaultCountry: CountryCode][] {
  const intl = phone.formatInternational(); // e.g. "+263 71 234 5678"
  const [cc, first, ...rest] = intl.split(' ');
  const nsn = phone.nationalNumber;
  const rows: [string, string, CountryCode][] = [
    ['E.164', phone.number, country],
    ['E.164, another default country', phone.number, abroad],
    ['international, spaces', intl, country],
    ['international, spaces, another default country', intl, abroad],
    ['international, dashes', intl.replaceAll(' ', '-'), country],
    ['international, dots', intl.replaceAll(' ', '.'), country],
    ['international, brackets', `${cc} (${first}) ${rest.join(' ')}`, country],
    ['international, plus and country code in brackets', `(${cc}) ${first} ${rest.join(' ')}`, country],
    ['international, trunk prefix in brackets', `${cc} (${trunk ?? ''}) ${first} ${rest.join(' ')}`, country],
    ['national, as printed', phone.formatNational(), country],
    ['national, no trunk prefix', nsn, country],
    ['national, no trunk prefix, dashes', `${nsn.slice(0, 3)}-${nsn.slice(3)}`, country],
    ['IDD of the default country', `${idd} ${intl.slice(1)}`, country],
    ['IDD of the default country, no spaces', `${idd}${phone.number.slice(1)}`, country],
    ['tel: URI', phone.getURI(), abroad],
    ['tel: URI, upper-case scheme', phone.getURI().replace('tel:', 'TEL:'), country],
    ['tel: URI with separators', `tel:${intl.replaceAll(' ', '-')}`, country],
    [
      'tel: URI, local number with phone-context',
      `tel:${nsn};phone-context=+${phone.countryCallingCode}`,
      abroad,
    ],
    ['tel: URI, local number with a domain phone-context', `tel:${nsn};phone-context=example.com`, country],
    ['tel: URI with other parameters', `${phone.getURI()};isub=1234;foo=bar`, country],
    ['surrounding whitespace (NBSP, tab, newline)', `\u00A0 ${intl}\t\n`, country],
    ['surrounding zero-width space', `\u200B${phone.number}\u200B`, country],
    // A guess: not valid as a national number of `abroad`, valid with `+` prepended.
    ['country code without +, another default country (guessed)', phone.number.slice(1), abroad],
    ['full-width digits', toFullWidth(phone.number), country],
  ];
  if (trunk !== undefined) rows.push(['national, trunk prefix + digits', trunk + nsn, country]);
  return rows;
}

function toFullWidth(text: string): string {
  return text.replace(/[0-9+]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
}

describe.each(COUNTRIES)('normalizePhone: $country', (entry) => {
  const phone = getExampleNumber(entry.country, examples)!;
  const e164 = phone.number;

  it.each(spellings(phone, entry))('%s: %j (default %s)', (spelling, cell, defaultCountry) => {
    const expected = { ok: true, e164, key: Number(e164.slice(1)) };
    expect(normalizePhone(cell, { defaultCountry })).toStrictEqual(
      spelling.endsWith('(guessed)') ? { ...expected, international: true } : expected,
    );
  });
});

describe('normalizePhone: rejects', () => {
  const cases: [cell: string, defaultCountry: CountryCode, reason: RejectReason][] = [
    ['', 'KE', 'EMPTY'],
    ['   ', 'KE', 'EMPTY'],
    ['\u00A0\t\r\n', 'KE', 'EMPTY'],
    ['\u200B', 'KE', 'EMPTY'],
    ['abc-def-ghij', 'KE', 'NOT_A_NUMBER'],
    ['call me', 'KE', 'NOT_A_NUMBER'],
    ["=cmd|' /C calc'!A0", 'KE', 'NOT_A_NUMBER'],
    ['=HYPERLINK("tel:+254712123456")', 'KE', 'NOT_A_NUMBER'],
    ['#REF!', 'KE', 'NOT_A_NUMBER'],
    ['NULL', 'KE', 'NOT_A_NUMBER'],
    ['none', 'KE', 'NOT_A_NUMBER'],
    ['N/A', 'KE', 'NOT_A_NUMBER'],
    ['\u260E\uFE0F', 'KE', 'NOT_A_NUMBER'],
    ['-', 'KE', 'NOT_A_NUMBER'],
    ['+', 'KE', 'NOT_A_NUMBER'],
    // Two plus signs: libphonenumber-js does not read it as a number at all.
    ['++44 20', 'KE', 'NOT_A_NUMBER'],
    ['++447400123456', 'KE', 'NOT_A_NUMBER'],
    // Strict: nothing is extracted from free text, before or after the number.
    ['call me on 0771234567', 'GB', 'NOT_A_NUMBER'],
    ['07400 123456 (mobile)', 'GB', 'NOT_A_NUMBER'],
    ["'+447400123456", 'GB', 'NOT_A_NUMBER'],
    ['"+447400123456"', 'GB', 'NOT_A_NUMBER'],
    ['(call +44) 7400 123456', 'GB', 'NOT_A_NUMBER'],
    ['tel. 07400 123456', 'GB', 'NOT_A_NUMBER'],
    ['0712 123456 / 0712 123457x', 'KE', 'NOT_A_NUMBER'],
    ['tel:', 'KE', 'NOT_A_NUMBER'],
    ['tel:;phone-context=+254', 'KE', 'NOT_A_NUMBER'],
    ['tel:0712123456;phone-context=', 'KE', 'NOT_A_NUMBER'],
    ['tel:0712123456;phone-context=+254;phone-context=+255', 'KE', 'NOT_A_NUMBER'],
    ['tel:0712123456;phone-context=not a context', 'KE', 'NOT_A_NUMBER'],
    ['mailto:+254712123456', 'KE', 'NOT_A_NUMBER'],
    [`call ${'x'.repeat(300)}`, 'KE', 'NOT_A_NUMBER'],
    ['+263 77', 'KE', 'TOO_SHORT'],
    ['12', 'KE', 'TOO_SHORT'],
    ['+1 201 555 012', 'US', 'TOO_SHORT'],
    ['1234567890123456789012', 'KE', 'TOO_LONG'],
    ['+44 7400 1234567', 'KE', 'TOO_LONG'],
    ['+1 201 555 01234', 'US', 'TOO_LONG'],
    ['1'.repeat(300), 'KE', 'TOO_LONG'],
    ['+999 123 4567', 'KE', 'INVALID_COUNTRY'],
    ['+0 712 123456', 'KE', 'INVALID_COUNTRY'],
    ['tel:+999-123-4567', 'KE', 'INVALID_COUNTRY'],
    ['+1 (000) 000-0000', 'KE', 'INVALID_NUMBER'],
    ['0000000000', 'KE', 'INVALID_NUMBER'],
    ['+44 7400 12345', 'KE', 'INVALID_NUMBER'],
    ['+254 812 123456', 'KE', 'INVALID_NUMBER'],
    // Not the default country's IDD prefix (Kenya dials 000): rejected, never guessed (the
    // reason is that of the national reading, 14 digits).
    ['00 44 7400 123456', 'KE', 'TOO_LONG'],
    // Valid in libphonenumber-js, but more than 15 digits: never on the platform.
    ['+49 211 056196942043', 'KE', 'OVER_15_DIGITS'],
    ['0211 056196942043', 'DE', 'OVER_15_DIGITS'],
  ];

  // Strict mode: a country code without `+` is refused, not guessed.
  const strictCases: [cell: string, defaultCountry: CountryCode, reason: RejectReason][] = [
    ['447400925334', 'KE', 'MISSING_PLUS'],
    ['2015550123', 'FR', 'MISSING_PLUS'],
    // As a Kenyan number too long; as +99… an unknown country code: the first reading's reason.
    ['9991234567890', 'KE', 'TOO_LONG'],
  ];

  it('covers every reason a phone cell can have', () => {
    const reasons = new Set([...cases, ...strictCases].map(([, , reason]) => reason));
    expect([...reasons].sort()).toEqual(
      REJECT_REASONS.filter((r) => r !== 'NOT_A_HASH' && r !== 'MALFORMED_ROW').sort(),
    );
  });

  it.each(cases)('%j (default %s) → %s', (cell, defaultCountry, reason) => {
    expect(normalizePhone(cell, { defaultCountry })).toEqual({ ok: false, reason });
    expect(normalizePhoneReference(cell, { defaultCountry })).toEqual({ ok: false, reason });
  });

  it.each(strictCases)('%j (default %s, strict) → %s', (cell, defaultCountry, reason) => {
    expect(normalizePhone(cell, { defaultCountry, strict: true })).toEqual({ ok: false, reason });
    expect(normalizePhoneReference(cell, { defaultCountry, strict: true })).toEqual({ ok: false, reason });
  });
});

describe('normalizePhone: a country code without +', () => {
  it.each<[string, CountryCode, string, guessed: boolean]>([
    // Not a Kenyan number: read as +44, a guess.
    ['447400925334', 'KE', '+447400925334', true],
    ['263712873783', 'KE', '+263712873783', true],
    ['918123457413', 'KE', '+918123457413', true],
    // Not a French number: read as the Egyptian +20 15550123 (not the American (201) 555-0123).
    ['2015550123', 'FR', '+2015550123', true],
    // The default country's own code without + (libphonenumber-js reads it so itself): as written.
    ['254712123456', 'KE', '+254712123456', false],
    // Valid as a national number of the default country: that reading wins, the other is never
    // tried (Indonesian fixed-line numbers start 62…, German ones vary in length).
    ['62812345678', 'ID', '+6262812345678', false],
    ['4915123456789', 'DE', '+494915123456789', false],
    ['819012345678', 'ID', '+62819012345678', false],
    // A full-width plus is a plus (libphonenumber-js alone would drop it and read 62… nationally).
    ['\uFF0B62812345678', 'ID', '+62812345678', false],
  ])('%s (default %s) → %s, guessed: %s', (cell, defaultCountry, e164, guessed) => {
    const result = normalizePhone(cell, { defaultCountry });
    const expected = { ok: true, e164, key: Number(e164.slice(1)) };
    expect(result).toStrictEqual(guessed ? { ...expected, international: true } : expected);
    expect(normalizePhoneReference(cell, { defaultCountry })).toStrictEqual(result);
    // Strict: a guess is refused; a reading as written is kept.
    expect(normalizePhone(cell, { defaultCountry, strict: true })).toEqual(
      guessed ? { ok: false, reason: 'MISSING_PLUS' } : expected,
    );
  });

  it('gives the first reading’s reason when neither is valid', () => {
    // As a Kenyan number too long; as +99… an unknown country code.
    expect(normalizePhone('9991234567890', { defaultCountry: 'KE' })).toEqual({
      ok: false,
      reason: 'TOO_LONG',
    });
  });

  it('is not tried for a cell that does not start with a digit', () => {
    // "(44) 7400 925334" is a national spelling with an area code in brackets, not +44.
    expect(normalizePhone('(44) 7400 925334', { defaultCountry: 'KE' }).ok).toBe(false);
  });
});

describe('normalizePhone: extensions', () => {
  it.each(['+1 201 555 0123 ext. 5', '+1 201 555 0123 x5', 'tel:+1-201-555-0123;ext=5'])(
    '%j reads as the main number',
    (cell) => {
      const result = normalizePhone(cell, { defaultCountry: 'US' });
      expect(result.ok && result.e164).toBe('+12015550123');
    },
  );
});

describe('normalizeBatch', () => {
  const cells = ['+254712123456', '', '0712 123456', 'N/A', '447400925334', '+263 77', '+999 123 4567'];

  it('equals normalizePhone cell by cell', () => {
    const { keys, reasons } = normalizeBatch(cells, { defaultCountry: 'KE' });
    const expected = cells.map((cell) => normalizePhone(cell, { defaultCountry: 'KE' }));
    expect([...keys]).toEqual(expected.map((r) => (r.ok ? r.key : 0)));
    expect([...reasons]).toEqual(expected.map((r) => (r.ok ? 0 : reasonCode(r.reason))));
    expect([...reasons].map(reasonOfCode)).toEqual([
      undefined,
      'EMPTY',
      undefined,
      'NOT_A_NUMBER',
      undefined,
      'TOO_SHORT',
      'INVALID_COUNTRY',
    ]);
  });

  it('fills and returns the arrays it is given, overwriting what was there', () => {
    const out = { keys: new Float64Array(10).fill(7), reasons: new Uint8Array(10).fill(9) };
    const result = normalizeBatch(['N/A', '+254712123456'], { defaultCountry: 'KE' }, out);
    expect(result).toBe(out);
    expect([...out.keys.subarray(0, 3)]).toEqual([0, 254712123456, 7]);
    expect([...out.reasons.subarray(0, 3)]).toEqual([reasonCode('NOT_A_NUMBER'), 0, 9]);
  });

  it('throws ERR_INVALID_ARGUMENT when the arrays are too short', () => {
    const out = { keys: new Float64Array(1), reasons: new Uint8Array(2) };
    expect(() => normalizeBatch(['1', '2'], { defaultCountry: 'KE' }, out)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', option: 'out.keys' }),
    );
  });

  it('handles an empty batch', () => {
    const { keys, reasons } = normalizeBatch([], { defaultCountry: 'KE' });
    expect([keys.length, reasons.length]).toEqual([0, 0]);
  });
});

describe('results', () => {
  it('reject results are shared, frozen values', () => {
    const a: NormalizeResult = normalizePhone('N/A', { defaultCountry: 'KE' });
    expect(a).toBe(normalizePhone('#REF!', { defaultCountry: 'KE' }));
    expect(Object.isFrozen(a)).toBe(true);
  });

  it('reason codes are 1-based positions, 0 is valid', () => {
    REJECT_REASONS.forEach((reason, i) => {
      expect(reasonCode(reason)).toBe(i + 1);
      expect(reasonOfCode(i + 1)).toBe(reason);
    });
    expect(reasonOfCode(0)).toBeUndefined();
  });
});
