/**
 * The coordinator's worker entry: normalise a batch of upload cells and place each valid key on
 * its shard. Reachable as `@rollcall/cluster/place-worker` so the pool finds it from source and
 * from dist. Only keys leave the coordinator; the cells never do.
 */
import { isRollcallError } from '@rollcall/errors';
import { shardOfKey } from '@rollcall/index';
import { assertCountry, normalizeBatch, type PhoneKey, reasonCode } from '@rollcall/phone';
import { move } from 'piscina';
import { PLACE_LAYOUT, type PlaceTask, type PlaceTaskResult, placeViews } from './place-protocol.js';

const MALFORMED = reasonCode('MALFORMED_ROW');

/** Normalises and places one batch; returns the packed result buffer (moved) or a coded error. */
export default function placeBatch(task: PlaceTask): PlaceTaskResult {
  try {
    const n = task.cells.length;
    const buffer = new ArrayBuffer(PLACE_LAYOUT.byteLength(n));
    const out = placeViews(buffer, n);
    normalizeBatch(task.cells, { defaultCountry: assertCountry(task.defaultCountry) }, out);
    for (let i = 0; i < n; i++) {
      if (task.malformed !== null && task.malformed[i] === 1) {
        out.reasons[i] = MALFORMED;
        out.keys[i] = 0;
      }
      const key = out.keys[i]!;
      if (key > 0) out.shards[i] = shardOfKey(key as PhoneKey, task.hashSeed, task.shardCount);
    }
    return move(buffer) as ArrayBuffer;
  } catch (err) {
    if (isRollcallError(err)) return { error: err.toData() };
    throw err;
  }
}
