/**
 * What travels through Redis between a coordinator and the shard workers, and the names of the
 * Redis keys involved. Phone numbers travel only as keys (the E.164 digits as integers), packed
 * as binary little-endian float64; user ids as binary little-endian u64. Never raw upload
 * cells, and never a user id as a JS number.
 *
 *   Redis key                                   what                                  lifetime
 *   <ns>:shard-<i>-of-<S>:*                     BullMQ queue of shard i (jobs, lists)  jobs removed on completion/failure
 *   <ns>:replica:<i>-of-<S>:<replica id>        a live shard worker's facts (JSON)      TTL, refreshed by its heartbeat
 *   <ns>:match:{<match id>}                     "this match is running" marker          TTL, refreshed; deleted at the end
 *   <ns>:reply:{<match id>}                     list of answers for the coordinator      TTL of the marker; deleted at the end
 *
 * The braces are Redis Cluster hash tags: a match's two keys share a slot, so the one script
 * that touches both runs on one node.
 */
import type { RollcallErrorData } from '@rollcall/errors';

/** Version of the job and answer formats below; a worker answers an unknown version with an error. */
export const PROTOCOL_VERSION = 1;

/** Prefix of every Redis key of rollcall's cluster unless told otherwise. */
export const DEFAULT_NAMESPACE = 'rollcall';

/** BullMQ job name of a probe (the only name: it is all an event stream records of a job). */
export const PROBE_JOB = 'probe';

/** Checks a namespace: letters, digits, `_` and `-` (BullMQ forbids `:` in queue names, we in prefixes). */
export function isNamespace(text: unknown): text is string {
  return typeof text === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(text);
}

/** The BullMQ queue of one shard (under the BullMQ prefix `<ns>`): `shard-<i>-of-<S>`. */
export function shardQueueName(shard: number, shardCount: number): string {
  // The count is in the name so a worker of shard 2 of 4 never takes a job meant for shard 2 of 8.
  return `shard-${shard}-of-${shardCount}`;
}

/** Redis key of one live replica's registration. */
export function replicaKey(ns: string, shard: number, shardCount: number, replica: string): string {
  return `${ns}:replica:${shard}-of-${shardCount}:${replica}`;
}

/** SCAN pattern of every replica registration in a namespace. */
export function replicaPattern(ns: string): string {
  return `${ns}:replica:*`;
}

/** The marker key of a running match: answers are stored only while it exists. */
export function matchKey(ns: string, match: string): string {
  return `${ns}:match:{${match}}`;
}

/** The list the answers of a match are pushed to. */
export function replyKey(ns: string, match: string): string {
  return `${ns}:reply:{${match}}`;
}

/** A probe job: the distinct keys of one upload batch that route to one shard. */
export interface ProbeJobData {
  v: number;
  /** The match (a UUID): names its marker and reply keys. */
  match: string;
  /** The upload batch (0-based) the keys come from. */
  batch: number;
  shard: number;
  shardCount: number;
  hashSeed: number;
  /** The keys, ascending, distinct: base64 of little-endian float64 (8 bytes a key). */
  keys: string;
}

/** A shard's answer to a probe job, aligned with the job's keys. */
export interface ProbeAnswer {
  v: number;
  batch: number;
  shard: number;
  /** The answering file's header facts, checked by the coordinator against the cluster's. */
  shardCount: number;
  hashSeed: number;
  builtAt: number;
  /** Keys probed. */
  n: number;
  /** base64 of one byte a key: 0 absent, 1 found, 2 found and opted out (the index's FOUND codes). */
  found: string;
  /** base64 of little-endian u64 user ids, one for each found key, in key order. */
  ids: string;
}

/** A shard's refusal of a probe job (a coded error as plain data). */
export interface ProbeRefusal {
  v: number;
  batch: number;
  shard: number;
  error: RollcallErrorData;
}

/** Bytes of a packed key and of a packed user id. */
const KEY_BYTES = 8;
const ID_BYTES = 8;

/** Copies bytes out of a (possibly pooled, unaligned) Buffer into an ArrayBuffer of their own. */
function ownBytes(buf: Buffer): ArrayBuffer {
  const out = new ArrayBuffer(buf.length);
  new Uint8Array(out).set(buf);
  return out;
}

/** Packs keys (float64, little-endian as on every platform Node runs the index on). */
export function encodeKeys(keys: Float64Array): string {
  return Buffer.from(keys.buffer, keys.byteOffset, keys.byteLength).toString('base64');
}

/** Unpacks keys; undefined when the text is not a whole number of keys. */
export function decodeKeys(text: unknown): Float64Array | undefined {
  if (typeof text !== 'string') return undefined;
  const buf = Buffer.from(text, 'base64');
  if (buf.length % KEY_BYTES !== 0) return undefined;
  return new Float64Array(ownBytes(buf));
}

/** Packs the result of probing `found.length` keys: the found codes, and the ids of the found ones. */
export function encodeResult(found: Uint8Array, userIds: BigUint64Array): { found: string; ids: string } {
  let hits = 0;
  for (let i = 0; i < found.length; i++) if (found[i] !== 0) hits++;
  const ids = new BigUint64Array(hits);
  for (let i = 0, j = 0; i < found.length; i++) if (found[i] !== 0) ids[j++] = userIds[i]!;
  return {
    found: Buffer.from(found.buffer, found.byteOffset, found.byteLength).toString('base64'),
    ids: Buffer.from(ids.buffer).toString('base64'),
  };
}

/**
 * Unpacks an answer for `n` keys into `found` and `userIds` aligned with the keys (0n where not
 * found). Returns false when the answer does not fit `n` keys.
 */
export function decodeResult(
  answer: Pick<ProbeAnswer, 'found' | 'ids'>,
  n: number,
): { found: Uint8Array; userIds: BigUint64Array } | undefined {
  if (typeof answer.found !== 'string' || typeof answer.ids !== 'string') return undefined;
  const found = new Uint8Array(ownBytes(Buffer.from(answer.found, 'base64')));
  const idBytes = Buffer.from(answer.ids, 'base64');
  if (found.length !== n || idBytes.length % ID_BYTES !== 0) return undefined;
  const ids = new BigUint64Array(ownBytes(idBytes));
  const userIds = new BigUint64Array(n);
  let j = 0;
  for (let i = 0; i < n; i++) {
    const f = found[i]!;
    if (f > 2) return undefined;
    if (f !== 0) {
      if (j >= ids.length) return undefined;
      userIds[i] = ids[j++]!;
    }
  }
  return j === ids.length ? { found, userIds } : undefined;
}
