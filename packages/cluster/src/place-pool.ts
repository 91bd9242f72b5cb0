/** The coordinator's pool of threads that normalise and place upload batches. */
import { ErrorCodes, errorFromData, RollcallError } from '@rollcall/errors';
import { resolveThreads } from '@rollcall/join';
import { ThreadPool, threadEntry } from '@rollcall/threads';
import { type PlaceTask, type PlaceTaskResult, type PlaceViews, placeViews } from './place-protocol.js';

/** Threads that normalise cells and place keys on shards. Create once per coordinator; close at the end. */
export class PlacePool {
  readonly threads: number;
  readonly #pool: ThreadPool;
  #closed = false;

  constructor(threads?: number) {
    this.threads = resolveThreads(threads);
    // The entry is `./place-worker.ts` from source, `./place-worker.js` from dist.
    this.#pool = new ThreadPool(threadEntry(import.meta.url, './place-worker'), { threads: this.threads });
  }

  /** Normalises and places one batch. A coded error from a thread is rebuilt and thrown. */
  async run(task: PlaceTask, signal?: AbortSignal): Promise<PlaceViews> {
    if (this.#closed) throw new RollcallError(ErrorCodes.ABORTED, 'the coordinator is closed');
    let result: PlaceTaskResult;
    try {
      result = (await this.#pool.run(task, signal)) as PlaceTaskResult;
    } catch (err) {
      if (signal?.aborted) throw new RollcallError(ErrorCodes.ABORTED, 'the match was cancelled');
      throw new RollcallError(
        ErrorCodes.WORKER_FAILED,
        'a normalising thread failed; no audience was written',
        {
          cause: err,
        },
      );
    }
    if (!(result instanceof ArrayBuffer)) throw errorFromData(result.error);
    return placeViews(result, task.cells.length);
  }

  /** Stops the threads, once each has loaded its entry (see @rollcall/threads). Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#pool.close();
  }
}
