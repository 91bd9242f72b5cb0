/**
 * The upload-shapes fixtures (fixtures/upload-shapes): a CRM export and the same rows as a Meta
 * upload session, plain and hashed, read as the generator made them.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { metaPhoneHash, shapeFiles, shapeRows } from '../../../fixtures/upload-shapes/generate.ts';
import { openUpload, openUploads } from '../src/index.js';
import { byRow, readAll } from './helpers.js';

const DIR = new URL('../../../fixtures/upload-shapes/', import.meta.url);
const path = (name: string): string => fileURLToPath(new URL(name, DIR));
const rows = shapeRows();

describe('fixtures/upload-shapes', () => {
  it('are what the generator writes, byte for byte', () => {
    for (const [name, content] of Object.entries(shapeFiles(rows))) {
      expect(readFileSync(path(name), 'utf8'), name).toBe(content);
    }
  });

  it('the CRM export: three phone columns and the country column; fax, emergency and calling code left out', async () => {
    const reader = await openUpload(path('crm-export.csv'));
    expect(reader.phoneColumns.map((c) => reader.headers[c])).toEqual(['Phone', 'Mobile', 'Work Phone']);
    expect(reader.headers[reader.countryColumn!]).toBe('Country');
    const read = await readAll(reader);
    expect(byRow(read.cells, 3)).toEqual(rows.map((r) => r.phones));
    expect(read.countries).toEqual(rows.map((r) => r.country));
    expect(read.malformed.every((m) => m === 0)).toBe(true);
  });

  it('the plain session (a directory of two payload files) gives the same cells and countries', async () => {
    const csv = await readAll(await openUpload(path('crm-export.csv')));
    const reader = await openUploads([path('meta-session')]);
    expect(reader.files).toEqual([path('meta-session/part-1.json'), path('meta-session/part-2.json')]);
    expect(reader.hashed).toBeNull();
    expect(reader.phoneColumns.map((c) => reader.headers[c])).toEqual(['PHONE', 'PHONE', 'PHONE']);
    const session = await readAll(reader);
    expect(session.cells).toEqual(csv.cells);
    expect(session.countries).toEqual(csv.countries);
    expect(session.lines).toEqual(rows.map((_, i) => (i % 12) + 1));
  });

  it('the hashed session: Meta digests of each number by construction, told hashed', async () => {
    const reader = await openUploads([
      path('meta-session-hashed/part-1.json'),
      path('meta-session-hashed/part-2.json'),
    ]);
    expect(reader.hashed).toBe('meta');
    const session = await readAll(reader);
    expect(byRow(session.cells, 3)).toEqual(
      rows.map((r) => r.e164.map((e) => (e === null ? '' : metaPhoneHash(e)))),
    );
  });
});
