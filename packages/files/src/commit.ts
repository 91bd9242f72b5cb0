import { randomBytes } from 'node:crypto';
import { copyFileSync, linkSync, renameSync, unlinkSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ErrorCodes, fileErrorFrom, RollcallError } from '@rollcall/errors';
import type { AtomicFile } from './atomic.js';

/** Signals under which a {@link commitAll} passed its point of no return. */
const committed = new WeakSet<AbortSignal>();

/**
 * True when a {@link commitAll} given `signal` has renamed its files into place: a stop asked for
 * now comes too late to keep the old outputs, and the run should say so rather than "stopping".
 */
export function committedUnder(signal: AbortSignal): boolean {
  return committed.has(signal);
}

/** The error of a commit refused because a stop was asked for. */
function stoppedError(): RollcallError {
  return new RollcallError(
    ErrorCodes.ABORTED,
    'stopped before the outputs were written; no output was replaced',
  );
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Lets the event loop go once through its poll phase, so that a SIGINT or SIGTERM that arrived
 * while synchronous work ran (counting, sorting, writing the outputs) reaches its handler now.
 * Node runs signal handlers only from the poll phase: without this, a signal sent during the last
 * seconds of a match was seen only after the renames, and the run exited 0 with every output
 * replaced. Two turns, not one: when this is called from an I/O callback (a worker's answer), the
 * first immediate runs before the loop polls again (measured: with one, the signal was missed).
 */
async function deliverPendingSignals(): Promise<void> {
  await nextTurn();
  await nextTurn();
}

/** One target's old content, kept until the whole group is in place (or put back). */
interface Backup {
  file: AtomicFile;
  /** A second name of the old target; undefined when there was no old target. */
  path: string | undefined;
}

function backupOf(file: AtomicFile): Backup {
  const path = join(
    dirname(file.target),
    `.${basename(file.target)}.${process.pid}.${randomBytes(4).toString('hex')}.bak`,
  );
  try {
    // A hard link: the old target stays where it is (readers see it) and costs no copy.
    linkSync(file.target, path);
    return { file, path };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { file, path: undefined };
    // A file system without hard links: a copy (a clone where the file system can).
    try {
      copyFileSync(file.target, path);
      return { file, path };
    } catch (copyErr) {
      throw fileErrorFrom(file.target, copyErr, 'keep the old output file');
    }
  }
}

/**
 * Commits a group of {@link AtomicFile}s all or nothing. First every file is flushed to disk; then,
 * once pending signals have been delivered, `signal` is checked: if a stop was asked for, every file
 * is aborted and `ERR_ABORTED` thrown, with no output replaced. Past that point (the point of no
 * return, see {@link committedUnder}) the files are renamed into place in order, synchronously (no
 * signal handler can run in between); if one rename fails, the ones already renamed are put back
 * as they were (old content restored, or the new file removed where there was none) and the error
 * is thrown. On any failure every temp file is removed.
 */
export async function commitAll(
  files: readonly AtomicFile[],
  options: { signal?: AbortSignal | undefined } = {},
): Promise<void> {
  const { signal } = options;
  try {
    if (signal?.aborted) throw stoppedError();
    // The slow part (fsync) before the last look at the signal, so the look is as late as it can be.
    for (const file of files) file.flush();
    await deliverPendingSignals();
    if (signal?.aborted) throw stoppedError();
    renameAllOrNothing(files);
  } catch (err) {
    for (const file of files) file.abort();
    throw err;
  }
  if (signal !== undefined) committed.add(signal);
}

function renameAllOrNothing(files: readonly AtomicFile[]): void {
  // Every old target kept first: a target that cannot be kept (it became a directory) fails here,
  // before anything is replaced.
  const backups: Backup[] = [];
  try {
    for (const file of files) backups.push(backupOf(file));
  } catch (err) {
    removeBackups(backups);
    throw err;
  }
  let done = 0;
  try {
    for (const file of files) {
      try {
        file.renameIntoPlace();
      } catch (err) {
        throw fileErrorFrom(file.target, err, 'write output file');
      }
      done++;
    }
  } catch (err) {
    // Put back what was already replaced, newest first; best effort, nothing here may throw.
    for (let i = done - 1; i >= 0; i--) {
      const { file, path } = backups[i]!;
      try {
        if (path !== undefined) renameSync(path, file.target);
        else unlinkSync(file.target);
      } catch {
        // Left as is: the error below is what the caller reports.
      }
    }
    removeBackups(backups);
    throw err;
  }
  removeBackups(backups);
}

function removeBackups(backups: readonly Backup[]): void {
  for (const { path } of backups) {
    if (path === undefined) continue;
    try {
      unlinkSync(path);
    } catch {
      // Already moved back into place, or gone.
    }
  }
}
