import { describe, expect, it } from 'vitest';
import { redact } from '../src/index.js';

describe('redact', () => {
  it.each([
    ['+447400123456', '+4474••••••56'],
    ['+44 7400 123456', '+44 7••••••••56'],
    ['0712345678', '07123•••78'],
    ['123456789', '•••••••••'],
    ['', ''],
    ['x'.repeat(1000), 'xxxxx••••••••xx'],
  ])('%j → %j', (input, expected) => {
    expect(redact(input)).toBe(expected);
  });
});
