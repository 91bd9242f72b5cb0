/**
 * The Node options a thread starts with. A worker thread inherits its parent's options when it is
 * given none, and Node then drops by itself those a thread cannot take. Given a list, it refuses
 * the whole thread (ERR_WORKER_INVALID_EXEC_ARGV) for one V8 flag or one process-wide option in it:
 * `node --max-old-space-size=512 rollcall …` failed every match that way. So a list is given only
 * when the loader must change, and it leaves out what a thread refuses.
 */

/**
 * Options a worker thread refuses in its execArgv (names without `--`, `_` read as `-`, a V8
 * `--no-` prefix removed): V8 flags, and Node options that act on the whole process. V8 has far
 * more flags than these; an unlisted one is caught by {@link fallbackExecArgv}.
 */
const REFUSED = new RegExp(
  `^(${[
    // V8: memory and stack
    'max-old-space-size',
    'max-semi-space-size',
    'max-young-generation-size',
    'max-heap-size',
    'initial-heap-size',
    'initial-old-space-size',
    'huge-max-old-generation-size',
    'stack-size',
    'stack-trace-limit',
    // V8: compilers, GC, tracing, profiling, determinism
    'expose-gc',
    'gc-interval',
    'trace-gc.*',
    'trace-deopt.*',
    'trace-opt.*',
    'allow-natives-syntax',
    'jitless',
    'lite-mode',
    'opt',
    'turbofan',
    'maglev',
    'sparkplug',
    'lazy',
    'max-lazy',
    'random-seed',
    'predictable',
    'single-threaded.*',
    'interpreted-frames-native-stack',
    'disallow-code-generation-from-strings',
    'abort-on-uncaught-exception',
    'harmony.*',
    'prof',
    'prof-.*',
    'perf-.*',
    // Node, process-wide
    'title',
    'v8-pool-size',
    'v8-options',
    'icu-data-dir',
    'openssl-.*',
    'tls-cipher-list',
    'use-openssl-ca',
    'use-bundled-ca',
    'enable-fips',
    'force-fips',
    'secure-heap.*',
    'zero-fill-buffers',
    'node-memory-debug',
    'debug-arraybuffer-allocations',
    'disable-wasm-trap-handler',
    'disable-proto',
    'use-largepages',
    'trace-sigint',
    'watch.*',
    'env-file.*',
    'snapshot-blob',
    'build-snapshot.*',
  ].join('|')})$`,
);

/** Options that load code into every thread before its entry. */
const LOADER_OPTIONS = new Set(['--import', '--require', '-r', '--loader', '--experimental-loader']);
/** A module specifier or path of the `tsx` TypeScript loader: `tsx`, `tsx/esm`, `…/node_modules/tsx/dist/loader.mjs`. */
const TSX = /(^|[\\/])tsx(@|[\\/]|$)/;

/** One option of an execArgv: its name, its value (`--name=value` or `--name value`), its items. */
interface NodeOption {
  name: string;
  value: string | undefined;
  items: string[];
}

/**
 * Splits an execArgv into options. It holds Node options only (the script and its arguments come
 * after it), so an item that does not start with `-` is the value of the option before it.
 */
function optionsOf(execArgv: readonly string[]): NodeOption[] {
  const options: NodeOption[] = [];
  for (const item of execArgv) {
    const last = options.at(-1);
    if (!item.startsWith('-') && last !== undefined && last.value === undefined) {
      last.value = item;
      last.items.push(item);
      continue;
    }
    const eq = item.indexOf('=');
    options.push(
      eq > 0
        ? { name: item.slice(0, eq), value: item.slice(eq + 1), items: [item] }
        : { name: item, value: undefined, items: [item] },
    );
  }
  return options;
}

/** True when a worker thread refuses `option` in an execArgv it is given. */
function refused(option: NodeOption): boolean {
  if (!option.name.startsWith('--')) return false;
  const name = option.name.slice(2).replaceAll('_', '-');
  return REFUSED.test(name) || (name.startsWith('no-') && REFUSED.test(name.slice(3)));
}

function isTypeScriptLoader(option: NodeOption): boolean {
  return LOADER_OPTIONS.has(option.name) && option.value !== undefined && TSX.test(option.value);
}

function isSourceCondition(option: NodeOption): boolean {
  return (option.name === '--conditions' || option.name === '-C') && option.value === 'source';
}

/** What a thread running from source needs and its parent lacks: the TypeScript loader, the `source` condition. */
function missingForSource(options: readonly NodeOption[]): string[] {
  const missing: string[] = [];
  if (!options.some(isTypeScriptLoader)) missing.push('--import', 'tsx');
  if (!options.some(isSourceCondition)) missing.push('--conditions=source');
  return missing;
}

/**
 * The execArgv of a thread whose entry runs from source (`.ts`) or from `dist`, given its parent's:
 * `undefined` when the thread should inherit the parent's options as they are. Otherwise the
 * parent's options less those a thread refuses, and:
 * - from dist, less the TypeScript loader: a built entry needs none, and one inherited from a
 *   parent run under tsx (benchmarks, scripts) was measured to make the probe loop about 6× slower;
 *   and less the `source` condition, which would send its imports to TypeScript no loader reads;
 * - from source, plus the TypeScript loader and the `source` condition when the parent lacks them
 *   (a test runner's child process may not carry them).
 */
export function threadExecArgv(parent: readonly string[], fromSource: boolean): string[] | undefined {
  const options = optionsOf(parent);
  if (fromSource) {
    const missing = missingForSource(options);
    if (missing.length === 0) return undefined;
    return [...options.filter((o) => !refused(o)).flatMap((o) => o.items), ...missing];
  }
  if (!options.some(isTypeScriptLoader)) return undefined;
  return options
    .filter((o) => !refused(o) && !isTypeScriptLoader(o) && !isSourceCondition(o))
    .flatMap((o) => o.items);
}

/**
 * The execArgv to start with when a thread refused {@link threadExecArgv}'s (a V8 flag not in the
 * list above): only what the entry cannot run without. From dist that is nothing; from source, the
 * TypeScript loader and the `source` condition (the parent's, or added).
 */
export function fallbackExecArgv(parent: readonly string[], fromSource: boolean): string[] {
  if (!fromSource) return [];
  const options = optionsOf(parent);
  return [
    ...options.filter((o) => isTypeScriptLoader(o) || isSourceCondition(o)).flatMap((o) => o.items),
    ...missingForSource(options),
  ];
}
