export type {
  MatchOptions,
  MatchProgress,
  MatchResult,
  MatchSettings,
  Prober,
  ProbeSession,
} from './match-loop.js';
export { matchSettings, runMatch } from './match-loop.js';
export type { AuditReport, CountryCount, IndexFacts, MatchReport, ReportContext } from './match-report.js';
export { buildAudit, buildReport, DEFAULT_MIN_AUDIENCE, WITHHELD_WHEN_SUPPRESSED } from './match-report.js';
export type { IndexSource, MatcherOptions, MatchUploadOptions } from './matcher.js';
export {
  createMatcher,
  loadIndex,
  Matcher,
  matchUpload,
  writeAudience,
  writeAudienceFile,
} from './matcher.js';
export type { JoinPoolOptions } from './pool.js';
export { JoinPool, resolveThreads } from './pool.js';
export type { BatchResultViews } from './protocol.js';
export type { UploadRows, UploadRowsOutput } from './rows.js';
export { normalizeUploadRows, rejectMalformedRows } from './rows.js';
export type { ColumnTally, NumberTally, RejectExample, RowVerdicts, TallyResult } from './tally.js';
export { exampleCell, formatAudience, REJECT_EXAMPLES_PER_REASON, Tally } from './tally.js';
