#!/usr/bin/env node
/**
 * `pnpm release:pack`: writes into release/ every tarball a user installs. There is one,
 * `rollcall-<version>.tgz`: the internal `@rollcall/*` packages are bundled into it (see
 * packages/rollcall/scripts/bundle.mjs, and docs/library.md on why one package), so `npm install
 * rollcall` needs nothing from this repository but that tarball.
 *
 *   1. checks that the generated version constant is current (scripts/sync-version.mjs --check);
 *   2. bundles packages/rollcall strictly (its runtime dependencies exactly what it imports);
 *   3. stages the package in release/.stage: dist/, bootstrap.cjs, README.md (the package's own),
 *      LICENSE, CHANGELOG.md, docs/ (library.md, the API reference, and the pages it links to),
 *      and a manifest without the workspace's parts (scripts, devDependencies, the `source`
 *      export condition) whose `catalog:` versions are resolved from pnpm-workspace.yaml;
 *   4. packs it with plain `npm pack` and prints the tarball's path.
 *
 * Prints the tarball's path as its last line. Publishing is `npm publish release/rollcall-<v>.tgz`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkgDir = join(root, 'packages/rollcall');
const release = join(root, 'release');
const stage = join(release, '.stage');

function run(cmd, args, cwd = root) {
  const r = spawnSync(cmd, args, { cwd, stdio: 'inherit' });
  if (r.status !== 0) {
    process.stderr.write(`release:pack: ${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})\n`);
    process.exit(1);
  }
}

/** The `catalog:` section of pnpm-workspace.yaml: `name: version` lines, two spaces in. */
function readCatalog() {
  const catalog = new Map();
  let inCatalog = false;
  for (const line of readFileSync(join(root, 'pnpm-workspace.yaml'), 'utf8').split('\n')) {
    if (/^\S/.test(line)) inCatalog = line.trim() === 'catalog:';
    else if (inCatalog) {
      const m = /^ {2}"?([^":\s]+)"?:\s*"?([^"\s#]+)"?/.exec(line);
      if (m) catalog.set(m[1], m[2]);
    }
  }
  return catalog;
}

/** `deps` with every `catalog:` specifier replaced by its version; a `workspace:` one is an error. */
function resolveSpecifiers(deps, catalog) {
  if (deps === undefined) return undefined;
  const out = {};
  for (const [name, spec] of Object.entries(deps)) {
    if (spec === 'catalog:' || spec === 'catalog:default') {
      const version = catalog.get(name);
      if (version === undefined)
        throw new Error(`${name}: "catalog:" but pnpm-workspace.yaml's catalog has no ${name}`);
      out[name] = version;
    } else if (spec.startsWith('workspace:') || spec.startsWith('catalog:')) {
      throw new Error(
        `${name}: "${spec}" cannot be published (the internal packages are bundled, not published)`,
      );
    } else out[name] = spec;
  }
  return out;
}

/** An `exports` map without the `source` condition (it names files the tarball does not hold). */
function withoutSource(exportsMap) {
  if (typeof exportsMap !== 'object' || exportsMap === null) return exportsMap;
  return Object.fromEntries(
    Object.entries(exportsMap)
      .filter(([key]) => key !== 'source')
      .map(([key, value]) => [key, withoutSource(value)]),
  );
}

run(process.execPath, ['scripts/sync-version.mjs', '--check']);
run(process.execPath, ['scripts/bundle.mjs', '--strict'], pkgDir);

const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
const catalog = readCatalog();
const { scripts: _scripts, devDependencies: _dev, ...published } = manifest;
published.exports = withoutSource(manifest.exports);
published.dependencies = resolveSpecifiers(manifest.dependencies, catalog);
published.peerDependencies = resolveSpecifiers(manifest.peerDependencies, catalog);

rmSync(stage, { recursive: true, force: true });
mkdirSync(stage, { recursive: true });
for (const name of readdirSync(release)) if (name.endsWith('.tgz')) rmSync(join(release, name));
cpSync(join(pkgDir, 'dist'), join(stage, 'dist'), { recursive: true });
cpSync(join(pkgDir, 'bootstrap.cjs'), join(stage, 'bootstrap.cjs'));
cpSync(join(pkgDir, 'README.md'), join(stage, 'README.md'));
cpSync(join(root, 'LICENSE'), join(stage, 'LICENSE'));
cpSync(join(root, 'CHANGELOG.md'), join(stage, 'CHANGELOG.md'));
cpSync(join(root, 'docs'), join(stage, 'docs'), { recursive: true });
writeFileSync(join(stage, 'package.json'), `${JSON.stringify(published, null, 2)}\n`);

// Plain npm, without the npm_config_* that pnpm sets for the scripts it runs (npm warns of them).
const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^(npm|pnpm)_/i.test(key)));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const packed = JSON.parse(
  execFileSync(npm, ['pack', '--json', '--pack-destination', release], { cwd: stage, encoding: 'utf8', env }),
);
rmSync(stage, { recursive: true, force: true });
for (const { filename, size, unpackedSize, files } of packed) {
  process.stdout.write(
    `${files.length} files, ${(size / 1024).toFixed(0)} kB packed, ${(unpackedSize / 1024).toFixed(0)} kB unpacked:\n` +
      files.map((f) => `  ${f.path}`).join('\n') +
      `\n${join(release, filename)}\n`,
  );
}
