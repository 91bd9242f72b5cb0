// Loads a TypeScript worker entry of this package from source (see worker-entry.ts): in a worker
// thread (Node 20) only the TypeScript loader's require hook is in place, not its ESM hooks, and
// only in a thread started from a file. The entry's path is the thread's first argument.
require(process.argv[2]);
