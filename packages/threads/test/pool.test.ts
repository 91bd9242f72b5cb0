/**
 * Threads started by the launcher: they run their entry from source here, with the options the
 * launcher gives them, and a pool or thread is never terminated while one of them is still loading.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { LOADED, Thread, ThreadPool, threadEntry } from '../src/index.js';

/** A counter the count-loads entry bumps once per thread that loaded it. */
function loadCounter(): { loads: SharedArrayBuffer; count: () => number } {
  const loads = new SharedArrayBuffer(4);
  return { loads, count: () => Atomics.load(new Int32Array(loads), 0) };
}

describe('ThreadPool', () => {
  test('runs tasks on its entry', async () => {
    const pool = new ThreadPool(threadEntry(import.meta.url, './fixtures/echo'), { threads: 2 });
    try {
      expect(await Promise.all([1, 2, 3].map((n) => pool.run({ n })))).toEqual([
        { n: 1 },
        { n: 2 },
        { n: 3 },
      ]);
    } finally {
      await pool.close();
    }
  });

  test('closed at once, it lets every thread finish loading first; close is idempotent', async () => {
    const { loads, count } = loadCounter();
    const pool = new ThreadPool(threadEntry(import.meta.url, './fixtures/count-loads'), {
      threads: 2,
      workerData: { loads },
    });
    await Promise.all([pool.close(), pool.close()]);
    expect(count()).toBe(2);
    await pool.close();
  });

  test('a V8 flag the filter does not know: the threads start with the fallback options', async () => {
    const entry = threadEntry(import.meta.url, './fixtures/echo', ['--stress-compaction']);
    expect(entry.execArgv).toContain('--stress-compaction');
    const pool = new ThreadPool(entry, { threads: 1 });
    try {
      const execArgv = (await pool.run('execArgv')) as string[];
      expect(execArgv).not.toContain('--stress-compaction');
      expect(execArgv).toContain('--conditions=source');
    } finally {
      await pool.close();
    }
  });
});

describe('Thread', () => {
  test('terminated at once (twice over), it finishes loading first', async () => {
    const { loads, count } = loadCounter();
    const thread = new Thread(threadEntry(import.meta.url, './fixtures/count-loads'), {
      workerData: { loads },
    });
    await Promise.all([thread.terminate(), thread.terminate()]);
    expect(count()).toBe(1);
    await thread.terminate();
  });
});

test('the bootstrap posts the message the launcher waits for', () => {
  expect(readFileSync(new URL('../bootstrap.cjs', import.meta.url), 'utf8')).toContain(
    `'${LOADED}': threadId`,
  );
});
