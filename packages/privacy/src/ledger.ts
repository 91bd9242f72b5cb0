/**
 * The ledger of releases: what each advertiser was told, when, and a sketch of the platform-side
 * set it was about. It is real state, read and appended under a lock, so that two matches at once
 * lose no entry and a process killed mid-write loses nothing it committed.
 *
 * The embedded default is one file (JSON lines, mode 0600) under the user's state directory. Its
 * first line holds the secret that keys every noise draw and sketch; it is created once and never
 * printed. A cluster keeps the same records in its Redis instead (see `@rollcall/cluster`).
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fstatSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { ErrorCodes, fileErrorFrom, RollcallError } from '@rollcall/errors';
import lockfile from 'proper-lockfile';

/** One release (or refusal) as the ledger keeps it. */
export interface LedgerEntry {
  /** When, ms since the epoch. */
  t: number;
  /** The advertiser asked. */
  adv: string;
  /** `fresh`: new estimates were drawn; `reused`: an earlier release was given again; `refused`. */
  kind: 'fresh' | 'reused' | 'refused';
  /** Keyed id of the question (the upload's key set). */
  q?: string;
  /** Sketch of the platform-side key set (base64), for fresh releases. */
  sketch?: string;
  /** The minimum audience the release was made under: only a release under the same one is reused. */
  floor?: number;
  /** What was released (fresh and reused). */
  release?: unknown;
}

/** What a transaction sees: the secret and the advertiser's entries, oldest first. */
export interface LedgerState {
  secret: Uint8Array;
  entries: LedgerEntry[];
}

/** A store of releases with a lock around read-decide-append. */
export interface Ledger {
  /** Where it lives, for messages (never holds a password). */
  readonly where: string;
  /**
   * Runs `decide` with the ledger locked (no other process appends meanwhile) on the entries of
   * `advertiser` not older than `sinceMs`; appends what it returns, durably, before unlocking.
   */
  transact<T>(
    advertiser: string,
    sinceMs: number,
    decide: (state: LedgerState) => { append: LedgerEntry | null; result: T },
  ): Promise<T>;
}

/** The default ledger file: `$XDG_STATE_HOME/rollcall/ledger.jsonl` (or `~/.local/state/…`). */
export function defaultLedgerPath(env: NodeJS.ProcessEnv = process.env): string {
  const state =
    env.XDG_STATE_HOME !== undefined && env.XDG_STATE_HOME !== ''
      ? env.XDG_STATE_HOME
      : join(homedir(), '.local', 'state');
  return join(state, 'rollcall', 'ledger.jsonl');
}

interface Header {
  rollcall_ledger: 1;
  secret: string;
  created: string;
}

/**
 * The ledger in one local file. Appends are single `write`s of whole lines followed by `fsync`,
 * made while holding a `proper-lockfile` lock (a lock directory beside the file, refreshed while
 * held, and broken when stale, so a process killed while holding it blocks others for seconds, not
 * forever). A torn last line (power loss mid-write) is skipped on reading and ended before the next
 * append.
 */
export class FileLedger implements Ledger {
  readonly path: string;

  constructor(path: string = defaultLedgerPath()) {
    this.path = path;
  }

  get where(): string {
    return this.path;
  }

