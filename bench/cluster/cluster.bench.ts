/**
 * The cluster's overhead on one machine: rows/s of `match` against shard workers over BullMQ and
 * Redis (1, 2 and 4 shards, one replica each, each a real `rollcall serve` process) against the
 * local match of the same upload on the unsharded index, in the same run (ratio = cluster / local;
 * below 1 is the price of the network hop, here a loopback one). Every cluster audience is checked
 * equal to the local one. Also reported: Redis traffic per upload row (INFO's net bytes in + out).
 *
 * Starts its own `redis-server` (no persistence, 127.0.0.1, a free port) and its own workers, and
 * stops them (by their own handles) and removes its data whatever happens. Skipped, with a
 * message, when `redis-server` is not installed.
 *
 * Data: a generated index (200k entries; 5k with `--quick`) and a messy GB upload drawn half from
 * it (200k rows; 10k with `--quick`).
 *
 * Run directly: `node --conditions=source --import tsx bench/cluster/cluster.bench.ts [--quick]`.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createClusterMatcher } from '@rollcall/cluster';
import { writeIndexFile, writeShardedIndexFiles } from '@rollcall/index';
import { createMatcher, type MatchResult } from '@rollcall/join';
import { Redis } from 'ioredis';
import { Bench } from 'tinybench';
import { writeIndexCsv, writeUploadCsv } from '../../fixtures/generate.js';
import { type BenchResult, machineFacts, medianHz, type SuiteOptions } from '../result.js';

const SUITE = 'cluster';
const ROOT = resolve(import.meta.dirname, '../..');
const BIN = join(ROOT, 'packages/cli/src/bin.ts');
const SHARD_COUNTS = [1, 2, 4] as const;

/** The `redis-server` binary, or undefined. */
function findRedisServer(): string | undefined {
  for (const c of ['/usr/bin/redis-server', '/usr/local/bin/redis-server', '/usr/sbin/redis-server']) {
    if (existsSync(c)) return c;
  }
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => res(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

/** Waits for a child we started to exit after `signal` (SIGKILL after 10 s). */
async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Starts `rollcall serve` for one shard file; resolves once it serves. */
async function serve(shard: number, file: string, url: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', BIN, 'serve', '--shard', String(shard), '--index', file],
    { cwd: ROOT, env: { ...process.env, ROLLCALL_REDIS_URL: url }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  child.stderr!.resume();
  while (!out.includes('serving shard')) {
    if (child.exitCode !== null) throw new Error(`rollcall serve --shard ${shard} exited: ${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return child;
}

function sameAudience(a: MatchResult, b: MatchResult): boolean {
  const x = a.audience;
  const y = b.audience;
  return x !== null && y !== null && x.length === y.length && x.every((v, i) => v === y[i]);
}

/** Redis's bytes in + out so far (INFO stats) and its CPU seconds (INFO cpu, user + system). */
async function redisCounters(client: Redis): Promise<{ netBytes: number; cpuS: number }> {
  const info = await client.info();
  const num = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return {
    netBytes: num('total_net_input_bytes') + num('total_net_output_bytes'),
    cpuS: num('used_cpu_user') + num('used_cpu_sys'),
  };
}

/** CPU seconds (user + system) a child process has used so far, from /proc (0 where there is none). */
function childCpuS(child: ChildProcess): number {
  try {
    const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    // Fields 14 and 15 of stat (utime, stime), in clock ticks; 100 a second on Linux.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** µs of CPU per upload row. */
function usPerRow(cpuS: number, rows: number): string {
  return ((cpuS * 1e6) / rows).toFixed(2);
}

/** Runs the suite; see the file comment. */
export async function run(opts: SuiteOptions): Promise<BenchResult[]> {
  const redisServer = findRedisServer();
  if (redisServer === undefined) {
    console.log('cluster bench skipped: redis-server is not installed (apt-get install -y redis-server)');
    return [];
  }
  const entries = opts.quick ? 5_000 : 200_000;
  const rows = opts.quick ? 10_000 : 200_000;
  const iterations = opts.quick ? 2 : 5;
  const dir = mkdtempSync(join(tmpdir(), 'rollcall-bench-cluster-'));
  const children: ChildProcess[] = [];
  let redisChild: ChildProcess | undefined;
  let client: Redis | undefined;
  const results: BenchResult[] = [];
  try {
    const csv = join(dir, 'index.csv');
    const upload = join(dir, 'upload.csv');
    await writeIndexCsv(csv, entries, 21);
    await writeUploadCsv(upload, rows, csv, 'GB', 22, 0.5);
    await writeIndexFile(csv, join(dir, 'whole.idx'));
    const port = await freePort();
    redisChild = spawn(
      redisServer,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    const url = `redis://127.0.0.1:${port}`;
    client = new Redis(url, { maxRetriesPerRequest: null });
    client.on('error', () => {});
    await client.ping();

    const matchOptions = { upload, defaultCountry: 'GB', minAudience: 1 };
    const local = await createMatcher({ index: join(dir, 'whole.idx') });
    const threads = local.threads;
    const localHz: number[] = [];
    try {
      const expected = await local.match(matchOptions);
      for (const shardCount of SHARD_COUNTS) {
        const report = await writeShardedIndexFiles(csv, join(dir, `s${shardCount}`), { shardCount });
        const workers = await Promise.all(report.files.map((f, i) => serve(i, f, url)));
        children.push(...workers);
        const cluster = await createClusterMatcher({ redis: url, threads });
        try {
          // One untimed run: checks the audience and measures Redis traffic.
          const before = await redisCounters(client);
          const workersBefore = workers.reduce((a, w) => a + childCpuS(w), 0);
          const coordinatorBefore = process.cpuUsage();
          const first = await cluster.match(matchOptions);
          const coordinatorUsage = process.cpuUsage(coordinatorBefore);
          const after = await redisCounters(client);
          const netBytes = after.netBytes - before.netBytes;
          const cpu = {
            coordinator: (coordinatorUsage.user + coordinatorUsage.system) / 1e6,
            workers: workers.reduce((a, w) => a + childCpuS(w), 0) - workersBefore,
            redis: after.cpuS - before.cpuS,
          };
          if (!sameAudience(first, expected)) {
            throw new Error(`the ${shardCount}-shard cluster audience differs from the local one`);
          }
          // The baseline is measured again beside every cluster figure, in the same bench, so a
          // machine whose load drifts during the suite skews both sides alike.
          const name = `cluster, ${shardCount} shard${shardCount > 1 ? 's' : ''} × 1 replica`;
          const bench = new Bench({ name: SUITE, iterations, time: 0, warmup: false });
          bench.add('local', async () => {
            await local.match(matchOptions);
          });
          bench.add(name, async () => {
            await cluster.match(matchOptions);
          });
          await bench.run();
          const base = medianHz(bench, 'local', rows);
          const hz = medianHz(bench, name, rows);
          localHz.push(base);
          results.push({
            suite: SUITE,
            name,
            hz,
            unit: 'rows/s',
            baseline: 'local match',
            ratio: base > 0 ? hz / base : 0,
            notes: `local ${Math.round(base).toLocaleString('en-US')} rows/s in the same bench; Redis traffic ${(netBytes / rows).toFixed(1)} B/upload row, ${(netBytes / (first.report.matched ?? 1)).toFixed(1)} B/matched number; CPU µs/row: coordinator ${usPerRow(cpu.coordinator, rows)}, shard workers ${usPerRow(cpu.workers, rows)}, Redis ${usPerRow(cpu.redis, rows)}; audience = local`,
          });
        } finally {
          await cluster.close();
          await Promise.all(workers.map((w) => stop(w)));
        }
      }
    } finally {
      await local.close();
    }
    localHz.sort((a, b) => a - b);
    results.unshift({
      suite: SUITE,
      name: `local match, unsharded index (${threads} threads)`,
      hz: localHz[Math.floor(localHz.length / 2)] ?? 0,
      unit: 'rows/s',
      notes: `median of the baselines; ${rows.toLocaleString('en-US')} rows, ${entries.toLocaleString('en-US')} entries`,
    });
    return results;
  } finally {
    await Promise.all(children.map((c) => stop(c)));
    client?.disconnect();
    if (redisChild) await stop(redisChild);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const quick = process.argv.includes('--quick');
  const facts = machineFacts();
  console.log(`${SUITE}: ${facts.cores} cores, ${facts.cpu}, Node ${facts.node}`);
  for (const r of await run({ quick })) {
    const ratio = r.ratio !== undefined ? `  ${r.ratio.toFixed(2)}× ${r.baseline}` : '';
    console.log(
      `${r.name.padEnd(44)} ${Math.round(r.hz).toLocaleString('en-US').padStart(10)} ${r.unit}${ratio}  ${r.notes ?? ''}`,
    );
  }
}
