import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openUpload } from '../src/index.js';
import { readAll } from './helpers.js';

// The committed sample uploads and, per row, the raw phone cell the reference saw.
const UPLOADS = new URL('../../../fixtures/conformance/uploads/', import.meta.url);
const EXPECTED = new URL('../../../fixtures/conformance/expected/', import.meta.url);

const names = readdirSync(UPLOADS)
  .filter((f) => f.endsWith('.csv'))
  .map((f) => f.slice(0, -'.csv'.length))
  .sort();

describe('conformance uploads', () => {
  it('are there', () => {
    expect(names.length).toBeGreaterThan(0);
  });

  it.each(names)('%s: one row per truth line, with its cell', async (name) => {
    const truth = readFileSync(new URL(`${name}.truth.jsonl`, EXPECTED), 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => (JSON.parse(line) as [string, string | null])[0]);
    const reader = await openUpload(fileURLToPath(new URL(`${name}.csv`, UPLOADS)));
    expect(reader.headers).toEqual(['first_name', 'Phone Number', 'email']);
    expect(reader.phoneColumn).toBe(1);
    expect(reader.encoding).toBe('utf-8');
    expect(reader.delimiter).toBe(',');
    const rows = await readAll(reader);
    expect(rows.cells).toEqual(truth);
    expect(rows.lines).toEqual(truth.map((_, i) => i + 2));
    expect(rows.malformed.every((m) => m === 0)).toBe(true);
  });
});
