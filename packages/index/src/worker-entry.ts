/**
 * Where a worker entry of this package lives, and the execArgv its threads need: from source
 * (tests, `tsx`) the entry is a `.ts` file and the threads need the TypeScript loader; from
 * `dist` it is plain `.js`.
 */

import { fileURLToPath } from 'node:url';

/**
 * Node options a worker refuses in its execArgv (ERR_WORKER_INVALID_EXEC_ARGV): V8 flags and flags
 * that act on the whole process, such as `--max-old-space-size`.
 */
const NOT_FOR_WORKERS =
  /^--(max-old-space-size|max-semi-space-size|max-young-generation-size|stack-size|expose[-_]gc|jitless|title|abort-on-uncaught-exception|harmony|v8-|perf-|prof)/;

/**
 * The URL of entry `name` (`./validity-worker`, without extension) beside this module, and the
 * execArgv for its threads: undefined when they can simply inherit the parent's options.
 */
export function workerEntry(name: string): { filename: string; execArgv: string[] | undefined } {
  const fromSource = import.meta.url.endsWith('.ts');
  const filename = new URL(`${name}${fromSource ? '.ts' : '.js'}`, import.meta.url).href;
  const hasLoader = process.execArgv.some((a) => a === 'tsx' || a === '--import=tsx');
  const hasConditions = process.execArgv.some((a) => a.startsWith('--conditions') || a === '-C');
  // Given no execArgv, a worker inherits the parent's options, the ones it accepts. Listing them
  // instead would hand it V8 flags (`node --max-old-space-size=8192 rollcall …`), which it refuses.
  if (!fromSource || (hasLoader && hasConditions)) return { filename, execArgv: undefined };
  // A test runner's child process may not carry the loader: add it to the options a worker accepts.
  const execArgv = process.execArgv.filter((a) => !NOT_FOR_WORKERS.test(a));
  if (!hasLoader) execArgv.push('--import', 'tsx');
  if (!hasConditions) execArgv.push('--conditions=source');
  return { filename, execArgv };
}

/**
 * How to start a thread on the entry at `filename`: its own file from `dist`; from source, the
 * CommonJS bootstrap beside this module, which `require`s the entry (in a worker thread, Node 20
 * transpiles TypeScript only through the loader's require hook), given as the thread's argument.
 */
export function workerStart(filename: string): { file: URL; argv: string[] } {
  if (!filename.endsWith('.ts')) return { file: new URL(filename), argv: [] };
  return { file: new URL('./worker-bootstrap.cjs', import.meta.url), argv: [fileURLToPath(filename)] };
}
