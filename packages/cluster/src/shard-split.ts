/**
 * A cluster match's batches split by shard: the distinct keys each shard is sent, and how its
 * answers are found again.
 */
import type { UploadBatch } from '@rollcall/upload';
import type { PlaceViews } from './place-protocol.js';

/** A promise with its settle functions at hand. */
export interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (err: unknown) => void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** The distinct keys of one batch that route to one shard, and their answer once it comes. */
export interface ShardPart {
  /** Ascending, distinct. */
  keys: Float64Array;
  found?: Uint8Array;
  userIds?: BigUint64Array;
}

/** One upload batch on its way through the cluster. */
export interface BatchState {
  seq: number;
  batch: UploadBatch;
  /** Resolves once normalised, placed and sent. */
  sent: Promise<void>;
  views?: PlaceViews;
  /** By shard; undefined where the batch has no key for that shard. */
  parts: (ShardPart | undefined)[];
  /** Parts still waiting for an answer. */
  outstanding: number;
  /** Resolves when every part is answered. */
  answered: Deferred<void>;
}

/** Index of `key` in the ascending `keys`, or -1. */
export function indexOfKey(keys: Float64Array, key: number): number {
  let lo = 0;
  let hi = keys.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const k = keys[mid]!;
    if (k === key) return mid;
    if (k < key) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** The distinct valid keys of a placed batch, split by shard, each ascending. */
export function splitByShard(views: PlaceViews, shardCount: number): (Float64Array | undefined)[] {
  const { keys, shards, reasons } = views;
  const counts = new Uint32Array(shardCount);
  for (let i = 0; i < keys.length; i++) if (reasons[i] === 0) counts[shards[i]!]!++;
  const out = Array.from(counts, (c) => (c === 0 ? undefined : new Float64Array(c)));
  const fill = new Uint32Array(shardCount);
  for (let i = 0; i < keys.length; i++) {
    if (reasons[i] !== 0) continue;
    const s = shards[i]!;
    out[s]![fill[s]!++] = keys[i]!;
  }
  return out.map((arr) => {
    if (arr === undefined) return undefined;
    arr.sort();
    let n = 0;
    for (let i = 0; i < arr.length; i++) if (n === 0 || arr[i] !== arr[n - 1]) arr[n++] = arr[i]!;
    return arr.subarray(0, n);
  });
}
