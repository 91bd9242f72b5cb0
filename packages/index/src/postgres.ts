/**
 * Reading the platform's table straight from PostgreSQL: `rollcall index build postgresql://…
 * --query "<SQL>"` and `rollcall index update <file> --query "<SQL>"`.
 *
 * The query's rows are streamed with `COPY (…) TO STDOUT (FORMAT csv)` (node-postgres and
 * pg-copy-streams: one sequential stream, never the whole table in memory) into a temporary CSV
 * file beside the output, which then goes through the very same path as a CSV source: the same
 * checks, the same errors, the same index, byte for byte. Errors name the row of the query's
 * result (`<url> (query result):<row>:<column>`), never the password.
 *
 * The temporary file is needed because a build reads its source twice (once to size the table,
 * once to fill it): it costs disk (about the size of the table as CSV), not memory. It is made
 * like every output's temp file (removed on any error and on SIGINT/SIGTERM) and removed at the
 * end; it holds the same data as the index itself.
 *
 * Connection: the URL (`postgresql://user:password@host:port/database?sslmode=…`), any part of
 * which may be left out and taken from the usual `PG*` environment variables (`PGHOST`, `PGPORT`,
 * `PGUSER`, `PGPASSWORD`, `PGDATABASE`, `PGSSLMODE`, …) as libpq does. Prefer `PGPASSWORD` (or a
 * `~/.pgpass`) to a password in the URL, which `ps` shows. Every message shows the URL with its
 * password masked and its query string left out, and PostgreSQL's own error text is scrubbed of
 * the password and of digit runs that may be numbers.
 */
import { basename, dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  ErrorCodes,
  InputError,
  InvalidArgumentError,
  isRollcallError,
  RollcallError,
} from '@rollcall/errors';
import { AtomicFile } from '@rollcall/files';
import { redactDigitRuns } from '@rollcall/phone';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { writeIndexFile } from './build/from-csv.js';
import type { BuildReport } from './build/image-builder.js';
import type { BuildOptions } from './build/options.js';
import { DuplicatePhoneError, SOURCE_COLUMNS } from './build/source-rules.js';
import { CHANGE_COLUMNS, readChangesCsv } from './changes.js';
import { csvRecords } from './csv.js';
import { type ShardedBuildOptions, type ShardedBuildReport, writeShardedIndexFiles } from './shards.js';
import { applyChangeSet, checkIndexArg, type UpdateOptions, type UpdateReport } from './update.js';

/** Where the rows come from: a PostgreSQL URL and a query. */
export interface PostgresSource {
  /** `postgresql://…` or `postgres://…`; parts left out come from the `PG*` environment variables. */
  url: string;
  /**
   * A query returning the columns the job reads, by name: `phone, user_id, opted_out` for a build
   * (`opted_out` boolean; `user_id` numeric(20,0), bigint or text), `op, phone, user_id` for an
   * update. Other columns are ignored. One statement, no trailing semicolon needed.
   */
  query: string;
}

/** True when `text` is a PostgreSQL URL (what `index build` and `index update` take as one). */
export function isPostgresUrl(text: string): boolean {
  return /^postgres(ql)?:\/\//i.test(text);
}

/**
 * The URL as messages show it: the password masked, the query string (which may carry one, or
 * key files) left out. `postgresql://app:s3cret@db:5432/platform?sslmode=require` →
 * `postgresql://app:***@db:5432/platform?…`.
 */
export function redactPostgresUrl(url: string): string {
  try {
    const u = new URL(url);
    const user =
      u.username !== ''
        ? `${u.username}${u.password !== '' ? ':***' : ''}@`
        : u.password !== ''
          ? ':***@'
          : '';
    return `${u.protocol}//${user}${u.host}${u.pathname}${u.search !== '' ? '?…' : ''}`;
  } catch {
    return 'postgresql://***';
  }
}

