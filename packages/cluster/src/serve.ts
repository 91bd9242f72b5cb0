/**
 * A shard worker (`rollcall serve`): one shard of a sharded index, loaded once into shared memory,
 * answering probe jobs from its shard's BullMQ queue. Run several for a shard (replicas): any of
 * them takes any job, and BullMQ's stalled-job check hands the jobs of one that dies to another.
 */
import { randomUUID } from 'node:crypto';
import { channel } from 'node:diagnostics_channel';
import { type Stats, unwatchFile, watchFile } from 'node:fs';
import { hostname } from 'node:os';
import { ErrorCodes, InvalidArgumentError, isRollcallError, RollcallError } from '@rollcall/errors';
import { type IndexReader, MAX_SHARDS, openIndex } from '@rollcall/index';
import { type Job, Worker } from 'bullmq';
import {
  DEFAULT_NAMESPACE,
  decodeKeys,
  encodeResult,
  isNamespace,
  matchKey,
  PROTOCOL_VERSION,
  type ProbeAnswer,
  type ProbeJobData,
  type ProbeRefusal,
  replyKey,
  shardQueueName,
} from './protocol.js';
import { checkRedisUrl, closeRedis, openRedis, type RedisLink, waitForRedis } from './redis.js';
import { Registration, replicaFacts } from './registry.js';

/** Options of {@link serveShard}. */
export interface ServeOptions {
  /** The shard to serve (0-based); the file's header must say so. */
  shard: number;
  /** The shard's index file (from `rollcall index build --shards`). */
  index: string;
  /** Redis URL (`redis://` or `rediss://`, may carry a password). */
  redis: string;
  /** Prefix of the Redis keys; default `rollcall`. Coordinator and workers must agree. */
  namespace?: string;
  /** Jobs one worker process handles at once (they overlap Redis round trips); default 4. */
  concurrency?: number;
  /**
   * BullMQ lock of a job being probed, ms: a dead worker's jobs return to the queue within this
   * plus two stalled intervals. Default 10 000 (a probe job takes milliseconds; BullMQ's own 30 s
   * default would let a recovery outlast a coordinator's default 30 s timeout).
   */
  lockDurationMs?: number;
  /** How often this worker checks for stalled jobs of dead workers, ms. Default half the lock. */
  stalledIntervalMs?: number;
  /** Times a job may be recovered from a dead worker before it fails. Default 3. */
  maxStalledCount?: number;
  /** Verify the file's checksum on load (default true). */
  verifyChecksum?: boolean;
  /** Reload the file when it changes (e.g. `rollcall index optout` on it); default true. */
  watch?: boolean;
  /** How often the file is checked for a change, ms; default 2000. */
  watchIntervalMs?: number;
  /** TTL of the worker's registration in Redis, ms (refreshed every third); default 15 000. */
  registrationTtlMs?: number;
  /** How long to wait for Redis at start, ms; default 30 000. */
  connectTimeoutMs?: number;
  /** Where progress lines go (one line each, no secrets); default nowhere. */
  onLog?: (line: string) => void;
}

/**
 * The diagnostics channel a shard worker publishes on as it takes each probe job, before it
 * answers: `{ shard, shardCount, replica, job }` (the job's id; never a key, number or id). Like
 * undici's channels it costs nothing without a subscriber; an operator's tracing can count jobs
 * with it, and the cluster's failover test freezes a replica mid-job from a subscriber.
 */
export const JOB_TAKEN_CHANNEL = 'rollcall:serve:job';
const jobTaken = channel(JOB_TAKEN_CHANNEL);

/** A running shard worker. */
export interface ShardServer {
  readonly shard: number;
  readonly shardCount: number;
  readonly hashSeed: number;
  /** This process's replica id (in its registration key). */
  readonly replica: string;
  /** The BullMQ queue it takes jobs from. */
  readonly queue: string;
  /** The index it serves now (replaced when the file is reloaded). */
  readonly index: IndexReader;
  /** Probe jobs answered so far. */
  readonly jobsAnswered: number;
  /** Stops taking jobs, lets the running ones finish, deregisters, disconnects. Idempotent. */
  close(): Promise<void>;
}

/**
 * Stores an answer in the match's reply list only while the match's marker exists, so a job that
 * finishes after its match ended (or was abandoned) leaves nothing behind. The list takes the
 * marker's remaining TTL: if the coordinator dies, both expire together.
 */
const REPLY_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('RPUSH', KEYS[2], ARGV[1])
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
  return 1
end
return 0`;

/** Default of {@link ServeOptions.lockDurationMs}. */
export const DEFAULT_LOCK_DURATION_MS = 10_000;

function positiveInt(name: string, value: number | undefined, dflt: number, min = 1): number {
  if (value === undefined) return dflt;
  if (!Number.isSafeInteger(value) || value < min) {
    throw new InvalidArgumentError(name, `must be an integer ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

