export { AtomicFile, pendingTempFiles, removePendingTempFiles, writeFileAtomic } from './atomic.js';
export { safeCsvCell } from './csv-cell.js';
