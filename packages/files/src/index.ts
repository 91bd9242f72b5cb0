export { AtomicFile, pendingTempFiles, removePendingTempFiles, writeFileAtomic } from './atomic.js';
