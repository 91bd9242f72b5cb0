/**
 * Issue 15, item 1: the index built straight from PostgreSQL equals, byte for byte, the index
 * built from the same rows as a CSV; bad rows are refused naming the row of the query's result;
 * the password (given by PGPASSWORD or in the URL) never appears in a message; a change set can
 * come from PostgreSQL too. Against a real server (postgres-server.ts); skipped, saying why, where
 * PostgreSQL is not installed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes } from '@rollcall/errors';
import { afterAll, beforeAll, describe, expect, type TestContext, test } from 'vitest';
import {
  applyChanges,
  applyChangesFromPostgres,
  openIndex,
  redactPostgresUrl,
  writeIndexFile,
  writeIndexFileFromPostgres,
  writeShardedIndexFiles,
  writeShardedIndexFilesFromPostgres,
} from '../src/index.js';
import { csvOf, filesIn, keyOf, makeRows, tempDir, writeText } from './helpers.js';
import { findPostgres, type PostgresServer, startPostgres } from './postgres-server.js';

const found = findPostgres();
let server: PostgresServer | undefined;

beforeAll(async () => {
  if ('bin' in found) server = await startPostgres(found.bin);
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

/** The server, or a skip of the test saying why there is none. */
function pgOr(ctx: TestContext): PostgresServer {
  if (!('bin' in found)) ctx.skip(found.skip);
  return server!;
}

/** Runs `fn` with PGPASSWORD set to the server's password, then restores it. */
async function withPassword<T>(s: PostgresServer, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.PGPASSWORD;
  process.env.PGPASSWORD = s.password;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.PGPASSWORD;
    else process.env.PGPASSWORD = saved;
  }
}

const ROWS = makeRows(3000, 41);
const BUILT_AT = 1_700_000_000_000;

/** A table `name` holding ROWS (in order: column `n`), user_id of SQL type `type`. */
async function table(s: PostgresServer, name: string, type: string, rows = ROWS): Promise<void> {
  await s.sql(`DROP TABLE IF EXISTS ${name}`);
  await s.sql(`CREATE TABLE ${name} (n int PRIMARY KEY, msisdn text, uid ${type}, opted_out boolean)`);
  for (let i = 0; i < rows.length; i += 500) {
    const chunk = rows.slice(i, i + 500);
    const values = chunk
      .map((_, j) => `($${4 * j + 1}, $${4 * j + 2}, $${4 * j + 3}, $${4 * j + 4})`)
      .join(',');
    await s.sql(
      `INSERT INTO ${name} VALUES ${values}`,
      chunk.flatMap((r, j) => [i + j, r.phone, r.userId.toString(), r.optedOut]),
    );
  }
}

const QUERY = (name: string) => `SELECT msisdn AS phone, uid AS user_id, opted_out FROM ${name} ORDER BY n;`;

