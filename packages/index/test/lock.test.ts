/**
 * Issue 16, item 1: the update lock of an index file. Concurrent updates serialise and lose
 * nothing; a lock left by a dead process or not refreshed for too long is broken; a live one is
 * waited for and named (pid, host, time: never data) when the wait gives up.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { ErrorCodes } from '@rollcall/errors';
import { afterEach, describe, expect, test } from 'vitest';
import {
  applyOptOuts,
  IndexLockedError,
  lockIndex,
  lockPathOf,
  openIndex,
  writeIndexFile,
} from '../src/index.js';
import { csvOf, filesIn, keyOf, makeRows, tempDir, writeText } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const HOLD_LOCK = join(import.meta.dirname, 'fixtures/hold-lock.ts');

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

/** Starts the hold-lock double on `index`; resolves once it holds the lock. */
async function holdLockInChild(index: string, mode: 'hold' | 'exit' = 'hold'): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', HOLD_LOCK, index, mode], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  await new Promise<void>((ok, fail) => {
    // `hold`: once it says it holds the lock; `exit`: once it has exited (holding it).
    if (mode === 'hold') {
      child.stdout!.setEncoding('utf8').on('data', (s: string) => {
        if (s.includes('locked')) ok();
      });
    } else child.stdout!.resume();
    child.on('exit', (code) =>
      mode === 'exit' && code === 0 ? ok() : fail(new Error(`hold-lock exited ${code}`)),
    );
  });
  return child;
}

