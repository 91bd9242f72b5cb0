/**
 * rollcall: match advertiser customer lists against a platform's phone-number index, exactly and
 * in parallel. This facade is the public library; the stage packages behind it are internal.
 */
export type { ErrorCode, InputPosition } from '@rollcall/errors';
export {
  ErrorCodes,
  FileError,
  IndexCorruptError,
  InputError,
  InvalidArgumentError,
  isRollcallError,
  RollcallError,
} from '@rollcall/errors';
export type {
  AudienceRefresh,
  BuildOptions,
  BuildProgress,
  BuildReport,
  HashConvention,
  IndexHeader,
  IndexInspection,
  IndexLockHolder,
  IndexReader,
  IndexRow,
  OpenIndexOptions,
  OptOutOptions,
  OptOutReport,
  ProbeHit,
  RefreshMode,
  RefreshOptions,
  RefreshReport,
  UpdateOptions,
  UpdateReport,
  UserId,
} from '@rollcall/index';
export {
  applyChanges,
  applyOptOuts,
  buildIndexFromRows,
  buildIndexInMemory,
  inspectIndex,
  openIndex,
  refreshAudience,
  writeIndexFile,
} from '@rollcall/index';
export type { AuditReport, CountryCount, MatchProgress, MatchReport, MatchResult } from '@rollcall/join';
export { DEFAULT_MIN_AUDIENCE, WITHHELD_WHEN_SUPPRESSED, writeAudienceFile } from '@rollcall/join';
export type {
  CountryCode,
  E164,
  NormalizeBatchOutput,
  NormalizeOptions,
  NormalizeResult,
  PhoneKey,
  PhoneMetadataInfo,
  RejectReason,
} from '@rollcall/phone';
export {
  assertCountry,
  hashPhoneHex,
  normalizeBatch,
  normalizePhone,
  phoneMetadataInfo,
  REJECT_REASONS,
  redactPhone,
} from '@rollcall/phone';
export type {
  Estimate,
  Ledger,
  LedgerEntry,
  LedgerState,
  PrivacyPolicy,
  ReleaseDecision,
  Released,
} from '@rollcall/privacy';
export {
  DEFAULT_PRIVACY_POLICY,
  defaultLedgerPath,
  FileLedger,
  MemoryLedger,
  PrivacyBudgetError,
} from '@rollcall/privacy';
export type { IndexSource, Matcher, MatcherOptions, MatchOptions, MatchUploadOptions } from './match.js';
export { createMatcher, matchUpload } from './match.js';
