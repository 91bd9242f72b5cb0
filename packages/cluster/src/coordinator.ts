/**
 * The coordinator of a cluster match (`rollcall match --cluster <redis url>`): it reads and
 * normalises the upload here, places each key on its shard, sends every shard the distinct keys of
 * each batch as a BullMQ job and gathers the answers: a {@link Prober} behind the one match loop
 * (`runMatch`) that local matches use too, so the audience and the counts are the same.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ErrorCodes, errorFromData, InvalidArgumentError, RollcallError } from '@rollcall/errors';
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
import type { UploadBatch } from '@rollcall/upload';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { RedisLedger } from './ledger.js';
import { PlacePool } from './place-pool.js';
import type { PlaceViews } from './place-protocol.js';
import {
  DEFAULT_NAMESPACE,
  decodeResult,
  encodeKeys,
  isNamespace,
  matchKey,
  PROBE_JOB,
  PROTOCOL_VERSION,
  type ProbeAnswer,
  type ProbeJobData,
  type ProbeRefusal,
  replyKey,
  shardQueueName,
} from './protocol.js';
import { checkRedisUrl, closeRedis, openRedis, type RedisLink, waitForRedis } from './redis.js';
import { type ClusterTopology, listReplicas, topologyOf } from './registry.js';

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

/** A shard that stopped answering: names it, so the operator knows which workers to start. */
export class ClusterTimeoutError extends RollcallError {
  /** The shards with work outstanding and no answer within the timeout. */
  readonly shards: number[];

  constructor(shards: number[], message: string) {
    super(ErrorCodes.WORKER_FAILED, message);
    this.shards = shards;
  }
}

/** A promise with its settle functions at hand. */
interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** The distinct keys of one batch that route to one shard, and their answer once it comes. */
interface ShardPart {
  /** Ascending, distinct. */
  keys: Float64Array;
  found?: Uint8Array;
  userIds?: BigUint64Array;
}

/** One upload batch on its way through the cluster. */
interface BatchState {
  seq: number;
  batch: UploadBatch;
  /** Resolves once normalised, placed and sent. */
  sent: Promise<void>;
  views?: PlaceViews;
  /** By shard; undefined where the batch has no key for that shard. */
  parts: (ShardPart | undefined)[];
  /** Parts still waiting for an answer. */
  outstanding: number;
  /** Resolves when every part is answered. */
  answered: Deferred<void>;
}

/** Index of `key` in the ascending `keys`, or -1. */
function indexOfKey(keys: Float64Array, key: number): number {
  let lo = 0;
  let hi = keys.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const k = keys[mid]!;
    if (k === key) return mid;
    if (k < key) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** The distinct valid keys of a placed batch, split by shard, each ascending. */
function splitByShard(views: PlaceViews, shardCount: number): (Float64Array | undefined)[] {
  const { keys, shards, reasons } = views;
  const counts = new Uint32Array(shardCount);
  for (let i = 0; i < keys.length; i++) if (reasons[i] === 0) counts[shards[i]!]!++;
  const out = Array.from(counts, (c) => (c === 0 ? undefined : new Float64Array(c)));
  const fill = new Uint32Array(shardCount);
  for (let i = 0; i < keys.length; i++) {
    if (reasons[i] !== 0) continue;
    const s = shards[i]!;
    out[s]![fill[s]!++] = keys[i]!;
  }
  return out.map((arr) => {
    if (arr === undefined) return undefined;
    arr.sort();
    let n = 0;
    for (let i = 0; i < arr.length; i++) if (n === 0 || arr[i] !== arr[n - 1]) arr[n++] = arr[i]!;
    return arr.subarray(0, n);
  });
}

/** Milliseconds, whole seconds when they are. */
function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
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
            malformed: hasMalformed ? batch.malformed : null,
            defaultCountry: settings.defaultCountry,
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

/** Waits for `work` (its failure ignored), at most `ms`. */
async function within(ms: number, work: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    work.catch(() => {}),
    new Promise<void>((r) => {
      timer = setTimeout(r, ms);
    }),
  ]);
  clearTimeout(timer);
}