/** Every secret a PostgreSQL message could echo: the URL's password (raw and decoded), PGPASSWORD. */
function secretsOf(url: string): string[] {
  const out = new Set<string>();
  try {
    const u = new URL(url);
    if (u.password !== '') {
      out.add(u.password);
      out.add(decodeURIComponent(u.password));
    }
    for (const [k, v] of u.searchParams) if (/pass|key/i.test(k) && v !== '') out.add(v);
  } catch {
    // Not a URL: the whole text is withheld anyway.
  }
  if (process.env.PGPASSWORD) out.add(process.env.PGPASSWORD);
  return [...out].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
}

/** A message from node-postgres or the server, safe to show: no password, no long digit runs. */
function scrub(message: string, url: string): string {
  let m = message.split(url).join(redactPostgresUrl(url));
  for (const s of secretsOf(url)) m = m.split(s).join('***');
  return redactDigitRuns(m, 8);
}

/** The query with trailing semicolons and blanks removed (it becomes a subquery). */
function cleanQuery(query: string): string {
  if (typeof query !== 'string' || query.trim() === '') {
    throw new InvalidArgumentError('query', 'must be a SQL query returning the columns to read');
  }
  return query.replace(/[\s;]+$/, '');
}

/**
 * Streams `COPY (SELECT <select> FROM (<query>) AS q) TO STDOUT (FORMAT csv)` into a temporary
 * file beside `near`, after a header line of `columns`; runs `use` on it, then removes it.
 * Connection and SQL errors are thrown as coded errors naming the redacted URL.
 */
async function withQuerySpool<T>(
  source: PostgresSource,
  columns: readonly string[],
  select: string,
  near: string,
  signal: AbortSignal | undefined,
  use: (spool: string, label: string) => Promise<T>,
): Promise<T> {
  if (typeof source !== 'object' || source === null)
    throw new InvalidArgumentError('source', 'must be { url, query }');
  const { url } = source;
  if (typeof url !== 'string' || !isPostgresUrl(url)) {
    throw new InvalidArgumentError('url', 'must be a postgresql:// or postgres:// URL');
  }
  const query = cleanQuery(source.query);
  const shown = redactPostgresUrl(url);
  const label = `${shown} (query result)`;
  const spool = new AtomicFile(join(dirname(near), `${basename(near)}.postgres.csv`));
  try {
    spool.write(`${columns.join(',')}\n`);
    const client = new pg.Client({ connectionString: url, application_name: 'rollcall' });
    // Errors after connect (the server going away) arrive as events: never unhandled.
    client.on('error', () => {});
    const stopped = () =>
      new RollcallError(ErrorCodes.ABORTED, 'stopped while reading from PostgreSQL; nothing was written');
    try {
      if (signal?.aborted) throw stopped();
      try {
        await client.connect();
      } catch (err) {
        throw new RollcallError(
          ErrorCodes.IO,
          `${shown}: cannot connect: ${scrub(err instanceof Error ? err.message : String(err), url)}`,
        );
      }
      const copy = client.query(
        copyStreams.to(
          `COPY (SELECT ${select} FROM (${query}) AS q) TO STDOUT WITH (FORMAT csv, HEADER false)`,
        ),
      );
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          try {
            spool.write(chunk);
            done();
          } catch (err) {
            done(err as Error);
          }
        },
      });
      try {
        await pipeline(copy, sink, ...(signal ? [{ signal }] : []));
      } catch (err) {
        if (signal?.aborted) throw stopped();
        if (isRollcallError(err)) throw err;
        const pgErr = err as { code?: string; message?: string };
        // Class 42 (syntax error or access rule violation): the query is at fault.
        const badQuery = typeof pgErr.code === 'string' && /^(42|22|0A)/.test(pgErr.code);
        const why = scrub(pgErr.message ?? String(err), url);
        if (badQuery) {
          throw new InvalidArgumentError(
            'query',
            `${why} (it must return the columns ${columns.join(', ')})`,
          );
        }
        throw new RollcallError(ErrorCodes.IO, `${shown}: reading the query's rows failed: ${why}`);
      }
    } finally {
      await client.end().catch(() => {});
    }
    spool.flush();
    try {
      return await use(spool.tempPath, label);
    } catch (err) {
      throw await restate(err, spool.tempPath, label);
    }
  } finally {
    spool.abort();
  }
}

