/**
 * One cluster match's traffic in Redis: the jobs it sent, the answers it gathered, the per-shard
 * timeout, and the cleanup that leaves nothing behind.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ErrorCodes, errorFromData, InvalidArgumentError, RollcallError } from '@rollcall/errors';
import type { BatchResultViews } from '@rollcall/join';
import type { UploadBatch } from '@rollcall/upload';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { PlaceViews } from './place-protocol.js';
import {
  decodeResult,
  encodeKeys,
  matchKey,
  PROBE_JOB,
  PROTOCOL_VERSION,
  type ProbeAnswer,
  type ProbeJobData,
  type ProbeRefusal,
  replyKey,
  shardQueueName,
} from './protocol.js';
import type { RedisLink } from './redis.js';
import type { ClusterTopology } from './registry.js';

import { type BatchState, deferred, indexOfKey, splitByShard } from './shard-split.js';

/** A shard that stopped answering: names it, so the operator knows which workers to start. */
export class ClusterTimeoutError extends RollcallError {
  /** The shards with work outstanding and no answer within the timeout. */
  readonly shards: number[];

  constructor(shards: number[], message: string) {
    super(ErrorCodes.WORKER_FAILED, message);
    this.shards = shards;
  }
}

/** Milliseconds, whole seconds when they are. */
export function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/** Waits for `work` (its failure ignored), at most `ms`. */
export async function within(ms: number, work: Promise<unknown>): Promise<void> {
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
export const CLEANUP_MS = 5000;

/**
 * One match's traffic: its marker and reply keys in Redis, the jobs it sent, the answers it
 * gathered, the per-shard timeout, and the cleanup that leaves nothing of it behind.
 */
export class MatchRun {
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
  resultOf(state: BatchState): BatchResultViews {
    this.#batches.delete(state.seq);
    const { keys, shards, reasons, guessed } = state.views!;
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
    return { keys, reasons, found, userIds, guessed };
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
      // The worker's error, rebuilt with its class and facts, and the shard it came from.
      this.#fail(errorFromData(answer.error, { shard, shardCount: this.#topo.shardCount }));
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
