/**
 * The wire format and the small pure pieces: packed keys and answers round-trip exactly (u64 ids
 * never pass through a JS number), URLs never show their password, and workers that serve
 * different indexes are refused.
 */
import { ErrorCodes } from '@rollcall/errors';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  checkRedisUrl,
  decodeKeys,
  decodeResult,
  encodeKeys,
  encodeResult,
  matchKey,
  type ReplicaInfo,
  redactRedisUrl,
  replyKey,
  scrubSecrets,
  shardQueueName,
  topologyOf,
} from '../src/index.js';

describe('packed keys and answers', () => {
  test('keys round-trip exactly (every key below 10^15)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 999_999_999_999_999 })), (list) => {
        const keys = Float64Array.from(list);
        expect(Array.from(decodeKeys(encodeKeys(keys))!)).toEqual(list);
      }),
    );
  });

  test('answers round-trip with u64 ids up to 2^64 − 1, aligned with the keys', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(0, 1, 2), fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }))),
        (pairs) => {
          const found = Uint8Array.from(pairs.map(([f]) => f));
          const ids = BigUint64Array.from(pairs.map(([f, id]) => (f === 0 ? 0n : id)));
          const packed = encodeResult(found, ids);
          const back = decodeResult(packed, pairs.length)!;
          expect(Array.from(back.found)).toEqual(Array.from(found));
          expect(Array.from(back.userIds)).toEqual(Array.from(ids));
        },
      ),
    );
  });

  test('ids travel only for found keys: 8 bytes each', () => {
    const packed = encodeResult(Uint8Array.of(0, 1, 0, 2), BigUint64Array.of(0n, 5n, 0n, (1n << 64n) - 1n));
    expect(Buffer.from(packed.ids, 'base64').length).toBe(16);
  });

  test('an answer that does not fit its job is refused', () => {
    const packed = encodeResult(Uint8Array.of(1, 1), BigUint64Array.of(1n, 2n));
    expect(decodeResult(packed, 3)).toBeUndefined();
    expect(decodeResult({ found: packed.found, ids: '' }, 2)).toBeUndefined();
    expect(decodeResult({ found: Buffer.from([7]).toString('base64'), ids: '' }, 1)).toBeUndefined();
    expect(decodeKeys(Buffer.from([1, 2, 3]).toString('base64'))).toBeUndefined();
    expect(decodeKeys(42)).toBeUndefined();
  });

  test('names: no ":" in a queue name (BullMQ refuses it); a match’s keys share a hash tag', () => {
    expect(shardQueueName(2, 8)).toBe('shard-2-of-8');
    expect(matchKey('rollcall', 'abc')).toBe('rollcall:match:{abc}');
    expect(replyKey('rollcall', 'abc')).toBe('rollcall:reply:{abc}');
  });
});

describe('Redis URLs', () => {
  test('redaction hides the password and keeps the rest', () => {
    expect(redactRedisUrl('redis://:hunter2@10.0.0.1:6380/2')).toBe('redis://:***@10.0.0.1:6380/2');
    expect(redactRedisUrl('rediss://app:p%40ss@redis.example:6380')).toBe(
      'rediss://app:***@redis.example:6380',
    );
    expect(redactRedisUrl('redis://127.0.0.1:6379')).toBe('redis://127.0.0.1:6379');
    expect(redactRedisUrl('not a url with secret@host')).toBe('***');
  });

  test('scrubbing removes the password, encoded or not, from any text', () => {
    const url = 'redis://app:p%40ss@h:1';
    expect(scrubSecrets('auth p@ss failed; p%40ss', url)).toBe('auth *** failed; ***');
  });

  test('only redis:// and rediss:// URLs with a host; the error never shows the password', () => {
    expect(checkRedisUrl('rediss://:pw@h:6380')).toBe('rediss://:pw@h:6380');
    for (const bad of ['http://:topsecret@h:1', 'redis://', 'localhost:6379', '', 42]) {
      let err: unknown;
      try {
        checkRedisUrl(bad, '--cluster');
      } catch (e) {
        err = e;
      }
      expect(err).toMatchObject({ code: ErrorCodes.INVALID_ARGUMENT, option: '--cluster' });
      expect(String((err as Error).message)).not.toContain('topsecret');
    }
  });
});

describe('topologyOf', () => {
  const replica = (shard: number, over: Partial<ReplicaInfo> = {}): ReplicaInfo => ({
    replica: `r${shard}-${Math.random()}`,
    shard,
    shardCount: 3,
    hashSeed: 0,
    entries: 10 + shard,
    optedOut: 1,
    builtAt: 1000,
    updatedAt: 1000,
    metadataVersion: '1.13.16',
    formatVersion: 1,
    host: 'h',
    pid: 1,
    ...over,
  });

  test('the shard count, seed and replicas by shard come from the registrations', () => {
    const t = topologyOf([replica(0), replica(0), replica(2)])!;
    expect(t.shardCount).toBe(3);
    expect(t.replicas.map((r) => r.length)).toEqual([2, 0, 1]);
    expect(t.entries).toEqual([10, 0, 12]);
    expect(topologyOf([])).toBeUndefined();
  });

  test('workers of different shard counts, seeds or builds are refused', () => {
    for (const odd of [{ shardCount: 4 }, { hashSeed: 1 }, { builtAt: 2000 }]) {
      expect(() => topologyOf([replica(0), replica(1, odd)])).toThrow(
        expect.objectContaining({ code: ErrorCodes.INVALID_ARGUMENT }),
      );
    }
  });
});
