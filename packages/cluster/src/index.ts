export type { ClusterMatcherOptions } from './cluster-matcher.js';
export {
  ClusterMatcher,
  ClusterTimeoutError,
  createClusterMatcher,
  DEFAULT_CLUSTER_TIMEOUT_MS,
  matchCluster,
} from './cluster-matcher.js';
export { RedisLedger } from './ledger.js';
export type { ProbeAnswer, ProbeJobData, ProbeRefusal } from './protocol.js';
export {
  DEFAULT_NAMESPACE,
  decodeKeys,
  decodeResult,
  encodeKeys,
  encodeResult,
  matchKey,
  PROTOCOL_VERSION,
  replicaKey,
  replyKey,
  shardQueueName,
} from './protocol.js';
export { checkRedisUrl, redactRedisUrl, scrubSecrets } from './redis.js';
export type { ClusterTopology, ReplicaInfo } from './registry.js';
export { listReplicas, topologyOf } from './registry.js';
export type { ServeOptions, ShardServer } from './serve.js';
export { DEFAULT_LOCK_DURATION_MS, JOB_TAKEN_CHANNEL, serveShard } from './serve.js';
