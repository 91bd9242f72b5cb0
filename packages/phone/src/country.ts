import { ErrorCodes, InvalidArgumentError } from '@rollcall/errors';
import type { CountryCode } from 'libphonenumber-js/max';
import { isSupportedCountry } from 'libphonenumber-js/max';

/**
 * Checks a default country given by a caller (option or CLI flag): trims, upper-cases, and
 * returns it as a `CountryCode` libphonenumber-js's max metadata knows. An unknown country is a
 * bad argument, never a row rejection: throws `InvalidArgumentError` naming `defaultCountry`
 * with code `ERR_UNKNOWN_COUNTRY`.
 */
export function assertCountry(code: string): CountryCode {
  if (typeof code === 'string') {
    const upper = code.trim().toUpperCase();
    if (isSupportedCountry(upper)) return upper;
  }
  throw new InvalidArgumentError(
    'defaultCountry',
    `unknown country ${JSON.stringify(code)}: expected an ISO 3166-1 alpha-2 code such as "KE" or "GB"`,
    ErrorCodes.UNKNOWN_COUNTRY,
  );
}
