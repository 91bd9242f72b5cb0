/** Several files read as one upload: a Meta upload session's payload files, or a directory of them. */
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { expandUploadPaths, openUploads } from '../src/index.js';
import { coded, readAll, tempDir } from './helpers.js';

const tmp = tempDir();

const payload = (rows: string[][], schema = ['PHONE', 'COUNTRY']): string =>
  JSON.stringify({ payload: { schema, data: rows } });

/** A fresh directory holding `files` (name → content). */
function dir(name: string, files: Record<string, string>): string {
  const path = tmp.path(`${name}-${Math.random().toString(36).slice(2)}`);
  mkdirSync(path);
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(join(path, file, '..'), { recursive: true });
    writeFileSync(join(path, file), content);
  }
  return path;
}

describe('openUploads', () => {
  it('reads the files in turn as one upload; each batch says its file, and never spans two', async () => {
    const a = tmp.write(
      'part-1.json',
      payload([
        ['1', 'GB'],
        ['2', 'FR'],
        ['3', 'DE'],
      ]),
    );
    const b = tmp.write('part-2.json', payload([['4', 'IT']]));
    const c = tmp.write('part-3.csv', 'phone,country\r\n5,ES\r\n6,\r\n');
    const reader = await openUploads([a, b, c], { batchSize: 2 });
    expect(reader.files).toEqual([a, b, c]);
    expect(reader.file).toBe(`${a} (+2 more)`);
    expect(reader.readers.map((r) => r.format)).toEqual(['meta-payload', 'meta-payload', 'csv']);
    expect(reader).toMatchObject({
      phoneColumns: [0],
      countryColumn: 1,
      hashed: null,
      headers: ['PHONE', 'COUNTRY'],
    });
    // Each file's encoding is UTF-8; delimiters differ (none for JSON, "," for the CSV).
    expect(reader.encoding).toBe('utf-8');
    expect(reader.delimiter).toBeNull();
    const rows = await readAll(reader);
    expect(rows.cells).toEqual(['1', '2', '3', '4', '5', '6']);
    expect(rows.countries).toEqual(['GB', 'FR', 'DE', 'IT', 'ES', '']);
    expect(rows.lines).toEqual([1, 2, 3, 1, 2, 3]);
    expect(rows.batchSizes).toEqual([2, 1, 1, 2]);
    expect(rows.files).toEqual([a, a, b, c]);
    const total = [a, b, c].reduce((sum, f) => sum + statSync(f).size, 0);
    expect(reader.totalBytes).toBe(total);
    expect(reader.bytesRead).toBe(total);
    // Read again, the same.
    expect((await readAll(reader)).cells).toEqual(rows.cells);
  });

  it('one file: batches do not name it', async () => {
    const a = tmp.write('only.csv', 'phone\n1\n');
    const reader = await openUploads([a]);
    expect(reader.file).toBe(a);
    expect(reader.delimiter).toBe(',');
    expect((await readAll(reader)).files).toEqual([undefined]);
  });

  it('a directory stands for its regular files in name order, hidden files and subdirectories skipped', async () => {
    const session = dir('session', {
      'b.json': payload([['2', 'GB']]),
      'a.json': payload([['1', 'GB']]),
      'c.json.gz': payload([['3', 'GB']]),
      '.DS_Store': 'junk',
      'nested/d.json': payload([['4', 'GB']]),
    });
    expect(await expandUploadPaths([session])).toEqual(
      ['a.json', 'b.json', 'c.json.gz'].map((f) => join(session, f)),
    );
    const reader = await openUploads([session]);
    expect((await readAll(reader)).cells).toEqual(['1', '2', '3']);
    // A directory and a file together.
    const extra = tmp.write('extra.json', payload([['9', 'GB']]));
    expect((await readAll(await openUploads([extra, session]))).cells).toEqual(['9', '1', '2', '3']);
  });

  it('hashed payload files of one session: hashed says so', async () => {
    const h = (c: string) => c.repeat(64);
    const a = tmp.write('h1.json', JSON.stringify({ schema: 'PHONE_SHA256', data: [h('a')] }));
    const b = tmp.write('h2.json', JSON.stringify({ schema: ['PHONE_SHA256'], data: [[h('b')]] }));
    const reader = await openUploads([a, b]);
    expect(reader.hashed).toBe('meta');
    expect((await readAll(reader)).cells).toEqual([h('a'), h('b')]);
  });

  it.each([
    ['another phone column', payload([['1', 'x', 'GB']], ['PHONE', 'PHONE', 'COUNTRY'])],
    ['no country column', payload([['1']], ['PHONE'])],
    ['another country column', 'phone,ctry\n1,GB\n'],
    ['hashed where the first is not', payload([['a'.repeat(64), 'GB']])],
  ])('a file with %s is ERR_BAD_INPUT naming it', async (_name, content) => {
    const first = tmp.write('first.json', payload([['1', 'GB']]));
    const second = tmp.write('second.json', content);
    const error = await openUploads([first, second]).catch((e: unknown) => e);
    expect(error).toEqual(coded('ERR_BAD_INPUT', { position: { file: second } }));
    expect((error as Error).message).toContain('must agree');
  });

  it('headers agree whatever their case: PHONE in a payload, phone in a CSV', async () => {
    const a = tmp.write('meta.json', payload([['1', 'GB']]));
    const b = tmp.write('crm.csv', 'name,Phone,Country\nAnn,2,FR\n');
    expect((await readAll(await openUploads([a, b]))).cells).toEqual(['1', '2']);
  });

  it.each([
    [[], 'ERR_INVALID_ARGUMENT'],
    [[''], 'ERR_INVALID_ARGUMENT'],
    ['x.csv' as unknown as string[], 'ERR_INVALID_ARGUMENT'],
  ])('bad paths %j are %s', async (paths, code) => {
    await expect(openUploads(paths)).rejects.toEqual(coded(code, { option: 'paths' }));
  });

  it('a file given twice is refused', async () => {
    const a = tmp.write('twice.csv', 'phone\n1\n');
    await expect(openUploads([a, a])).rejects.toEqual(coded('ERR_INVALID_ARGUMENT', { option: 'paths' }));
  });

  it('an empty directory is ERR_BAD_INPUT; a missing file ERR_IO', async () => {
    const empty = dir('empty', { '.hidden': 'x' });
    await expect(openUploads([empty])).rejects.toEqual(coded('ERR_BAD_INPUT', { position: { file: empty } }));
    await expect(openUploads([tmp.path('missing.json')])).rejects.toEqual(coded('ERR_IO'));
  });
});
