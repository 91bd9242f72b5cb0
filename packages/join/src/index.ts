export type {
  IndexSource,
  MatcherOptions,
  MatchOptions,
  MatchProgress,
  MatchResult,
  MatchUploadOptions,
} from './matcher.js';
export {
  createMatcher,
  loadIndex,
  Matcher,
  matchUpload,
  writeAudienceFile,
} from './matcher.js';
export type { JoinPoolOptions } from './pool.js';
export { JoinPool, resolveThreads } from './pool.js';
export type { MatchReport, ReportContext } from './report.js';
export { buildReport, DEFAULT_MIN_AUDIENCE, WITHHELD_WHEN_SUPPRESSED } from './report.js';
export type { TallyResult } from './tally.js';
export { formatAudience, Tally } from './tally.js';
