export { AtomicFile, pendingTempFiles, removePendingTempFiles, writeFileAtomic } from './atomic.js';
export { commitAll, committedUnder } from './commit.js';
export { safeCsvCell } from './csv-cell.js';
export { checkDistinctPaths, checkOutputPath, checkRegularInput, sameFile } from './paths.js';
