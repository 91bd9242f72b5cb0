import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileErrorFrom, InputError, InvalidArgumentError } from '@rollcall/errors';
import { normalizeHeader } from './headers.js';
import { openUpload } from './reader.js';
import { showHeaders } from './redact.js';
import { STDIN_PATH } from './source.js';
import type { UploadBatch, UploadEncoding, UploadFileReader, UploadOptions, UploadReader } from './types.js';

/** Several files read as one upload; see {@link openUploads}. */
export interface UploadFilesReader extends UploadReader {
  /** The files read, in order (directories expanded). */
  readonly files: readonly string[];
  /** Each file's own reader, in the order of {@link UploadFilesReader.files}. */
  readonly readers: readonly UploadFileReader[];
}

/** Paths that are read as they are, never listed: standard input and its aliases. */
const STREAM_PATHS = new Set([STDIN_PATH, '/dev/stdin', '/dev/fd/0', '/proc/self/fd/0']);

/**
 * The files of `paths`: each path as given, except that a directory stands for its regular
 * files (hidden ones, named with a leading `.`, skipped; subdirectories not entered), sorted by
 * name (UTF-16 code units, the same on every machine). An empty directory is `ERR_BAD_INPUT`.
 */
export async function expandUploadPaths(paths: readonly string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    if (STREAM_PATHS.has(path)) {
      files.push(path);
      continue;
    }
    let isDirectory = false;
    try {
      isDirectory = (await stat(path)).isDirectory();
    } catch {
      // Not listable: openUpload says why (missing, no permission…).
    }
    if (!isDirectory) {
      files.push(path);
      continue;
    }
    let names: string[];
    try {
      names = await readdir(path);
    } catch (err) {
      throw fileErrorFrom(path, err, 'read');
    }
    const inside: string[] = [];
    for (const name of names.filter((n) => !n.startsWith('.')).sort(byCodeUnits)) {
      const file = join(path, name);
      if ((await stat(file).catch(() => undefined))?.isFile()) inside.push(file);
    }
    if (inside.length === 0)
      throw new InputError({ file: path }, 'is a directory with no upload files in it');
    files.push(...inside);
  }
  return files;
}

function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What every file of one upload must agree on: its phone columns, its country column, its hashing. */
function shapeOf(reader: UploadFileReader): string {
  const phones = reader.phoneColumns.map((c) => reader.headers[c]!);
  const country = reader.countryColumn === null ? null : reader.headers[reader.countryColumn]!;
  return JSON.stringify([
    phones.map(normalizeHeader),
    country === null ? null : normalizeHeader(country),
    reader.hashed,
  ]);
}

function describeShape(reader: UploadFileReader): string {
  const phones = showHeaders(reader.phoneColumns.map((c) => reader.headers[c]!));
  const country =
    reader.countryColumn === null ? 'none' : showHeaders([reader.headers[reader.countryColumn]!]);
  const hashed = reader.hashed === null ? 'plain' : `hashed (${reader.hashed})`;
  return `phone columns ${phones}, country column ${country}, ${hashed}`;
}

/**
 * Opens several upload files as one upload (the payload files of one Meta upload session, or a
 * CRM export in parts): each path as {@link openUpload} opens it, a directory standing for its
 * regular files in name order (see {@link expandUploadPaths}). Every file is opened (so checked)
 * before this returns. The reader's batches come from each file in turn; a batch never spans two
 * files, and when there are several files each batch says which (`batch.file`, its lines being
 * that file's).
 *
 * All files must agree on the phone column headers (case-insensitive, in order), the country
 * column header, and whether they are hashed; a file that differs from the first is
 * `ERR_BAD_INPUT` naming it. The reader's `headers`, `phoneColumn(s)`, `countryColumn`,
 * `headerLine` and `hashed` are the first file's; its `file` is the first path followed by
 * `(+N more)`; `encoding` and `delimiter` are the files' common ones, or null when they differ;
 * `totalBytes` and `bytesRead` are summed (`totalBytes` null when one file's size is unknown).
 * Throws as {@link openUpload} does, and `ERR_INVALID_ARGUMENT` for an empty list or a file given twice.
 */
export async function openUploads(
  paths: readonly string[],
  options: UploadOptions = {},
): Promise<UploadFilesReader> {
  if (!Array.isArray(paths) || paths.length === 0 || !paths.every((p) => typeof p === 'string' && p !== '')) {
    throw new InvalidArgumentError('paths', 'must be a non-empty list of file or directory paths');
  }
  const files = await expandUploadPaths(paths);
  const seen = new Set<string>();
  for (const file of files) {
    if (seen.has(file)) throw new InvalidArgumentError('paths', `${file} is given twice`);
    seen.add(file);
  }
  const readers: UploadFileReader[] = [];
  for (const file of files) {
    const reader = await openUpload(file, options);
    readers.push(reader);
    const first = readers[0]!;
    if (shapeOf(reader) !== shapeOf(first)) {
      throw new InputError(
        { file: reader.file },
        `does not have the shape of ${first.file}: ${describeShape(reader)}, where ${first.file} has ` +
          `${describeShape(first)}; all files of one upload must agree`,
      );
    }
  }
  return new FilesUpload(readers);
}

function common<T>(values: readonly T[]): T | null {
  return values.every((v) => v === values[0]) ? (values[0] ?? null) : null;
}

class FilesUpload implements UploadFilesReader {
  readonly file: string;
  readonly files: readonly string[];
  readonly readers: readonly UploadFileReader[];
  readonly headers: readonly string[];
  readonly phoneColumn: number;
  readonly phoneColumns: readonly number[];
  readonly countryColumn: number | null;
  readonly hashed: 'meta' | 'google' | null;
  readonly headerLine: number;
  readonly encoding: UploadEncoding | null;
  readonly delimiter: string | null;
  readonly totalBytes: number | null;

  constructor(readers: readonly UploadFileReader[]) {
    const first = readers[0]!;
    this.readers = Object.freeze([...readers]);
    this.files = Object.freeze(readers.map((r) => r.file));
    this.file = readers.length === 1 ? first.file : `${first.file} (+${readers.length - 1} more)`;
    this.headers = first.headers;
    this.phoneColumn = first.phoneColumn;
    this.phoneColumns = first.phoneColumns;
    this.countryColumn = first.countryColumn;
    this.hashed = first.hashed;
    this.headerLine = first.headerLine;
    this.encoding = common(readers.map((r) => r.encoding));
    this.delimiter = common(readers.map((r) => r.delimiter));
    this.totalBytes = readers.some((r) => r.totalBytes === null)
      ? null
      : readers.reduce((sum, r) => sum + r.totalBytes!, 0);
  }

  get bytesRead(): number {
    return this.readers.reduce((sum, r) => sum + r.bytesRead, 0);
  }

  async *batches(): AsyncGenerator<UploadBatch, void, undefined> {
    const several = this.readers.length > 1;
    for (const reader of this.readers) {
      for await (const batch of reader.batches()) {
        if (several) batch.file = reader.file;
        yield batch;
      }
    }
  }
}
