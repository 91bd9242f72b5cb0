/**
 * Inputs and outputs people will try, through the binary (issue 16, items 5 to 7): a gzip upload,
 * standard input, a FIFO, a zip, an index build over its own source, a file without a header row,
 * `--phone-column` naming a number, a Redis password in the user slot. Every one ends in a result
 * or one coded line; none blocks, none shows a number or its length, none replaces an input.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { REDACTED_LENGTH } from '@rollcall/phone';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  cliArgv,
  makePlatform,
  matchArgs,
  outputPath,
  type Platform,
  platformUpload,
  ROOT,
  readJsonOutput,
  readOutput,
  removeScratchDirs,
  rollcall,
  rollcallInProcess,
  rollcallStart,
  STACK_TRACE_LINE,
  scratchDir,
  tempFilesIn,
  waitFor,
  writeUpload,
} from './helpers.js';

afterAll(removeScratchDirs);

/** True when process `pid` holds a descriptor on `path` (Linux). */
function holds(pid: number, path: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === path;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

function mkfifo(dir: string, name: string): string {
  const path = join(dir, name);
  expect(spawnSync('mkfifo', [path]).status).toBe(0);
  return path;
}

let platform: Platform;
let upload: string;
let uploadText: string;
let expectedAudience: string;

beforeAll(async () => {
  platform = await makePlatform({ entries: 600, seed: 17 });
  ({ path: upload, text: uploadText } = await platformUpload(platform, 3000, 171));
  const dir = scratchDir();
  const r = await rollcallInProcess(argsOf(dir, upload));
  expect(r.status).toBe(0);
  expectedAudience = readOutput(dir, 'audience');
  expect(expectedAudience.length).toBeGreaterThan(100);
});

/** The match of `source` into `dir` (the audience and the report). */
function argsOf(dir: string, source: string, extra: string[] = []): string[] {
  return matchArgs({
    index: platform.indexFile,
    upload: source,
    dir,
    outputs: ['report'],
    threads: null,
    extra,
  });
}

describe('uploads as people have them', () => {
  test('a .csv.gz upload matches exactly as the CSV inside', async () => {
    const dir = scratchDir();
    const gz = writeUpload(dir, gzipSync(uploadText), 'upload.csv.gz');
    const r = await rollcallInProcess(argsOf(dir, gz));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readOutput(dir, 'audience')).toBe(expectedAudience);
    expect(readJsonOutput(dir, 'report').rows).toBe(3000);
  });

  test.each([
    ['--upload - (a socket, as Node gives its children)', '-', false],
    ['--upload /dev/stdin (a socket)', '/dev/stdin', false],
    ['--upload - (gzip through a socket)', '-', true],
  ])('%s matches exactly as the file', (_name, source, gzip) => {
    const dir = scratchDir();
    const r = rollcall(argsOf(dir, source), { input: gzip ? gzipSync(uploadText) : uploadText });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readOutput(dir, 'audience')).toBe(expectedAudience);
  });

  test.each([
    ['cat upload | rollcall … --upload -', '-', '|'],
    ['cat upload | rollcall … --upload /dev/stdin', '/dev/stdin', '|'],
    ['rollcall … --upload - < upload', '-', '<'],
    ['rollcall … --upload /dev/stdin < upload', '/dev/stdin', '<'],
  ])('from a shell: %s', (_name, source, how) => {
    const dir = scratchDir();
    const quoted = [process.execPath, ...cliArgv(argsOf(dir, source))].map((a) => `'${a}'`).join(' ');
    const script = how === '|' ? `cat '${upload}' | ${quoted}` : `${quoted} < '${upload}'`;
    const r = spawnSync('sh', ['-c', script], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readOutput(dir, 'audience')).toBe(expectedAudience);
  });

  test('a zip upload is refused with one coded line (exit 2), nothing written', async () => {
    const dir = scratchDir();
    const zip = writeUpload(
      dir,
      Buffer.from('PK\u0003\u0004\u0014\u0000\u0000\u0000\u0008\u0000rest', 'latin1'),
      'customers.zip',
    );
    const r = await rollcallInProcess(argsOf(dir, zip));
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^rollcall: .*customers\.zip: is a zip archive .* \[ERR_BAD_INPUT\]\n$/);
    expect(readdirSync(dir)).toEqual(['customers.zip']);
  });
});