class BullShardServer implements ShardServer {
  readonly shard: number;
  readonly shardCount: number;
  readonly hashSeed: number;
  readonly replica = randomUUID();
  readonly queue: string;
  index: IndexReader;
  jobsAnswered = 0;
  readonly #link: RedisLink;
  readonly #ns: string;
  readonly #registration: Registration;
  readonly #worker: Worker<ProbeJobData>;
  readonly #log: (line: string) => void;
  readonly #indexPath: string;
  readonly #verifyChecksum: boolean;
  #closing: Promise<void> | undefined;
  #watching = false;

  constructor(
    index: IndexReader,
    link: RedisLink,
    o: ServeOptions,
    settings: {
      ns: string;
      concurrency: number;
      lockDuration: number;
      stalledInterval: number;
      maxStalledCount: number;
      registrationTtl: number;
    },
  ) {
    this.index = index;
    this.shard = index.header.shard;
    this.shardCount = index.header.shardCount;
    this.hashSeed = index.header.hashSeed;
    this.queue = shardQueueName(this.shard, this.shardCount);
    this.#link = link;
    this.#ns = settings.ns;
    this.#log = o.onLog ?? (() => {});
    this.#indexPath = o.index;
    this.#verifyChecksum = o.verifyChecksum ?? true;
    this.#registration = new Registration(
      link.client,
      settings.ns,
      { replica: this.replica, ...replicaFacts(index.header), host: hostname(), pid: process.pid },
      settings.registrationTtl,
    );
    this.#worker = new Worker<ProbeJobData>(this.queue, (job) => this.#process(job), {
      connection: link.client,
      prefix: settings.ns,
      autorun: false,
      concurrency: settings.concurrency,
      lockDuration: settings.lockDuration,
      stalledInterval: settings.stalledInterval,
      maxStalledCount: settings.maxStalledCount,
      name: `rollcall-serve-${this.shard}-${this.replica}`,
    });
    this.#worker.on('error', (err) => this.#log(`worker error: ${link.scrub(err.message)}`));
    this.#worker.on('failed', (job, err) =>
      this.#log(`job ${job?.id ?? '?'} failed: ${link.scrub(err.message)}`),
    );
  }

  async start(watch: boolean, watchIntervalMs: number): Promise<void> {
    await this.#registration.start();
    // run() resolves only when the worker closes; errors surface through 'error' events.
    this.#worker.run().catch((err: Error) => this.#log(`worker stopped: ${this.#link.scrub(err.message)}`));
    await this.#worker.waitUntilReady();
    if (watch) {
      this.#watching = true;
      watchFile(this.#indexPath, { interval: watchIntervalMs, persistent: false }, (cur, prev) =>
        this.#onFileChange(cur, prev),
      );
    }
  }

  async #process(job: Job<ProbeJobData>): Promise<null> {
    if (jobTaken.hasSubscribers) {
      jobTaken.publish({
        shard: this.shard,
        shardCount: this.shardCount,
        replica: this.replica,
        job: job.id,
      });
    }
    const data = job.data;
    const answer = this.#answer(data);
    if (typeof data?.match === 'string' && /^[0-9a-f-]{36}$/.test(data.match)) {
      await this.#link.client.eval(
        REPLY_SCRIPT,
        2,
        matchKey(this.#ns, data.match),
        replyKey(this.#ns, data.match),
        JSON.stringify(answer),
      );
    }
    this.jobsAnswered++;
    // The answer went to the match's own reply list: the job's return value (kept in the queue's
    // event stream) carries nothing.
    return null;
  }

  #answer(data: ProbeJobData): ProbeAnswer | ProbeRefusal {
    const refuse = (message: string, code: RollcallError['code'] = ErrorCodes.INTERNAL): ProbeRefusal => ({
      v: PROTOCOL_VERSION,
      batch: data?.batch,
      shard: this.shard,
      error: new RollcallError(code, message).toData(),
    });
    if (data?.v !== PROTOCOL_VERSION) return refuse(`unknown probe job version ${String(data?.v)}`);
    const h = this.index.header;
    if (data.shard !== h.shard || data.shardCount !== h.shardCount || data.hashSeed !== h.hashSeed) {
      return refuse(
        `a job for shard ${data.shard} of ${data.shardCount} (seed ${data.hashSeed}) reached the worker of shard ${h.shard} of ${h.shardCount} (seed ${h.hashSeed})`,
        ErrorCodes.INVALID_ARGUMENT,
      );
    }
    const keys = decodeKeys(data.keys);
    if (keys === undefined) return refuse('malformed probe job: keys are not packed float64');
    const n = keys.length;
    const found = new Uint8Array(n);
    const userIds = new BigUint64Array(n);
    try {
      this.index.probeBatch(keys, n, found, userIds);
    } catch (err) {
      if (isRollcallError(err)) return refuse(err.message, err.code);
      throw err;
    }
    return {
      v: PROTOCOL_VERSION,
      batch: data.batch,
      shard: h.shard,
      shardCount: h.shardCount,
      hashSeed: h.hashSeed,
      builtAt: h.builtAt,
      n,
      ...encodeResult(found, userIds),
    };
  }

  /**
   * Reloads the file after it changed (an opt-out update renames a new file over it). The new
   * image is loaded and checked beside the old one, then swapped in between two jobs: a probe
   * sees the old index or the new, never a mix. A file that fails to load or names another shard
   * is refused and the old index kept.
   */
  #onFileChange(cur: Stats, prev: Stats): void {
    if (cur.mtimeMs === prev.mtimeMs && cur.ino === prev.ino && cur.size === prev.size) return;
    if (cur.nlink === 0) return; // Removed (or mid-rename): wait for the new file.
    openIndex(this.#indexPath, { verifyChecksum: this.#verifyChecksum })
      .then(async (next) => {
        const h = next.header;
        const old = this.index.header;
        if (
          h.shard !== old.shard ||
          h.shardCount !== old.shardCount ||
          h.hashSeed !== old.hashSeed ||
          h.builtAt !== old.builtAt
        ) {
          this.#log(
            `not reloading ${this.#indexPath}: it is now shard ${h.shard} of ${h.shardCount} of another build; restart the worker to serve it`,
          );
          return;
        }
        this.index = next;
        await this.#registration.update({ optedOut: h.optedOut, updatedAt: h.updatedAt });
        this.#log(
          `reloaded ${this.#indexPath}: ${h.optedOut} opted out, updated ${new Date(h.updatedAt).toISOString()}`,
        );
      })
      .catch((err: Error) => this.#log(`not reloading ${this.#indexPath}: ${err.message}`));
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#watching) unwatchFile(this.#indexPath);
      try {
        // Waits for the jobs in hand to finish; takes no new ones.
        await this.#worker.close();
      } finally {
        await this.#registration.stop().catch(() => {});
        await closeRedis(this.#link);
      }
    })();
    return this.#closing;
  }
}

