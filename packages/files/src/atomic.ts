import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileErrorFrom } from '@rollcall/errors';
import { checkOutputPath } from './paths.js';

/** Temp files not yet committed, removed if the process is told to stop. */
const pending = new Set<string>();

/** Paths of the temp files this process has open right now (for signal handlers). */
export function pendingTempFiles(): readonly string[] {
  return [...pending];
}

/** Removes every temp file not yet committed. Safe to call from a signal handler; never throws. */
export function removePendingTempFiles(): void {
  for (const path of pending) {
    try {
      rmSync(path, { force: true });
    } catch {
      // Best effort: a signal handler must not throw.
    }
    pending.delete(path);
  }
}

/**
 * An output file written beside its target under a temporary name and renamed into place
 * on {@link AtomicFile.commit} (or, with others, by {@link commitAll}). A reader never sees a
 * half-written file: until the rename the target keeps its old content (or does not exist).
 *
 * The constructor checks the target first (see {@link checkOutputPath}): a directory, a device, a
 * FIFO, a socket or `-` is refused with `ERR_IO` before anything is created, and creating the temp
 * file proves the directory writable, so a bad output path fails before any work.
 */
export class AtomicFile {
  /** The final path. */
  readonly target: string;
  /** The temporary path beside the target (same directory, so the rename is atomic). */
  readonly tempPath: string;
  #fd: number | undefined;
  #done = false;

  constructor(target: string) {
    checkOutputPath(target);
    this.target = target;
    // Same directory as the target: rename(2) is only atomic within one file system.
    this.tempPath = join(
      dirname(target),
      `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
    );
    try {
      this.#fd = openSync(this.tempPath, 'wx', 0o644);
    } catch (err) {
      throw fileErrorFrom(target, err, 'create output file');
    }
    pending.add(this.tempPath);
  }

  /** Appends bytes or text (UTF-8). */
  write(data: string | Uint8Array): void {
    if (this.#fd === undefined) throw fileErrorFrom(this.target, new Error('already closed'), 'write');
    try {
      if (typeof data === 'string') writeSync(this.#fd, data, null, 'utf8');
      else {
        let off = 0;
        // writeSync may write fewer bytes than asked; loop until all are written.
        while (off < data.length) off += writeSync(this.#fd, data, off, data.length - off);
      }
    } catch (err) {
      this.abort();
      throw fileErrorFrom(this.target, err, 'write output file');
    }
  }

  /** True once committed or aborted. */
  get settled(): boolean {
    return this.#done;
  }

  /** Flushes to disk and closes, without renaming (the first step of a commit). Idempotent. */
  flush(): void {
    if (this.#done) throw fileErrorFrom(this.target, new Error('already closed'), 'write output file');
    if (this.#fd === undefined) return;
    try {
      fsyncSync(this.#fd);
      closeSync(this.#fd);
      this.#fd = undefined;
    } catch (err) {
      this.abort();
      throw fileErrorFrom(this.target, err, 'write output file');
    }
  }

  /**
   * Renames a flushed file into place and marks it committed; throws the raw system error and
   * leaves the temp file for the caller to abort (for {@link commitAll}'s roll-back).
   * @internal
   */
  renameIntoPlace(): void {
    renameSync(this.tempPath, this.target);
    pending.delete(this.tempPath);
    this.#done = true;
  }

  /** Flushes to disk and renames into place. Returns the target path. */
  commit(): string {
    if (this.#done) return this.target;
    try {
      if (this.#fd !== undefined) {
        fsyncSync(this.#fd);
        closeSync(this.#fd);
        this.#fd = undefined;
      }
      renameSync(this.tempPath, this.target);
    } catch (err) {
      this.abort();
      throw fileErrorFrom(this.target, err, 'write output file');
    }
    pending.delete(this.tempPath);
    this.#done = true;
    return this.target;
  }

  /** Closes and removes the temp file; the target is untouched. Never throws. */
  abort(): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#fd !== undefined) {
      try {
        closeSync(this.#fd);
      } catch {
        // Already closed or the descriptor is bad: nothing more to do.
      }
      this.#fd = undefined;
    }
    try {
      unlinkSync(this.tempPath);
    } catch {
      // Already gone.
    }
    pending.delete(this.tempPath);
  }
}

/** Writes `data` to `target` atomically (temp file beside it, then rename). */
export function writeFileAtomic(target: string, data: string | Uint8Array): void {
  const file = new AtomicFile(target);
  file.write(data);
  file.commit();
}
