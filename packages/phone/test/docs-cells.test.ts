/**
 * The README's "Cells" section says what is read and what is refused; this holds it to the code
 * for the invisible characters it names (issue 16, item 9: it said byte-order marks are ignored,
 * but one inside a number is NOT_A_NUMBER, as libphonenumber-js reads it).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, test } from 'vitest';
import { normalizePhone, normalizePhoneReference } from '../src/index.js';

const README = readFileSync(resolve(import.meta.dirname, '../../../README.md'), 'utf8');
const CELLS = README.slice(README.indexOf('## Cells'), README.indexOf('## Library'));

const reason = (cell: string): string => {
  const fast = normalizePhone(cell, { defaultCountry: 'GB' });
  const reference = normalizePhoneReference(cell, { defaultCountry: 'GB' });
  // The two normalisers agree, and the reference is libphonenumber-js at every step.
  expect(fast).toEqual(reference);
  return fast.ok ? fast.e164 : fast.reason;
};

describe('invisible characters, as the README says', () => {
  test.each([
    ['zero-width space', '\u200B'],
    ['word joiner', '\u2060'],
    ['soft hyphen', '\u00AD'],
  ])('a %s is ignored inside and around the number', (_name, c) => {
    expect(reason(`${c}07400${c}123456${c}`)).toBe('+447400123456');
    expect(reason(`+447400${c}123456${c}`)).toBe('+447400123456');
    expect(CELLS).toMatch(
      /zero-width spaces, word joiners and soft hyphens, which are ignored inside and\s+around the number/,
    );
  });

  test('a soft hyphen before a leading + hides the + (as the README says)', () => {
    expect(reason('\u00AD+447400123456')).toBe('NOT_A_NUMBER');
    expect(reason('\u200B+447400123456')).toBe('+447400123456');
    expect(CELLS).toMatch(/a soft hyphen before a leading `\+` hides the `\+` from libphonenumber-js/);
  });

  test('a byte-order mark is ignored before or after the number, and is NOT_A_NUMBER inside it', () => {
    expect(reason('\uFEFF+447400123456')).toBe('+447400123456');
    expect(reason('+447400123456\uFEFF')).toBe('+447400123456');
    expect(reason('\uFEFF07400 123456\uFEFF')).toBe('+447400123456');
    expect(reason('+447400\uFEFF123456')).toBe('NOT_A_NUMBER');
    expect(reason('07400\uFEFF123456')).toBe('NOT_A_NUMBER');
    expect(CELLS).toMatch(/a byte-order mark \(U\+FEFF\) is ignored before or after the number only/);
    expect(CELLS).toMatch(/a zero-width non-joiner, a thin space or a byte-order mark inside the number/);
    // The old claim, that byte-order marks are ignored (anywhere), is gone.
    expect(CELLS).not.toMatch(/soft hyphens and byte-order marks, which are ignored/);
  });
});
