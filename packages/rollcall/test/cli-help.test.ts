/**
 * The CLI's help, from source: every command of the tree (found by walking the help's own
 * "Commands:" lists, so a command added later is covered) shows at least one example that runs
 * that command, and the exit codes; `--version` prints the package version.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { main } from '@rollcall/cli';
import { describe, expect, test, vi } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');

/** What `rollcall <args>` prints on stdout, and its exit code, run in this process. */
async function run(args: readonly string[]): Promise<{ status: number; stdout: string }> {
  let stdout = '';
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    stdout += String(chunk);
    return true;
  });
  try {
    const status = await main(['node', 'rollcall', ...args]);
    return { status, stdout };
  } finally {
    write.mockRestore();
  }
}

/** The subcommands a help text lists under "Commands:" (not `help`). */
function subcommands(help: string): string[] {
  const section = /\nCommands:\n((?: {2}.*\n)+)/.exec(help)?.[1] ?? '';
  return [...section.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]!).filter((name) => name !== 'help');
}

describe('rollcall --help', () => {
  test('every command has an example of itself and the exit codes', async () => {
    const seen: string[] = [];
    const visit = async (path: string[]): Promise<void> => {
      const { status, stdout } = await run([...path, '--help']);
      expect(status).toBe(0);
      seen.push(path.join(' '));
      const examples = /\nExamples?:\n((?: {2}.*\n| {6}.*\n)+)/.exec(stdout)?.[1] ?? '';
      expect(examples, `rollcall ${path.join(' ')} --help: an example`).toContain(
        `rollcall ${path.join(' ')}`.trim(),
      );
      expect(stdout, path.join(' ')).toMatch(/\nExit codes:\n {2}0 +\S.*\n {2}1 +\S.*\n {2}2 +\S/);
      for (const sub of subcommands(stdout)) await visit([...path, sub]);
    };
    await visit([]);
    expect(seen).toEqual(expect.arrayContaining(['match', 'index build', 'audience refresh', 'serve']));
  });

  test('options a command cannot run without are marked (required)', async () => {
    expect((await run(['index', 'build', '--help'])).stdout).toMatch(/-o, --out <file> +\(required\)/);
    expect((await run(['audience', 'refresh', '--help'])).stdout).toMatch(/--index <file> +\(required\)/);
    expect((await run(['match', '--help'])).stdout).toMatch(/\nRequired: /);
  });

  test('--version prints the version of the package', async () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'packages/rollcall/package.json'), 'utf8'));
    for (const flag of ['--version', '-V'])
      expect(await run([flag])).toEqual({ status: 0, stdout: `${version}\n` });
  });
});