/**
 * Starts a shard worker: loads the shard file into shared memory (checking that its header says
 * shard `shard`), registers in Redis, and answers probe jobs from the shard's queue until closed.
 * Throws `InvalidArgumentError` for bad options or a file of another shard, the index's errors
 * for a bad file, and `ERR_WORKER_FAILED` when Redis cannot be reached.
 */
export async function serveShard(options: ServeOptions): Promise<ShardServer> {
  if (typeof options !== 'object' || options === null)
    throw new InvalidArgumentError('options', 'must be an object');
  const o = options;
  if (!Number.isSafeInteger(o.shard) || o.shard < 0 || o.shard >= MAX_SHARDS) {
    throw new InvalidArgumentError(
      'shard',
      `must be an integer from 0 to ${MAX_SHARDS - 1}, got ${String(o.shard)}`,
    );
  }
  if (typeof o.index !== 'string' || o.index === '')
    throw new InvalidArgumentError('index', 'must be a file path');
  const url = checkRedisUrl(o.redis);
  const ns = o.namespace ?? DEFAULT_NAMESPACE;
  if (!isNamespace(ns))
    throw new InvalidArgumentError('namespace', 'must be 1 to 64 letters, digits, _ or -');
  const lockDuration = positiveInt('lockDurationMs', o.lockDurationMs, DEFAULT_LOCK_DURATION_MS, 100);
  const settings = {
    ns,
    concurrency: positiveInt('concurrency', o.concurrency, 4),
    lockDuration,
    stalledInterval: positiveInt(
      'stalledIntervalMs',
      o.stalledIntervalMs,
      Math.max(100, lockDuration / 2),
      100,
    ),
    maxStalledCount: positiveInt('maxStalledCount', o.maxStalledCount, 3),
    registrationTtl: positiveInt('registrationTtlMs', o.registrationTtlMs, 15_000, 300),
  };
  const watchIntervalMs = positiveInt('watchIntervalMs', o.watchIntervalMs, 2000, 10);
  const connectTimeout = positiveInt('connectTimeoutMs', o.connectTimeoutMs, 30_000);

  const index = await openIndex(o.index, { verifyChecksum: o.verifyChecksum ?? true });
  const h = index.header;
  if (h.shard !== o.shard) {
    throw new InvalidArgumentError(
      'shard',
      `${o.index} holds shard ${h.shard} of ${h.shardCount}, not shard ${o.shard}`,
    );
  }
  const link = openRedis(url, `rollcall-serve-${o.shard}`);
  let server: BullShardServer | undefined;
  try {
    await waitForRedis(link, connectTimeout);
    server = new BullShardServer(index, link, o, settings);
    await server.start(o.watch ?? true, watchIntervalMs);
    o.onLog?.(
      `serving shard ${h.shard} of ${h.shardCount} (${h.entries} entries, seed ${h.hashSeed}) from ${o.index} on queue ${ns}:${server.queue} at ${link.where}`,
    );
    return server;
  } catch (err) {
    if (server) await server.close().catch(() => {});
    else await closeRedis(link);
    throw err;
  }
}
