/**
 * What a release depends on besides the code: the version in one place, the changelog and its
 * policy, the licence, engines, and no run-time read of a package.json of our own (a bundled app
 * has none beside it).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { VERSION } from '@rollcall/join/version';
import { describe, expect, test } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const manifest = JSON.parse(read('packages/rollcall/package.json'));
const stages = readdirSync(join(ROOT, 'packages')).filter((p) => p !== 'rollcall');

describe('the release', () => {
  test('the version constant is the package version (scripts/sync-version.mjs generates it)', () => {
    expect(VERSION).toBe(manifest.version);
    const check = spawnSync(process.execPath, [join(ROOT, 'scripts/sync-version.mjs'), '--check'], {
      encoding: 'utf8',
    });
    expect(check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  test('CHANGELOG.md has an entry for this version and states the version policy', () => {
    const changelog = read('CHANGELOG.md');
    expect(changelog).toMatch(new RegExp(`^## ${manifest.version.replaceAll('.', '\\.')}\\b`, 'm'));
    expect(changelog).toMatch(/semantic versioning/i);
  });

  test('LICENSE is the Apache License 2.0 every package declares', () => {
    expect(read('LICENSE')).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
    for (const p of [...stages, 'rollcall']) {
      expect(JSON.parse(read(`packages/${p}/package.json`)).license, p).toBe('Apache-2.0');
    }
  });

  test('only rollcall is published: the stage packages are private (bundled into it)', () => {
    expect(manifest.private).toBeUndefined();
    for (const p of stages) expect(JSON.parse(read(`packages/${p}/package.json`)).private, p).toBe(true);
  });

  test('engines say the Node versions CI runs (20.19+, 22.12+, 24), in the package and the repository', () => {
    expect(manifest.engines.node).toBe('^20.19.0 || ^22.12.0 || >=24.0.0');
    expect(JSON.parse(read('package.json')).engines.node).toBe(manifest.engines.node);
  });

  test('no product source reads a package.json of ours at run time', () => {
    const offenders: string[] = [];
    for (const p of [...stages, 'rollcall']) {
      const dir = join(ROOT, 'packages', p, 'src');
      for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
        if (!f.endsWith('.ts') || f.endsWith('.test.ts')) continue;
        const code = readFileSync(join(dir, f), 'utf8');
        // A relative path to a package.json, or one of our packages' (a dependency's own, such as
        // libphonenumber-js's version, resolves from node_modules wherever rollcall is installed).
        if (/['"](\.{1,2}\/[^'"]*|@rollcall\/[^'"]*|rollcall\/)package\.json['"]/.test(code)) {
          offenders.push(`packages/${p}/src/${f}`);
        }
      }
    }
    expect(offenders).toEqual([]);
  });
});
