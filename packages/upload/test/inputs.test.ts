/**
 * Inputs people will try: a gzip-compressed CSV, a zip, a FIFO or a pipe, a device, a header just
 * over the cap, a file without a header row whose first row is a number in any script.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { REDACTED_LENGTH } from '@rollcall/phone';
import { describe, expect, it } from 'vitest';
import { MAX_HEADER_CHARS, openUpload } from '../src/index.js';
import { openUploadWith } from '../src/reader.js';
import { coded, readAll, tempDir } from './helpers.js';

const tmp = tempDir();

const CSV = 'name;Téléphone\r\nZoë;"+33 6 12 34 56 78"\r\nÉmile;06 12 34 56 79\r\n\r\nØ;0612\r\n';
const CELLS = ['+33 6 12 34 56 78', '06 12 34 56 79', '0612'];

describe('gzip, told by its first bytes', () => {
  it.each([
    ['customers.csv.gz', 0],
    ['customers.csv (gzip without the .gz)', 0],
    ['customers.csv.gz, read 5 bytes at a time', 5],
  ])('%s reads as the CSV inside', async (name, chunkBytes) => {
    const file = tmp.write(name, gzipSync(CSV));
    const reader = await openUploadWith(file, { batchSize: 2 }, chunkBytes > 0 ? { chunkBytes } : {});
    expect(reader.compression).toBe('gzip');
    expect(reader.headers).toEqual(['name', 'Téléphone']);
    expect(reader.delimiter).toBe(';');
    const rows = await readAll(reader);
    expect(rows.cells).toEqual(CELLS);
    expect(rows.lines).toEqual([2, 3, 5]);
    // Progress counts the bytes of the file itself, so it ends at its size.
    expect(reader.totalBytes).toBe(statSync(file).size);
    expect(reader.bytesRead).toBe(reader.totalBytes);
    // A file is read again by each pass.
    expect((await readAll(reader)).cells).toEqual(CELLS);
  });

  it('UTF-16 with a BOM inside the gzip, and several gzip members one after another', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('phone\n0612\n', 'utf16le')]);
    const twoMembers = Buffer.concat([gzipSync(CSV.slice(0, 30)), gzipSync(CSV.slice(30))]);
    const a = await openUpload(tmp.write('utf16.csv.gz', gzipSync(utf16)));
    expect(a.encoding).toBe('utf-16le');
    expect((await readAll(a)).cells).toEqual(['0612']);
    expect((await readAll(await openUpload(tmp.write('two.csv.gz', twoMembers)))).cells).toEqual(CELLS);
  });

  it('a truncated gzip is ERR_BAD_INPUT naming the file, not a crash', async () => {
    const whole = gzipSync(`phone\n${'07400123456\n'.repeat(20_000)}`);
    const file = tmp.write('cut.csv.gz', whole.subarray(0, whole.length - 40));
    const error = await (async () => readAll(await openUpload(file)))().catch((e: unknown) => e);
    expect(error).toEqual(coded('ERR_BAD_INPUT', { position: { file } }));
    expect((error as Error).message).toMatch(/not a readable gzip file/);
  });

  it('a plain CSV whose name ends in .gz is read as the plain CSV it is', async () => {
    const reader = await openUpload(tmp.write('plain.csv.gz', CSV));
    expect(reader.compression).toBeNull();
    expect((await readAll(reader)).cells).toEqual(CELLS);
  });
});

describe('archives are refused with a coded error', () => {
  it.each([
    ['a zip of one CSV', Buffer.from('PK\u0003\u0004\u0014\u0000\u0000\u0000\u0008\u0000', 'latin1')],
    ['an empty zip', Buffer.from('PK\u0005\u0006\u0000\u0000\u0000\u0000', 'latin1')],
  ])('%s: ERR_BAD_INPUT "zip archive"', async (_n, bytes) => {
    const file = tmp.write('customers.zip', bytes);
    const error = await openUpload(file).catch((e: unknown) => e);
    expect(error).toEqual(coded('ERR_BAD_INPUT', { position: { file } }));
    expect((error as Error).message).toMatch(/is a zip archive .*extract the CSV/);
  });
});

describe.skipIf(process.platform === 'win32')('FIFOs and devices', () => {
  let made = 0;
  const fifo = (name: string): string => {
    const path = tmp.path(`${name}-${made++}.fifo`);
    expect(spawnSync('mkfifo', [path]).status).toBe(0);
    return path;
  };
  /** Writes `data` into the FIFO from another process (so this one never blocks on it). */
  const writeLater = (path: string, data: Buffer | string) => {
    const child = spawn('sh', ['-c', `sleep 0.2; cat > "${path}"`], { stdio: ['pipe', 'ignore', 'ignore'] });
    child.stdin.end(data);
    return new Promise<void>((resolve) => child.on('close', () => resolve()));
  };

  it('a FIFO is read once, as a stream, plain or gzip', async () => {
    for (const data of [CSV, gzipSync(CSV)]) {
      const path = fifo('upload');
      const written = writeLater(path, data);
      const reader = await openUploadWith(path, { batchSize: 2 }, { chunkBytes: 7 });
      expect(reader.totalBytes).toBeNull();
      expect((await readAll(reader)).cells).toEqual(CELLS);
      await written;
      // A pipe cannot be read twice: the second pass is refused, not silently empty.
      await expect(readAll(reader)).rejects.toEqual(coded('ERR_INVALID_ARGUMENT'));
    }
  });

  it('a FIFO with no writer: the wait ends at the abort signal, and no thread is left blocked', async () => {
    const path = fifo('never');
    const controller = new AbortController();
    const opening = openUpload(path, { signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    await expect(opening).rejects.toEqual(coded('ERR_ABORTED'));
    // Every libuv thread is free: a burst of file-system calls (which run on them) completes.
    await Promise.all(Array.from({ length: 16 }, () => stat(path)));
  });

  it.skipIf(!existsSync('/dev/zero'))('a device is ERR_IO, not read forever', async () => {
    const error = await openUpload('/dev/zero').catch((e: unknown) => e);
    expect(error).toEqual(coded('ERR_IO', { file: '/dev/zero' }));
    expect((error as Error).message).toMatch(/a device is not an upload/);
  });
});

