/**
 * `rollcall index inspect`: what an index file holds and whether it is sound, reported rather
 * than thrown wherever the header can be read.
 */
import { decodeHeader, headerProblems, publicHeader, verifyHeaderChecksum } from './header.js';
import { hashFileRange, readFileHead } from './load.js';
import type { IndexHeader } from './types.js';

/** Checksum state of one part of a file (`unchecked`: the header is too inconsistent to say what to hash). */
export type ChecksumState = 'ok' | 'mismatch' | 'unchecked';

/** What {@link inspectIndex} finds. Sizes in bytes. */
export interface IndexInspection {
  file: string;
  /** Bytes of the file on disk. */
  fileSize: number;
  /** The header fields as stored (trust them only when `sound`). */
  header: IndexHeader;
  entries: number;
  optedOut: number;
  neverMatchable: number;
  /** entries / capacity. */
  loadFactor: number;
  /** Table bytes per entry (0 for an empty index). */
  bytesPerEntry: number;
  /** Bytes of the SHA-256 section (0 when absent). */
  sha256Bytes: number;
  checksum: {
    header: ChecksumState;
    /** The payload's xxh64 against the header's; `mismatch` too when the file is truncated. */
    payload: ChecksumState;
  };
  /** Everything found wrong, as sentences; empty when sound. */
  problems: string[];
  /** True when both checksums match and nothing is wrong: `openIndex` will accept the file. */
  sound: boolean;
}

/**
 * Reads an index file's header and checks both checksums (streaming the payload, without loading
 * it). Problems are reported, not thrown, whenever the header is readable; a file that is not an
 * index at all (empty, wrong magic, another format version, shorter than a header) throws
 * `IndexCorruptError`, and a missing or unreadable path throws `FileError`.
 */
export async function inspectIndex(path: string): Promise<IndexInspection> {
  const { size, head } = await readFileHead(path);
  const raw = decodeHeader(head, path);
  const headerOk = await verifyHeaderChecksum(head, raw);
  const problems = headerOk ? [] : ['header checksum mismatch: the header is corrupted'];
  const inconsistent = headerProblems(raw);
  problems.push(...inconsistent);
  let payloadOk = false;
  if (inconsistent.length === 0 && size < raw.fileBytes) {
    problems.push(`truncated: ${size} bytes, the header says ${raw.fileBytes}`);
  } else if (inconsistent.length === 0) {
    if (size > raw.fileBytes) problems.push(`${size - raw.fileBytes} unexpected bytes after the index`);
    payloadOk = (await hashFileRange(path, raw.fileBytes)) === raw.payloadChecksumValue;
    if (!payloadOk) problems.push('payload checksum mismatch: the file is corrupted');
  }
  return {
    file: path,
    fileSize: size,
    header: publicHeader(raw),
    entries: raw.entries,
    optedOut: raw.optedOut,
    neverMatchable: raw.neverMatchable,
    loadFactor: raw.capacity > 0 ? raw.entries / raw.capacity : 0,
    bytesPerEntry: raw.entries > 0 ? raw.tableBytes / raw.entries : 0,
    sha256Bytes: raw.sha256Bytes,
    checksum: {
      header: headerOk ? 'ok' : 'mismatch',
      payload: inconsistent.length > 0 ? 'unchecked' : payloadOk ? 'ok' : 'mismatch',
    },
    problems,
    sound: problems.length === 0,
  };
}
