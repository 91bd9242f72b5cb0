export type { BuildOptions, BuildProgress, BuildReport, IndexRow, SourceRowProblem } from './build.js';
export {
  buildIndexFromRows,
  buildIndexInMemory,
  DEFAULT_HASH_SEED,
  DuplicatePhoneError,
  ROWS_SOURCE,
  SOURCE_COLUMNS,
  SOURCE_ROW_PROBLEMS,
  writeIndexFile,
} from './build.js';
export type { ChecksumState, IndexInspection } from './inspect.js';
export { inspectIndex } from './inspect.js';
export { keyHash, keySlot, slotOf } from './key-hash.js';
export { FORMAT_VERSION, MAGIC as INDEX_MAGIC } from './layout.js';
export type { OpenIndexOptions } from './load.js';
export { openIndex } from './load.js';
export type { OptOutReport } from './optouts.js';
export { applyOptOuts, OPT_OUT_COLUMNS } from './optouts.js';
export { FOUND, indexFromBuffer } from './reader.js';
export type { ShardedBuildOptions, ShardedBuildReport } from './shards.js';
export { MAX_SHARDS, shardFilePaths, shardOfKey, writeShardedIndexFiles } from './shards.js';
export type { HashConvention, IndexHeader, IndexReader, ProbeHit } from './types.js';
export type { UserId } from './user-id.js';
export { parseUserId, userIdFromHalves } from './user-id.js';