describe('the header cap is exact', () => {
  const withHeaderOf = (chars: number): string =>
    tmp.write('wide.csv', `phone,${'x'.repeat(chars - 'phone,'.length)}\n07400123456,a\n`);

  it(`a header line of exactly ${MAX_HEADER_CHARS} characters is read`, async () => {
    const reader = await openUpload(withHeaderOf(MAX_HEADER_CHARS));
    expect(reader.headers[0]).toBe('phone');
    expect(reader.headers[1]!.length).toBe(MAX_HEADER_CHARS - 'phone,'.length);
    expect((await readAll(reader)).cells).toEqual(['07400123456']);
  });

  it.each([MAX_HEADER_CHARS + 1, 1_099_996, MAX_HEADER_CHARS + 300_000])(
    'a header line of %i characters is ERR_BAD_INPUT',
    async (chars) => {
      const file = withHeaderOf(chars);
      const error = await openUpload(file).catch((e: unknown) => e);
      expect(error).toEqual(coded('ERR_BAD_INPUT', { position: { file, line: 1 } }));
      expect((error as Error).message).toContain(`longer than ${MAX_HEADER_CHARS} characters`);
    },
  );

  it('blank lines above the header do not count; the line named is the header’s', async () => {
    const file = tmp.write('late.csv', `\n\n${'x'.repeat(MAX_HEADER_CHARS + 1)}\n`);
    await expect(openUpload(file)).rejects.toEqual(coded('ERR_BAD_INPUT', { position: { file, line: 3 } }));
  });
});

describe('a file without a header row never shows its first number, in any script', () => {
  const NUMBERS: Array<[string, string]> = [
    ['ASCII', '07400123456'],
    ['Arabic-Indic', '٠٧٤٠٠١٢٣٤٥٦'],
    ['Eastern Arabic-Indic (Persian)', '۰۷۴۰۰۱۲۳۴۵۶'],
    ['full-width', '０７４００１２３４５６'],
    ['Devanagari', '०७४००१२३४५६'],
  ];

  it.each(NUMBERS)('%s digits are redacted in the "no phone column" error', async (_script, number) => {
    const file = tmp.write('headerless.csv', `${number}\n${number}\n`);
    const error = await openUpload(file).catch((e: unknown) => e);
    expect(error).toEqual(coded('ERR_BAD_INPUT'));
    const message = (error as Error).message;
    expect(message).toMatch(/no phone column found/);
    expect(message).not.toContain(number);
    // No run of 6 digits of any script survives: at most the 5 kept at the start.
    expect(message.slice(file.length)).not.toMatch(/\p{Nd}{6}/u);
  });

  it('numbers of different lengths give messages of identical length (the mask tells no length)', async () => {
    const messages = [];
    for (const number of [
      '0740012',
      '07400123',
      '074001234',
      '+4474001234',
      '+447400123456',
      '+447400123456789',
    ]) {
      const file = tmp.write('n.csv', `${number}\n`);
      const message = ((await openUpload(file).catch((e: unknown) => e)) as Error).message;
      messages.push(message.slice(file.length));
    }
    expect(new Set(messages.map((m) => m.length)).size).toBe(1);
    const shown = messages.map((m) => /headers "([^"]*)"/.exec(m)![1]!);
    for (const s of shown) expect([...s].length).toBe(REDACTED_LENGTH);
  });
});

describe('the upload is never written to', () => {
  it('reading leaves the file byte for byte as it was', async () => {
    const file = tmp.write('same.csv.gz', gzipSync(CSV));
    const before = readFileSync(file);
    await readAll(await openUpload(file));
    expect(readFileSync(file).equals(before)).toBe(true);
  });
});
