/**
 * The package as a user gets it. `pnpm release:pack` writes release/rollcall-<version>.tgz; plain
 * npm installs it into an empty project outside the workspace (with nothing else of this
 * repository), and the project then uses it as a user would: the `rollcall` bin (--version, --help,
 * matches whose audiences must equal the conformance set's byte for byte), an ESM import, a
 * `require()` where Node has require(esm), a TypeScript check (module nodenext and bundler), and an
 * app bundled with rollcall kept external. The tarball itself is checked for what a published
 * package must and must not hold.
 *
 * Set ROLLCALL_TARBALL to test a tarball already packed (CI packs once for every Node version).
 * Needs the npm registry (the tarball's dependencies, TypeScript and @types/node install from it).
 */
import { execFileSync, type SpawnSyncReturns, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import * as esbuild from 'esbuild';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const SOURCE_MANIFEST = JSON.parse(readFileSync(join(ROOT, 'packages/rollcall/package.json'), 'utf8')) as {
  version: string;
};
const CATALOG = readFileSync(join(ROOT, 'pnpm-workspace.yaml'), 'utf8');
/** A version pinned in pnpm-workspace.yaml's catalog, so that the project installs what the repo tests with. */
function catalogVersion(name: string): string {
  const m = new RegExp(`^ {2}"?${name.replace('/', '\\/')}"?: *"?([^"\\s]+)`, 'm').exec(CATALOG);
  if (!m) throw new Error(`${name} is not in the catalog`);
  return m[1]!;
}

/** Child processes get a clean npm environment: pnpm's npm_config_* would steer npm. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!/^(npm_|pnpm_)/i.test(key)) env[key] = value;
  }
  return { ...env, ...extra };
}

let project = '';
let tarball = '';
let installed = '';

/** Runs `args` with this Node in the project; returns what it printed. */
function nodeIn(args: readonly string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, args, {
    cwd: project,
    encoding: 'utf8',
    env: cleanEnv(env),
    timeout: 180_000,
  });
}

/**
 * The installed bin as a shell runs it: npm's link in node_modules/.bin, executed through its
 * `#!/usr/bin/env node` line, with this Node first on the PATH.
 */