/** The cells of line `line` of the spool (error path only). */
async function spoolCells(spool: string, line: number): Promise<string[]> {
  for await (const rec of csvRecords(spool)) if (rec.line === line) return rec.cells;
  return [];
}

/**
 * An error about the temporary CSV restated at the query's rows: spool line L is result row
 * L − 1 (the header is line 1).
 */
async function restate(err: unknown, spool: string, label: string): Promise<unknown> {
  if (!(err instanceof InputError) || err.file !== spool) return err;
  const row = err.line === undefined ? undefined : err.line - 1;
  const position = { ...err.position, file: label, ...(row !== undefined ? { line: Math.max(row, 1) } : {}) };
  if (err instanceof DuplicatePhoneError) {
    const cells = await spoolCells(spool, err.line!);
    return new DuplicatePhoneError(position, err.firstLine - 1, cells[0] ?? '');
  }
  return new InputError(position, err.detail);
}

/** SELECT list of a build: phone, user_id as text, opted_out as true/false (empty when NULL). */
const BUILD_SELECT =
  "q.phone::text, q.user_id::text, CASE WHEN q.opted_out IS NULL THEN NULL WHEN q.opted_out::boolean THEN 'true' ELSE 'false' END";
/** SELECT list of an update: op, phone, user_id as text. */
const UPDATE_SELECT = 'q.op::text, q.phone::text, q.user_id::text';

/**
 * Builds an index file from the rows of a PostgreSQL query (`rollcall index build postgresql://…
 * --query … -o <file>`): the same checks, errors and index as `writeIndexFile` on the same rows as
 * a CSV. Errors about a row name it as `<url> (query result):<row>:<column>`.
 */
export async function writeIndexFileFromPostgres(
  source: PostgresSource,
  outPath: string,
  options: BuildOptions = {},
): Promise<BuildReport> {
  if (typeof outPath !== 'string' || outPath === '')
    throw new InvalidArgumentError('outPath', 'must be a file path');
  return withQuerySpool(
    source,
    SOURCE_COLUMNS,
    BUILD_SELECT,
    outPath,
    options.signal,
    async (spool, label) => ({
      ...(await writeIndexFile(spool, outPath, options)),
      source: label,
    }),
  );
}

/** {@link writeIndexFileFromPostgres} split into shard files, as `writeShardedIndexFiles`. */
export async function writeShardedIndexFilesFromPostgres(
  source: PostgresSource,
  out: string,
  options: ShardedBuildOptions,
): Promise<ShardedBuildReport> {
  if (typeof out !== 'string' || out === '') throw new InvalidArgumentError('out', 'must be a path');
  const near = out.endsWith('/') ? join(out, 'index') : out;
  return withQuerySpool(source, SOURCE_COLUMNS, BUILD_SELECT, near, options.signal, async (spool, label) => {
    const report = await writeShardedIndexFiles(spool, out, options);
    return { ...report, source: label, shards: report.shards.map((s) => ({ ...s, source: label })) };
  });
}

/**
 * Applies the change rows of a PostgreSQL query (`op, phone, user_id`) to a built index, as
 * `applyChanges` applies a changes CSV (`rollcall index update <file> --query …`).
 */
export async function applyChangesFromPostgres(
  index: string | readonly string[],
  source: PostgresSource,
  options: UpdateOptions = {},
): Promise<UpdateReport> {
  checkIndexArg(index);
  const near = typeof index === 'string' ? index : index[0]!;
  return withQuerySpool(source, CHANGE_COLUMNS, UPDATE_SELECT, near, options.signal, async (spool, label) => {
    const changes = await readChangesCsv(spool, options.skipInvalid === true);
    return { ...(await applyChangeSet(index, changes, options)), changes: label };
  });
}
