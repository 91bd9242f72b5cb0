/**
 * Starting and stopping threads. Every thread starts at the bootstrap (../bootstrap.cjs), which
 * loads the entry and then posts `{ [LOADED]: threadId }`; a thread is terminated only after that
 * message or after it has exited, never while it loads.
 *
 * Why: a built entry loads through require(esm), and Node 20 checks `Module::IsGraphAsync` right
 * after instantiating the module graph without checking that the instantiation was not cut short
 * by a termination. A thread terminated in that window aborts the whole process with
 * `FATAL ERROR: v8::Module::IsGraphAsync … must be used on an instantiated module` (exit 134),
 * after a short match had already written its outputs. Measured: about 1 pool in 100 to 300,
 * closed at a random moment of its threads' start-up, crashed that way; none since.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { BOOTSTRAP, type ThreadEntry, withExecArgv } from './entry.js';

/** Key of the message the bootstrap posts once the entry is loaded; its value is the threadId. */
export const LOADED = 'rollcall:thread-loaded';

/**
 * How long a stop waits for a thread still loading before it terminates it anyway: a guard
 * against a thread that hangs while loading (a crash then beats a hang), far above a real load.
 */
const LOAD_WAIT_LIMIT_MS = 60_000;

/** The threadId a bootstrap's "loaded" message names, or undefined for any other message. */
export function loadedThreadId(message: unknown): number | undefined {
  if (typeof message !== 'object' || message === null || !(LOADED in message)) return undefined;
  const id = (message as Record<string, unknown>)[LOADED];
  return typeof id === 'number' ? id : undefined;
}

/** Which threads have loaded their entry, fed with the messages the threads post. */
export class LoadWatch {
  readonly #loaded = new Set<number>();
  /** Who waits for each thread that is still loading. */
  readonly #waiting = new Map<number, Set<() => void>>();

  /** Takes a message a thread posted; notes it when it is a "loaded" message. */
  onMessage(message: unknown): void {
    const id = loadedThreadId(message);
    if (id === undefined) return;
    this.#loaded.add(id);
    for (const wake of this.#waiting.get(id) ?? []) wake();
  }

  /** True when `worker` has loaded its entry or has exited: terminating it is then safe. */
  isSettled(worker: Worker): boolean {
    // A worker's threadId turns -1 as it exits.
    return worker.threadId < 0 || this.#loaded.has(worker.threadId);
  }

  /**
   * Resolves once `worker` has loaded its entry or exited: true; or, after the wait limit, false.
   */
  async settled(worker: Worker): Promise<boolean> {
    if (this.isSettled(worker)) return true;
    const id = worker.threadId;
    const stop = new AbortController();
    let wake: () => void = () => {};
    const loaded = new Promise<void>((resolve) => {
      wake = resolve;
    });
    const waiting = this.#waiting.get(id) ?? new Set<() => void>();
    this.#waiting.set(id, waiting.add(wake));
    const limit = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, LOAD_WAIT_LIMIT_MS);
      timer.unref();
      stop.signal.addEventListener('abort', () => clearTimeout(timer));
    });
    try {
      // `once` rejects if the worker emits 'error'; it exits next, which is all we wait for.
      await Promise.race([loaded, limit, once(worker, 'exit', { signal: stop.signal }).catch(() => {})]);
      return this.isSettled(worker);
    } finally {
      stop.abort();
      waiting.delete(wake);
      if (waiting.size === 0) this.#waiting.delete(id);
    }
  }
}

/** Options of a {@link Thread}. */
export interface ThreadOptions {
  /** Data for the thread (`workerData`); SharedArrayBuffers are shared, not copied. */
  workerData?: unknown;
}

/** One thread on an entry of its own (no pool): start it, then {@link Thread.terminate} it. */
export class Thread {
  /** The Node worker, for its 'error' and 'exit' events. */
  readonly worker: Worker;
  readonly #watch = new LoadWatch();

  constructor(entry: ThreadEntry, options: ThreadOptions = {}) {
    this.worker = withExecArgv(
      entry,
      (execArgv) =>
        new Worker(BOOTSTRAP, {
          argv: [entry.path],
          workerData: options.workerData,
          ...(execArgv !== undefined ? { execArgv } : {}),
        }),
    );
    this.worker.on('message', (message: unknown) => this.#watch.onMessage(message));
  }

  /** Terminates the thread once it has loaded its entry (at once if it has, or has exited). */
  async terminate(): Promise<void> {
    await this.#watch.settled(this.worker);
    await this.worker.terminate();
  }
}
