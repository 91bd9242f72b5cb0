import { availableParallelism } from 'node:os';
import { ErrorCodes, errorFromData, InvalidArgumentError, RollcallError } from '@rollcall/errors';
import { ThreadPool, threadEntry } from '@rollcall/threads';
import {
  type BatchResultViews,
  type JoinTask,
  type JoinTaskResult,
  type JoinWorkerData,
  type ProbeTask,
  resultViews,
  type SharedProbeTask,
} from './protocol.js';

/** Options of a {@link JoinPool}. */
export interface JoinPoolOptions {
  /** Worker threads; default: the machine's available parallelism. */
  threads?: number;
  /** Times a batch is retried after its worker failed (threw or died); default 2. */
  retries?: number;
}

/** Checks and returns a thread count (1 … 256). */
export function resolveThreads(threads: number | undefined): number {
  if (threads === undefined) return Math.max(1, availableParallelism());
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
    throw new InvalidArgumentError('threads', `must be an integer from 1 to 256, got ${threads}`);
  }
  return threads;
}

/**
 * A pool of join workers over one shared index image. Create once and reuse it for many matches:
 * the index is handed to each worker once, at start-up, never per task.
 */
export class JoinPool {
  readonly threads: number;
  readonly #pool: ThreadPool;
  readonly #retries: number;
  #closed = false;

  constructor(index: SharedArrayBuffer, options: JoinPoolOptions = {}) {
    this.threads = resolveThreads(options.threads);
    const retries = options.retries ?? 2;
    if (!Number.isInteger(retries) || retries < 0) throw new InvalidArgumentError('retries', 'must be ≥ 0');
    this.#retries = retries;
    const workerData: JoinWorkerData = { index };
    // The entry is `./worker.ts` from source, `./worker.js` from dist.
    this.#pool = new ThreadPool(threadEntry(import.meta.url, './worker'), {
      threads: this.threads,
      workerData,
    });
  }

  /**
   * Runs one batch; retries it on another worker if a worker throws or dies. Returns the packed
   * result buffer. A coded error from the worker (bad argument, missing index section) is rebuilt
   * and thrown at once, without retry: it would fail again.
   */
  async run(task: Omit<JoinTask, 'attempt' | 'kind'>, signal?: AbortSignal): Promise<ArrayBuffer> {
    return (await this.#run({ ...task, kind: 'cells' }, signal)) as ArrayBuffer;
  }

  /**
   * Probes keys that are already normalised (0 = skip) on a worker: the hot join alone.
   * `keys` is copied into the task; the result views are over one moved buffer.
   */
  async probe(keys: Float64Array, seq = 0, signal?: AbortSignal): Promise<BatchResultViews> {
    const buffer = (await this.#run({ kind: 'probe', seq, keys }, signal)) as ArrayBuffer;
    return resultViews(buffer, keys.length);
  }

  /**
   * Probes every key of `keys` (0 = skip) across the pool, writing `found[i]` (0 absent, 1 found,
   * 2 found and opted out) and `userIds[i]`. All three arrays must be views of SharedArrayBuffers:
   * workers read and write them in place, in ranges of `chunk` keys, so nothing is copied.
   * Returns the number of hits.
   */
  async probeShared(
    keys: Float64Array,
    found: Uint8Array,
    userIds: BigUint64Array,
    options: { chunk?: number; signal?: AbortSignal } = {},
  ): Promise<number> {
    for (const [name, view] of [
      ['keys', keys],
      ['found', found],
      ['userIds', userIds],
    ] as const) {
      if (!(view.buffer instanceof SharedArrayBuffer)) {
        throw new InvalidArgumentError(name, 'must be a view of a SharedArrayBuffer');
      }
    }
    if (found.length < keys.length || userIds.length < keys.length) {
      throw new InvalidArgumentError('found', 'found and userIds must be at least as long as keys');
    }
    const chunk = options.chunk ?? 65_536;
    if (!Number.isInteger(chunk) || chunk < 1)
      throw new InvalidArgumentError('chunk', 'must be an integer ≥ 1');
    const runs: Promise<number>[] = [];
    for (let start = 0, seq = 0; start < keys.length; start += chunk, seq++) {
      const task = {
        kind: 'probe-shared',
        seq,
        keys,
        found,
        userIds,
        start,
        end: Math.min(keys.length, start + chunk),
      } as const;
      runs.push(this.#run(task, options.signal) as Promise<number>);
    }
    let hits = 0;
    for (const r of await Promise.all(runs)) hits += r;
    return hits;
  }

  async #run(
    task: Omit<JoinTask, 'attempt'> | Omit<ProbeTask, 'attempt'> | Omit<SharedProbeTask, 'attempt'>,
    signal?: AbortSignal,
  ): Promise<ArrayBuffer | number> {
    let lastError: unknown;
    for (let attempt = 0; attempt <= this.#retries; attempt++) {
      if (this.#closed) throw new RollcallError(ErrorCodes.ABORTED, 'the join pool is closed');
      try {
        const result = (await this.#pool.run({ ...task, attempt }, signal)) as JoinTaskResult;
        if (result instanceof ArrayBuffer || typeof result === 'number') return result;
        throw errorFromData(result.error);
      } catch (err) {
        if (err instanceof RollcallError) throw err;
        if (signal?.aborted) throw new RollcallError(ErrorCodes.ABORTED, 'the match was cancelled');
        lastError = err;
      }
    }
    throw new RollcallError(
      ErrorCodes.WORKER_FAILED,
      `a join worker failed on batch ${task.seq} ${this.#retries + 1} times; no audience was written`,
      { cause: lastError },
    );
  }

  /**
   * Stops every worker, once each has loaded its entry (see @rollcall/threads). Pending tasks are
   * rejected. Idempotent.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#pool.close();
  }
}
