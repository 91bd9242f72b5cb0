/**
 * Issue 15, item 1, through the real CLI: `rollcall index build postgresql://… --query …` against a
 * real PostgreSQL (started by the index package's test helper; skipped, saying why, where it is
 * not installed). The password comes from PGPASSWORD or the URL and is never printed.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, type TestContext, test } from 'vitest';
import { findPostgres, type PostgresServer, startPostgres } from '../../index/test/postgres-server.js';
import { ROOT, rollcall, tempDir } from './helpers.js';

const found = findPostgres();
let server: PostgresServer | undefined;
beforeAll(async () => {
  if ('bin' in found) server = await startPostgres(found.bin);
}, 120_000);
afterAll(async () => {
  await server?.stop();
});

function pgOr(ctx: TestContext): PostgresServer {
  if (!('bin' in found)) ctx.skip(found.skip);
  return server!;
}

const SET = join(ROOT, 'fixtures/conformance');

describe('rollcall index build from PostgreSQL', () => {
  test('the conformance index from a table equals the one from its CSV; the password is never printed', async (ctx) => {
    const s = pgOr(ctx);
    await s.sql(
      'CREATE TABLE users (n serial PRIMARY KEY, phone text, user_id numeric(20,0), opted_out boolean)',
    );
    const lines = readFileSync(join(SET, 'index.csv'), 'utf8').trim().split('\n').slice(1);
    for (let i = 0; i < lines.length; i += 1000) {
      const chunk = lines.slice(i, i + 1000).map((l) => l.split(','));
      await s.sql(
        `INSERT INTO users (phone, user_id, opted_out) VALUES ${chunk.map((_, j) => `($${3 * j + 1}, $${3 * j + 2}, $${3 * j + 3})`).join(',')}`,
        chunk.flat(),
      );
    }
    const dir = tempDir();
    const out = join(dir, 'pg.idx');
    const query = 'SELECT phone, user_id, opted_out FROM users ORDER BY n';
    const env = { PGPASSWORD: s.password };
    const r = rollcall(['index', 'build', s.url, '--query', query, '-o', out], { env });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`from ${s.url} (query result)`);
    expect(r.stdout).toMatch(/entries\s+20,000/);
    // The same audience as the CSV index gives.
    const aud = join(dir, 'aud');
    const m = rollcall([
      'match',
      '--index',
      out,
      '--upload',
      join(SET, 'uploads/ke-shop.csv'),
      '--country',
      'KE',
      '--out',
      aud,
      '--min-audience',
      '1',
      '--quiet',
    ]);
    expect(m.status, m.stderr).toBe(0);
    expect(readFileSync(aud, 'utf8')).toBe(readFileSync(join(SET, 'expected/ke-shop.audience'), 'utf8'));
    // The password in the URL: masked in every line printed, on success and on failure.
    const withPw = s.url.replace('rollcall@', `rollcall:${encodeURIComponent(s.password)}@`);
    const ok = rollcall(['index', 'build', withPw, '--query', query, '-o', out]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('rollcall:***@');
    const bad = rollcall(['index', 'build', withPw, '--query', 'SELECT nope FROM users', '-o', out]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('[ERR_INVALID_ARGUMENT]');
    const wrong = rollcall(['index', 'build', s.url, '--query', query, '-o', out], {
      env: { PGPASSWORD: 'not-it-9x' },
    });
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toContain('cannot connect');
    for (const run of [r, ok, bad, wrong]) {
      expect(run.stdout + run.stderr).not.toContain(s.password);
      expect(run.stdout + run.stderr).not.toContain('not-it-9x');
    }
    // --query without a PostgreSQL source, and a PostgreSQL source without --query, are refused.
    expect(rollcall(['index', 'build', join(SET, 'index.csv'), '--query', query, '-o', out]).status).toBe(2);
    expect(rollcall(['index', 'build', s.url, '-o', out]).status).toBe(2);
  }, 180_000);
});
