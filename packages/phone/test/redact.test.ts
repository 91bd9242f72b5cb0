import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { countDigits, REDACTED_LENGTH, redactDigitRuns, redactIfNumeric, redactPhone } from '../src/index.js';

const MASKED = '•'.repeat(REDACTED_LENGTH);

describe('redactPhone', () => {
  it.each([
    ['+263712345637', '+2637•••••37'],
    ['+447400925334', '+4474•••••34'],
    ['  +254712123456\t', '+2547•••••56'],
    ['0712 123456', '0712 •••••56'],
    ['+4930123456', '+4930•••••56'],
    ['call me on 0771234567', 'call •••••67'],
    // Short strings are masked whole, as wide as any other redaction.
    ['0712123456', MASKED],
    ['+26377', MASKED],
    ['N/A', MASKED],
    ['', MASKED],
    // Code points, not UTF-16 units: an emoji is kept or masked whole.
    ['☎️☎️☎️☎️☎️☎️☎️☎️☎️☎️☎️', '☎️☎️☎•••••☎️'],
  ])('%j → %j', (text, expected) => {
    expect(redactPhone(text)).toBe(expected);
  });

  it('never shows a whole E.164 number, nor its national digits', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^\+[1-9][0-9]{6,14}$/), (e164) => {
        const redacted = redactPhone(e164);
        expect(redacted).not.toContain(e164.slice(1));
        expect(redacted.replace(/[^0-9]/g, '').length).toBeLessThanOrEqual(Math.max(0, e164.length - 5));
      }),
      { numRuns: 200 },
    );
  });

  it('never tells a number’s length: every redaction is REDACTED_LENGTH code points', () => {
    // Every length a phone number (or a user id) can have, from 1 to 20 digits, with and without +.
    const lengths = new Set<number>();
    for (let n = 1; n <= 20; n++) {
      for (const text of ['7'.repeat(n), `+${'4'.repeat(n)}`, '٧'.repeat(n), '７'.repeat(n)]) {
        lengths.add([...redactPhone(text)].length);
        lengths.add(redactPhone(text).length);
      }
    }
    expect([...lengths]).toEqual([REDACTED_LENGTH]);
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (text) => {
        expect([...redactPhone(text)].length).toBe(REDACTED_LENGTH);
      }),
      { numRuns: 300 },
    );
  });
});

describe('digits of every script libphonenumber-js reads (and every other Unicode Nd digit)', () => {
  const SCRIPTS: Array<[string, string]> = [
    ['ASCII', '07400123456'],
    ['full-width', '０７４００１２３４５６'],
    ['Arabic-Indic', '٠٧٤٠٠١٢٣٤٥٦'],
    ['Eastern Arabic-Indic (Persian)', '۰۷۴۰۰۱۲۳۴۵۶'],
    ['Devanagari', '०७४००१२३४५६'],
    ['Bengali', '০৭৪০০১২৩৪৫৬'],
    ['Thai', '๐๗๔๐๐๑๒๓๔๕๖'],
    ['Mathematical bold (astral)', '𝟎𝟕𝟒𝟎𝟎𝟏𝟐𝟑𝟒𝟓𝟔'],
  ];

  it.each(SCRIPTS)('%s: counted, redacted as a header, and redacted in free text', (_script, number) => {
    expect(countDigits(number)).toBe(11);
    expect(redactIfNumeric(number)).toBe(redactPhone(number));
    const message = `row 2: the cell ${number} is not E.164, and neither is ＋${number}`;
    const safe = redactDigitRuns(message);
    expect(safe).not.toContain(number);
    expect(safe).toBe(
      `row 2: the cell ${redactPhone(number)} is not E.164, and neither is ${redactPhone(`＋${number}`)}`,
    );
  });

  it('short runs (sizes, lines, limits) and words are kept', () => {
    expect(redactDigitRuns('line 1048576: 1024 characters, 7 columns')).toBe(
      'line 1048576: 1024 characters, 7 columns',
    );
    expect(redactIfNumeric('Phone 2')).toBe('Phone 2');
    expect(redactIfNumeric('Téléphone')).toBe('Téléphone');
  });
});
