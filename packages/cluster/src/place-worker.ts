/**
 * The coordinator's worker entry: normalise a batch of upload cells and place each valid key on
 * its shard. Reachable as `@rollcall/cluster/place-worker` so the pool finds it from source and
 * from dist. Only keys leave the coordinator; the cells never do.
 */
import { isRollcallError } from '@rollcall/errors';
import { shardOfKey } from '@rollcall/index';
import { normalizeUploadRows } from '@rollcall/join';
import type { PhoneKey } from '@rollcall/phone';
import { move } from 'piscina';
import { PLACE_LAYOUT, type PlaceTask, type PlaceTaskResult, placeViews } from './place-protocol.js';

/** Normalises and places one batch; returns the packed result buffer (moved) or a coded error. */
export default function placeBatch(task: PlaceTask): PlaceTaskResult {
  try {
    const n = task.cells.length;
    const buffer = new ArrayBuffer(PLACE_LAYOUT.byteLength(n));
    const out = placeViews(buffer, n);
    normalizeUploadRows(task, out);
    for (let i = 0; i < n; i++) {
      const key = out.keys[i]!;
      if (key > 0) out.shards[i] = shardOfKey(key as PhoneKey, task.hashSeed, task.shardCount);
    }
    return move(buffer) as ArrayBuffer;
  } catch (err) {
    if (isRollcallError(err)) return { error: err.toData() };
    throw err;
  }
}
