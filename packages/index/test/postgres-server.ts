/**
 * A real PostgreSQL server for tests: `initdb` into a temporary directory and `postgres` started
 * on a free port of 127.0.0.1, as a user other than root (PostgreSQL refuses to run as root): the
 * `postgres` user Debian's package makes, else `nobody`. No mocks.
 *
 * Where PostgreSQL is not installed, {@link findPostgres} says why, and the tests skip saying so.
 * CI (.ci/run) installs Debian's `postgresql` package, so they run there.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** The directory of `initdb` and `postgres`, or why there is none. */
export function findPostgres(): { bin: string } | { skip: string } {
  const candidates: string[] = [];
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir !== '') candidates.push(dir);
  try {
    for (const v of readdirSync('/usr/lib/postgresql').sort().reverse()) {
      candidates.push(join('/usr/lib/postgresql', v, 'bin'));
    }
  } catch {
    // Not Debian's layout.
  }
  for (const dir of candidates) {
    if (existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'postgres'))) return { bin: dir };
  }
  return {
    skip: 'PostgreSQL is not installed (no initdb and postgres on PATH or in /usr/lib/postgresql/*/bin): install Debian’s postgresql package to run the PostgreSQL tests',
  };
}

/** A user to run the server as when this process is root, with its uid and gid. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
      if (Number.isInteger(uid) && uid > 0) return { uid, gid };
    } catch {
      // No such user.
    }
  }
  throw new Error('running as root, and neither a postgres nor a nobody user exists to run PostgreSQL as');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** A running server: its superuser `rollcall` with `password`, on 127.0.0.1:`port`, database `platform`. */
export interface PostgresServer {
  port: number;
  user: string;
  password: string;
  database: string;
  /** A URL without the password (give it with PGPASSWORD). */
  url: string;
  /** Runs SQL as the superuser. */
  sql(text: string, values?: unknown[]): Promise<pg.QueryResult>;
  stop(): Promise<void>;
}

/** Starts a fresh server (a minute at most). */
export async function startPostgres(bin: string): Promise<PostgresServer> {
  const dir = mkdtempSync(join(tmpdir(), 'rollcall-pg-'));
  const data = join(dir, 'data');
  const as = serverUser();
  const password = `pw-${Math.random().toString(36).slice(2)}-Zq9`;
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${password}\n`);
  if (as !== undefined) {
    chownSync(dir, as.uid, as.gid);
    chownSync(pwfile, as.uid, as.gid);
  }
  chmodSync(dir, 0o700);
  const run = { ...(as ?? {}), stdio: 'pipe' as const, env: { ...process.env, LC_ALL: 'C' } };
  execFileSync(
    join(bin, 'initdb'),
    ['-D', data, '-U', 'rollcall', `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--no-sync'],
    run,
  );
  const port = await freePort();
  const server: ChildProcess = spawn(
    join(bin, 'postgres'),
    ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'],
    { ...run, stdio: 'ignore' },
  );
  const admin = { host: '127.0.0.1', port, user: 'rollcall', password };
  const started = Date.now();
  for (;;) {
    const c = new pg.Client({ ...admin, database: 'postgres' });
    c.on('error', () => {});
    try {
      await c.connect();
      await c.query('CREATE DATABASE platform');
      await c.end();
      break;
    } catch (err) {
      await c.end().catch(() => {});
      if (server.exitCode !== null || Date.now() - started > 60_000) {
        server.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
        throw new Error(`PostgreSQL did not start: ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const db = new pg.Client({ ...admin, database: 'platform' });
  db.on('error', () => {});
  await db.connect();
  return {
    port,
    user: 'rollcall',
    password,
    database: 'platform',
    url: `postgresql://rollcall@127.0.0.1:${port}/platform`,
    sql: (text, values) => db.query(text, values),
    async stop() {
      await db.end().catch(() => {});
      // SIGINT: fast shutdown (active sessions are ended).
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGINT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
      if (server.exitCode === null) server.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
