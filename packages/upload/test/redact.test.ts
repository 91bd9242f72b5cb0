import { REDACTED_LENGTH, redactPhone } from '@rollcall/phone';
import { describe, expect, it } from 'vitest';
import { showHeader } from '../src/redact.js';

describe('showHeader: headers in messages, through the phone package’s one redaction', () => {
  it.each([
    ['Phone Number', '"Phone Number"'],
    ['phone 2', '"phone 2"'],
    ['+447400123456', '"+4474•••••56"'],
    ['+44 7400 123456', '"+44 7•••••56"'],
    ['0712345678', '"••••••••••••"'],
    // Digits of any script are digits: Arabic-Indic, Persian, full-width, Devanagari.
    ['٠٧٤٠٠١٢٣٤٥٦', '"٠٧٤٠٠•••••٥٦"'],
    ['۰۷۴۰۰۱۲۳۴۵۶', '"۰۷۴۰۰•••••۵۶"'],
    ['０７４００１２３４５６', '"０７４００•••••５６"'],
    ['०७४००१२३४५६', '"०७४००•••••५६"'],
    ['x'.repeat(1000), `"${'x'.repeat(40)}…"`],
  ])('%j → %s', (header, shown) => {
    expect(showHeader(header)).toBe(shown);
  });

  it('a number shown as a header tells nothing of its length', () => {
    const shown = [
      '07400123',
      '074001234',
      '0740012345',
      '+4474001234',
      '+447400123456',
      '+4474001234567',
    ].map((n) => showHeader(n));
    for (const s of shown) expect([...JSON.parse(s)].length).toBe(REDACTED_LENGTH);
    expect(shown.map((s) => JSON.parse(s))).toEqual(shown.map((s) => redactPhone(JSON.parse(s))));
  });
});
