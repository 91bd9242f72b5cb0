#!/usr/bin/env node
/**
 * Builds the `rollcall` package as it is published: one package holding the library, the CLI and
 * the worker entries, with the internal `@rollcall/*` packages bundled in and every third-party
 * package left as an import of a declared dependency.
 *
 *   dist/index.js, dist/index.d.ts   the library (`import … from 'rollcall'`), its types in one file
 *   dist/bin.js                      the `rollcall` command
 *   dist/worker.js, dist/validity-worker.js, dist/place-worker.js
 *                                    the thread entries (every `./…worker` export of a stage
 *                                    package), each its own entry point: a pool finds its
 *                                    entry beside the module that starts it (`new URL('./worker.js',
 *                                    import.meta.url)`), so every chunk sits flat in dist/
 *   dist/chunk-*.js                  code shared by the entries (the cluster is a chunk of its own,
 *                                    loaded only by `match --cluster` and `serve`)
 *   bootstrap.cjs                    every thread's first code; threads find it at `../bootstrap.cjs`
 *                                    from dist/, as they do from the source packages
 *
 * No source maps: they would point at sources the tarball does not ship.
 *
 * `--strict` (release builds) fails when the bundle imports a package that package.json does not
 * declare, or declares one that the bundle never imports; a plain build only warns, so that a
 * dependency added to a stage package does not break `pnpm install` before it is declared here.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { rollup } from 'rollup';
import { dts } from 'rollup-plugin-dts';

const strict = process.argv.includes('--strict');
const here = join(dirname(fileURLToPath(import.meta.url)), '..');
const packages = join(here, '..');
const dist = join(here, 'dist');
const manifest = JSON.parse(readFileSync(join(here, 'package.json'), 'utf8'));
const declared = new Set([
  ...Object.keys(manifest.dependencies ?? {}),
  ...Object.keys(manifest.peerDependencies ?? {}),
]);
const builtins = new Set(builtinModules);

/** The package a bare specifier names: `pg-copy-streams`, `@scope/name`, `libphonenumber-js` for `libphonenumber-js/max`. */
function packageOf(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function isBuiltin(specifier) {
  return specifier.startsWith('node:') || builtins.has(specifier) || builtins.has(packageOf(specifier));
}

/** The third-party packages the bundle imports, each with one importer to name. */
const imported = new Map();

/** Bundles `@rollcall/*` (from source); leaves every other package as an import. */
const externals = {
  name: 'rollcall-externals',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (isBuiltin(args.path)) return { path: args.path, external: true };
      const name = packageOf(args.path);
      if (name.startsWith('@rollcall/')) return undefined;
      if (!imported.has(name)) imported.set(name, relative(packages, args.importer));
      return { path: args.path, external: true };
    });
  },
};

/**
 * The thread entries: every stage package's export subpath named `…worker` (STYLE.md: a worker
 * entry is its own file, reachable by a subpath), each an entry point named as its file, since a
 * pool finds it by that name beside the module that starts it.
 */
const workers = {};
for (const dir of readdirSync(packages)) {
  const exportsMap = JSON.parse(readFileSync(join(packages, dir, 'package.json'), 'utf8')).exports ?? {};
  for (const [subpath, target] of Object.entries(exportsMap)) {
    if (!/worker$/.test(subpath) || typeof target?.source !== 'string') continue;
    const name = subpath.slice(2);
    if (name in workers) throw new Error(`two thread entries named ${name}: ${workers[name]} and ${dir}`);
    workers[name] = join(packages, dir, target.source);
  }
}

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const result = await esbuild.build({
  absWorkingDir: here,
  entryPoints: {
    index: join(here, 'src/index.ts'),
    bin: join(packages, 'cli/src/bin.ts'),
    ...workers,
  },
  outdir: dist,
  entryNames: '[name]',
  chunkNames: 'chunk-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  conditions: ['source'],
  tsconfig: join(here, 'tsconfig.build.json'),
  sourcemap: false,
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [externals],
});
if (result.errors.length > 0) process.exit(1);

// Packages loaded lazily through `createRequire` (the phone package's country names, loaded on
// the first country cell) never pass through esbuild's resolver: find their literal specifiers.
for (const file of readdirSync(dist)) {
  if (!file.endsWith('.js')) continue;
  for (const m of readFileSync(join(dist, file), 'utf8').matchAll(
    /\brequire\d*\((["'])([^./"'][^"']*)\1\)/g,
  )) {
    const name = packageOf(m[2]);
    if (!isBuiltin(m[2]) && !name.startsWith('@rollcall/') && !imported.has(name))
      imported.set(name, `dist/${file}`);
  }
}

// The threads' bootstrap, at the package root as in @rollcall/threads (see its src/entry.ts).
copyFileSync(join(packages, 'threads/bootstrap.cjs'), join(here, 'bootstrap.cjs'));

// The types: one file, with the internal packages' declarations inlined and third-party types
// (libphonenumber-js's CountryCode, Node's) left as imports. tsc emits the declarations of every
// source file the facade reaches (tsconfig.types.json), and rollup-plugin-dts joins them, led from
// `@rollcall/x` to x's emitted declarations by the source path its exports name. (Given the
// sources themselves, rollup-plugin-dts ran out of memory.)
const emitted = join(here, 'node_modules/.types');
rmSync(emitted, { recursive: true, force: true });
const tsc = createRequire(join(here, 'package.json')).resolve('typescript/bin/tsc');
const emit = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.types.json'], { cwd: here, stdio: 'inherit' });
if (emit.status !== 0) process.exit(1);
/** `@rollcall/join/version` → node_modules/.types/join/src/version.d.ts. */
const internalTypes = {
  name: 'rollcall-internal-types',
  resolveId(source) {
    if (!source.startsWith('@rollcall/')) return null;
    const [, dir, ...rest] = source.split('/');
    const exportsMap = JSON.parse(readFileSync(join(packages, dir, 'package.json'), 'utf8')).exports;
    const entry = exportsMap[rest.length === 0 ? '.' : `./${rest.join('/')}`];
    if (typeof entry?.source !== 'string')
      throw new Error(`${source}: no "source" export to take types from`);
    return join(emitted, dir, entry.source.replace(/\.ts$/, '.d.ts'));
  },
};
const types = await rollup({
  input: join(emitted, 'rollcall/src/index.d.ts'),
  external: (id) =>
    isBuiltin(id) || (!id.startsWith('.') && !id.startsWith('/') && declared.has(packageOf(id))),
  plugins: [internalTypes, dts({ respectExternal: true })],
  onwarn(warning, warn) {
    if (warning.code === 'CIRCULAR_DEPENDENCY') return;
    warn(warning);
  },
});
await types.write({ file: join(dist, 'index.d.ts'), format: 'es' });
await types.close();
rmSync(emitted, { recursive: true, force: true });

// Runtime dependencies exactly what the runtime imports.
const problems = [];
for (const [name, importer] of imported) {
  if (!declared.has(name)) {
    problems.push(`${importer} imports "${name}", which packages/rollcall/package.json does not declare`);
  }
}
for (const name of declared) {
  if (!imported.has(name)) {
    problems.push(`packages/rollcall/package.json declares "${name}", which the bundle never imports`);
  }
}
for (const problem of problems)
  process.stderr.write(`rollcall bundle: ${strict ? 'error' : 'warning'}: ${problem}\n`);
if (strict && problems.length > 0) process.exit(1);
