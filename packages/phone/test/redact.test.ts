import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { redactPhone } from '../src/index.js';

describe('redactPhone', () => {
  it.each([
    ['+263712345637', '+2637•••••37'],
    ['+447400925334', '+4474•••••34'],
    ['  +254712123456\t', '+2547•••••56'],
    ['0712 123456', '0712 •••••56'],
    ['+4930123456', '+4930•••••56'],
    ['call me on 0771234567', 'call •••••67'],
    // Short strings are masked whole (and the mask does not tell their length).
    ['0712123456', '•••••'],
    ['+26377', '•••••'],
    ['N/A', '•••••'],
    ['', '•••••'],
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
});
