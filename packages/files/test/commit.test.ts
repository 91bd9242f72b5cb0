/**
 * Outputs are replaced all or nothing, only when no stop was asked for, and only where a regular
 * file can be: a directory, a device, a FIFO or `-` is refused before anything is written.
 */
import { spawnSync } from 'node:child_process';
import {
  linkSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  AtomicFile,
  checkDistinctPaths,
  checkOutputPath,
  checkRegularInput,
  commitAll,
  committedUnder,
} from '../src/index.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rollcall-files-'));
  dirs.push(dir);
  return dir;
}

const coded = (code: string, extra: Record<string, unknown> = {}) =>
  expect.objectContaining({ code, ...extra });

/** Three outputs with yesterday's content, and their new content written but not committed. */
function group(dir: string): { files: AtomicFile[]; names: string[] } {
  const names = ['rejects.csv', 'report.json', 'audience.txt'];
  for (const name of names) writeFileSync(join(dir, name), `old ${name}`);
  const files = names.map((name) => {
    const file = new AtomicFile(join(dir, name));
    file.write(`new ${name}`);
    return file;
  });
  return { files, names };
}

const contents = (dir: string, names: string[]) => names.map((n) => readFileSync(join(dir, n), 'utf8'));

describe('commitAll', () => {
  it('replaces every output, and leaves nothing else behind', async () => {
    const dir = scratch();
    const { files, names } = group(dir);
    const controller = new AbortController();
    await commitAll(files, { signal: controller.signal });
    expect(contents(dir, names)).toEqual(names.map((n) => `new ${n}`));
    expect(readdirSync(dir).sort()).toEqual([...names].sort());
    expect(committedUnder(controller.signal)).toBe(true);
  });

  it('a stop asked for before: nothing replaced, ERR_ABORTED, no temp file', async () => {
    const dir = scratch();
    const { files, names } = group(dir);
    await expect(commitAll(files, { signal: AbortSignal.abort() })).rejects.toEqual(coded('ERR_ABORTED'));
    expect(contents(dir, names)).toEqual(names.map((n) => `old ${n}`));
    expect(readdirSync(dir).sort()).toEqual([...names].sort());
  });

  it('a real signal that arrived during synchronous work is seen before any rename', async () => {
    const dir = scratch();
    const { files, names } = group(dir);
    const controller = new AbortController();
    const onSignal = () => controller.abort();
    process.on('SIGUSR2', onSignal);
    try {
      // Sent and pending: Node runs the handler only when the event loop next turns. Before,
      // the renames ran first (synchronously) and the stop was seen only after them.
      process.kill(process.pid, 'SIGUSR2');
      const busyUntil = Date.now() + 50;
      while (Date.now() < busyUntil) {
        // The last synchronous moments of a run: counting, sorting, writing.
      }
      expect(controller.signal.aborted).toBe(false);
      await expect(commitAll(files, { signal: controller.signal })).rejects.toEqual(coded('ERR_ABORTED'));
    } finally {
      process.off('SIGUSR2', onSignal);
    }
    expect(contents(dir, names)).toEqual(names.map((n) => `old ${n}`));
    expect(readdirSync(dir).sort()).toEqual([...names].sort());
    expect(committedUnder(controller.signal)).toBe(false);
  });

  it('a rename that fails puts back the ones already done: all or nothing', async () => {
    const dir = scratch();
    const { files, names } = group(dir);
    // The last temp file disappears (someone cleaned the directory): its rename fails after the
    // first two were done, and those two are put back.
    rmSync(files[2]!.tempPath);
    const error = await commitAll(files).catch((e: unknown) => e);
    expect(error).toEqual(coded('ERR_IO', { file: join(dir, 'audience.txt'), syscallCode: 'ENOENT' }));
    expect(contents(dir, names)).toEqual(names.map((n) => `old ${n}`));
    expect(readdirSync(dir).sort()).toEqual([...names].sort());
  });

  it('an output that did not exist before is removed again when a later one fails', async () => {
    const dir = scratch();
    const fresh = new AtomicFile(join(dir, 'fresh.txt'));
    fresh.write('new');
    const later = new AtomicFile(join(dir, 'later.txt'));
    later.write('new');
    rmSync(later.tempPath);
    await expect(commitAll([fresh, later])).rejects.toEqual(coded('ERR_IO'));
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a target that became a directory fails before anything is replaced', async () => {
    const dir = scratch();
    const { files, names } = group(dir);
    rmSync(join(dir, 'audience.txt'));
    mkdirSync(join(dir, 'audience.txt'));
    writeFileSync(join(dir, 'audience.txt', 'inside'), 'x');
    await expect(commitAll(files)).rejects.toEqual(coded('ERR_IO', { file: join(dir, 'audience.txt') }));
    expect(contents(dir, names.slice(0, 2))).toEqual(names.slice(0, 2).map((n) => `old ${n}`));
    expect(readdirSync(dir).sort()).toEqual([...names].sort());
  });
});

