/**
 * The worker entry of the validity count (see validity.ts): claims published blocks of keys,
 * judges them, and leaves once the ring is closed and nothing is left to claim.
 */
import { workerData } from 'node:worker_threads';
import {
  CONTROL,
  claimBlock,
  judgeBlock,
  NONE_EVER,
  NONE_NOW,
  ringViews,
  type ValidityWorkerData,
} from './validity.js';

const data = workerData as ValidityWorkerData;
const views = ringViews(data.shared, data.blockKeys, data.ringBlocks);

for (;;) {
  // Read the event count before looking for work: a publish after this read changes it, so the
  // wait below returns at once instead of sleeping through the wake-up.
  const signal = Atomics.load(views.control, CONTROL.SIGNAL);
  const block = claimBlock(views.control);
  if (block === NONE_EVER) break;
  if (block === NONE_NOW) {
    Atomics.wait(views.control, CONTROL.SIGNAL, signal);
    continue;
  }
  judgeBlock(views, block, data.blockKeys, data.ringBlocks);
}
