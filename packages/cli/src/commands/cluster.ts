import type { ClusterMatcher } from '@rollcall/cluster';
import { ErrorCodes, InvalidArgumentError, RollcallError } from '@rollcall/errors';
import { parseIntegerOption } from './options.js';

/** The cluster package: scale-out over BullMQ on Redis. */
export type ClusterModule = typeof import('@rollcall/cluster');

/** The optional packages the cluster needs; `npm install rollcall` leaves them out. */
const CLUSTER_PACKAGES = ['bullmq', 'ioredis'];

/**
 * Loads the cluster package on first use (`match --cluster`, `serve`): it needs bullmq and ioredis,
 * which a user installs only to run a cluster, so nothing else loads them. Without them, throws
 * `ERR_MISSING_DEPENDENCY` naming `command` and what to install.
 */
export async function loadCluster(command: string): Promise<ClusterModule> {
  try {
    return await import('@rollcall/cluster');
  } catch (err) {
    // Node names the package it could not find: "Cannot find package 'bullmq' imported from …".
    const missing = /Cannot find (?:package|module) '([^']+)'/.exec(
      String((err as Error | null)?.message),
    )?.[1];
    if (
      (err as { code?: unknown } | null)?.code === 'ERR_MODULE_NOT_FOUND' &&
      missing !== undefined &&
      CLUSTER_PACKAGES.includes(missing)
    ) {
      throw new RollcallError(
        ErrorCodes.MISSING_DEPENDENCY,
        `${command} needs the optional packages ${CLUSTER_PACKAGES.join(' and ')}, and ${missing} is not installed: install them beside rollcall (npm install ${CLUSTER_PACKAGES.join(' ')})`,
        { cause: err },
      );
    }
    throw err;
  }
}

/** The options of `rollcall match` that concern a cluster. */
export interface ClusterMatchOptions {
  index?: string;
  cluster?: string;
  clusterTimeout?: string;
  threads?: string;
}

/** Checks that `match` has exactly one of `--index` and `--cluster` (and a timeout only with a cluster). */
export function checkIndexOrCluster(opts: ClusterMatchOptions): void {
  if (opts.index === undefined && opts.cluster === undefined) {
    throw new InvalidArgumentError(
      '--index',
      'is required (or --cluster <redis url> to match against shard workers)',
    );
  }
  if (opts.index !== undefined && opts.cluster !== undefined) {
    throw new InvalidArgumentError('--cluster', 'give --index or --cluster, not both');
  }
  if (opts.clusterTimeout !== undefined && opts.cluster === undefined) {
    throw new InvalidArgumentError('--cluster-timeout', 'needs --cluster');
  }
}

/**
 * `url`, checked (naming `option`), with the password from the environment variable
 * `ROLLCALL_REDIS_PASSWORD` when the URL carries none: a password on the command line is visible
 * to every user of the machine (`ps`), one in the environment is not.
 */
export function redisUrlOption(cluster: ClusterModule, url: string, option: string): string {
  cluster.checkRedisUrl(url, option);
  const password = process.env.ROLLCALL_REDIS_PASSWORD;
  const u = new URL(url);
  if (password === undefined || password === '' || u.password !== '') return url;
  u.password = encodeURIComponent(password);
  return u.toString();
}

/** The coordinator of `match --cluster <url>`: connects to Redis and starts the normalising threads. */
export async function clusterMatcherFor(
  opts: ClusterMatchOptions & { cluster: string },
): Promise<ClusterMatcher> {
  const threads =
    opts.threads !== undefined ? parseIntegerOption('--threads', opts.threads, 1, 256) : undefined;
  const timeoutS =
    opts.clusterTimeout !== undefined
      ? parseIntegerOption('--cluster-timeout', opts.clusterTimeout, 1, 86_400)
      : undefined;
  const cluster = await loadCluster('match --cluster');
  return cluster.createClusterMatcher({
    redis: redisUrlOption(cluster, opts.cluster, '--cluster'),
    ...(threads !== undefined ? { threads } : {}),
    ...(timeoutS !== undefined ? { timeoutMs: timeoutS * 1000 } : {}),
  });
}