describe('outputs must be regular files, checked before anything is created', () => {
  // Only checked, never opened: were the check to regress, an AtomicFile on a real device path
  // would (as root) replace the machine's /dev/null or /dev/stdout. Opening is tested below on
  // stand-ins made in a temporary directory.
  it.each([
    ['-', /standard output/],
    ['/dev/null', /device path/],
    ['/dev/stdout', /device path/],
    ['/dev/fd/1', /device path/],
    ['/proc/self/fd/1', /device path/],
  ])('%s is refused', (path, why) => {
    expect(() => checkOutputPath(path)).toThrow(expect.objectContaining({ code: 'ERR_IO' }) as Error);
    expect(() => checkOutputPath(path)).toThrow(why);
  });

  it('a directory, a FIFO, a device, a link to a device or to a directory: refused, nothing created', () => {
    const dir = scratch();
    const sub = join(dir, 'sub');
    mkdirSync(sub);
    const fifo = join(dir, 'pipe');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    // A null device of our own (root only): the real one is never at risk.
    const device = spawnSync('mknod', ['-m', '666', join(dir, 'null'), 'c', '1', '3']).status === 0;
    symlinkSync('/dev/null', join(dir, 'to-null'));
    symlinkSync(sub, join(dir, 'to-dir'));
    const cases: Array<[string, RegExp]> = [
      ['sub', /is a directory/],
      ['pipe', /a FIFO/],
      ['to-null', /a character device/],
      ['to-dir', /is a directory/],
    ];
    if (device) cases.push(['null', /a character device/]);
    for (const [name, why] of cases) expect(() => new AtomicFile(join(dir, name))).toThrow(why);
    expect(readdirSync(dir).sort()).toEqual(
      ['pipe', 'sub', 'to-dir', 'to-null', ...(device ? ['null'] : [])].sort(),
    );
    expect(readdirSync(sub)).toEqual([]);
    expect(lstatSync(join(dir, 'to-null')).isSymbolicLink()).toBe(true);
    if (device) expect(lstatSync(join(dir, 'null')).isCharacterDevice()).toBe(true);
  });

  it('a missing file, a regular file, a link to one, a dangling link: allowed', () => {
    const dir = scratch();
    writeFileSync(join(dir, 'regular'), 'x');
    symlinkSync(join(dir, 'regular'), join(dir, 'to-regular'));
    symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling'));
    for (const name of ['missing', 'regular', 'to-regular', 'dangling']) {
      expect(() => checkOutputPath(join(dir, name))).not.toThrow();
    }
  });
});

describe('inputs and outputs', () => {
  it('an output that is an input (same path, a hard link, a symbolic link) is refused, naming both', () => {
    const dir = scratch();
    const source = join(dir, 'x.csv');
    writeFileSync(source, 'phone,user_id\n');
    linkSync(source, join(dir, 'hard.csv'));
    symlinkSync(source, join(dir, 'soft.csv'));
    for (const out of [source, join(dir, '.', 'x.csv'), join(dir, 'hard.csv'), join(dir, 'soft.csv')]) {
      expect(() => checkDistinctPaths([['--out', out]], [['the source CSV', source]])).toThrow(
        /--out: .* is also given as the source CSV/,
      );
    }
    expect(() =>
      checkDistinctPaths(
        [
          ['--out', join(dir, 'a')],
          ['--report', join(dir, 'a')],
        ],
        [],
      ),
    ).toThrow(/--report: .* is also given as --out/);
    // Standard input is never a file an output could overwrite.
    expect(() => checkDistinctPaths([['--out', join(dir, 'b')]], [['--upload', '-']])).not.toThrow();
  });

  it('an input that must be a regular file: a FIFO or a device is refused, naming the option', () => {
    const dir = scratch();
    const fifo = join(dir, 'index.fifo');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    expect(() => checkRegularInput('--index', fifo)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', option: '--index' }) as Error,
    );
    expect(() => checkRegularInput('--index', '/dev/zero')).toThrow(/a character device/);
    // Missing and directories are left to the reader, whose errors say so.
    expect(() => checkRegularInput('--index', join(dir, 'missing'))).not.toThrow();
    expect(() => checkRegularInput('--index', dir)).not.toThrow();
  });
});