describe('index build from PostgreSQL', () => {
  for (const type of ['numeric(20,0)', 'text', 'bigint']) {
    test(`user_id ${type}: byte for byte the index of the same rows as CSV`, async (ctx) => {
      const s = pgOr(ctx);
      // A bigint holds ids below 2^63 only: that table gets the rows whose ids fit.
      const rows = type === 'bigint' ? ROWS.filter((r) => r.userId < 1n << 63n) : ROWS;
      const name = `users_${type.replace(/\W/g, '_')}`;
      await table(s, name, type, rows);
      const dir = tempDir();
      const fromCsv = join(dir, 'csv.idx');
      await writeIndexFile(writeText(dir, 'rows.csv', csvOf(rows)), fromCsv, {
        builtAt: BUILT_AT,
        withSha256: true,
      });
      const fromPg = join(dir, 'pg.idx');
      const report = await withPassword(s, () =>
        writeIndexFileFromPostgres({ url: s.url, query: QUERY(name) }, fromPg, {
          builtAt: BUILT_AT,
          withSha256: true,
        }),
      );
      expect(report).toMatchObject({
        rows: rows.length,
        entries: rows.length,
        source: `${s.url} (query result)`,
      });
      expect(readFileSync(fromPg).equals(readFileSync(fromCsv))).toBe(true);
      // No temporary file is left beside the output.
      expect(filesIn(dir)).toEqual(['csv.idx', 'pg.idx', 'rows.csv']);
    });
  }

  test('sharded: the same shard files as from the CSV', async (ctx) => {
    const s = pgOr(ctx);
    await table(s, 'users_sharded', 'numeric(20,0)');
    const dir = tempDir();
    const a = await writeShardedIndexFiles(writeText(dir, 'rows.csv', csvOf(ROWS)), join(dir, 'csv'), {
      shardCount: 3,
      builtAt: BUILT_AT,
    });
    const b = await withPassword(s, () =>
      writeShardedIndexFilesFromPostgres({ url: s.url, query: QUERY('users_sharded') }, join(dir, 'pg'), {
        shardCount: 3,
        builtAt: BUILT_AT,
      }),
    );
    b.files.forEach((f, i) => {
      expect(readFileSync(f).equals(readFileSync(a.files[i]!))).toBe(true);
    });
  });

  test('a bad row is refused at its row of the query result, as the CSV build would; --skip-invalid skips it', async (ctx) => {
    const s = pgOr(ctx);
    await s.sql('DROP TABLE IF EXISTS bad');
    await s.sql('CREATE TABLE bad (n int, phone text, user_id numeric(20,0), opted_out boolean)');
    await s.sql(
      `INSERT INTO bad VALUES (1, '+447400123456', 1, false), (2, '+447400123457', 2, NULL), (3, '07400123458', 3, false), (4, '+447400123456', 4, true)`,
    );
    const dir = tempDir();
    const out = join(dir, 'bad.idx');
    const source = { url: s.url, query: 'SELECT phone, user_id, opted_out FROM bad ORDER BY n' };
    const err = (await withPassword(s, () => writeIndexFileFromPostgres(source, out)).catch(
      (e: unknown) => e,
    )) as Error;
    expect(err).toMatchObject({
      code: ErrorCodes.BAD_INPUT,
      position: { file: `${s.url} (query result)`, line: 2, column: 3 },
    });
    // Duplicates name both rows; the phone is redacted.
    await s.sql('DELETE FROM bad WHERE n IN (2, 3)');
    const dup = (await withPassword(s, () => writeIndexFileFromPostgres(source, out)).catch(
      (e: unknown) => e,
    )) as Error;
    expect(dup.message).toContain('(query result):2:1: duplicate phone +4474•••••56: already on line 1');
    const skipped = await withPassword(s, () =>
      writeIndexFileFromPostgres(source, out, { skipInvalid: true }),
    );
    expect(skipped).toMatchObject({ entries: 1, skippedRows: 1 });
    expect(filesIn(dir)).toEqual(['bad.idx']);
  });

  test('the password never shows: not in the report, nor in errors of the connection, the query or a row', async (ctx) => {
    const s = pgOr(ctx);
    const dir = tempDir();
    const withPw = `postgresql://rollcall:${encodeURIComponent(s.password)}@127.0.0.1:${s.port}/platform?application_name=x`;
    expect(redactPostgresUrl(withPw)).toBe(`postgresql://rollcall:***@127.0.0.1:${s.port}/platform?…`);
    const ok = await writeIndexFileFromPostgres(
      { url: withPw, query: 'SELECT phone, user_id, opted_out FROM bad' },
      join(dir, 'ok.idx'),
      { skipInvalid: true },
    );
    expect(JSON.stringify(ok)).not.toContain(s.password);
    const errors: unknown[] = [];
    // A query the server refuses (a column missing), a wrong password, a database that is not there.
    errors.push(
      await writeIndexFileFromPostgres(
        { url: withPw, query: 'SELECT phone FROM bad' },
        join(dir, 'x.idx'),
      ).catch((e) => e),
    );
    errors.push(
      await writeIndexFileFromPostgres(
        { url: withPw.replace(encodeURIComponent(s.password), 'wrong-pw'), query: 'SELECT 1' },
        join(dir, 'x.idx'),
      ).catch((e) => e),
    );
    errors.push(
      await withPassword(s, () =>
        writeIndexFileFromPostgres({ url: `${s.url}_none`, query: 'SELECT 1' }, join(dir, 'x.idx')),
      ).catch((e) => e),
    );
    expect(errors.map((e) => (e as { code: string }).code)).toEqual([
      ErrorCodes.INVALID_ARGUMENT,
      ErrorCodes.IO,
      ErrorCodes.IO,
    ]);
    for (const e of errors) {
      expect((e as Error).message).not.toContain(s.password);
      expect((e as Error).message).not.toContain('wrong-pw');
    }
    expect(filesIn(dir)).toEqual(['ok.idx']);
  });
});

