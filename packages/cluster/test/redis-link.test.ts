/**
 * The Redis link names Redis when Redis is at fault (issue 16, item 8), and never shows a secret,
 * even one written in the URL's user slot (item 7).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, describe, expect, test } from 'vitest';
import { checkRedisUrl, redactRedisUrl, scrubSecrets } from '../src/index.js';
import { closeRedis, openRedis, waitForRedis } from '../src/redis.js';
import { findRedisServer, freePort, stopChild } from './helpers.js';

describe('a password in the user slot is a secret too', () => {
  test('redactRedisUrl, scrubSecrets and checkRedisUrl never show it', () => {
    expect(redactRedisUrl('redis://S3cr3t@10.0.0.1:6379')).toBe('redis://***@10.0.0.1:6379');
    expect(redactRedisUrl('rediss://S3cr3t@redis.example:6380/2')).toBe('rediss://***@redis.example:6380/2');
    // With a password, the user name is a name and the password the secret.
    expect(redactRedisUrl('redis://app:S3cr3t@10.0.0.1')).toBe('redis://app:***@10.0.0.1');
    expect(scrubSecrets('WRONGPASS S3cr3t; S3%63r3t', 'redis://S3%63r3t@10.0.0.1')).toBe(
      'WRONGPASS ***; ***',
    );
    for (const url of ['redis://S3cr3t@', 'http://S3cr3t@host', 'redis://S3cr3t@/0']) {
      expect(() => checkRedisUrl(url, '--cluster')).toThrow(/--cluster: must be a redis/);
      expect(() => checkRedisUrl(url, '--cluster')).not.toThrow(/S3cr3t/);
    }
  });
});

const REDIS = findRedisServer();

describe.skipIf(REDIS === undefined)('a Redis that restarts is named as the fault', () => {
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const child of children) await stopChild(child, 'SIGKILL');
  });
  const startServer = (port: number): ChildProcess => {
    const child = spawn(
      REDIS!,
      ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    children.push(child);
    return child;
  };
  const until = async (predicate: () => boolean, what: string): Promise<void> => {
    const started = Date.now();
    while (!predicate()) {
      if (Date.now() - started > 30_000) throw new Error(`gave up waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  test('after a restart, lastError() says Redis restarted (what it held may be gone)', async () => {
    const port = await freePort();
    const first = startServer(port);
    const link = openRedis(`redis://127.0.0.1:${port}`, 'rollcall-test');
    try {
      await waitForRedis(link, 15_000);
      await link.client.set('rollcall:test:job', 'queued');
      // Sound so far; a reconnect to the same server (a network blip) is no fault either.
      await until(() => link.lastError() === undefined, 'the run id to be read');
      link.client.disconnect(true);
      await waitForRedis(link, 15_000);
      await new Promise((r) => setTimeout(r, 200));
      expect(link.lastError()).toBeUndefined();

      await stopChild(first, 'SIGKILL');
      startServer(port);
      await until(() => /restarted/.test(link.lastError() ?? ''), 'the link to see the restart');
      expect(link.client.status).toBe('ready');
      expect(await link.client.get('rollcall:test:job')).toBeNull();
      expect(link.lastError()).toMatch(
        /^Redis restarted at \S+ \(its run id changed\), so what it held before \(queued jobs, worker registrations\) may be gone$/,
      );
    } finally {
      await closeRedis(link);
    }
  });
});
