import { Piscina } from 'piscina';
import { BOOTSTRAP, type ThreadEntry, withExecArgv } from './entry.js';
import { LoadWatch } from './thread.js';

/** Options of a {@link ThreadPool}. */
export interface ThreadPoolOptions {
  /** Threads, all started at once and kept (1 … 256; the caller checks the number). */
  threads: number;
  /** Data for every thread (`workerData`), handed over once at start-up; SharedArrayBuffers are shared. */
  workerData?: unknown;
}

/**
 * A piscina pool of threads on one entry (its default export handles a task). Tasks run one at a
 * time per thread: work comes in big batches, and one in flight per thread keeps memory bounded.
 * {@link ThreadPool.close} never terminates a thread that is still loading its entry (thread.ts
 * says why).
 */
export class ThreadPool {
  readonly threads: number;
  readonly #pool: Piscina;
  readonly #watch = new LoadWatch();
  #closing: Promise<void> | undefined;

  constructor(entry: ThreadEntry, options: ThreadPoolOptions) {
    this.threads = options.threads;
    this.#pool = withExecArgv(
      entry,
      (execArgv) =>
        new Piscina({
          // piscina loads the bootstrap with require(), and the bootstrap loads the entry, whose
          // path it is given as the thread's argument.
          filename: BOOTSTRAP.href,
          argv: [entry.path],
          ...(execArgv !== undefined ? { execArgv } : {}),
          workerData: options.workerData,
          minThreads: options.threads,
          maxThreads: options.threads,
          concurrentTasksPerWorker: 1,
          idleTimeout: 60_000,
        }),
    );
    // piscina passes on what a thread posts, but for its own "ready", as 'message' events: the
    // bootstrap's "loaded" arrives here, from the first threads and from any that replace them.
    this.#pool.on('message', (message: unknown) => this.#watch.onMessage(message));
  }

  /** Runs `task` on a free thread; resolves with what the entry's handler returns. */
  run(task: unknown, signal?: AbortSignal): Promise<unknown> {
    return this.#pool.run(task, signal ? { signal } : {});
  }

  /**
   * Stops every thread; pending tasks are rejected. Waits first for threads still loading their
   * entry (a short match can be over before the last thread is up). Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    // Again until none is loading: a thread that died meanwhile may have been replaced. A thread
    // still loading after the wait limit is terminated anyway.
    for (;;) {
      const loading = this.#pool.threads.filter((w) => !this.#watch.isSettled(w));
      if (loading.length === 0) break;
      const settled = await Promise.all(loading.map((w) => this.#watch.settled(w)));
      if (settled.includes(false)) break;
    }
    await this.#pool.destroy();
  }
}
