export type { ThreadEntry } from './entry.js';
export { threadEntry } from './entry.js';
export { fallbackExecArgv, threadExecArgv } from './exec-argv.js';
export type { ThreadPoolOptions } from './pool.js';
export { ThreadPool } from './pool.js';
export type { ThreadOptions } from './thread.js';
export { LOADED, Thread } from './thread.js';