  /** Creates the file with a new secret if it does not exist; a race with another creator is fine. */
  #ensure(): void {
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    } catch (err) {
      throw fileErrorFrom(dirname(this.path), err, 'create the ledger directory');
    }
    try {
      const fd = openSync(this.path, 'r');
      closeSync(fd);
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        throw fileErrorFrom(this.path, err, 'open the ledger');
    }
    // Whole or not at all: the header goes to a temp file that is then hard-linked into place,
    // which fails (EEXIST) if another process won the race; its ledger is then the one used.
    const header: Header = {
      rollcall_ledger: 1,
      secret: randomBytes(32).toString('hex'),
      created: new Date().toISOString(),
    };
    const tmp = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      const fd = openSync(tmp, 'wx', 0o600);
      try {
        writeSync(fd, `${JSON.stringify(header)}\n`);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      try {
        linkSync(tmp, this.path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    } catch (err) {
      throw fileErrorFrom(this.path, err, 'create the ledger');
    } finally {
      try {
        unlinkSync(tmp);
      } catch {}
    }
  }

  async transact<T>(
    advertiser: string,
    sinceMs: number,
    decide: (state: LedgerState) => { append: LedgerEntry | null; result: T },
  ): Promise<T> {
    this.#ensure();
    let release: () => Promise<void>;
    try {
      release = await lockfile.lock(this.path, {
        stale: 5_000,
        update: 1_000,
        realpath: false,
        retries: { retries: 200, factor: 1.2, minTimeout: 10, maxTimeout: 250 },
      });
    } catch (err) {
      throw new RollcallError(
        ErrorCodes.LEDGER,
        `${this.path}: cannot lock the privacy ledger (${(err as NodeJS.ErrnoException).code ?? 'busy'}); another match may hold it: try again`,
      );
    }
    try {
      const fd = openSync(this.path, 'r+');
      try {
        if ((fstatSync(fd).mode & 0o077) !== 0) chmodSync(this.path, 0o600);
        const text = readFileSync(fd, 'utf8');
        const lines = text.split('\n');
        const header = parseHeader(lines[0] ?? '', this.path);
        const entries: LedgerEntry[] = [];
        for (let i = 1; i < lines.length; i++) {
          const line = lines[i]!;
          if (line === '') continue;
          let e: LedgerEntry;
          try {
            e = JSON.parse(line) as LedgerEntry;
          } catch {
            continue; // a torn last line: never committed
          }
          if (e.adv === advertiser && e.t >= sinceMs) entries.push(e);
        }
        const { append, result } = decide({ secret: Buffer.from(header.secret, 'hex'), entries });
        if (append !== null) {
          const prefix = text.length > 0 && !text.endsWith('\n') ? '\n' : '';
          const bytes = Buffer.from(`${prefix}${JSON.stringify(append)}\n`);
          // One write at the end (the fd's offset is past the read), then fsync: committed.
          writeSync(fd, bytes, 0, bytes.length, Buffer.byteLength(text));
          fsyncSync(fd);
        }
        return result;
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      if (err instanceof RollcallError) throw err;
      throw fileErrorFrom(this.path, err, 'update the privacy ledger');
    } finally {
      await release().catch(() => {});
    }
  }
}

function parseHeader(line: string, path: string): Header {
  let h: Partial<Header> | undefined;
  try {
    h = JSON.parse(line) as Partial<Header>;
  } catch {
    h = undefined;
  }
  if (h?.rollcall_ledger !== 1 || typeof h.secret !== 'string' || !/^[0-9a-f]{64}$/.test(h.secret)) {
    throw new RollcallError(
      ErrorCodes.LEDGER,
      `${path}: not a rollcall privacy ledger (its first line is not a ledger header); move it away or give another ledger`,
    );
  }
  return h as Header;
}

/** A ledger in memory, for tests and one-off library use; it forgets everything when dropped. */
export class MemoryLedger implements Ledger {
  readonly where = 'memory';
  readonly #secret = randomBytes(32);
  readonly #entries: LedgerEntry[] = [];
  #busy: Promise<unknown> = Promise.resolve();

  async transact<T>(
    advertiser: string,
    sinceMs: number,
    decide: (state: LedgerState) => { append: LedgerEntry | null; result: T },
  ): Promise<T> {
    const run = this.#busy.then(() => {
      const entries = this.#entries.filter((e) => e.adv === advertiser && e.t >= sinceMs);
      const { append, result } = decide({ secret: this.#secret, entries });
      if (append !== null) this.#entries.push(structuredClone(append));
      return result;
    });
    this.#busy = run.catch(() => {});
    return run;
  }
}
