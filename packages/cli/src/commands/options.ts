import { InvalidArgumentError } from '@rollcall/errors';

/** Parses an integer option in [min, max]; throws a coded error naming the option. */
export function parseIntegerOption(
  option: string,
  text: string,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const value = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    throw new InvalidArgumentError(option, `must be an integer ${range}, got "${text}"`);
  }
  return value;
}
