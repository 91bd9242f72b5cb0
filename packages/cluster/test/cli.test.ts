/**
 * The cluster's command-line surface, without Redis: `match` takes exactly one of `--index` and
 * `--cluster`, bad URLs are coded errors that never echo the password, and `serve` checks its
 * shard file before it connects anywhere.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { runCli } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'rollcall-cluster-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const upload = join(dir, 'upload.csv');
writeFileSync(upload, 'phone\n+447400123456\n');
const base = ['--upload', upload, '--country', 'GB', '--out', join(dir, 'a.txt')];

describe('rollcall match --cluster: arguments', () => {
  test('neither --index nor --cluster, or both, or a timeout without a cluster: exit 2, nothing written', async () => {
    const none = await runCli(['match', ...base]);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(/--index: is required \(or --cluster <redis url>.*\[ERR_INVALID_ARGUMENT\]/);
    const both = await runCli(['match', ...base, '--index', 'x.idx', '--cluster', 'redis://h']);
    expect(both.stderr).toMatch(/--cluster: give --index or --cluster, not both/);
    const timeout = await runCli(['match', ...base, '--index', 'x.idx', '--cluster-timeout', '5']);
    expect(timeout.stderr).toMatch(/--cluster-timeout: needs --cluster/);
    for (const r of [both, timeout]) expect(r.status).toBe(2);
    expect(existsSync(join(dir, 'a.txt'))).toBe(false);
  });

  test('a URL that is not redis:// or rediss://: exit 2, the password not shown', async () => {
    const r = await runCli(['match', ...base, '--cluster', 'https://user:Hunter2-secret@example.com']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--cluster: must be a redis:\/\/ or rediss:\/\/ URL/);
    expect(r.stderr).not.toContain('Hunter2-secret');
  });

  test('serve checks its file first: a missing file is ERR_IO, exit 2', async () => {
    const r = await runCli([
      'serve',
      '--shard',
      '0',
      '--index',
      join(dir, 'nope.idx'),
      '--redis',
      'redis://127.0.0.1:1',
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/nope\.idx: cannot open index: does not exist \[ERR_IO\]/);
  });
});
