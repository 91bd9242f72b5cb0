export { buildIndexInMemory, writeIndexFile } from './build/from-csv.js';
export { buildIndexFromRows } from './build/from-rows.js';
export type { BuildReport } from './build/image-builder.js';
export type { BuildOptions, BuildProgress } from './build/options.js';
export { DEFAULT_HASH_SEED } from './build/options.js';
export type { IndexRow, SourceRowProblem } from './build/source-rules.js';
export {
  DuplicatePhoneError,
  ROWS_SOURCE,
  SOURCE_COLUMNS,
  SOURCE_ROW_PROBLEMS,
} from './build/source-rules.js';
export type { ChangeOp, ChangeRowProblem } from './changes.js';
export { CHANGE_COLUMNS, CHANGE_OPS, CHANGE_ROW_PROBLEMS } from './changes.js';
export type { EligibilityLog } from './eligibility-log.js';
export { eligibilityLogPath, LOG_KIND } from './eligibility-log.js';
export type { ChecksumState, IndexInspection } from './inspect.js';
export { inspectIndex } from './inspect.js';
export { keyHash, keySlot, slotOf } from './key-hash.js';
export { FORMAT_VERSION, MAGIC as INDEX_MAGIC } from './layout.js';
export type { OpenIndexOptions } from './load.js';
export { openIndex } from './load.js';
export type { IndexLockHolder, IndexLockOptions } from './lock.js';
export { IndexLock, IndexLockedError, lockIndex, lockPathOf, withIndexLock } from './lock.js';
export type { OptOutOptions, OptOutReport } from './optouts.js';
export { applyOptOuts, OPT_OUT_COLUMNS } from './optouts.js';
export type { PostgresSource } from './postgres.js';
export {
  applyChangesFromPostgres,
  isPostgresUrl,
  redactPostgresUrl,
  writeIndexFileFromPostgres,
  writeShardedIndexFilesFromPostgres,
} from './postgres.js';
export { FOUND, indexFromBuffer } from './reader.js';
export type { AudienceRefresh, RefreshMode, RefreshOptions, RefreshReport } from './refresh.js';
export { refreshAudience } from './refresh.js';
export type { ShardedBuildOptions, ShardedBuildReport } from './shards.js';
export { MAX_SHARDS, shardFilePaths, shardOfKey, writeShardedIndexFiles } from './shards.js';
export type { HashConvention, IndexHeader, IndexReader, ProbeHit } from './types.js';
export type { UpdateOptions, UpdateReport } from './update.js';
export { applyChanges } from './update.js';
export type { UserId } from './user-id.js';
export { parseUserId, userIdFromHalves } from './user-id.js';
