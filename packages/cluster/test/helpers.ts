/**
 * Real processes for the cluster tests: a `redis-server` (Debian's package) on 127.0.0.1 on a free
 * port, and the real `rollcall` CLI (`serve`, `match`, `index build`) as child processes. No mocks.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '../../..');
const BIN = join(ROOT, 'packages/cli/src/bin.ts');

/** The `redis-server` binary, or undefined when it is not installed. */
export function findRedisServer(): string | undefined {
  for (const candidate of [
    '/usr/bin/redis-server',
    '/usr/local/bin/redis-server',
    '/usr/sbin/redis-server',
  ]) {
    if (existsSync(candidate)) return candidate;
  }
  try {
    const found = execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim();
    return found === '' ? undefined : found;
  } catch {
    return undefined;
  }
}

/** A free TCP port on 127.0.0.1 (asks the OS for one, then releases it). */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

/** A throwaway Redis: no persistence, loopback only. */
export interface TestRedis {
  /** `redis://:<password>@127.0.0.1:<port>`. */
  url: string;
  port: number;
  password: string;
  /** A client for the test's own checks. */
  client: Redis;
  stop(): Promise<void>;
}

/** Starts `redis-server` on a free port with a password; resolves once it answers PING. */
export async function startRedis(binary: string, password: string): Promise<TestRedis> {
  const port = await freePort();
  const child = spawn(
    binary,
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--requirepass',
      password,
    ],
    { stdio: 'ignore' },
  );
  const client = new Redis({ port, host: '127.0.0.1', password, lazyConnect: true, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  const started = Date.now();
  for (;;) {
    try {
      await client.connect();
      await client.ping();
      break;
    } catch (err) {
      if (Date.now() - started > 15_000) throw new Error(`redis-server did not start: ${String(err)}`);
      client.disconnect();
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    url: `redis://:${password}@127.0.0.1:${port}`,
    port,
    password,
    client,
    async stop() {
      client.disconnect();
      await stopChild(child, 'SIGTERM');
    },
  };
}

/** Signals a child we started (by its own handle) and waits for it to exit. */
export async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill(signal);
  await exited;
}

/** A `rollcall` process running in the background. */
export interface CliProcess {
  readonly child: ChildProcess;
  /** Everything printed so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when `pattern` appears on stdout; rejects if the process exits first or after `limitMs`. */
  waitForOutput(pattern: RegExp, limitMs?: number): Promise<void>;
  /** Resolves with how it ended. */
  exited: Promise<{ status: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts the real `rollcall` CLI (from source) with `args`; `nodeArgs` go to node first (e.g. an `--import`). */
export function startCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  nodeArgs: readonly string[] = [],
): CliProcess {
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', ...nodeArgs, BIN, ...args],
    {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (s: string) => {
    out += s;
  });
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    err += s;
  });
  const exited = new Promise<{ status: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on('close', (status, signal) => r({ status, signal })),
  );
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    async waitForOutput(pattern, limitMs = 60_000) {
      const started = Date.now();
      while (!pattern.test(out)) {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`rollcall ${args[0]} exited before printing ${pattern}: ${err || out}`);
        }
        // A limit against a hung run, not a timing claim.
        if (Date.now() - started > limitMs) throw new Error(`gave up waiting for ${pattern}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
  };
}

/** Runs the CLI to the end; returns its status and output. */
export async function runCli(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const p = startCli(args, env);
  const { status } = await p.exited;
  return { status, stdout: p.stdout(), stderr: p.stderr() };
}

/**
 * Every value held in Redis, as text (strings, hashes, lists, sets, sorted sets, streams), by key:
 * what a test searches for left-over job data.
 */
export async function dumpRedis(client: Redis): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const key of await client.keys('*')) {
    const type = await client.type(key);
    let text: string;
    if (type === 'string') text = (await client.get(key)) ?? '';
    else if (type === 'hash') text = JSON.stringify(await client.hgetall(key));
    else if (type === 'list') text = JSON.stringify(await client.lrange(key, 0, -1));
    else if (type === 'set') text = JSON.stringify(await client.smembers(key));
    else if (type === 'zset') text = JSON.stringify(await client.zrange(key, 0, -1, 'WITHSCORES'));
    else if (type === 'stream') text = JSON.stringify(await client.xrange(key, '-', '+'));
    else text = `<${type}>`;
    out.set(key, text);
  }
  return out;
}
