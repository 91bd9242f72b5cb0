import type { UploadEncoding } from './types.js';

/**
 * Bytes looked at before deciding a BOM-less file's encoding. A file that is pure ASCII this far
 * is read as UTF-8; the first non-ASCII bytes decide otherwise (see {@link sniffEncoding}).
 */
export const SNIFF_LIMIT_BYTES = 1 << 20;

/** The decision of {@link sniffEncoding}: the encoding and how many byte-order-mark bytes to skip. */
export interface EncodingGuess {
  encoding: UploadEncoding;
  bomLength: number;
}

const BOMS: ReadonlyArray<{ encoding: UploadEncoding; bytes: readonly number[] }> = [
  { encoding: 'utf-8', bytes: [0xef, 0xbb, 0xbf] },
  { encoding: 'utf-16le', bytes: [0xff, 0xfe] },
  { encoding: 'utf-16be', bytes: [0xfe, 0xff] },
];

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  if (bytes.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

/** The length of the byte-order mark of `encoding` at the start of `bytes`, or 0. */
export function bomLengthOf(bytes: Uint8Array, encoding: UploadEncoding): number {
  const bom = BOMS.find((b) => b.encoding === encoding);
  return bom !== undefined && startsWith(bytes, bom.bytes) ? bom.bytes.length : 0;
}

/**
 * Decides the encoding of an upload from its first bytes, the way spreadsheets export text:
 * 1. a byte-order mark wins (UTF-8, UTF-16LE, UTF-16BE);
 * 2. without one, NUL bytes in every other position of the first 4 KiB mean UTF-16 (ASCII text
 *    in UTF-16 has a zero high byte; a CSV never holds NULs otherwise);
 * 3. otherwise bytes that are not valid UTF-8 mean Windows-1252 (Excel's "CSV" on Western
 *    Windows); valid non-ASCII UTF-8 means UTF-8; pure ASCII means UTF-8 once
 *    {@link SNIFF_LIMIT_BYTES} are seen or the file ends.
 * Returns `undefined` while more bytes are needed (`bytes` is everything read so far).
 * Invalid UTF-8 after the sniffed prefix is decoded as U+FFFD, not re-sniffed.
 */
export function sniffEncoding(bytes: Uint8Array, eof: boolean): EncodingGuess | undefined {
  for (const bom of BOMS) {
    if (startsWith(bytes, bom.bytes)) return { encoding: bom.encoding, bomLength: bom.bytes.length };
  }
  // A UTF-8 BOM is 3 bytes: with fewer read, wait (files that short end at once anyway).
  if (bytes.length < 3 && !eof) return undefined;

  const utf16 = sniffUtf16(bytes);
  if (utf16 !== undefined) return { encoding: utf16, bomLength: 0 };

  let nonAscii = false;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i]! >= 0x80) {
      nonAscii = true;
      break;
    }
  }
  if (nonAscii) {
    let text: string;
    try {
      // stream: true so that a multi-byte sequence cut by the end of the sample is not an error.
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: !eof });
    } catch {
      return { encoding: 'windows-1252', bomLength: 0 };
    }
    // Decided only by a complete non-ASCII character, not by a sequence still cut at the end.
    if (/[^\u0000-\u007f]/.test(text)) return { encoding: 'utf-8', bomLength: 0 };
  }
  return eof || bytes.length >= SNIFF_LIMIT_BYTES ? { encoding: 'utf-8', bomLength: 0 } : undefined;
}

function sniffUtf16(bytes: Uint8Array): UploadEncoding | undefined {
  const n = Math.min(bytes.length, 4096) & ~1;
  if (n < 4) return undefined;
  let evenZeros = 0;
  let oddZeros = 0;
  for (let i = 0; i < n; i += 2) {
    if (bytes[i] === 0) evenZeros++;
    if (bytes[i + 1] === 0) oddZeros++;
  }
  const pairs = n / 2;
  // Mostly-ASCII text: most high bytes are zero, few low bytes are (U+xx00 characters).
  if (oddZeros >= pairs / 2 && evenZeros * 8 <= oddZeros) return 'utf-16le';
  if (evenZeros >= pairs / 2 && oddZeros * 8 <= evenZeros) return 'utf-16be';
  return undefined;
}

/**
 * Windows-1252 bytes 0x80–0x9F as Unicode (WHATWG index-windows-1252). Node's TextDecoder
 * cannot be trusted here: since v20.18.3 it decodes `windows-1252` as ISO-8859-1, mapping these
 * bytes to C1 controls (nodejs/node#56542, #60888). Bytes outside this range equal Latin-1.
 */
const WINDOWS_1252_C1 =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

const C1_RANGE = /[\u0080-\u009f]/g;

function fromC1(ch: string): string {
  return WINDOWS_1252_C1[ch.charCodeAt(0) - 0x80]!;
}

/** A streaming byte-to-text decoder for one file. */
export interface ChunkDecoder {
  /** Decodes the next bytes; `last` flushes a sequence cut at the end (as U+FFFD). */
  decode(bytes: Uint8Array, last: boolean): string;
}

/** A streaming decoder for `encoding`; the byte-order mark must already be skipped. */
export function createChunkDecoder(encoding: UploadEncoding): ChunkDecoder {
  if (encoding === 'windows-1252') {
    return {
      decode(bytes) {
        // Single-byte: no state between chunks. Latin-1 then the 32 bytes where 1252 differs.
        const latin1 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
        return latin1.replace(C1_RANGE, fromC1);
      },
    };
  }
  // ignoreBOM: the mark was skipped by the caller; a second one is content, kept as is.
  const decoder = new TextDecoder(encoding, { ignoreBOM: true });
  return {
    decode(bytes, last) {
      return decoder.decode(bytes, { stream: !last });
    },
  };
}
