// The first code of every rollcall thread, pooled or not (see src/entry.ts). It sits at the package
// root so that src/ and dist/ find it at the same relative path.
//
// It loads the thread's entry, whose path is the thread's first argument, with `require`: from
// source, a worker thread (Node 20) has only the TypeScript loader's require hook, not its ESM
// hooks; from dist, the entry is ESM and loads through require(esm), as piscina loads it.
// Then it tells the parent thread that the entry is loaded: until then the thread must not be
// terminated (src/pool.ts says why). An entry whose top level runs the thread's whole job sends it
// when the job is done, which is as good: the parent then waits for the thread to exit.
'use strict';
const { parentPort, threadId } = require('node:worker_threads');

// What piscina runs is this module's exports: the entry's (its default export is the task handler).
module.exports = require(process.argv[2]);
// The key is LOADED in src/thread.ts.
parentPort.postMessage({ 'rollcall:thread-loaded': threadId });