describe.skipIf(!existsSync('/proc/self/fd'))('FIFOs never block a stop', () => {
  test('--index a FIFO: refused with a coded error at once (exit 2), never opened', async () => {
    const dir = scratchDir();
    const fifo = mkfifo(dir, 'index.fifo');
    const args = argsOf(dir, upload);
    args[args.indexOf('--index') + 1] = fifo;
    const r = await rollcallStart(args, { limitMs: 60_000 }).done;
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      `rollcall: --index: "${fifo}" is a FIFO (named pipe), not a regular file; give the file itself [ERR_INVALID_ARGUMENT]\n`,
    );
    expect(readdirSync(dir)).toEqual(['index.fifo']);
  });

  for (const [signal, code] of [
    ['SIGINT', 130],
    ['SIGTERM', 143],
  ] as const) {
    test(`--upload a FIFO nobody writes to, then ${signal}: exit ${code}, no output, no temp file`, async () => {
      const dir = scratchDir();
      const fifo = mkfifo(dir, 'upload.fifo');
      const run = rollcallStart(argsOf(dir, fifo), { limitMs: 60_000 });
      // Ready when its outputs are open (they are opened first); then give it the time to reach the
      // FIFO (a descriptor on it shows it did, without blocking).
      await waitFor(() => tempFilesIn(dir).length > 0, 'the match to open its outputs');
      await waitFor(() => holds(run.child.pid!, fifo), 'the FIFO to be opened', 10_000).catch(() => {});
      run.child.kill(signal);
      const r = await run.done;
      expect(r.status).toBe(code);
      expect(r.stderr).toContain(`rollcall: ${signal}: stopping\n`);
      // It winds down through the abort signal; on a loaded machine, where the worker threads it
      // started are still loading, the CLI's 3 s fallback may end it first: both end the same way.
      expect(r.stderr).toMatch(/(reading aborted \[ERR_ABORTED\]|not stopped after 3 s; leaving anyway)\n$/);
      expect(r.stderr).not.toMatch(STACK_TRACE_LINE);
      expect(readdirSync(dir)).toEqual(['upload.fifo']);
    });
  }

  test('--upload a FIFO that a writer fills: matches exactly as the file', async () => {
    const dir = scratchDir();
    const fifo = mkfifo(dir, 'upload.fifo');
    const run = rollcallStart(argsOf(dir, fifo), { limitMs: 60_000 });
    const writer = spawn('sh', ['-c', `cat "${upload}" > "${fifo}"`]);
    const written = new Promise((resolve) => writer.on('close', resolve));
    const r = await run.done;
    expect(await written).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(readOutput(dir, 'audience')).toBe(expectedAudience);
  });
});

describe('an output that is an input is refused, for index build as for match', () => {
  test('index build x.csv -o x.csv: exit 2, the source intact', async () => {
    const dir = scratchDir();
    const source = join(dir, 'x.csv');
    const text = readFileSync(platform.indexCsv, 'utf8');
    writeFileSync(source, text);
    const r = await rollcallInProcess(['index', 'build', source, '-o', source]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      `rollcall: --out: "${source}" is also given as the source CSV; choose another path [ERR_INVALID_ARGUMENT]\n`,
    );
    expect(readFileSync(source, 'utf8')).toBe(text);
    expect(readdirSync(dir)).toEqual(['x.csv']);
  });
});

describe('no output tells a number, or its length', () => {
  const NUMBERS: Array<[string, string]> = [
    ['ASCII', '07400123456'],
    ['Arabic-Indic', '٠٧٤٠٠١٢٣٤٥٦'],
    ['Persian', '۰۷۴۰۰۱۲۳۴۵۶'],
    ['full-width', '０７４００１２３４５６'],
  ];

  test.each(NUMBERS)(
    'a headerless upload whose first row is %s digits: the error masks it',
    async (_s, number) => {
      const dir = scratchDir();
      const file = writeUpload(dir, `${number}\n${number}\n`, 'headerless.csv');
      const r = await rollcallInProcess(argsOf(dir, file));
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/no phone column found among the headers "[^"]*"; pass --phone-column/);
      expect(r.stderr).not.toContain(number);
      expect(r.stderr.slice(file.length)).not.toMatch(/\p{Nd}{6}/u);
    },
  );

  test('numbers of 7 to 15 digits give errors of one length: the mask tells no length', async () => {
    const dir = scratchDir();
    const lengths = new Set<number>();
    const masks = new Set<number>();
    for (let digits = 7; digits <= 15; digits++) {
      const file = writeUpload(dir, `${'0'}${'7'.repeat(digits - 1)}\n`, 'n.csv');
      const r = await rollcallInProcess(argsOf(dir, file));
      lengths.add(r.stderr.length);
      masks.add([.../headers "([^"]*)"/.exec(r.stderr)![1]!].length);
    }
    expect([...lengths]).toHaveLength(1);
    expect([...masks]).toEqual([REDACTED_LENGTH]);
  });

  test('--phone-column naming a number: the report, the HTML and the summary redact it', async () => {
    const dir = scratchDir();
    const first = platform.entries[0]!.phone;
    const file = writeUpload(
      dir,
      `${[first, ...platform.entries.slice(1, 150).map((e) => e.phone)].join('\n')}\n`,
      'headerless.csv',
    );
    const r = await rollcallInProcess(
      argsOf(dir, file, ['--phone-column', first, '--report-html', outputPath(dir, 'html')]),
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const report = readJsonOutput(dir, 'report');
    expect(report.upload.phone_column).toBe(`${first.slice(0, 5)}•••••${first.slice(-2)}`);
    for (const text of [readFileSync(outputPath(dir, 'report'), 'utf8'), readOutput(dir, 'html'), r.stdout]) {
      expect(text).not.toContain(first);
      expect(text).not.toContain(first.slice(1));
    }
  });

  test('a Redis password written in the user slot (redis://S3cr3t@host) is never echoed', async () => {
    const dir = scratchDir();
    for (const url of ['redis://S3cr3t@', 'redis://S3cr3t@/0', 'http://S3cr3t@127.0.0.1:6379']) {
      const args = argsOf(dir, upload);
      args.splice(args.indexOf('--index'), 2, '--cluster', url);
      const r = await rollcallInProcess(args);
      expect(r.status).toBe(2);
      expect(r.stderr).toMatch(/^rollcall: --cluster: must be a redis:\/\/ or rediss:\/\/ URL with a host/);
      expect(r.stderr).not.toContain('S3cr3t');
    }
  });
});