describe('index update from PostgreSQL', () => {
  test('op, phone, user_id rows from a query: the same result as the same changes as CSV', async (ctx) => {
    const s = pgOr(ctx);
    await s.sql('DROP TABLE IF EXISTS changes');
    await s.sql('CREATE TABLE changes (n int, op text, phone text, user_id numeric(20,0))');
    const r = ROWS.slice(0, 6);
    const rows: [string, string, string][] = [
      ['optout', r[0]!.phone, ''],
      ['delete', r[1]!.phone, ''],
      ['add', '+447400999001', '18446744073709551615'],
      ['add', r[2]!.phone, '77'],
      ['optin', r[3]!.phone, ''],
    ];
    for (const [i, [op, phone, id]] of rows.entries()) {
      await s.sql('INSERT INTO changes VALUES ($1, $2, $3, $4)', [i, op, phone, id === '' ? null : id]);
    }
    const dir = tempDir();
    const src = writeText(dir, 'src.csv', csvOf(ROWS));
    const a = join(dir, 'a.idx');
    const b = join(dir, 'b.idx');
    await writeIndexFile(src, a, { builtAt: BUILT_AT });
    await writeIndexFile(src, b, { builtAt: BUILT_AT });
    const viaCsv = await applyChanges(
      a,
      writeText(dir, 'c.csv', `op,phone,user_id\n${rows.map((x) => x.join(',')).join('\n')}\n`),
    );
    const viaPg = await withPassword(s, () =>
      applyChangesFromPostgres(b, { url: s.url, query: 'SELECT op, phone, user_id FROM changes ORDER BY n' }),
    );
    expect(viaPg.changes).toBe(`${s.url} (query result)`);
    expect({
      ...viaPg,
      changes: '',
      index: '',
      files: [],
      filesWritten: [],
      filesGrown: [],
      log: '',
      durationMs: 0,
    }).toEqual({
      ...viaCsv,
      changes: '',
      index: '',
      files: [],
      filesWritten: [],
      filesGrown: [],
      log: '',
      durationMs: 0,
    });
    const ra = await openIndex(a);
    const rb = await openIndex(b);
    for (const p of [...rows.map((x) => x[1]), ...ROWS.slice(6, 50).map((x) => x.phone)]) {
      expect(rb.probe(keyOf(p))).toEqual(ra.probe(keyOf(p)));
    }
    // A bad change row names its row of the query result; nothing is applied.
    await s.sql(`INSERT INTO changes VALUES (9, 'add', '+447400999002', NULL)`);
    const before = readFileSync(b);
    await expect(
      withPassword(s, () =>
        applyChangesFromPostgres(b, {
          url: s.url,
          query: 'SELECT op, phone, user_id FROM changes ORDER BY n',
        }),
      ),
    ).rejects.toMatchObject({ code: ErrorCodes.BAD_INPUT, position: { line: 6, column: 3 } });
    expect(readFileSync(b).equals(before)).toBe(true);
  });
});