function bin(args: readonly string[]): SpawnSyncReturns<string> {
  return spawnSync(join(project, 'node_modules/.bin/rollcall'), args, {
    cwd: project,
    encoding: 'utf8',
    env: cleanEnv({ PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}` }),
    timeout: 180_000,
  });
}

beforeAll(() => {
  if (process.env.ROLLCALL_TARBALL) {
    tarball = resolve(process.env.ROLLCALL_TARBALL);
  } else {
    const out = execFileSync(process.execPath, [join(ROOT, 'scripts/release-pack.mjs')], {
      cwd: ROOT,
      encoding: 'utf8',
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    tarball = out.trim().split('\n').at(-1)!;
  }
  expect(existsSync(tarball), tarball).toBe(true);
  // Outside the workspace: nothing above it holds a node_modules with rollcall's packages.
  project = mkdtempSync(join(tmpdir(), 'rollcall-packed-'));
  writeFileSync(
    join(project, 'package.json'),
    `${JSON.stringify({ name: 'rollcall-user', version: '1.0.0', private: true }, null, 2)}\n`,
  );
  const npm = spawnSync(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--loglevel=error',
      tarball,
      `typescript@${catalogVersion('typescript')}`,
      `@types/node@${catalogVersion('@types/node')}`,
    ],
    { cwd: project, encoding: 'utf8', env: cleanEnv(), timeout: 540_000 },
  );
  expect(npm.stderr + npm.stdout, 'npm install of the tarball').not.toMatch(/ERR!/);
  expect(npm.status).toBe(0);
  installed = join(project, 'node_modules/rollcall');
}, 600_000);

afterAll(() => {
  if (project !== '') rmSync(project, { recursive: true, force: true });
});

describe('the tarball', { timeout: 300_000 }, () => {
  test('holds the package, its licence, README, changelog and API reference, and no source map', () => {
    const files = execFileSync('tar', ['-tzf', tarball], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((f) => f.replace(/^package\//, ''));
    for (const f of [
      'package.json',
      'LICENSE',
      'README.md',
      'CHANGELOG.md',
      'docs/library.md',
      'bootstrap.cjs',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/bin.js',
      'dist/worker.js',
      'dist/validity-worker.js',
      'dist/place-worker.js',
    ]) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => f.endsWith('.map') || f.endsWith('.ts') !== f.endsWith('.d.ts'))).toEqual([]);
    expect(readFileSync(join(installed, 'LICENSE'), 'utf8')).toMatch(/Apache License\s+Version 2\.0/);
    for (const f of files.filter((f) => f.endsWith('.js'))) {
      expect(readFileSync(join(installed, f), 'utf8'), f).not.toMatch(/sourceMappingURL/);
    }
  });

  test('its manifest: no workspace parts, engines, repository, keywords, the bin', () => {
    const m = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    expect(m.name).toBe('rollcall');
    expect(m.version).toBe(SOURCE_MANIFEST.version);
    expect(m.license).toBe('Apache-2.0');
    expect(m.engines.node).toBe('^20.19.0 || ^22.12.0 || >=24.0.0');
    expect(m.repository.url).toMatch(/^git\+https:/);
    expect(m.keywords.length).toBeGreaterThan(3);
    expect(m.bin).toEqual({ rollcall: './dist/bin.js' });
    expect(m.devDependencies).toBeUndefined();
    expect(m.scripts).toBeUndefined();
    // No export condition names a file the tarball lacks (no `source`).
    expect(JSON.stringify(m.exports)).not.toMatch(/"source"|src\//);
    expect(m.exports['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
    for (const spec of Object.values({ ...m.dependencies, ...m.peerDependencies }) as string[]) {
      expect(spec).toMatch(/^\d+\.\d+\.\d+/);
    }
    // The cluster's packages are optional peers: not installed with rollcall.
    expect(Object.keys(m.peerDependenciesMeta).sort()).toEqual(['bullmq', 'ioredis']);
    expect(existsSync(join(project, 'node_modules/bullmq'))).toBe(false);
    expect(existsSync(join(project, 'node_modules/ioredis'))).toBe(false);
  });

  test('its runtime dependencies are exactly the packages its code imports', () => {
    const m = JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8'));
    const builtins = new Set(builtinModules);
    const imported = new Set<string>();
    for (const f of readdirSync(join(installed, 'dist')).filter((f) => f.endsWith('.js'))) {
      const code = readFileSync(join(installed, 'dist', f), 'utf8');
      for (const [, spec] of code.matchAll(
        /(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*["']([^"'.][^"']*)["']/g,
      )) {
        imported.add(spec!);
      }
      for (const [, spec] of code.matchAll(/\bimport\(\s*["']([^"'.][^"']*)["']\s*\)/g)) imported.add(spec!);
      // Loaded lazily through createRequire (the country names of the phone package).
      for (const [, spec] of code.matchAll(/\brequire\d*\(\s*["']([^"'.][^"']*)["']\s*\)/g))
        imported.add(spec!);
    }
    const packages = new Set(
      [...imported]
        .filter((s) => !s.startsWith('node:') && !builtins.has(s))
        .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!)),
    );
    expect([...packages].sort()).toEqual(Object.keys({ ...m.dependencies, ...m.peerDependencies }).sort());
    expect([...packages].filter((p) => p.startsWith('@rollcall/'))).toEqual([]);
  });
});

describe('the rollcall bin', { timeout: 300_000 }, () => {
  test('--version prints the version', () => {
    for (const flag of ['--version', '-V']) {
      const r = bin([flag]);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(`${SOURCE_MANIFEST.version}\n`);
      expect(r.status).toBe(0);
    }
  });

  test('--help of every command shows an example and the exit codes', () => {
    for (const command of [
      [],
      ['match'],
      ['index'],
      ['index', 'build'],
      ['index', 'update'],
      ['index', 'optout'],
      ['index', 'inspect'],
      ['audience'],
      ['audience', 'refresh'],
      ['serve'],
    ]) {
      const r = bin([...command, '--help']);
      expect(r.status, command.join(' ')).toBe(0);
      expect(r.stdout, command.join(' ')).toMatch(/\nExamples?:\n {2}\$ (\S+=\S+ )?rollcall /);
      expect(r.stdout, command.join(' ')).toMatch(/\nExit codes:\n {2}0 +\S/);
    }
    expect(bin(['serve', '--help']).stdout).toMatch(/--index <file> +\(required\)/);
    expect(bin(['match', '--help']).stdout).toMatch(
      /Required: --upload, --out, and one of --index or --cluster/,
    );
  });

  test('matches the conformance set: every audience byte for byte', () => {
    const set = join(ROOT, 'fixtures/conformance');
    const names = readdirSync(join(set, 'uploads')).map((f) => f.replace(/\.csv$/, ''));
    expect(names.length).toBeGreaterThanOrEqual(4);
    for (const name of names) {
      const { default_country: country } = JSON.parse(
        readFileSync(join(set, 'expected', `${name}.json`), 'utf8'),
      ) as { default_country: string };
      const out = join(project, `${name}.audience`);
      const r = bin([
        'match',
        '--index',
        join(set, 'index.csv'),
        '--upload',
        join(set, 'uploads', `${name}.csv`),
        '--country',
        country,
        '--out',
        out,
        '--min-audience',
        '1',
        '--quiet',
      ]);
      expect(r.stderr, name).toBe('');
      expect(r.status, name).toBe(0);
      expect(
        readFileSync(out, 'utf8') === readFileSync(join(set, 'expected', `${name}.audience`), 'utf8'),
        name,
      ).toBe(true);
    }
  });

  test('matches the sample (fixtures/sample), as the README does', () => {
    const dir = join(project, 'sample');
    mkdirSync(dir);
    const r = bin([
      'match',
      '--index',
      join(ROOT, 'fixtures/sample/index.csv'),
      '--upload',
      join(ROOT, 'fixtures/sample/upload.csv'),
      '--country',
      'GB',
      '--out',
      join(dir, 'sample.audience'),
      '--report',
      join(dir, 'report.json'),
    ]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(report.rows).toBe(1000);
    expect(report.rollcall_version).toBe(SOURCE_MANIFEST.version);
    expect(readFileSync(join(dir, 'sample.audience'), 'utf8')).toMatch(/^(\d+\n)+$/);
  });

  test('without bullmq and ioredis, the cluster commands fail with ERR_MISSING_DEPENDENCY, exit 2', () => {
    for (const args of [
      ['serve', '--shard', '0', '--index', join(project, 'x.idx'), '--redis', 'redis://127.0.0.1:9'],
      [
        'match',
        '--cluster',
        'redis://127.0.0.1:9',
        '--upload',
        join(ROOT, 'fixtures/sample/upload.csv'),
      ].concat(['--country', 'GB', '--out', join(project, 'cluster.audience')]),
    ]) {
      const r = bin(args);
      expect(r.stderr).toMatch(
        /needs the optional packages bullmq and ioredis.*\[ERR_MISSING_DEPENDENCY\]\n$/,
      );
      expect(r.status).toBe(2);
    }
  });
});

const LIBRARY_USE = `
const cells = Array.from({ length: 150 }, (_, i) => '07400 1' + String(i).padStart(5, '0'));
// threads: 1 starts a validity worker (dist/validity-worker.js) even for so few rows.
const { reader, report } = await rollcall.buildIndexFromRows(
  cells.map((_, i) => ({ phone: '+4474001' + String(i).padStart(5, '0'), userId: 2n ** 63n + BigInt(i), optedOut: i % 10 === 0 })),
  { threads: 1 },
);
const { audience, audit } = await rollcall.matchUpload({
  index: reader, upload: cells, defaultCountry: 'GB', threads: 2, ledger: new rollcall.MemoryLedger(),
});
let code;
try { await rollcall.matchUpload({ index: reader, upload: 42, defaultCountry: 'GB' }); } catch (err) { code = err.code; }
console.log(JSON.stringify({ validityThreads: report.validityThreads, audience: audience.length, first: String(audience[0]), matched: audit.matched, code }));
`;
const LIBRARY_RESULT = {
  validityThreads: 1,
  audience: 135,
  first: String(2n ** 63n + 1n),
  matched: 150,
  code: 'ERR_INVALID_ARGUMENT',
};

describe('the library', { timeout: 300_000 }, () => {
  test('an ESM import matches, in worker threads', () => {
    writeFileSync(join(project, 'esm.mjs'), `import * as rollcall from 'rollcall';\n${LIBRARY_USE}`);
    const r = nodeIn(['esm.mjs']);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual(LIBRARY_RESULT);
  });

  test('require() works where Node has require(esm) (20.19+, 22.12+)', (ctx) => {
    const features = process.features as { require_module?: boolean };
    if (features.require_module !== true) {
      return ctx.skip(`Node ${process.version} has no require(esm) without a flag`);
    }
    writeFileSync(
      join(project, 'cjs.cjs'),
      `const rollcall = require('rollcall');\n(async () => {\n${LIBRARY_USE}\n})();\n`,
    );
    const r = nodeIn(['cjs.cjs']);
    // Some Node releases warn once that require(esm) is experimental; nothing else may be printed.
    expect(r.stderr.replace(/^.*ExperimentalWarning.*\n(.*--trace-warnings.*\n)?/gm, '')).toBe('');
    expect(JSON.parse(r.stdout)).toEqual(LIBRARY_RESULT);
  });

  test('an app bundled with rollcall kept external runs (what docs/library.md tells bundling users)', async () => {
    writeFileSync(join(project, 'app.mjs'), `import * as rollcall from 'rollcall';\n${LIBRARY_USE}`);
    await esbuild.build({
      entryPoints: [join(project, 'app.mjs')],
      outfile: join(project, 'bundled/app.mjs'),
      bundle: true,
      platform: 'node',
      format: 'esm',
      external: ['rollcall'],
      logLevel: 'silent',
    });
    const r = nodeIn([join(project, 'bundled/app.mjs')]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toEqual(LIBRARY_RESULT);
  });

  const TYPES_USE = `
import {
  type CountryCode,
  createMatcher,
  ErrorCodes,
  isRollcallError,
  type MatchResult,
  type MatchUploadOptions,
  matchUpload,
} from 'rollcall';

const country: CountryCode = 'GB';
const options: MatchUploadOptions = { index: 'platform.idx', upload: ['07400 123456'], defaultCountry: country };
// @ts-expect-error defaultCountry is a CountryCode, not any string
const wrong: MatchUploadOptions = { index: 'platform.idx', upload: [], defaultCountry: 'ZZ' };
export async function run(): Promise<bigint | undefined> {
  const result: MatchResult = await matchUpload(options);
  const matcher = await createMatcher({ index: 'platform.idx', threads: 2 });
  try {
    await matcher.match({ upload: 'customers.csv', defaultCountry: 'KE', minAudience: 100 });
  } catch (err) {
    if (isRollcallError(err, ErrorCodes.PRIVACY_BUDGET)) return undefined;
  } finally {
    await matcher.close();
  }
  void wrong;
  return result.audience?.[0];
}
`;

  test.each([
    ['nodenext', { module: 'nodenext', moduleResolution: 'nodenext' }],
    ['bundler', { module: 'esnext', moduleResolution: 'bundler' }],
  ])('its types check under module %s (no skipLibCheck)', (name, moduleOptions) => {
    const dir = join(project, `types-${name}`);
    mkdirSync(dir);
    writeFileSync(join(dir, 'use.mts'), TYPES_USE);
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          ...moduleOptions,
          target: 'es2022',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
        },
        files: ['use.mts'],
      }),
    );
    const r = nodeIn([join(project, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')]);
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
