/**
 * The update lock of an index file: every read-change-write of an index (`index optout`, and any
 * later updating command) holds it, so two updates of one file run one after the other and
 * neither loses the other's changes. Readers take no lock: every writer replaces the file by
 * rename, so a reader sees a whole index, the old one or the new one.
 *
 * Why a lock file and not compare-and-swap on the header's update time: a swap needs a
 * conditional rename ("replace only if the file is still the one I read"), which POSIX does not
 * have; checking the generation just before an unconditional rename leaves a window in which a
 * second writer's rename is lost, and an update of a large index (load, checksum, rewrite) takes
 * seconds to minutes, so retries would also redo that work. A lock file made with O_EXCL works on
 * every local file system and on NFSv3+, needs no native module (Node has no flock), and its
 * holder can be named in the message of whoever waits.
 *
 *   <index>.lock        the lock: JSON { pid, hostname, acquiredAt, token }, made by link(2) from a
 *                       fully written temp file, so it is never seen empty or half written
 *   <index>.lock.break  a short-lived guard held while a stale lock is removed (see below)
 *
 * A lock is stale when its pid is dead on this host, or when it was not refreshed for
 * `staleMs` (its holder refreshes the lock file's mtime every {@link HEARTBEAT_MS}; a holder on
 * another host, or a pid reused since, is judged by that age alone). A stale lock is removed only
 * under the guard, after reading it again: two waiters that both found it stale cannot remove a
 * lock that one of them has just made, and its holder releases under the same guard.
 */
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  futimesSync,
  linkSync,
  openSync,
  readFileSync,
  realpathSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { ErrorCodes, FileError, fileErrorFrom, InvalidArgumentError, RollcallError } from '@rollcall/errors';

/** Who holds (or held) a lock, as its file says. No personal data: a process, a host, a time. */
export interface IndexLockHolder {
  pid: number;
  hostname: string;
  /** When the lock was taken, ms since the epoch. */
  acquiredAt: number;
}

/** Options of {@link lockIndex} and {@link withIndexLock}. */
export interface IndexLockOptions {
  /** Give up waiting for another holder after this many ms (`IndexLockedError`). Default 30 minutes. */
  waitMs?: number;
  /**
   * A lock not refreshed for this many ms is stale and broken, whoever holds it. Default 10
   * minutes: generous, since a live holder refreshes it every {@link HEARTBEAT_MS} (but cannot while
   * a long synchronous write blocks its event loop).
   */
  staleMs?: number;
  /** Called once, when the lock is found held by another and the call starts to wait. */
  onWait?: (holder: IndexLockHolder | undefined) => void;
  /** Stops waiting (`ERR_ABORTED`). */
  signal?: AbortSignal;
}

/** The lock is still held by another after `waitMs`: names the holder, not the data. */
export class IndexLockedError extends FileError {
  /** The holder as its lock file says (undefined when it could not be read). */
  readonly holder: IndexLockHolder | undefined;

  constructor(lockPath: string, holder: IndexLockHolder | undefined, waitedMs: number) {
    const who =
      holder === undefined
        ? 'another process'
        : `pid ${holder.pid} on ${holder.hostname} since ${new Date(holder.acquiredAt).toISOString()}`;
    super(lockPath, `the index is being updated by ${who}; gave up after ${Math.round(waitedMs / 1000)} s`);
    this.holder = holder;
  }
}

/** How often a holder refreshes its lock file's mtime. */
export const HEARTBEAT_MS = 15_000;
const DEFAULT_WAIT_MS = 30 * 60_000;
const DEFAULT_STALE_MS = 10 * 60_000;
/** A break guard older than this is abandoned (breaking takes a few file operations). */
const GUARD_STALE_MS = 30_000;
/** Polling interval while waiting: from the first to the last, doubling, with jitter. */
const FIRST_POLL_MS = 10;
const LAST_POLL_MS = 250;

/** The lock file of an index file: `<index>.lock` beside it (its directory's real path). */
export function lockPathOf(indexPath: string): string {
  const full = resolve(indexPath);
  let dir = dirname(full);
  try {
    // Two spellings of one directory (a symlink, `..`) must name one lock.
    dir = realpathSync(dir);
  } catch {
    // A missing directory: the lock's own creation reports it.
  }
  return join(dir, `${basename(full)}.lock`);
}

/** Locks held by this process, released if it exits while holding them. */
const held = new Set<IndexLock>();
let exitHookInstalled = false;

/** A held update lock of one index file. Release it exactly once. */
export class IndexLock {
  /** The index file locked. */
  readonly index: string;
  /** The lock file. */
  readonly path: string;
  readonly #token: string;
  #fd: number | undefined;
  #heartbeat: NodeJS.Timeout | undefined;

