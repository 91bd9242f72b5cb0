/**
 * Index files that cannot be trusted, through the CLI (`match --index` and `index inspect`): each is
 * refused with one coded line naming the file, exit 2, and leaves no output and no temp file behind.
 */
import { chmodSync, copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  makePlatform,
  matchInProcess,
  type Platform,
  removeScratchDirs,
  rollcall,
  rollcallInProcess,
  STACK_TRACE_LINE,
  scratchDir,
  unprivilegedRun,
  writeUpload,
} from './helpers.js';

afterAll(removeScratchDirs);

let platform: Platform;
let good: Buffer;
let upload: string;

beforeAll(async () => {
  platform = await makePlatform({ entries: 200, seed: 21 });
  good = readFileSync(platform.indexFile);
  upload = writeUpload(platform.dir, `phone\n${platform.entries.map((e) => e.phone).join('\n')}\n`);
});

/** A copy of the good index with `edit` applied to its bytes. */
function damaged(edit: (bytes: Buffer) => Buffer): Buffer {
  return edit(Buffer.from(good));
}

function flip(at: (bytes: Buffer) => number): (bytes: Buffer) => Buffer {
  return (bytes) => {
    const i = at(bytes);
    bytes[i] = bytes[i]! ^ 0x01;
    return bytes;
  };
}

// Offsets are taken from the good file's length, not from the layout, so the cases stay about the
// kind of damage: the header is the first 256 bytes, the payload the rest.
const CASES: Array<{ name: string; bytes: () => Buffer; message: RegExp; code: string }> = [
  {
    name: 'truncated in the table',
    bytes: () => damaged((b) => b.subarray(0, b.length - 1000)),
    message: /truncated/,
    code: 'ERR_INDEX_CORRUPT',
  },
  {
    name: 'truncated inside the header',
    bytes: () => damaged((b) => b.subarray(0, 100)),
    message: /truncated/,
    code: 'ERR_INDEX_CORRUPT',
  },
  { name: 'empty', bytes: () => Buffer.alloc(0), message: /empty/, code: 'ERR_INDEX_CORRUPT' },
  {
    name: 'one bit flipped in the table',
    bytes: () => damaged(flip((b) => Math.floor(b.length / 2))),
    message: /checksum/,
    code: 'ERR_INDEX_CORRUPT',
  },
  {
    name: 'one bit flipped in the last byte',
    bytes: () => damaged(flip((b) => b.length - 1)),
    message: /checksum/,
    code: 'ERR_INDEX_CORRUPT',
  },
  {
    name: 'one bit flipped in the header',
    bytes: () => damaged(flip(() => 40)),
    message: /checksum|corrupt/,
    code: 'ERR_INDEX_CORRUPT',
  },
  {
    name: 'another format version',
    bytes: () =>
      damaged((b) => {
        b[8] = 9; // the version field follows the 8-byte magic
        return b;
      }),
    message: /format version 9/,
    code: 'ERR_INDEX_CORRUPT',
  },
  {
    name: 'not an index: random bytes',
    bytes: () => Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 256)),
    message: /not a rollcall index/,
    code: 'ERR_INDEX_CORRUPT',
  },
  {
    name: 'not an index: a PNG',
    bytes: () => Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'), Buffer.alloc(600)]),
    message: /not a rollcall index/,
    code: 'ERR_INDEX_CORRUPT',
  },
];

/** A match of the upload against `index` into `dir`. */
function matchWith(index: string, dir: string) {
  return matchInProcess({ index, upload, dir, outputs: ['report', 'rejects'], quiet: false });
}