/** Ms between checks of the per-shard timeout. */
const WATCH_EVERY_MS = 200;
/** Seconds a BLPOP for answers waits before looking again (so a finished match stops promptly). */
const REPLY_POLL_SECONDS = 0.5;
/** Answers taken per LPOP after a BLPOP returned one. */
const REPLY_DRAIN = 512;
/** Longest the end-of-match cleanup may wait on Redis. */
const CLEANUP_MS = 5000;

/**
 * One match's traffic: its marker and reply keys in Redis, the jobs it sent, the answers it
 * gathered, the per-shard timeout, and the cleanup that leaves nothing of it behind.
 */
class MatchRun {
  readonly id = randomUUID();
  failure: RollcallError | undefined;
  readonly #link: RedisLink;
  readonly #ns: string;
  readonly #topo: ClusterTopology;
  readonly #timeoutMs: number;
  readonly #queueOf: (shard: number) => Queue<ProbeJobData>;
  readonly #failed = deferred<never>();
  /** Batches sent and not yet folded, by seq. */
  readonly #batches = new Map<number, BatchState>();
  /** Unanswered job ids by shard. */
  readonly #pending: Set<string>[];
  /** When each shard last answered (or was first given work after being idle). */
  readonly #lastProgress: number[];
  #reader: Redis | undefined;
  #timers: NodeJS.Timeout[] = [];
  #stopped = false;
  #replies: Promise<void> | undefined;
  #unlisten: (() => void) | undefined;

  constructor(
    link: RedisLink,
    ns: string,
    topo: ClusterTopology,
    timeoutMs: number,
    queueOf: (shard: number) => Queue<ProbeJobData>,
  ) {
    this.#link = link;
    this.#ns = ns;
    this.#topo = topo;
    this.#timeoutMs = timeoutMs;
    this.#queueOf = queueOf;
    this.#pending = Array.from({ length: topo.shardCount }, () => new Set());
    this.#lastProgress = new Array<number>(topo.shardCount).fill(0);
    this.#failed.promise.catch(() => {});
  }

