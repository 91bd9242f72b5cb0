/**
 * Loading an index file into a SharedArrayBuffer: one sequential read in chunks, the payload
 * checksum computed on the chunks as they arrive.
 */
import { type FileHandle, open } from 'node:fs/promises';
import { FileError, fileErrorFrom, IndexCorruptError } from '@rollcall/errors';
import { createPayloadHasher } from './checksum.js';
import { type RawHeader, readVerifiedHeader } from './header.js';
import { HEADER_BYTES } from './layout.js';
import { readerOfImage } from './reader.js';
import type { IndexReader } from './types.js';

/**
 * Bytes per read call. Reads go into views of the shared buffer (a Buffer cannot exceed 4 GiB,
 * and one read call cannot exceed 2 GiB).
 */
const READ_CHUNK_BYTES = 8 << 20;
/**
 * Reads kept in flight, in file order (libuv runs up to 4 at once by default). With one read at
 * a time the disk (or, on a warm page cache, the copy into fresh memory and its page faults)
 * waits while the previous chunk is hashed; a small window of consecutive chunks keeps the pass
 * sequential and lets reading, page faults and hashing overlap on more than one core.
 */
const READS_IN_FLIGHT = 4;

/** Options of {@link openIndex}. */
export interface OpenIndexOptions {
  /**
   * Verify the payload checksum while reading (default true). The header checksum and the
   * header's consistency are always checked.
   */
  verifyChecksum?: boolean;
}

async function openForRead(path: string): Promise<{ fh: FileHandle; size: number }> {
  let fh: FileHandle;
  try {
    fh = await open(path, 'r');
  } catch (err) {
    throw fileErrorFrom(path, err, 'open index');
  }
  try {
    const st = await fh.stat();
    // Opening a directory read-only succeeds on Linux; only the read would fail.
    if (st.isDirectory()) {
      throw fileErrorFrom(path, Object.assign(new Error('is a directory'), { code: 'EISDIR' }), 'open index');
    }
    return { fh, size: st.size };
  } catch (err) {
    await fh.close();
    throw err instanceof FileError ? err : fileErrorFrom(path, err, 'open index');
  }
}

/** Reads exactly `view.length` bytes at `position`; a short file is corrupt (truncated). */
async function readFully(fh: FileHandle, view: Uint8Array, position: number, path: string): Promise<void> {
  let done = 0;
  while (done < view.length) {
    let n: number;
    try {
      ({ bytesRead: n } = await fh.read(view, done, view.length - done, position + done));
    } catch (err) {
      throw fileErrorFrom(path, err, 'read index');
    }
    if (n === 0) throw new IndexCorruptError(path, `truncated: the file ended at byte ${position + done}`);
    done += n;
  }
}

/** The first bytes of a file, up to a header's worth. */
async function readHead(fh: FileHandle, size: number, path: string): Promise<Uint8Array> {
  const head = new Uint8Array(Math.min(size, HEADER_BYTES));
  await readFully(fh, head, 0, path);
  return head;
}

/**
 * Reads and checks an index file; returns its image and header. Corrupt or foreign files throw
 * `IndexCorruptError`; missing, unreadable or directory paths throw `FileError`.
 */
export async function loadImage(
  path: string,
  verifyChecksum: boolean,
): Promise<{ image: SharedArrayBuffer; raw: RawHeader }> {
  const { fh, size } = await openForRead(path);
  try {
    const head = await readHead(fh, size, path);
    const raw = await readVerifiedHeader(head, path);
    if (size < raw.fileBytes) {
      throw new IndexCorruptError(path, `truncated: ${size} bytes, the header says ${raw.fileBytes}`);
    }
    if (size > raw.fileBytes) {
      throw new IndexCorruptError(
        path,
        `${size - raw.fileBytes} unexpected bytes after the index (${raw.fileBytes} bytes)`,
      );
    }
    const image = new SharedArrayBuffer(raw.fileBytes);
    new Uint8Array(image, 0, HEADER_BYTES).set(head);
    const hasher = verifyChecksum ? await createPayloadHasher() : undefined;
    // One sequential pass: chunks are requested in file order, a few ahead, and hashed in
    // file order as they arrive (xxh64 is a stream: order matters).
    const inFlight: Promise<Uint8Array>[] = [];
    let requested = HEADER_BYTES;
    const request = () => {
      const view = new Uint8Array(image, requested, Math.min(READ_CHUNK_BYTES, raw.fileBytes - requested));
      const read = readFully(fh, view, requested, path).then(() => view);
      // If an earlier chunk fails, later ones are never awaited: keep them from being unhandled.
      read.catch(() => {});
      inFlight.push(read);
      requested += view.length;
    };
    while (inFlight.length < READS_IN_FLIGHT && requested < raw.fileBytes) request();
    while (inFlight.length > 0) {
      const chunk = await inFlight.shift()!;
      if (requested < raw.fileBytes) request();
      hasher?.update(chunk);
    }
    if (hasher !== undefined && hasher.digest() !== raw.payloadChecksumValue) {
      throw new IndexCorruptError(path, 'payload checksum mismatch: the file is corrupted');
    }
    return { image, raw };
  } finally {
    await fh.close();
  }
}

/**
 * Loads an index file into a SharedArrayBuffer (one sequential read, in chunks) and returns its
 * reader. Verifies the header and, unless `verifyChecksum` is false, the payload checksum.
 * Throws `IndexCorruptError` (ERR_INDEX_CORRUPT) for a truncated, corrupted or foreign file or
 * another format version, and `FileError` (ERR_IO) for a missing path, a directory or no permission.
 */
export async function openIndex(path: string, options: OpenIndexOptions = {}): Promise<IndexReader> {
  const { image, raw } = await loadImage(path, options.verifyChecksum ?? true);
  return readerOfImage(image, raw);
}

/**
 * Streams bytes [HEADER_BYTES, end) of an open file through the payload hasher without keeping
 * them (for inspection of files larger than memory). Returns the digest.
 */
export async function hashFileRange(path: string, end: number): Promise<bigint> {
  const { fh } = await openForRead(path);
  try {
    const hasher = await createPayloadHasher();
    const buf = new Uint8Array(Math.min(READ_CHUNK_BYTES, Math.max(0, end - HEADER_BYTES)));
    for (let at = HEADER_BYTES; at < end; ) {
      const view = buf.subarray(0, Math.min(buf.length, end - at));
      await readFully(fh, view, at, path);
      hasher.update(view);
      at += view.length;
    }
    return hasher.digest();
  } finally {
    await fh.close();
  }
}

/** Opens a file and returns its size and first bytes (up to a header), for inspection. */
export async function readFileHead(path: string): Promise<{ size: number; head: Uint8Array }> {
  const { fh, size } = await openForRead(path);
  try {
    return { size, head: await readHead(fh, size, path) };
  } finally {
    await fh.close();
  }
}
