import { fileURLToPath } from 'node:url';
import { fallbackExecArgv, threadExecArgv } from './exec-argv.js';

/** Where a thread's code is, and the Node options its threads start with. */
export interface ThreadEntry {
  /** Absolute path of the entry module: `<name>.ts` from source, `<name>.js` from dist. */
  readonly path: string;
  /** True when the entry runs from TypeScript source (tests, `tsx`). */
  readonly fromSource: boolean;
  /** The threads' execArgv; undefined: they inherit the parent's. See {@link threadExecArgv}. */
  readonly execArgv: string[] | undefined;
  /** The execArgv to retry with if a thread refuses `execArgv`. See {@link fallbackExecArgv}. */
  readonly fallbackExecArgv: string[];
}

/** The thread's first code, at the package root: the same path from src/ and from dist/. */
export const BOOTSTRAP = new URL('../bootstrap.cjs', import.meta.url);

/**
 * The entry `name` (`./worker`, no extension) beside the module at `moduleUrl` (pass
 * `import.meta.url`), and the options its threads start with given this process's own
 * (`parentExecArgv`, default `process.execArgv`). Returns a {@link ThreadEntry}.
 */
export function threadEntry(
  moduleUrl: string,
  name: string,
  parentExecArgv: readonly string[] = process.execArgv,
): ThreadEntry {
  // The caller's own file says which build is running: a `.ts` module is the source.
  const fromSource = moduleUrl.endsWith('.ts');
  return {
    path: fileURLToPath(new URL(`${name}${fromSource ? '.ts' : '.js'}`, moduleUrl)),
    fromSource,
    execArgv: threadExecArgv(parentExecArgv, fromSource),
    fallbackExecArgv: fallbackExecArgv(parentExecArgv, fromSource),
  };
}

/**
 * Calls `start` with the entry's execArgv; if the thread refuses it (a V8 flag the list in
 * exec-argv.ts misses), once more with the fallback. Returns what `start` returns.
 */
export function withExecArgv<T>(entry: ThreadEntry, start: (execArgv: string[] | undefined) => T): T {
  try {
    return start(entry.execArgv);
  } catch (err) {
    // Thrown synchronously by the Worker constructor, before any thread runs.
    if ((err as { code?: unknown } | null)?.code !== 'ERR_WORKER_INVALID_EXEC_ARGV') throw err;
    return start(entry.fallbackExecArgv);
  }
}