  /** Creates the match's marker, starts reading answers and watching the shards. */
  async start(signal: AbortSignal | undefined): Promise<void> {
    const marker = matchKey(this.#ns, this.id);
    // The marker (and with it the reply list) outlives a coordinator that dies by this much.
    const ttl = 2 * this.#timeoutMs + 60_000;
    await this.#link.client.set(marker, '1', 'PX', ttl);
    this.#timers.push(
      setInterval(
        () => {
          this.#link.client.pexpire(marker, ttl).catch(() => {});
          this.#link.client.pexpire(replyKey(this.#ns, this.id), ttl).catch(() => {});
        },
        Math.min(10_000, ttl / 3),
      ),
      setInterval(() => this.#watch(), WATCH_EVERY_MS),
    );
    for (const t of this.#timers) t.unref();
    if (signal !== undefined) {
      const onAbort = () => this.#fail(new RollcallError(ErrorCodes.ABORTED, 'the match was cancelled'));
      if (signal.aborted) onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.#unlisten = () => signal.removeEventListener('abort', onAbort);
    }
    // A connection of its own: BLPOP blocks it.
    this.#reader = this.#link.client.duplicate();
    this.#reader.on('error', () => {});
    this.#replies = this.#readReplies(this.#reader);
  }

  /** Throws the match's failure, if it has failed. */
  throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  #fail(err: RollcallError): void {
    if (this.failure) return;
    this.failure = err;
    this.#failed.reject(err);
  }

  /** Starts a batch: once placed, its distinct keys go to their shards as jobs. */
  send(seq: number, batch: UploadBatch, placed: Promise<PlaceViews>): BatchState {
    const state: BatchState = {
      seq,
      batch,
      parts: [],
      outstanding: 0,
      answered: deferred<void>(),
      sent: Promise.resolve(),
    };
    state.answered.promise.catch(() => {});
    this.#batches.set(seq, state);
    state.sent = placed.then((views) => this.#submit(state, views));
    // Surfaces through settled(); never as an unhandled rejection meanwhile.
    state.sent.catch(() => {});
    return state;
  }

  async #submit(state: BatchState, views: PlaceViews): Promise<void> {
    state.views = views;
    const split = splitByShard(views, this.#topo.shardCount);
    const adds: Promise<unknown>[] = [];
    const now = performance.now();
    split.forEach((keys, shard) => {
      if (keys === undefined) return;
      state.parts[shard] = { keys };
      state.outstanding++;
      const jobId = `${this.id}-${state.seq}`;
      // Counted as pending before the add returns: a Redis that hangs the add trips the timeout.
      if (this.#pending[shard]!.size === 0) this.#lastProgress[shard] = now;
      this.#pending[shard]!.add(jobId);
      const data: ProbeJobData = {
        v: PROTOCOL_VERSION,
        match: this.id,
        batch: state.seq,
        shard,
        shardCount: this.#topo.shardCount,
        hashSeed: this.#topo.hashSeed,
        keys: encodeKeys(keys),
      };
      adds.push(this.#queueOf(shard).add(PROBE_JOB, data, { jobId }));
    });
    if (state.outstanding === 0) state.answered.resolve();
    try {
      await Promise.all(adds);
    } catch (err) {
      this.#fail(
        new RollcallError(
          ErrorCodes.WORKER_FAILED,
          `cannot queue probe jobs at ${this.#link.where}: ${this.#link.scrub((err as Error).message)}`,
        ),
      );
    }
  }

  /** Waits until every shard answered the batch; throws the match's failure instead if it fails. */
  async settled(state: BatchState): Promise<void> {
    await Promise.race([state.sent, this.#failed.promise]);
    await Promise.race([state.answered.promise, this.#failed.promise]);
  }

  /** The batch's rows in the join's result form, for the tally. Call after {@link settled}. */
  resultOf(state: BatchState): {
    keys: Float64Array;
    reasons: Uint8Array;
    found: Uint8Array;
    userIds: BigUint64Array;
  } {
    this.#batches.delete(state.seq);
    const { keys, shards, reasons } = state.views!;
    const n = keys.length;
    const found = new Uint8Array(n);
    const userIds = new BigUint64Array(n);
    for (let i = 0; i < n; i++) {
      if (reasons[i] !== 0) continue;
      const part = state.parts[shards[i]!]!;
      const at = indexOfKey(part.keys, keys[i]!);
      found[i] = part.found![at]!;
      userIds[i] = part.userIds![at]!;
    }
    return { keys, reasons, found, userIds };
  }

  async #readReplies(reader: Redis): Promise<void> {
    const key = replyKey(this.#ns, this.id);
    while (!this.#stopped) {
      let texts: string[];
      try {
        const first = await reader.blpop(key, REPLY_POLL_SECONDS);
        if (first === null) continue;
        texts = [first[1]];
        const more = await reader.lpop(key, REPLY_DRAIN);
        if (more !== null) texts.push(...more);
      } catch {
        // A dropped connection reconnects by itself; the timeout catches one that never does.
        if (this.#stopped) return;
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      for (const text of texts) this.#onAnswer(text);
    }
  }

  #onAnswer(text: string): void {
    let answer: ProbeAnswer | ProbeRefusal;
    try {
      answer = JSON.parse(text) as ProbeAnswer | ProbeRefusal;
    } catch {
      this.#fail(new RollcallError(ErrorCodes.INTERNAL, 'a shard worker sent an unreadable answer'));
      return;
    }
    const shard = answer.shard;
    if ('error' in answer) {
      const err = errorFromData(answer.error);
      this.#fail(new RollcallError(err.code, `shard ${shard} of ${this.#topo.shardCount}: ${err.message}`));
      return;
    }
    const state = this.#batches.get(answer.batch);
    const part = state?.parts[shard];
    // A job run twice (its first worker stalled, then finished after all) answers twice: the
    // first answer counts. Answers of batches already folded are late duplicates too.
    if (state === undefined || part === undefined || part.found !== undefined) return;
    const t = this.#topo;
    if (
      answer.v !== PROTOCOL_VERSION ||
      answer.shardCount !== t.shardCount ||
      answer.hashSeed !== t.hashSeed ||
      answer.builtAt !== t.builtAt
    ) {
      this.#fail(
        new InvalidArgumentError(
          'cluster',
          `a worker of shard ${shard} answered from another index (shard count ${answer.shardCount}, seed ${answer.hashSeed}, built ${new Date(answer.builtAt).toISOString()}); stop the stale workers`,
        ),
      );
      return;
    }
    const result = answer.n === part.keys.length ? decodeResult(answer, answer.n) : undefined;
    if (result === undefined) {
      this.#fail(
        new RollcallError(ErrorCodes.INTERNAL, `shard ${shard} sent an answer that does not fit its job`),
      );
      return;
    }
    part.found = result.found;
    part.userIds = result.userIds;
    this.#pending[shard]!.delete(`${this.id}-${answer.batch}`);
    this.#lastProgress[shard] = performance.now();
    if (--state!.outstanding === 0) state!.answered.resolve();
  }

  /** Fails the match when a shard with work outstanding has answered nothing for the timeout. */
  #watch(): void {
    if (this.failure) return;
    const now = performance.now();
    const stuck: number[] = [];
    for (let s = 0; s < this.#pending.length; s++) {
      if (this.#pending[s]!.size > 0 && now - this.#lastProgress[s]! > this.#timeoutMs) stuck.push(s);
    }
    if (stuck.length === 0) return;
    const t = this.#topo;
    const shards = stuck.length === 1 ? `shard ${stuck[0]}` : `shards ${stuck.join(', ')}`;
    const registered = stuck.map((s) => t.replicas[s]?.length ?? 0).reduce((a, b) => a + b, 0);
    const redisDown = this.#link.lastError();
    const queue = `${this.#ns}:${shardQueueName(stuck[0]!, t.shardCount)} at ${this.#link.where}`;
    // Name the component that failed: Redis itself (down, or restarted and lost the queue), or the
    // shard's workers.
    const message =
      redisDown !== undefined
        ? `${shards} of ${t.shardCount} answered nothing for ${seconds(this.#timeoutMs)} because Redis failed: ${redisDown} (queue ${queue}); no audience was written; run the match again`
        : `${shards} of ${t.shardCount} answered nothing for ${seconds(this.#timeoutMs)} (queue ${queue}; ${registered} worker(s) of ${stuck.length === 1 ? 'it' : 'them'} registered when the match began): no live worker is taking the jobs; start \`rollcall serve --shard ${stuck[0]}\`; no audience was written`;
    this.#fail(new ClusterTimeoutError(stuck, message));
  }

  /**
   * Ends the match: stops reading, removes every job still queued (a job some worker holds is
   * removed by BullMQ when it ends), and deletes the marker and the reply list. Bounded in time,
   * so a Redis that is gone cannot hang the end of a failed match.
   */
  async finish(): Promise<void> {
    this.#stopped = true;
    this.#unlisten?.();
    for (const t of this.#timers) clearInterval(t);
    const cleanup = async () => {
      const removals: Promise<unknown>[] = [];
      this.#pending.forEach((ids, shard) => {
        for (const id of ids)
          removals.push(
            this.#queueOf(shard)
              .remove(id)
              .catch(() => 0),
          );
      });
      await Promise.all(removals);
      await this.#link.client.del(matchKey(this.#ns, this.id), replyKey(this.#ns, this.id));
    };
    await within(CLEANUP_MS, cleanup());
    this.#reader?.disconnect();
    await this.#replies?.catch(() => {});
  }
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
