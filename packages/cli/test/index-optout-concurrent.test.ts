/**
 * Issue 16, item 1, through the real CLI: concurrent `rollcall index optout` runs on one index
 * serialise on its update lock and lose nothing, and a lock left by a killed process is recovered.
 * Without the lock, two runs each read, change and rename the file, and one run's opt-outs vanish.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openIndex } from '@rollcall/index';
import type { PhoneKey } from '@rollcall/phone';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import {
  makePlatform,
  type Platform,
  ROOT,
  removeScratchDirs,
  rollcallStart,
  tempFilesIn,
  waitFor,
} from './helpers.js';

afterAll(removeScratchDirs);
const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

const keyOf = (phone: string) => Number(phone.slice(1)) as PhoneKey;

/** Writes one changes file per writer, each opting out its own `perWriter` numbers not yet out. */
function disjointChanges(platform: Platform, writers: number, perWriter: number, skip: number, tag: string) {
  const free = platform.entries.filter((e) => !e.optedOut).slice(skip, skip + writers * perWriter);
  return Array.from({ length: writers }, (_, w) => {
    const mine = free.slice(w * perWriter, (w + 1) * perWriter);
    const path = join(platform.dir, `${tag}-${w}.csv`);
    writeFileSync(path, `phone,opted_out\n${mine.map((e) => `${e.phone},true`).join('\n')}\n`);
    return { path, phones: mine.map((e) => e.phone) };
  });
}

/** How many of `phones` the index does not hold opted out (a count: never the numbers). */
async function notOptedOut(indexFile: string, phones: readonly string[]): Promise<number> {
  const reader = await openIndex(indexFile);
  return phones.filter((p) => reader.probe(keyOf(p))?.optedOut !== true).length;
}

describe('concurrent `rollcall index optout` on one index', () => {
  test('8 processes at once, each opting out its own numbers, in 2 rounds: every opt-out is there', async () => {
    // Large enough that each run's read-change-write takes a while, so the runs overlap.
    const platform = await makePlatform({ entries: 100_000, seed: 16 });
    const writers = 8;
    for (let round = 0; round < 2; round++) {
      const changes = disjointChanges(platform, writers, 40, round * writers * 40, `r${round}`);
      const runs = changes.map((c) =>
        rollcallStart(['index', 'optout', platform.indexFile, c.path, '--quiet']),
      );
      const done = await Promise.all(runs.map((r) => r.done));
      expect(done.map((d) => d.status)).toEqual(Array(writers).fill(0));
      const lost = await notOptedOut(
        platform.indexFile,
        changes.flatMap((c) => c.phones),
      );
      expect(lost, `opt-outs lost in round ${round + 1}`).toBe(0);
    }
    // The header counts every number of every opted-out user (a few generated users share an id).
    const outPhones = new Set(
      Array.from({ length: 2 }, (_, round) =>
        disjointChanges(platform, writers, 40, round * writers * 40, 'check'),
      )
        .flat()
        .flatMap((c) => c.phones),
    );
    const outUsers = new Set(
      platform.entries.filter((e) => e.optedOut || outPhones.has(e.phone)).map((e) => e.userId),
    );
    const reader = await openIndex(platform.indexFile);
    expect(reader.header.optedOut).toBe(platform.entries.filter((e) => outUsers.has(e.userId)).length);
    expect(existsSync(`${platform.indexFile}.lock`)).toBe(false);
    expect(tempFilesIn(platform.dir)).toEqual([]);
  }, 240_000);

  test('a lock held by a process that is then killed: the waiting run goes on, nothing is lost', async () => {
    const platform = await makePlatform({ entries: 2_000, seed: 17 });
    const holder = spawn(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        'tsx',
        join(import.meta.dirname, 'fixtures/hold-index-lock.ts'),
        platform.indexFile,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    children.push(holder);
    let held = '';
    holder.stdout!.setEncoding('utf8').on('data', (s: string) => {
      held += s;
    });
    await waitFor(() => held.includes('locked'), 'the holder to take the lock');
    const [change] = disjointChanges(platform, 1, 25, 0, 'killed');
    const run = spawn(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        'tsx',
        join(ROOT, 'packages/cli/src/bin.ts'),
        'index',
        'optout',
        platform.indexFile,
        change!.path,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    children.push(run);
    let stderr = '';
    run.stderr!.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    run.stdout!.resume();
    const exited = new Promise<number | null>((r) => run.on('close', (code) => r(code)));
    // It waits for the holder, and says so (naming a process, never data)…
    await waitFor(() => stderr.includes('waiting for it to finish'), 'the run to wait for the lock');
    expect(stderr).toMatch(new RegExp(`is being updated by pid ${holder.pid} on `));
    // …which is killed: its lock stays behind, with a dead pid, and is broken.
    holder.kill('SIGKILL');
    expect(await exited).toBe(0);
    expect(await notOptedOut(platform.indexFile, change!.phones), 'opt-outs lost').toBe(0);
    expect(existsSync(`${platform.indexFile}.lock`)).toBe(false);
  }, 120_000);
});
