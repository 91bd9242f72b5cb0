import { performance } from 'node:perf_hooks';
import { ErrorCodes, InvalidArgumentError, RollcallError } from '@rollcall/errors';
import { MAX_SHARDS } from '@rollcall/index';
import type {
  IndexFacts,
  MatchOptions,
  MatchResult,
  MatchSettings,
  Prober,
  ProbeSession,
} from '@rollcall/join';
import { runMatch } from '@rollcall/join';
import type { Ledger } from '@rollcall/privacy';
import { Queue } from 'bullmq';
import { RedisLedger } from './ledger.js';
import { CLEANUP_MS, ClusterTimeoutError, MatchRun, seconds, within } from './match-run.js';
import { PlacePool } from './place-pool.js';
import { DEFAULT_NAMESPACE, isNamespace, type ProbeJobData, shardQueueName } from './protocol.js';
import { checkRedisUrl, closeRedis, openRedis, type RedisLink, waitForRedis } from './redis.js';
import { type ClusterTopology, listReplicas, topologyOf } from './registry.js';

export { ClusterTimeoutError } from './match-run.js';

/** Default of {@link ClusterMatcherOptions.timeoutMs}. */
export const DEFAULT_CLUSTER_TIMEOUT_MS = 30_000;

/** Options of {@link createClusterMatcher}. */
export interface ClusterMatcherOptions {
  /** Redis URL (`redis://` or `rediss://`, may carry a password): where the shard workers are. */
  redis: string;
  /** Prefix of the Redis keys; default `rollcall`. Coordinator and workers must agree. */
  namespace?: string;
  /** Threads that normalise the upload here; default: the machine's available parallelism. */
  threads?: number;
  /**
   * A shard with work outstanding that answers nothing for this long fails the match (ms;
   * default 30 000). Also bounds the wait for Redis and for a first registered worker. Keep it
   * above the workers' lock duration plus two stalled intervals (10 s + 2 × 5 s by default), the
   * longest a job of a dead worker takes to reach a replica.
   */
  timeoutMs?: number;
  /** The shard count expected; a cluster whose workers serve another count is an error. Default: learned from the workers. */
  shardCount?: number;
  /** Upload batches in flight at once (placed and waiting for answers); default 4 per thread, at least 8. */
  batchesInFlight?: number;
}

/**
 * A long-lived coordinator: one Redis connection and one pool of normalising threads, reused by
 * every match. It learns the cluster's shape (shard count, seed, build) from the registered
 * shard workers at the start of each match. Close it when done.
 */
export class ClusterMatcher implements Prober {
  readonly #link: RedisLink;
  readonly #pool: PlacePool;
  readonly #ns: string;
  readonly #timeoutMs: number;
  readonly #expectShards: number | undefined;
  readonly #batchesInFlight: number;
  /** BullMQ queues by name, opened on first use. */
  readonly #queues = new Map<string, Queue<ProbeJobData>>();
  #closed = false;

  constructor(
    link: RedisLink,
    pool: PlacePool,
    o: Required<Pick<ClusterMatcherOptions, 'namespace' | 'timeoutMs'>> & ClusterMatcherOptions,
  ) {
    this.#link = link;
    this.#pool = pool;
    this.#ns = o.namespace;
    this.#timeoutMs = o.timeoutMs;
    this.#expectShards = o.shardCount;
    this.#batchesInFlight = o.batchesInFlight ?? Math.max(8, pool.threads * 4);
  }

  /** Threads normalising here. */
  get threads(): number {
    return this.#pool.threads;
  }

  /** The Redis URL, password redacted. */
  get where(): string {
    return this.#link.where;
  }

