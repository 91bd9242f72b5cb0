/**
 * Where an upload's bytes come from: a regular file (read again for each pass), or a pipe, a FIFO
 * or standard input (read once, as a stream that honours the abort signal); gzip is decompressed
 * on the way, detected by its magic bytes, never by the file name.
 *
 * Nothing here may block a thread on a FIFO: `open(2)` of a FIFO without a writer blocks until one
 * comes, and a libuv thread stuck there keeps even `process.exit` from returning (measured: SIGINT
 * then exit hangs for good). So every path is opened with O_NONBLOCK (which opens a FIFO at once
 * and changes nothing for a regular file), and a FIFO is then read through the event loop.
 */
import { close, constants, fstat, open, read, type Stats } from 'node:fs';
import { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { createGunzip } from 'node:zlib';
import { ErrorCodes, FileError, fileErrorFrom, InputError, RollcallError } from '@rollcall/errors';

/** The upload path that means standard input. */
export const STDIN_PATH = '-';
/**
 * Paths that name standard input too. Read as descriptor 0, not opened: when standard input is a
 * socket (as Node's own child processes get), opening `/dev/stdin` fails with ENXIO.
 */
const STDIN_ALIASES = new Set(['/dev/stdin', '/dev/fd/0', '/proc/self/fd/0']);
/** How standard input is named in messages and reports. */
export const STDIN_NAME = '<stdin>';

const openFd = promisify(open);
const fstatFd = promisify(fstat);
const closeFd = promisify(close);
const EMPTY = new Uint8Array(0);

/** A source of bytes read in chunks. */
export interface ByteSource {
  /** The next bytes (a fresh buffer), or an empty one at the end. */
  next(): Promise<Uint8Array>;
  /** True once the end was reached. */
  readonly eof: boolean;
  /** Bytes of the file itself (before any decompression) read so far, for progress. */
  readonly bytesRead: number;
  /** Releases the file or stream. Idempotent; never throws. */
  close(): Promise<void>;
}

/** The coded error of a read stopped by `signal`. */
export function abortedError(file: string, signal: AbortSignal): RollcallError {
  return new RollcallError(ErrorCodes.ABORTED, `${file}: reading aborted`, { cause: signal.reason });
}

/** A regular file read at explicit positions from its start: several passes never share an offset. */
class FileSource implements ByteSource {
  readonly #fd: number;
  readonly #owned: boolean;
  readonly #file: string;
  readonly #chunkBytes: number;
  readonly #signal: AbortSignal | undefined;
  #eof = false;
  #closed = false;
  bytesRead = 0;

  constructor(fd: number, owned: boolean, file: string, chunkBytes: number, signal: AbortSignal | undefined) {
    this.#fd = fd;
    this.#owned = owned;
    this.#file = file;
    this.#chunkBytes = chunkBytes;
    this.#signal = signal;
  }

  get eof(): boolean {
    return this.#eof;
  }

  async next(): Promise<Uint8Array> {
    if (this.#signal?.aborted) throw abortedError(this.#file, this.#signal);
    if (this.#eof) return EMPTY;
    const buffer = Buffer.allocUnsafe(this.#chunkBytes);
    const n = await new Promise<number>((resolve, reject) => {
      read(this.#fd, buffer, 0, buffer.length, this.bytesRead, (err, bytesRead) =>
        err ? reject(fileErrorFrom(this.#file, err, 'read')) : resolve(bytesRead),
      );
    });
    if (n === 0) this.#eof = true;
    this.bytesRead += n;
    return buffer.subarray(0, n);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#owned) await closeFd(this.#fd).catch(() => {});
  }
}

/**
 * A byte stream (a FIFO, a pipe, standard input, a decompressor) pulled chunk by chunk. The abort
 * signal destroys the stream, so a read waiting for a writer that never comes ends at once.
 */
class StreamSource implements ByteSource {
  readonly #stream: Readable;
  readonly #chunks: AsyncIterator<Uint8Array>;
  readonly #file: string;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort: (() => void) | undefined;
  readonly #destroyOnClose: boolean;
  #eof = false;
  #closed = false;
  bytesRead = 0;

  constructor(stream: Readable, file: string, signal: AbortSignal | undefined, destroyOnClose = true) {
    this.#stream = stream;
    this.#file = file;
    this.#signal = signal;
    this.#destroyOnClose = destroyOnClose;
    // destroyOnReturn false: close() decides, so that standard input can be left open.
    this.#chunks = stream.iterator({ destroyOnReturn: false })[Symbol.asyncIterator]();
    if (signal !== undefined) {
      const onAbort = (): void => {
        stream.destroy(abortedError(file, signal));
      };
      this.#onAbort = onAbort;
      // Removed in close(): a long-lived signal must not collect a listener per upload.
      signal.addEventListener('abort', onAbort, { once: true });
    }
  }

  get eof(): boolean {
    return this.#eof;
  }

  async next(): Promise<Uint8Array> {
    if (this.#signal?.aborted) throw abortedError(this.#file, this.#signal);
    if (this.#eof) return EMPTY;
    let chunk: IteratorResult<Uint8Array>;
    try {
      chunk = await this.#chunks.next();
    } catch (err) {
      if (this.#signal?.aborted) throw abortedError(this.#file, this.#signal);
      throw err instanceof RollcallError ? err : fileErrorFrom(this.#file, err, 'read');
    }
    if (chunk.done) {
      this.#eof = true;
      return EMPTY;
    }
    this.bytesRead += chunk.value.length;
    return chunk.value;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#onAbort !== undefined) this.#signal?.removeEventListener('abort', this.#onAbort);
    if (this.#destroyOnClose) this.#stream.destroy();
  }
}

/** Chunks already read (`head`), then the rest of `rest`: lets a peek or a first pass be read again. */
export class ReplaySource implements ByteSource {
  readonly #head: Uint8Array[];
  readonly #rest: ByteSource;

  constructor(head: readonly Uint8Array[], rest: ByteSource) {
    this.#head = head.filter((c) => c.length > 0);
    this.#rest = rest;
  }

  get eof(): boolean {
    return this.#head.length === 0 && this.#rest.eof;
  }

  get bytesRead(): number {
    return this.#rest.bytesRead;
  }

  next(): Promise<Uint8Array> {
    const chunk = this.#head.shift();
    return chunk !== undefined ? Promise.resolve(chunk) : this.#rest.next();
  }

  close(): Promise<void> {
    this.#head.length = 0;
    return this.#rest.close();
  }
}

/** Keeps a copy of every chunk it passes on, so that a one-pass stream can be replayed from its start. */
export class RecordingSource implements ByteSource {
  readonly #inner: ByteSource;
  readonly recorded: Uint8Array[] = [];
  #recording = true;

  constructor(inner: ByteSource) {
    this.#inner = inner;
  }

  get eof(): boolean {
    return this.#inner.eof;
  }

  get bytesRead(): number {
    return this.#inner.bytesRead;
  }

  async next(): Promise<Uint8Array> {
    const chunk = await this.#inner.next();
    if (chunk.length > 0 && this.#recording) this.recorded.push(chunk);
    return chunk;
  }

  /** Forgets what was recorded and records no more: the stream is read once, right now. */
  stopRecording(): void {
    this.#recording = false;
    this.recorded.length = 0;
  }

  /** What was recorded, then the rest of the stream; recording stops. */
  replay(): ReplaySource {
    return new ReplaySource(this.recorded.splice(0), this.#inner);
  }

  close(): Promise<void> {
    this.recorded.length = 0;
    return this.#inner.close();
  }
}

/** A gzip stream decompressed as it is read; `bytesRead` counts the compressed bytes. */
class GunzipSource implements ByteSource {
  readonly #inner: ByteSource;
  readonly #out: StreamSource;
  readonly #file: string;

  constructor(inner: ByteSource, file: string, chunkBytes: number) {
    this.#inner = inner;
    this.#file = file;
    async function* compressed(): AsyncGenerator<Uint8Array> {
      for (;;) {
        const chunk = await inner.next();
        if (chunk.length === 0) return;
        yield chunk;
      }
    }
    // zlib's smallest output chunk is 64 bytes; tests read in smaller ones.
    const gunzip = createGunzip({ chunkSize: Math.max(64, chunkBytes) });
    // An error of the compressed side (an abort, an I/O error) reaches the reader unchanged.
    Readable.from(compressed(), { objectMode: false })
      .on('error', (err) => gunzip.destroy(err))
      .pipe(gunzip);
    this.#out = new StreamSource(gunzip, file, undefined);
  }

  get eof(): boolean {
    return this.#out.eof;
  }

  get bytesRead(): number {
    return this.#inner.bytesRead;
  }

  async next(): Promise<Uint8Array> {
    try {
      return await this.#out.next();
    } catch (err) {
      if (err instanceof FileError && isZlibError(err.cause)) {
        throw new InputError(
          { file: this.#file },
          `is not a readable gzip file (${(err.cause as Error).message}); is it truncated?`,
        );
      }
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.#out.close();
    await this.#inner.close();
  }
}

function isZlibError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && code.startsWith('Z_');
}

/** An opened input: its bytes, and whether it can be read again from the start by opening it anew. */
export interface OpenedInput {
  /** `file`: a regular file (a second pass opens it again); `stream`: read once. */
  kind: 'file' | 'stream';
  /** The size of a regular file; null for a stream. */
  totalBytes: number | null;
  source: ByteSource;
}

const NOT_AN_UPLOAD = 'a device is not an upload; give a file, a FIFO, or - for standard input';

/**
 * Opens `path` (`-`: standard input) without ever blocking on a FIFO. A regular file is read at
 * positions; a FIFO, a pipe or a socket as a stream. Directories and devices (a terminal, `/dev/zero`)
 * are refused with `ERR_IO`.
 */
export async function openInput(
  path: string,
  file: string,
  chunkBytes: number,
  signal: AbortSignal | undefined,
): Promise<OpenedInput> {
  if (path === STDIN_PATH || STDIN_ALIASES.has(path)) return openStdin(file, chunkBytes, signal);
  let fd: number;
  try {
    fd = await openFd(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    throw fileErrorFrom(file, err, 'open');
  }
  let st: Stats;
  try {
    st = await fstatFd(fd);
  } catch (err) {
    await closeFd(fd).catch(() => {});
    throw fileErrorFrom(file, err, 'read');
  }
  if (st.isFile()) {
    return { kind: 'file', totalBytes: st.size, source: new FileSource(fd, true, file, chunkBytes, signal) };
  }
  if (st.isFIFO() || st.isSocket()) {
    // The socket owns the descriptor from here (it closes it when destroyed).
    const stream = new Socket({ fd, readable: true, writable: false });
    return { kind: 'stream', totalBytes: null, source: new StreamSource(stream, file, signal) };
  }
  await closeFd(fd).catch(() => {});
  if (st.isDirectory()) {
    throw fileErrorFrom(file, Object.assign(new Error('is a directory'), { code: 'EISDIR' }), 'read');
  }
  throw new FileError(file, `cannot read: ${NOT_AN_UPLOAD}`);
}

async function openStdin(
  file: string,
  chunkBytes: number,
  signal: AbortSignal | undefined,
): Promise<OpenedInput> {
  let st: Stats;
  try {
    st = await fstatFd(0);
  } catch (err) {
    throw fileErrorFrom(file, err, 'read');
  }
  // Redirected from a file (`< customers.csv`): read at positions, like any file; never closed.
  if (st.isFile()) {
    return { kind: 'file', totalBytes: st.size, source: new FileSource(0, false, file, chunkBytes, signal) };
  }
  if (st.isFIFO() || st.isSocket()) {
    // Left open on close: standard input belongs to the process, not to this upload.
    return { kind: 'stream', totalBytes: null, source: new StreamSource(process.stdin, file, signal, false) };
  }
  throw new FileError(
    file,
    process.stdin.isTTY
      ? 'cannot read: standard input is a terminal; pipe or redirect the upload into rollcall (--upload - < customers.csv)'
      : `cannot read: ${NOT_AN_UPLOAD}`,
  );
}

// Archives rollcall does not open: refused by their magic bytes with a message that says what to do.
const ZIP_MAGICS: readonly (readonly number[])[] = [
  [0x50, 0x4b, 0x03, 0x04],
  [0x50, 0x4b, 0x05, 0x06],
  [0x50, 0x4b, 0x07, 0x08],
];
const GZIP_MAGIC: readonly number[] = [0x1f, 0x8b];

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return bytes.length >= prefix.length && prefix.every((b, i) => bytes[i] === b);
}

/** How an input is compressed, as its first bytes tell. */
export type Compression = 'gzip' | null;

/**
 * The bytes of `raw` as text bytes: gzip (magic `1f 8b`, whatever the file is called; several
 * members read as one) decompressed as it is read. A zip archive (or an Excel `.xlsx`, which is one)
 * is refused with `ERR_BAD_INPUT`: rollcall does not open archives.
 */
export async function decompressed(
  raw: ByteSource,
  file: string,
  chunkBytes: number,
): Promise<{ source: ByteSource; compression: Compression }> {
  // Enough bytes to tell the format (4 at most); a tiny chunk size may need several reads.
  const head: Uint8Array[] = [];
  let length = 0;
  while (length < 4 && !raw.eof) {
    const chunk = await raw.next();
    head.push(chunk);
    length += chunk.length;
  }
  const first = Buffer.concat(head);
  const replay = new ReplaySource([first], raw);
  if (startsWith(first, GZIP_MAGIC)) {
    return { source: new GunzipSource(replay, file, chunkBytes), compression: 'gzip' };
  }
  if (ZIP_MAGICS.some((magic) => startsWith(first, magic))) {
    await raw.close();
    throw new InputError(
      { file },
      'is a zip archive (an Excel .xlsx is one too): rollcall reads CSV, plain or gzip-compressed; extract the CSV (or save the sheet as CSV) and give that',
    );
  }
  return { source: replay, compression: null };
}
