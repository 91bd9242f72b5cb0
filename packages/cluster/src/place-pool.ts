/** The coordinator's pool of threads that normalise and place upload batches. */
import { ErrorCodes, errorFromData, RollcallError } from '@rollcall/errors';
import { resolveThreads } from '@rollcall/join';
import { Piscina } from 'piscina';
import { type PlaceTask, type PlaceTaskResult, type PlaceViews, placeViews } from './place-protocol.js';

/**
 * Where the worker entry lives. From source (tests, `tsx`) it is `place-worker.ts` and the
 * threads need the TypeScript loader; from `dist` it is plain `place-worker.js`.
 */
function workerEntry(): { filename: string; execArgv: string[] } {
  const fromSource = import.meta.url.endsWith('.ts');
  const filename = new URL(fromSource ? './place-worker.ts' : './place-worker.js', import.meta.url).href;
  const execArgv = [...process.execArgv];
  if (!fromSource) return { filename, execArgv };
  // Worker threads inherit execArgv; a test runner's child process may not carry the loader.
  if (!execArgv.some((a) => a === 'tsx' || a === '--import=tsx')) execArgv.push('--import', 'tsx');
  if (!execArgv.some((a) => a.startsWith('--conditions') || a === '-C')) execArgv.push('--conditions=source');
  return { filename, execArgv };
}

/** Threads that normalise cells and place keys on shards. Create once per coordinator; close at the end. */
export class PlacePool {
  readonly threads: number;
  readonly #pool: Piscina;
  #closed = false;

  constructor(threads?: number) {
    this.threads = resolveThreads(threads);
    const { filename, execArgv } = workerEntry();
    this.#pool = new Piscina({
      filename,
      execArgv,
      minThreads: this.threads,
      maxThreads: this.threads,
      concurrentTasksPerWorker: 1,
      idleTimeout: 60_000,
    });
  }

  /** Normalises and places one batch. A coded error from a thread is rebuilt and thrown. */
  async run(task: PlaceTask, signal?: AbortSignal): Promise<PlaceViews> {
    if (this.#closed) throw new RollcallError(ErrorCodes.ABORTED, 'the coordinator is closed');
    let result: PlaceTaskResult;
    try {
      result = (await this.#pool.run(task, signal ? { signal } : {})) as PlaceTaskResult;
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

  /** Stops the threads. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.destroy();
  }
}
