/**
 * The worker entry of the join pool: normalise a batch of cells, place each by xxhash, probe the
 * shared index. Reachable as `@rollcall/join/worker` so the pool finds it from source and from dist.
 */
import { isRollcallError } from '@rollcall/errors';
import { type IndexReader, indexFromBuffer } from '@rollcall/index';
import { parseHashedCell, reasonCode } from '@rollcall/phone';
import { move, workerData } from 'piscina';
import {
  type JoinTask,
  type JoinTaskResult,
  type JoinWorkerData,
  type ProbeTask,
  RESULT_LAYOUT,
  resultViews,
  type SharedProbeTask,
} from './protocol.js';
import { normalizeUploadRows, rejectMalformedRows } from './rows.js';

const data = workerData as JoinWorkerData;
// Wrap the shared image once per worker; the SharedArrayBuffer is never copied.
const readerPromise: Promise<IndexReader> = indexFromBuffer(data.index);
const NOT_A_HASH = reasonCode('NOT_A_HASH');
const EMPTY = reasonCode('EMPTY');

/** Joins one batch; returns the packed result buffer (moved, not copied) or a coded error. */
export default async function joinBatch(
  task: JoinTask | ProbeTask | SharedProbeTask,
): Promise<JoinTaskResult> {
  try {
    const reader = await readerPromise;
    if (task.kind === 'probe-shared') {
      const { start, end } = task;
      const found = task.found.subarray(start, end);
      reader.probeBatch(
        task.keys.subarray(start, end),
        end - start,
        found,
        task.userIds.subarray(start, end),
      );
      let hits = 0;
      for (let i = 0; i < found.length; i++) if (found[i] !== 0) hits++;
      return hits;
    }
    if (task.kind === 'probe') {
      const n = task.keys.length;
      const buffer = new ArrayBuffer(RESULT_LAYOUT.byteLength(n));
      const out = resultViews(buffer, n);
      out.keys.set(task.keys);
      reader.probeBatch(out.keys, n, out.found, out.userIds);
      return move(buffer) as ArrayBuffer;
    }
    const n = task.cells.length;
    const buffer = new ArrayBuffer(RESULT_LAYOUT.byteLength(n));
    const out = resultViews(buffer, n);
    if (task.hashed === null) {
      normalizeUploadRows(task, out);
    } else {
      for (let i = 0; i < n; i++) {
        const parsed = parseHashedCell(task.cells[i] ?? '');
        if (!parsed.ok) {
          out.reasons[i] = parsed.reason === 'EMPTY' ? EMPTY : NOT_A_HASH;
          continue;
        }
        // A well-formed digest is a valid row; its key is known only if the index holds it.
        out.keys[i] = reader.probeSha256(parsed.digest, task.hashed) ?? 0;
      }
      rejectMalformedRows(task.malformed, task.width, out);
    }
    reader.probeBatch(out.keys, n, out.found, out.userIds);
    return move(buffer) as ArrayBuffer;
  } catch (err) {
    if (isRollcallError(err)) return { error: err.toData() };
    throw err;
  }
}

/** Number of reject reasons, for callers sizing count arrays. */