  /**
   * The cluster's shape from its registered workers; waits (up to the timeout) for a first one.
   * Throws `InvalidArgumentError` when the workers disagree or serve another shard count than
   * asked, `ERR_WORKER_FAILED` when none registers in time.
   */
  async topology(): Promise<ClusterTopology> {
    const deadline = performance.now() + this.#timeoutMs;
    for (;;) {
      const topo = topologyOf(await listReplicas(this.#link.client, this.#ns), 'cluster');
      if (topo !== undefined) {
        if (this.#expectShards !== undefined && topo.shardCount !== this.#expectShards) {
          throw new InvalidArgumentError(
            'shardCount',
            `the workers at ${this.#link.where} serve ${topo.shardCount} shards, not ${this.#expectShards}`,
          );
        }
        return topo;
      }
      if (performance.now() >= deadline) {
        throw new ClusterTimeoutError(
          [],
          `no shard worker registered at ${this.#link.where} (namespace ${this.#ns}) within ${seconds(this.#timeoutMs)}: start \`rollcall serve\` for every shard; no audience was written`,
        );
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  #queue(shard: number, shardCount: number): Queue<ProbeJobData> {
    const name = shardQueueName(shard, shardCount);
    let q = this.#queues.get(name);
    if (q === undefined) {
      q = new Queue<ProbeJobData>(name, {
        connection: this.#link.client,
        prefix: this.#ns,
        defaultJobOptions: {
          // The payload leaves Redis as soon as the job ends, whichever way it ends.
          removeOnComplete: true,
          removeOnFail: true,
          // A worker error (e.g. a dropped Redis connection while answering) is retried; a
          // worker that dies mid-job is handled by BullMQ's stalled-job check instead.
          attempts: 3,
          backoff: { type: 'fixed', delay: 200 },
        },
      });
      q.on('error', () => {});
      this.#queues.set(name, q);
    }
    return q;
  }

  /** Matches one upload against the cluster. Same options and result as `Matcher.match`. */
  match(options: MatchOptions): Promise<MatchResult> {
    if (this.#closed) throw new RollcallError(ErrorCodes.ABORTED, 'the cluster matcher is closed');
    return runMatch(this, options);
  }

  /** {@link Prober}: the privacy ledger lives in the cluster's Redis, shared by every coordinator. */
  defaultLedger(): Ledger {
    return new RedisLedger(this.#link, this.#ns);
  }

  /** {@link Prober}: pre-hashed uploads are refused. */
  check(settings: MatchSettings): void {
    if (settings.hashed !== null) {
      // The shards would need their SHA-256 sections and the digests would have to travel.
      throw new InvalidArgumentError(
        'hashed',
        'pre-hashed uploads cannot be matched against a cluster yet; match them against a built index',
      );
    }
  }

  /**
   * {@link Prober}: learns the cluster's shape, then each batch is normalised and placed by the
   * threads here, and its distinct keys go to their shards as jobs.
   */
  async begin(settings: MatchSettings): Promise<ProbeSession> {
    const discoveryStarted = performance.now();
    const topo = await this.topology();
    const indexLoadMs = performance.now() - discoveryStarted;
    const run = new MatchRun(this.#link, this.#ns, topo, this.#timeoutMs, (s) =>
      this.#queue(s, topo.shardCount),
    );
    try {
      await run.start(settings.signal);
    } catch (err) {
      await run.finish();
      throw run.failure ?? err;
    }
    const pool = this.#pool;
    return {
      index: clusterFacts(topo),
      indexLoadMs,
      maxInFlight: this.#batchesInFlight,
      probe: async (seq, batch) => {
        run.throwIfFailed();
        const hasMalformed = batch.malformed.some((m) => m === 1);
        const placed = pool.run(
          {
            cells: batch.cells,
            width: settings.width,
            countries: batch.countries ?? null,
            malformed: hasMalformed ? batch.malformed : null,
            defaultCountry: settings.defaultCountry,
            strict: settings.strict,
            hashSeed: topo.hashSeed,
            shardCount: topo.shardCount,
          },
          settings.signal,
        );
        const state = run.send(seq, batch, placed);
        await run.settled(state);
        return run.resultOf(state);
      },
      end: () => run.finish(),
      failure: (err) => run.failure ?? err,
    };
  }

  /** Closes the queues, the threads and the connection. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Bounded: a queue cannot close cleanly over a connection to a Redis that is gone.
    await within(CLEANUP_MS, Promise.allSettled([...this.#queues.values()].map((q) => q.close())));
    await this.#pool.close();
    await closeRedis(this.#link);
  }
}

/** The report's view of a sharded index: the facts the report prints, summed over the shards. */
function clusterFacts(topo: ClusterTopology): IndexFacts {
  return {
    entries: topo.entries.reduce((a, b) => a + b, 0),
    builtAt: topo.builtAt,
    metadataVersion: topo.metadataVersion,
    source: 'cluster',
  };
}

/**
 * Connects to the cluster's Redis and starts the normalising threads. Throws
 * `InvalidArgumentError` for bad options (the message never shows the URL's password) and
 * `ERR_WORKER_FAILED` when Redis cannot be reached within the timeout.
 */
export async function createClusterMatcher(options: ClusterMatcherOptions): Promise<ClusterMatcher> {
  if (typeof options !== 'object' || options === null)
    throw new InvalidArgumentError('options', 'must be an object');
  const url = checkRedisUrl(options.redis, 'redis');
  const namespace = options.namespace ?? DEFAULT_NAMESPACE;
  if (!isNamespace(namespace))
    throw new InvalidArgumentError('namespace', 'must be 1 to 64 letters, digits, _ or -');
  const timeoutMs = options.timeoutMs ?? DEFAULT_CLUSTER_TIMEOUT_MS;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) {
    throw new InvalidArgumentError('timeoutMs', `must be an integer ≥ 1, got ${String(timeoutMs)}`);
  }
  const shardCount = options.shardCount;
  if (
    shardCount !== undefined &&
    (!Number.isSafeInteger(shardCount) || shardCount < 1 || shardCount > MAX_SHARDS)
  ) {
    throw new InvalidArgumentError(
      'shardCount',
      `must be an integer from 1 to ${MAX_SHARDS}, got ${String(shardCount)}`,
    );
  }
  const inFlight = options.batchesInFlight;
  if (inFlight !== undefined && (!Number.isSafeInteger(inFlight) || inFlight < 1)) {
    throw new InvalidArgumentError('batchesInFlight', `must be an integer ≥ 1, got ${String(inFlight)}`);
  }
  const link = openRedis(url, 'rollcall-coordinator');
  try {
    await waitForRedis(link, timeoutMs);
  } catch (err) {
    await closeRedis(link);
    throw err;
  }
  const pool = new PlacePool(options.threads);
  return new ClusterMatcher(link, pool, { ...options, namespace, timeoutMs });
}

/** Matches one upload against a cluster and returns `{ audience, report }` (see {@link ClusterMatcher}). */
export async function matchCluster(options: ClusterMatcherOptions & MatchOptions): Promise<MatchResult> {
  const matcher = await createClusterMatcher(options);
  try {
    return await matcher.match(options);
  } finally {
    await matcher.close();
  }
}
