export type { CountryCode } from 'libphonenumber-js/max';
export type { E164, PhoneKey } from './brands.js';
export { e164ToKey, isPhoneKey, keyToE164 } from './brands.js';
export { assertCountry, resolveCountry } from './country.js';
export { isValidE164, isValidE164Reference, parseE164Strict } from './e164.js';
export { callingCodeCountries, regionOfNumber } from './fast.js';
export type { HashConvention, HashedCellResult } from './hash.js';
export { hashPhone, hashPhoneHex, parseHashedCell, SHA256_BYTES } from './hash.js';
export type { PhoneMetadataInfo } from './metadata.js';
export { phoneMetadataInfo } from './metadata.js';
export type {
  NormalizeBatchOutput,
  NormalizeOptions,
  NormalizeResult,
  NormalizeRowsOptions,
  NormalizeRowsOutput,
} from './normalize.js';
export { normalizeBatch, normalizePhone, normalizePhoneReference, normalizeRows } from './normalize.js';
export type { RejectReason } from './reasons.js';
export { REJECT_REASONS, reasonCode, reasonOfCode, VALID_CODE } from './reasons.js';
export {
  countDigits,
  REDACTED_LENGTH,
  redactDigitRuns,
  redactIfNumeric,
  redactPhone,
} from './redact.js';