describe('a damaged or foreign index file', () => {
  test('the good file is sound and matches (the baseline the damaged copies break)', async () => {
    const inspect = await rollcallInProcess(['index', 'inspect', platform.indexFile, '--json']);
    expect(inspect.status).toBe(0);
    expect(JSON.parse(inspect.stdout)).toMatchObject({ entries: 200, sound: true });
    const dir = scratchDir();
    const r = await matchWith(platform.indexFile, dir);
    expect(r.status).toBe(0);
  });

  for (const c of CASES) {
    test(`${c.name}: match and inspect refuse it (exit 2, ${c.code}); nothing is written`, async () => {
      const dir = scratchDir();
      const index = join(dir, 'damaged.idx');
      writeFileSync(index, c.bytes());
      const r = await matchWith(index, dir);
      expect(r.status).toBe(2);
      expect(r.stderr.split('\n')).toHaveLength(2); // one line
      expect(r.stderr).toContain(`rollcall: ${index}: `);
      expect(r.stderr).toMatch(c.message);
      expect(r.stderr).toContain(`[${c.code}]`);
      expect(r.stderr).not.toMatch(STACK_TRACE_LINE);
      expect(readdirSync(dir)).toEqual(['damaged.idx']);

      const inspect = await rollcallInProcess(['index', 'inspect', index]);
      expect(inspect.status).toBe(2);
      expect(`${inspect.stdout}${inspect.stderr}`).toMatch(c.message);
      expect(inspect.stderr).not.toMatch(STACK_TRACE_LINE);
    });
  }

  test('a directory, a missing path, a path through a file: ERR_IO, exit 2, for match and inspect', async () => {
    const dir = scratchDir();
    writeFileSync(join(dir, 'file'), 'x');
    const cases: Array<[string, RegExp]> = [
      [dir, /is a directory/],
      [join(dir, 'missing.idx'), /does not exist/],
      [join(dir, 'file', 'below.idx'), /not a directory/],
    ];
    for (const [path, why] of cases) {
      const out = scratchDir();
      const r = await matchWith(path, out);
      expect({ path, status: r.status }).toEqual({ path, status: 2 });
      expect(r.stderr).toMatch(why);
      expect(r.stderr).toContain('[ERR_IO]');
      expect(readdirSync(out)).toEqual([]);
      const inspect = await rollcallInProcess(['index', 'inspect', path]);
      expect({ path, status: inspect.status }).toEqual({ path, status: 2 });
      expect(inspect.stderr).toMatch(why);
    }
  });

  test('an upload CSV given as the index: exit 2, one printable line', async () => {
    const r = await matchWith(upload, scratchDir());
    expect(r.status).toBe(2);
    expect(r.stderr.startsWith(`rollcall: ${upload}:`)).toBe(true);
    expect(r.stderr).toContain('[ERR_BAD_INPUT]');
    // The file's bytes (NULs, ESC…) are never echoed raw to the terminal: one line, printable.
    expect(r.stderr.split('\n')).toHaveLength(2);
    expect(r.stderr.slice(0, -1)).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });

  test('a built index is known by its magic bytes, whatever it is called (even .csv)', async () => {
    const dir = scratchDir();
    const binaryCsv = join(dir, 'platform.csv');
    copyFileSync(platform.indexFile, binaryCsv);
    const asCsv = await matchWith(binaryCsv, scratchDir());
    const asIdx = await matchWith(platform.indexFile, scratchDir());
    expect(asCsv.stderr).toBe(asIdx.stderr);
    expect(asCsv.status).toBe(asIdx.status);
    expect([0, 3]).toContain(asCsv.status);
  });

  // Root reads any file whatever its mode (CAP_DAC_OVERRIDE), so as root the CLI is run as `nobody`,
  // which needs a checkout it can reach: otherwise the test is skipped, saying why.
  test('no permission to read the index: ERR_IO "permission denied", exit 2 (the binary, run unprivileged)', (ctx) => {
    const run = unprivilegedRun();
    if ('skip' in run) return ctx.skip(run.skip);
    const dir = scratchDir();
    chmodSync(dir, 0o777);
    const index = join(dir, 'secret.idx');
    copyFileSync(platform.indexFile, index);
    chmodSync(index, 0o000);
    const readable = join(dir, 'upload.csv');
    copyFileSync(upload, readable);
    chmodSync(readable, 0o644);
    for (const args of [
      ['match', '--index', index, '--upload', readable, '--country', 'GB', '--out', join(dir, 'a.txt')],
      ['index', 'inspect', index],
    ]) {
      const r = rollcall(args, { ...run.as, timeoutMs: 60_000 });
      expect(r.stderr).toBe(`rollcall: ${index}: cannot open index: permission denied [ERR_IO]\n`);
      expect(r.status).toBe(2);
    }
    expect(readdirSync(dir).sort()).toEqual(['secret.idx', 'upload.csv']);
  });
});
