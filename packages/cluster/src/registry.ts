/**
 * Who serves what: every shard worker keeps a small registration key alive in Redis (its shard,
 * the shard count, the hash seed and its file's facts), with a TTL its heartbeat refreshes. A
 * coordinator reads them to learn the shard count and seed from the shards themselves; a worker
 * that is killed simply stops refreshing and drops out.
 */
import { InvalidArgumentError } from '@rollcall/errors';
import type { IndexHeader } from '@rollcall/index';
import type { Redis } from 'ioredis';
import { replicaKey, replicaPattern } from './protocol.js';

/** What a shard worker registers about itself. */
export interface ReplicaInfo {
  /** Random id of this worker process. */
  replica: string;
  shard: number;
  shardCount: number;
  hashSeed: number;
  entries: number;
  optedOut: number;
  builtAt: number;
  updatedAt: number;
  metadataVersion: string;
  formatVersion: number;
  host: string;
  pid: number;
}

/** The facts of a header a registration carries. */
export function replicaFacts(
  header: IndexHeader,
): Pick<
  ReplicaInfo,
  | 'shard'
  | 'shardCount'
  | 'hashSeed'
  | 'entries'
  | 'optedOut'
  | 'builtAt'
  | 'updatedAt'
  | 'metadataVersion'
  | 'formatVersion'
> {
  return {
    shard: header.shard,
    shardCount: header.shardCount,
    hashSeed: header.hashSeed,
    entries: header.entries,
    optedOut: header.optedOut,
    builtAt: header.builtAt,
    updatedAt: header.updatedAt,
    metadataVersion: header.metadataVersion,
    formatVersion: header.formatVersion,
  };
}

/** Keeps one worker's registration alive: written now, refreshed every `ttlMs / 3`, deleted on stop. */
export class Registration {
  #info: ReplicaInfo;
  readonly #client: Redis;
  readonly #ns: string;
  readonly #ttlMs: number;
  #timer: NodeJS.Timeout | undefined;

  constructor(client: Redis, ns: string, info: ReplicaInfo, ttlMs: number) {
    this.#client = client;
    this.#ns = ns;
    this.#info = info;
    this.#ttlMs = ttlMs;
  }

  get #key(): string {
    return replicaKey(this.#ns, this.#info.shard, this.#info.shardCount, this.#info.replica);
  }

  /** Writes the registration and starts the heartbeat. */
  async start(): Promise<void> {
    await this.#write();
    this.#timer = setInterval(
      () => {
        // A missed beat is retried at the next one; the TTL spans three.
        this.#write().catch(() => {});
      },
      Math.max(100, Math.floor(this.#ttlMs / 3)),
    );
    this.#timer.unref();
  }

  /** Replaces the registered facts (after a reload of the shard file). */
  async update(info: Partial<ReplicaInfo>): Promise<void> {
    this.#info = { ...this.#info, ...info };
    await this.#write();
  }

  /** Stops the heartbeat and removes the registration. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#client.del(this.#key);
  }

  async #write(): Promise<void> {
    await this.#client.set(this.#key, JSON.stringify(this.#info), 'PX', this.#ttlMs);
  }
}

/** Every live registration in the namespace (SCAN, so a large keyspace is never blocked). */
export async function listReplicas(client: Redis, ns: string): Promise<ReplicaInfo[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', replicaPattern(ns), 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  if (keys.length === 0) return [];
  const values = await client.mget(...keys);
  const out: ReplicaInfo[] = [];
  for (const v of values) {
    // A key may expire between SCAN and MGET; a value we cannot read is not a live replica.
    if (v === null) continue;
    try {
      const info = JSON.parse(v) as ReplicaInfo;
      if (Number.isInteger(info.shard) && Number.isInteger(info.shardCount)) out.push(info);
    } catch {}
  }
  return out.sort((a, b) => a.shard - b.shard || a.replica.localeCompare(b.replica));
}

/** The shape of a sharded index as its live workers describe it. */
export interface ClusterTopology {
  shardCount: number;
  hashSeed: number;
  /** Build time shared by every shard (one sharded build writes one time into every header). */
  builtAt: number;
  metadataVersion: string;
  formatVersion: number;
  /** Live replicas of each shard, by shard number (an empty list: none registered). */
  replicas: ReplicaInfo[][];
  /** Entries of each shard, as its replicas report (0 for a shard with no replica). */
  entries: number[];
}

function describe(r: ReplicaInfo): string {
  return `shard ${r.shard} of ${r.shardCount} (seed ${r.hashSeed}, built ${new Date(r.builtAt).toISOString()})`;
}

/**
 * The topology of the registered replicas. Every replica must serve the same shard count, seed
 * and build; otherwise the answers could come from different indexes, and this throws
 * `InvalidArgumentError` (option `option`) describing both sides. Returns undefined when no
 * replica is registered.
 */
export function topologyOf(
  replicas: readonly ReplicaInfo[],
  option = 'cluster',
): ClusterTopology | undefined {
  const first = replicas[0];
  if (first === undefined) return undefined;
  for (const r of replicas) {
    if (
      r.shardCount !== first.shardCount ||
      r.hashSeed !== first.hashSeed ||
      r.builtAt !== first.builtAt ||
      r.formatVersion !== first.formatVersion
    ) {
      throw new InvalidArgumentError(
        option,
        `the shard workers serve different indexes: one serves ${describe(first)}, another ${describe(r)}; stop the stale ones`,
      );
    }
  }
  const byShard: ReplicaInfo[][] = Array.from({ length: first.shardCount }, () => []);
  for (const r of replicas) byShard[r.shard]?.push(r);
  return {
    shardCount: first.shardCount,
    hashSeed: first.hashSeed,
    builtAt: first.builtAt,
    metadataVersion: first.metadataVersion,
    formatVersion: first.formatVersion,
    replicas: byShard,
    entries: byShard.map((rs) => rs[0]?.entries ?? 0),
  };
}
