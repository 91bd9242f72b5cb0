export { keyedDiscreteLaplace, keyedUniform, setFingerprint } from './keyed.js';
export type { Ledger, LedgerEntry, LedgerState } from './ledger.js';
export { defaultLedgerPath, FileLedger, MemoryLedger } from './ledger.js';
export type {
  Estimate,
  ExactCounts,
  PrivacyPolicy,
  ProtectInput,
  ReleaseDecision,
  Released,
} from './release.js';
export {
  checkAdvertiser,
  DEFAULT_PRIVACY_POLICY,
  PrivacyBudgetError,
  privacyPolicy,
  protect,
} from './release.js';
export { SKETCH_SIZE, similarity, sketchOf, sketchSeeds } from './sketch.js';
