import { MAX_SHARDS } from '@rollcall/index';
import { ExitCode } from '../exit.js';
import { loadCluster, redisUrlOption } from './cluster.js';
import { parseIntegerOption } from './options.js';

/** Options of `rollcall serve`, as commander parses them. */
export interface ServeCommandOptions {
  shard: string;
  index: string;
  redis: string;
  concurrency?: string;
  lockDuration?: string;
  stalledInterval?: string;
  watch: boolean;
  verifyChecksum: boolean;
  quiet?: boolean;
}

/**
 * `rollcall serve --shard i --index <shard file> --redis <url>`: answers probe jobs for one shard
 * until SIGINT or SIGTERM, then finishes the jobs in hand, deregisters and exits 0.
 */
export async function runServe(opts: ServeCommandOptions, signal: AbortSignal): Promise<number> {
  const int = (flag: string, text: string | undefined, min: number, max?: number) =>
    text === undefined ? undefined : parseIntegerOption(flag, text, min, max);
  const shard = int('--shard', opts.shard, 0, MAX_SHARDS - 1)!;
  const concurrency = int('--concurrency', opts.concurrency, 1, 1024);
  const lockDurationMs = int('--lock-duration', opts.lockDuration, 100);
  const stalledIntervalMs = int('--stalled-interval', opts.stalledInterval, 100);
  const log = opts.quiet ? undefined : (line: string) => process.stdout.write(`rollcall serve: ${line}\n`);
  const cluster = await loadCluster('serve');
  const server = await cluster.serveShard({
    shard,
    index: opts.index,
    redis: redisUrlOption(cluster, opts.redis, '--redis'),
    watch: opts.watch,
    verifyChecksum: opts.verifyChecksum,
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...(lockDurationMs !== undefined ? { lockDurationMs } : {}),
    ...(stalledIntervalMs !== undefined ? { stalledIntervalMs } : {}),
    ...(log !== undefined ? { onLog: log } : {}),
  });
  if (!signal.aborted) {
    await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  }
  await server.close();
  log?.(`stopped after answering ${server.jobsAnswered} probe jobs`);
  return ExitCode.OK;
}
