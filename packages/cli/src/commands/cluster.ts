import { type ClusterMatcher, checkRedisUrl, createClusterMatcher } from '@rollcall/cluster';
import { InvalidArgumentError } from '@rollcall/errors';
import { parseIntegerOption } from './options.js';

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
export function redisUrlOption(url: string, option: string): string {
  checkRedisUrl(url, option);
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
  return createClusterMatcher({
    redis: redisUrlOption(opts.cluster, '--cluster'),
    ...(threads !== undefined ? { threads } : {}),
    ...(timeoutS !== undefined ? { timeoutMs: timeoutS * 1000 } : {}),
  });
}