  /** @internal Made by {@link lockIndex}. */
  constructor(index: string, path: string, token: string, fd: number) {
    this.index = index;
    this.path = path;
    this.#token = token;
    this.#fd = fd;
    // unref: a lock never keeps the process alive by itself.
    this.#heartbeat = setInterval(() => this.refresh(), HEARTBEAT_MS).unref();
    held.add(this);
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      // A process that exits (process.exit after a signal, an uncaught error) drops its locks at
      // once; one that is killed leaves them to the dead-pid rule.
      process.on('exit', () => {
        for (const lock of held) lock.#removeIfOurs();
      });
    }
  }

  /** Refreshes the lock's mtime (the age rule). Long updates call it between their steps too. */
  refresh(): void {
    if (this.#fd === undefined) return;
    try {
      const now = new Date();
      // Through our own descriptor: if the lock was broken and taken by another, we touch our
      // unlinked inode, never their file.
      futimesSync(this.#fd, now, now);
    } catch {
      // Best effort: a missed refresh only brings the age limit nearer.
    }
  }

  /** True while the lock file is still this lock (it was not broken as stale). */
  isHeld(): boolean {
    return this.#fd !== undefined && readHolderToken(this.path) === this.#token;
  }

  /**
   * Throws unless the lock is still held: called just before an update replaces the index, so
   * an update whose lock was broken (it stalled past `staleMs`) fails instead of overwriting
   * another's.
   */
  assertHeld(): void {
    if (!this.isHeld()) {
      throw new RollcallError(
        ErrorCodes.IO,
        `${this.path}: the update lock was broken as stale while this update ran; nothing was written`,
      );
    }
  }

  /** Releases the lock (under the break guard, so a breaker never removes a newer lock). */
  async release(): Promise<void> {
    if (this.#fd === undefined) return;
    const guard = await takeGuard(this.path, Date.now() + GUARD_STALE_MS);
    try {
      this.#removeIfOurs();
    } finally {
      guard?.();
    }
  }

  #removeIfOurs(): void {
    if (this.#fd === undefined) return;
    clearInterval(this.#heartbeat);
    try {
      if (readHolderToken(this.path) === this.#token) unlinkSync(this.path);
    } catch {
      // Already gone (broken as stale): nothing to remove.
    }
    try {
      closeSync(this.#fd);
    } catch {
      // Nothing more to do.
    }
    this.#fd = undefined;
    held.delete(this);
  }
}

interface LockFileContent extends IndexLockHolder {
  token: string;
}

function readContent(path: string): LockFileContent | undefined {
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as Partial<LockFileContent>;
    if (
      typeof v.pid === 'number' &&
      typeof v.hostname === 'string' &&
      typeof v.acquiredAt === 'number' &&
      typeof v.token === 'string'
    ) {
      return v as LockFileContent;
    }
  } catch {
    // Gone, or not ours to read: judged by its age.
  }
  return undefined;
}

function readHolderToken(path: string): string | undefined {
  return readContent(path)?.token;
}

/** False only when `pid` certainly does not run on this host. */
function pidAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it runs, as another user.
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/** Whether the lock at `path` (content `c`, mtime `mtimeMs`) may be broken. */
function isStale(c: LockFileContent | undefined, mtimeMs: number, staleMs: number): boolean {
  if (c !== undefined && c.hostname === hostname() && !pidAlive(c.pid)) return true;
  return Date.now() - mtimeMs > staleMs;
}

function mtimeOf(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Writes `content` to a temp file beside `target` and links it there: false if `target` exists. */
function linkNew(target: string, content: string): { fd: number } | false {
  const temp = join(
    dirname(target),
    `.${basename(target)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  let fd: number;
  try {
    fd = openSync(temp, 'wx', 0o644);
  } catch (err) {
    throw fileErrorFrom(target, err, 'create the index lock');
  }
  try {
    writeSync(fd, content);
    // link(2) fails with EEXIST if the target exists, and makes it whole and at once if not.
    linkSync(temp, target);
    return { fd };
  } catch (err) {
    closeSync(fd);
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw fileErrorFrom(target, err, 'create the index lock');
  } finally {
    try {
      unlinkSync(temp);
    } catch {
      // Removed already.
    }
  }
}

/**
 * Takes the break guard of `lockPath`; returns its release, or undefined if it could not be had
 * by `deadline` (the caller then goes on without it: only a release, which is safe to retry).
 */
async function takeGuard(lockPath: string, deadline: number): Promise<(() => void) | undefined> {
  const guardPath = `${lockPath}.break`;
  const me = JSON.stringify({
    pid: process.pid,
    hostname: hostname(),
    acquiredAt: Date.now(),
    token: 'guard',
  });
  for (let wait = FIRST_POLL_MS; ; wait = Math.min(LAST_POLL_MS, wait * 2)) {
    const got = linkNew(guardPath, me);
    if (got !== false) {
      return () => {
        closeSync(got.fd);
        try {
          unlinkSync(guardPath);
        } catch {
          // Gone already.
        }
      };
    }
    const mtime = mtimeOf(guardPath);
    if (mtime !== undefined && isStale(readContent(guardPath), mtime, GUARD_STALE_MS)) {
      try {
        unlinkSync(guardPath);
      } catch {
        // Someone else removed it.
      }
      continue;
    }
    if (Date.now() > deadline) return undefined;
    await sleep(wait);
  }
}

/** Removes the lock at `lockPath` if it is still the stale one judged (same token and mtime). */
async function breakStale(
  lockPath: string,
  judged: LockFileContent | undefined,
  judgedMtime: number,
  staleMs: number,
) {
  const release = await takeGuard(lockPath, Date.now() + GUARD_STALE_MS);
  if (release === undefined) return;
  try {
    // Read again under the guard: if it is another lock now, or was refreshed, it stays.
    const now = readContent(lockPath);
    const mtime = mtimeOf(lockPath);
    if (mtime === undefined) return;
    if (now?.token !== judged?.token || mtime !== judgedMtime) return;
    if (!isStale(now, mtime, staleMs)) return;
    unlinkSync(lockPath);
  } catch {
    // Gone already.
  } finally {
    release();
  }
}

function sleep(ms: number): Promise<void> {
  // Jitter, so waiters woken together do not retry in lockstep.
  return new Promise((r) => setTimeout(r, ms / 2 + Math.random() * ms));
}

function checkMs(name: 'waitMs' | 'staleMs', v: number | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new InvalidArgumentError(name, `must be a whole number of ms, got ${String(v)}`);
  }
  return v;
}

/**
 * Takes the update lock of `indexPath`, waiting while another process (or another call in this
 * one) holds it, and breaking it if stale. Throws `IndexLockedError` (ERR_IO) after `waitMs`,
 * `ERR_ABORTED` if `signal` aborts, `FileError` if the lock cannot be made (missing directory,
 * no permission). Release it with {@link IndexLock.release}.
 */
export async function lockIndex(indexPath: string, options: IndexLockOptions = {}): Promise<IndexLock> {
  if (typeof indexPath !== 'string' || indexPath === '') {
    throw new InvalidArgumentError('indexPath', 'must be a file path');
  }
  const waitMs = checkMs('waitMs', options.waitMs, DEFAULT_WAIT_MS);
  const staleMs = checkMs('staleMs', options.staleMs, DEFAULT_STALE_MS);
  const path = lockPathOf(indexPath);
  const token = randomBytes(12).toString('hex');
  const started = Date.now();
  let told = false;
  for (let wait = FIRST_POLL_MS; ; wait = Math.min(LAST_POLL_MS, wait * 2)) {
    if (options.signal?.aborted)
      throw new RollcallError(ErrorCodes.ABORTED, 'stopped waiting for the index lock');
    const content: LockFileContent = {
      pid: process.pid,
      hostname: hostname(),
      acquiredAt: Date.now(),
      token,
    };
    const got = linkNew(path, JSON.stringify(content));
    if (got !== false) return new IndexLock(indexPath, path, token, got.fd);
    const holder = readContent(path);
    const mtime = mtimeOf(path);
    if (mtime === undefined) continue; // Released meanwhile: try again at once.
    if (isStale(holder, mtime, staleMs)) {
      await breakStale(path, holder, mtime, staleMs);
      // Broken (or replaced meanwhile): try again at once. Still there (it could not be removed):
      // wait and give up like for a live holder, never spin.
      if (mtimeOf(path) !== mtime) continue;
    }
    if (Date.now() - started >= waitMs) {
      throw new IndexLockedError(path, holderOf(holder), Date.now() - started);
    }
    if (!told) {
      told = true;
      options.onWait?.(holderOf(holder));
    }
    await sleep(wait);
  }
}

function holderOf(c: LockFileContent | undefined): IndexLockHolder | undefined {
  return c === undefined ? undefined : { pid: c.pid, hostname: c.hostname, acquiredAt: c.acquiredAt };
}

/**
 * Runs `update` holding the update locks of every file of `indexPaths` (taken in the order given,
 * which callers keep canonical, e.g. shard order, so two updates never wait on each other in a
 * cycle), and releases them however it ends. `update` gets the locks, to refresh them between
 * long steps and to `assertHeld` before replacing a file.
 */
export async function withIndexLock<T>(
  indexPaths: string | readonly string[],
  update: (locks: readonly IndexLock[]) => Promise<T>,
  options: IndexLockOptions = {},
): Promise<T> {
  const paths = typeof indexPaths === 'string' ? [indexPaths] : indexPaths;
  const locks: IndexLock[] = [];
  try {
    let told = false;
    for (const p of paths) {
      locks.push(
        await lockIndex(p, {
          ...options,
          // One message for the whole set.
          onWait: (h) => {
            if (!told) options.onWait?.(h);
            told = true;
          },
        }),
      );
    }
    return await update(locks);
  } finally {
    for (const lock of locks.reverse()) await lock.release();
  }
}
