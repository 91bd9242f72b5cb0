/**
 * docs/library.md documents the whole public surface: every name `rollcall` exports, every option
 * of every options type (read from the types themselves, so that an option added without its line
 * in the docs fails here), and every error code in the table of codes.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, test } from 'vitest';
import { ErrorCodes } from '../src/index.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const DOCS = readFileSync(join(ROOT, 'docs/library.md'), 'utf8');
const OPTIONS_TYPES = [
  'MatchOptions',
  'MatcherOptions',
  'MatchUploadOptions',
  'BuildOptions',
  'OpenIndexOptions',
  'UpdateOptions',
  'OptOutOptions',
  'RefreshOptions',
  'NormalizeOptions',
];

/** The facade's exports, and the property names of each options type, as TypeScript sees them. */
function publicSurface(): { exports: string[]; options: Map<string, string[]> } {
  const configPath = join(ROOT, 'tsconfig.base.json');
  const config = ts.parseJsonConfigFileContent(
    ts.readConfigFile(configPath, (p) => ts.sys.readFile(p)).config,
    ts.sys,
    dirname(configPath),
  );
  const entry = join(ROOT, 'packages/rollcall/src/index.ts');
  const program = ts.createProgram([entry], { ...config.options, noEmit: true });
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
  const exported = checker.getExportsOfModule(module);
  const options = new Map<string, string[]>();
  for (const symbol of exported) {
    if (!OPTIONS_TYPES.includes(symbol.name)) continue;
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    const type = checker.getDeclaredTypeOfSymbol(target);
    options.set(
      symbol.name,
      checker.getPropertiesOfType(type).map((p) => p.name),
    );
  }
  return { exports: exported.map((s) => s.name).sort(), options };
}

const surface = publicSurface();

describe('docs/library.md', () => {
  test('names every export of rollcall', () => {
    expect(surface.exports.length).toBeGreaterThan(50);
    const missing = surface.exports.filter(
      (name) => !DOCS.includes(`\`${name}\``) && !DOCS.includes(`\`${name}(`),
    );
    expect(missing, 'exports of rollcall that docs/library.md never names').toEqual([]);
  });

  test('documents every option of every options type', () => {
    expect([...surface.options.keys()].sort()).toEqual([...OPTIONS_TYPES].sort());
    const missing = [...surface.options].flatMap(([type, props]) =>
      props.filter((p) => !DOCS.includes(`\`${p}\``)).map((p) => `${type}.${p}`),
    );
    expect(missing, 'options that docs/library.md never names').toEqual([]);
  });

  test('has a row for every error code', () => {
    for (const code of Object.values(ErrorCodes)) {
      expect(DOCS, code).toMatch(new RegExp(`^\\| \`${code}\` +\\| \`[A-Za-z]+Error\``, 'm'));
    }
  });

  test('its relative links point at files that exist, in the repository and in the tarball', () => {
    for (const [, target] of DOCS.matchAll(/\]\((?!https?:|#)([^)#]+)/g)) {
      expect(() => readFileSync(join(ROOT, 'docs', target!)), target).not.toThrow();
    }
  });
});
