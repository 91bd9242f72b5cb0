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
  cells: string[];
  lines: number[];
  malformed: number[];
  batchSizes: number[];
}

/** Reads every batch and flattens them. */
export async function readAll(reader: UploadReader): Promise<Rows> {
  const rows: Rows = { cells: [], lines: [], malformed: [], batchSizes: [] };
  for await (const batch of reader.batches()) {
    expect(batch.lines.length).toBe(batch.cells.length);
    expect(batch.malformed.length).toBe(batch.cells.length);
    rows.cells.push(...batch.cells);
    rows.lines.push(...batch.lines);
    rows.malformed.push(...batch.malformed);
    rows.batchSizes.push(batch.cells.length);
  }
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
