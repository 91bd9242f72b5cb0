import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import type { UploadReader } from '../src/index.js';

/** A temp directory for this test file, removed after its tests. */
export function tempDir(): {
  path(name: string): string;
  write(name: string, content: string | Uint8Array): string;
} {
  const dir = mkdtempSync(join(tmpdir(), 'rollcall-upload-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  return {
    path: (name) => join(dir, name),
    write(name, content) {
      const file = join(dir, `${n++}-${name}`);
      writeFileSync(file, content);
      return file;
    },
  };
}

/** Every row of a reader, flattened out of its batches. */
export interface Rows {
  /** The phone cells, row-major (`reader.phoneColumns.length` a row). */
  cells: string[];
  lines: number[];
  malformed: number[];
  batchSizes: number[];
  /** The country cells, one a row, when the reader has a country column. */
  countries?: string[];
  /** `batch.file` of each batch (undefined when the batch does not say). */
  files: (string | undefined)[];
}

/** Reads every batch and flattens them, checking that the arrays are parallel. */
export async function readAll(reader: UploadReader): Promise<Rows> {
  const rows: Rows = { cells: [], lines: [], malformed: [], batchSizes: [], files: [] };
  const width = reader.phoneColumns.length;
  if (reader.countryColumn !== null) rows.countries = [];
  for await (const batch of reader.batches()) {
    const n = batch.lines.length;
    expect(batch.cells.length).toBe(n * width);
    expect(batch.malformed.length).toBe(n);
    if (reader.countryColumn === null) expect(batch.countries).toBeUndefined();
    else {
      expect(batch.countries?.length).toBe(n);
      rows.countries!.push(...batch.countries!);
    }
    rows.cells.push(...batch.cells);
    rows.lines.push(...batch.lines);
    rows.malformed.push(...batch.malformed);
    rows.batchSizes.push(n);
    rows.files.push(batch.file);
  }
  return rows;
}

/** Row-major cells cut into rows of `width`. */
export function byRow(cells: readonly string[], width: number): string[][] {
  const rows: string[][] = [];
  for (let i = 0; i < cells.length; i += width) rows.push(cells.slice(i, i + width));
  return rows;
}

/** UTF-16 bytes of a string, with a byte-order mark. */
export function utf16(text: string, endian: 'le' | 'be'): Uint8Array {
  const body = Buffer.from(text, 'utf16le');
  if (endian === 'be') body.swap16();
  return Buffer.concat([Buffer.from(endian === 'le' ? [0xff, 0xfe] : [0xfe, 0xff]), body]);
}

/** A matcher for a coded rollcall error. */
export function coded(code: string, extra: Record<string, unknown> = {}): unknown {
  return expect.objectContaining({ code, ...extra });
}