/** A pid that certainly ran on this host and has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', '']);
  return r.pid!;
}

function fakeLock(index: string, holder: { pid: number; hostname: string }, ageMs = 0): string {
  const path = lockPathOf(index);
  writeFileSync(path, JSON.stringify({ ...holder, acquiredAt: Date.now() - ageMs, token: 'someone-else' }));
  const then = new Date(Date.now() - ageMs);
  utimesSync(path, then, then);
  return path;
}

describe('lockIndex', () => {
  test('a second taker waits while the lock is held, then gives up naming the holder (ERR_IO)', async () => {
    const dir = tempDir();
    const index = join(dir, 'i.idx');
    const lock = await lockIndex(index);
    expect(existsSync(`${index}.lock`)).toBe(true);
    let waited: unknown;
    const err = await lockIndex(index, { waitMs: 150, onWait: (h) => (waited = h) }).catch((e) => e);
    expect(err).toBeInstanceOf(IndexLockedError);
    expect(err).toMatchObject({ code: ErrorCodes.IO, holder: { pid: process.pid, hostname: hostname() } });
    expect(waited).toMatchObject({ pid: process.pid });
    await lock.release();
    expect(filesIn(dir)).toEqual([]);
    const again = await lockIndex(index, { waitMs: 0 });
    await again.release();
  });

  test('a waiter gets the lock as soon as the holder releases it', async () => {
    const dir = tempDir();
    const index = join(dir, 'i.idx');
    const first = await lockIndex(index);
    const order: string[] = [];
    const second = lockIndex(index).then((l) => {
      order.push('second');
      return l;
    });
    await new Promise((r) => setTimeout(r, 50));
    order.push('first releases');
    await first.release();
    await (await second).release();
    expect(order).toEqual(['first releases', 'second']);
  });

  test('a lock whose pid is dead on this host is broken at once', async () => {
    const dir = tempDir();
    const index = join(dir, 'i.idx');
    fakeLock(index, { pid: deadPid(), hostname: hostname() });
    const lock = await lockIndex(index, { waitMs: 0 });
    expect(lock.isHeld()).toBe(true);
    await lock.release();
    expect(filesIn(dir)).toEqual([]);
  });

  test('a lock of another host is broken only when not refreshed for staleMs', async () => {
    const dir = tempDir();
    const index = join(dir, 'i.idx');
    // Fresh, on a host whose pids we cannot see: waited for.
    fakeLock(index, { pid: 1, hostname: 'elsewhere.invalid' });
    await expect(lockIndex(index, { waitMs: 100, staleMs: 60_000 })).rejects.toBeInstanceOf(IndexLockedError);
    // Not refreshed for longer than staleMs: broken.
    fakeLock(index, { pid: 1, hostname: 'elsewhere.invalid' }, 120_000);
    const lock = await lockIndex(index, { waitMs: 0, staleMs: 60_000 });
    await lock.release();
    // An unreadable lock is judged by its age alone.
    writeFileSync(lockPathOf(index), '');
    await expect(lockIndex(index, { waitMs: 100, staleMs: 60_000 })).rejects.toBeInstanceOf(IndexLockedError);
    const old = new Date(Date.now() - 120_000);
    utimesSync(lockPathOf(index), old, old);
    await (await lockIndex(index, { waitMs: 0, staleMs: 60_000 })).release();
  });

  test('a holder refreshes its lock, so a live holder is never judged stale by age', async () => {
    const dir = tempDir();
    const index = join(dir, 'i.idx');
    const lock = await lockIndex(index);
    const path = lockPathOf(index);
    const old = new Date(Date.now() - 120_000);
    utimesSync(path, old, old);
    lock.refresh();
    await expect(lockIndex(index, { waitMs: 50, staleMs: 60_000 })).rejects.toBeInstanceOf(IndexLockedError);
    await lock.release();
  });

  test('a lock left by a killed process is recovered; one left by an exiting process is removed', async () => {
    const dir = tempDir();
    const index = join(dir, 'i.idx');
    const child = await holdLockInChild(index);
    const holder = JSON.parse(readFileSync(lockPathOf(index), 'utf8')) as { pid: number };
    expect(holder.pid).toBe(child.pid);
    await expect(lockIndex(index, { waitMs: 100 })).rejects.toBeInstanceOf(IndexLockedError);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(existsSync(lockPathOf(index))).toBe(true); // Killed: it could not clean up…
    const lock = await lockIndex(index, { waitMs: 5_000 }); // …and its dead pid frees the lock.
    await lock.release();
    await holdLockInChild(index, 'exit');
    expect(existsSync(lockPathOf(index))).toBe(false);
  });

  test('a break guard abandoned by a dead process does not block breaking', async () => {
    const dir = tempDir();
    const index = join(dir, 'i.idx');
    fakeLock(index, { pid: deadPid(), hostname: hostname() });
    writeFileSync(
      `${lockPathOf(index)}.break`,
      JSON.stringify({ pid: deadPid(), hostname: hostname(), acquiredAt: Date.now(), token: 'guard' }),
    );
    const lock = await lockIndex(index, { waitMs: 5_000 });
    await lock.release();
    expect(filesIn(dir)).toEqual([]);
  });

  test('a lock broken while its holder stalled is no longer held: the update writes nothing', async () => {
    const dir = tempDir();
    const index = join(dir, 'i.idx');
    const lock = await lockIndex(index);
    fakeLock(index, { pid: 1, hostname: 'elsewhere.invalid' }); // Another took over.
    expect(lock.isHeld()).toBe(false);
    expect(() => lock.assertHeld()).toThrow(/broken as stale/);
    await lock.release(); // Leaves the other's lock alone.
    expect(JSON.parse(readFileSync(lockPathOf(index), 'utf8'))).toMatchObject({ token: 'someone-else' });
  });

  test('bad options are refused by name', async () => {
    await expect(lockIndex('')).rejects.toMatchObject({ code: ErrorCodes.INVALID_ARGUMENT });
    await expect(lockIndex(join(tempDir(), 'i'), { waitMs: -1 })).rejects.toMatchObject({ option: 'waitMs' });
  });
});

describe('concurrent applyOptOuts on one index lose nothing', () => {
  test('16 updates at once in one process, each opting out its own numbers: every opt-out is there', async () => {
    const dir = tempDir();
    const rows = makeRows(3000, 16).map((r) => ({ ...r, optedOut: false }));
    const index = join(dir, 'index.idx');
    await writeIndexFile(writeText(dir, 'src.csv', csvOf(rows)), index);
    const writers = 16;
    const mine = (w: number) => rows.filter((_, i) => i % 50 === w);
    const reports = await Promise.all(
      Array.from({ length: writers }, (_, w) => {
        const changes = writeText(
          dir,
          `c${w}.csv`,
          `phone,opted_out\n${mine(w)
            .map((r) => `${r.phone},true`)
            .join('\n')}\n`,
        );
        return applyOptOuts(index, changes);
      }),
    );
    expect(reports.every((r, w) => r.written && r.changed === mine(w).length)).toBe(true);
    const after = await openIndex(index);
    let missing = 0;
    for (let w = 0; w < writers; w++)
      for (const r of mine(w)) if (!after.probe(keyOf(r.phone))?.optedOut) missing++;
    expect(missing, 'opt-outs lost').toBe(0);
    expect(after.header.optedOut).toBe(
      Array.from({ length: writers }, (_, w) => mine(w).length).reduce((a, b) => a + b),
    );
    // No temp file or lock left; the eligibility log holds the users the updates opted out.
    expect(filesIn(dir).filter((f) => !f.endsWith('.csv'))).toEqual([
      'index.idx',
      'index.idx.eligibility.log',
    ]);
    expect(after.header.generation).toBe(writers);
  });
});
