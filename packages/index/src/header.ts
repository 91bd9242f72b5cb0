/**
 * Reading, writing and checking the 256-byte header. Offsets come from layout.ts only.
 */
import { IndexCorruptError } from '@rollcall/errors';
import { checksumRange, headerChecksum } from './checksum.js';
import {
  FLAGS,
  FORMAT_VERSION,
  HEADER,
  HEADER_BYTES,
  KNOWN_FLAGS,
  MAGIC,
  MAX_CAPACITY,
  METADATA_SET_BYTES,
  METADATA_VERSION_BYTES,
  SHA256_CONVENTIONS,
  SHA256_RECORD_BYTES,
  SLOT_BYTES,
  TABLE_OFFSET,
} from './layout.js';
import type { IndexHeader } from './types.js';

/** Every header field, the public ones plus the offsets and checksums a reader needs. */
export interface RawHeader extends IndexHeader {
  headerBytes: number;
  slotBytes: number;
  flags: number;
  sha256RecordBytes: number;
  tableOffset: number;
  sha256Offset: number;
  payloadChecksumValue: bigint;
  headerChecksumValue: bigint;
  /** See {@link HEADER.LOG_BYTES}. */
  logBytes: number;
}

/** What a writer sets; offsets, sizes and checksums are derived. */
export interface HeaderInput {
  entries: number;
  capacity: number;
  optedOut: number;
  neverMatchable: number;
  metadataVersion: string;
  metadataSet: string;
  builtAt: number;
  updatedAt: number;
  hashSeed: number;
  shard: number;
  shardCount: number;
  hasSha256: boolean;
  /** See {@link HEADER.GENERATION}. Default 0 (a new build). */
  generation?: number;
  /** See {@link HEADER.LOG_BYTES}. Default 0. */
  logBytes?: number;
}

/** Sizes and offsets of an image with `capacity` slots and `entries` entries. */
export function imageGeometry(
  capacity: number,
  entries: number,
  hasSha256: boolean,
): { tableOffset: number; tableBytes: number; sha256Offset: number; sha256Bytes: number; fileBytes: number } {
  const tableBytes = capacity * SLOT_BYTES;
  // The section follows the table directly: the table is a whole number of 16-byte slots, so
  // the section's u64 records stay 8-byte aligned for the typed-array views over them.
  const sha256Offset = hasSha256 ? TABLE_OFFSET + tableBytes : 0;
  const sha256Bytes = hasSha256 ? entries * SHA256_RECORD_BYTES * SHA256_CONVENTIONS.length : 0;
  return {
    tableOffset: TABLE_OFFSET,
    tableBytes,
    sha256Offset,
    sha256Bytes,
    fileBytes: TABLE_OFFSET + tableBytes + sha256Bytes,
  };
}

function writeAscii(bytes: Uint8Array, offset: number, size: number, text: string): void {
  bytes.fill(0, offset, offset + size);
  // Non-ASCII is replaced by `?`; the last byte stays NUL so the field always ends.
  for (let i = 0; i < text.length && i < size - 1; i++) {
    const c = text.charCodeAt(i);
    bytes[offset + i] = c >= 0x20 && c < 0x7f ? c : 0x3f;
  }
}

function readAscii(bytes: Uint8Array, offset: number, size: number): string {
  let s = '';
  for (let i = 0; i < size; i++) {
    const c = bytes[offset + i]!;
    if (c === 0) break;
    s += String.fromCharCode(c);
  }
  return s;
}

/**
 * Writes every header field but the two checksums into `header` (the first {@link HEADER_BYTES}
 * of an image), reserved bytes zeroed. Returns the geometry written.
 */
export function writeHeaderFields(header: Uint8Array, input: HeaderInput): ReturnType<typeof imageGeometry> {
  const g = imageGeometry(input.capacity, input.entries, input.hasSha256);
  header.fill(0, 0, HEADER_BYTES);
  header.set(MAGIC, HEADER.MAGIC);
  const v = new DataView(header.buffer, header.byteOffset, HEADER_BYTES);
  v.setUint32(HEADER.FORMAT_VERSION, FORMAT_VERSION, true);
  v.setUint32(HEADER.HEADER_BYTES, HEADER_BYTES, true);
  v.setUint32(HEADER.SLOT_BYTES, SLOT_BYTES, true);
  v.setUint32(HEADER.FLAGS, input.hasSha256 ? FLAGS.SHA256 : 0, true);
  v.setUint32(HEADER.HASH_SEED, input.hashSeed >>> 0, true);
  v.setUint32(HEADER.SHARD, input.shard, true);
  v.setUint32(HEADER.SHARD_COUNT, input.shardCount, true);
  v.setUint32(HEADER.SHA256_RECORD_BYTES, input.hasSha256 ? SHA256_RECORD_BYTES : 0, true);
  const u64 = (at: number, n: number) => v.setBigUint64(at, BigInt(n), true);
  u64(HEADER.ENTRIES, input.entries);
  u64(HEADER.CAPACITY, input.capacity);
  u64(HEADER.OPTED_OUT, input.optedOut);
  u64(HEADER.NEVER_MATCHABLE, input.neverMatchable);
  u64(HEADER.BUILT_AT, input.builtAt);
  u64(HEADER.UPDATED_AT, input.updatedAt);
  u64(HEADER.TABLE_OFFSET, g.tableOffset);
  u64(HEADER.TABLE_BYTES, g.tableBytes);
  u64(HEADER.SHA256_OFFSET, g.sha256Offset);
  u64(HEADER.SHA256_BYTES, g.sha256Bytes);
  u64(HEADER.FILE_BYTES, g.fileBytes);
  u64(HEADER.GENERATION, input.generation ?? 0);
  u64(HEADER.LOG_BYTES, input.logBytes ?? 0);
  writeAscii(header, HEADER.METADATA_VERSION, METADATA_VERSION_BYTES, input.metadataVersion);
  writeAscii(header, HEADER.METADATA_SET, METADATA_SET_BYTES, input.metadataSet);
  return g;
}

/** Stores the payload checksum, then the header checksum over everything before it. */
export async function sealHeader(header: Uint8Array, payloadChecksum: bigint): Promise<void> {
  const v = new DataView(header.buffer, header.byteOffset, HEADER_BYTES);
  v.setBigUint64(HEADER.PAYLOAD_CHECKSUM, payloadChecksum, true);
  v.setBigUint64(HEADER.HEADER_CHECKSUM, await headerChecksum(header), true);
}

/** Sets the opted-out count and update time (before {@link sealHeader} is run again). */
export function writeOptOutFields(header: Uint8Array, optedOut: number, updatedAt: number): void {
  const v = new DataView(header.buffer, header.byteOffset, HEADER_BYTES);
  v.setBigUint64(HEADER.OPTED_OUT, BigInt(optedOut), true);
  v.setBigUint64(HEADER.UPDATED_AT, BigInt(updatedAt), true);
}

/**
 * Stores a new opted-out count and update time in the header of `image` (a whole image of
 * `fileBytes` bytes whose table was changed) and seals it again: payload checksum, then header.
 */
export async function resealOptOuts(
  image: SharedArrayBuffer,
  fileBytes: number,
  optedOut: number,
  updatedAt: number,
): Promise<void> {
  const header = new Uint8Array(image, 0, HEADER_BYTES);
  writeOptOutFields(header, optedOut, updatedAt);
  await sealHeader(header, await checksumRange(image, HEADER_BYTES, fileBytes));
}

/**
 * Reads the header of `bytes` (at least the first few bytes of a file or image). Throws
 * {@link IndexCorruptError} only when it cannot be read at all: too short, wrong magic, or
 * another format version (whose fields may sit elsewhere). Checks nothing else; see
 * {@link headerProblems} and {@link verifyHeaderChecksum}.
 */
export function decodeHeader(bytes: Uint8Array, file: string): RawHeader {
  if (bytes.length === 0) throw new IndexCorruptError(file, 'the file is empty');
  // Compare what there is of the magic: a short file that starts right is truncated, not foreign.
  for (let i = 0; i < MAGIC.length && i < bytes.length; i++) {
    if (bytes[i] !== MAGIC[i])
      throw new IndexCorruptError(file, 'not a rollcall index file (wrong magic bytes)');
  }
  if (bytes.length < HEADER_BYTES) {
    throw new IndexCorruptError(
      file,
      `truncated: ${bytes.length} bytes, shorter than the ${HEADER_BYTES}-byte header`,
    );
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, HEADER_BYTES);
  const version = v.getUint32(HEADER.FORMAT_VERSION, true);
  if (version !== FORMAT_VERSION) {
    // Version 1 kept opt-outs per number (see FORMAT_VERSION): reading it would put users opted
    // out on another number into audiences, so it is refused like any other version.
    const why = version === 1 ? ' (version 1 applied an opt-out to one number, not to its user)' : '';
    throw new IndexCorruptError(
      file,
      `format version ${version}, but this rollcall reads version ${FORMAT_VERSION}${why}: rebuild the index`,
    );
  }
  // u64 fields beyond 2^53 cannot be sizes of a real file; NaN makes every later check fail.
  const u64 = (at: number) => {
    const n = v.getBigUint64(at, true);
    return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : Number.NaN;
  };
  const flags = v.getUint32(HEADER.FLAGS, true);
  const payloadChecksumValue = v.getBigUint64(HEADER.PAYLOAD_CHECKSUM, true);
  return {
    formatVersion: version,
    headerBytes: v.getUint32(HEADER.HEADER_BYTES, true),
    slotBytes: v.getUint32(HEADER.SLOT_BYTES, true),
    flags,
    hasSha256: (flags & FLAGS.SHA256) !== 0,
    hashSeed: v.getUint32(HEADER.HASH_SEED, true),
    shard: v.getUint32(HEADER.SHARD, true),
    shardCount: v.getUint32(HEADER.SHARD_COUNT, true),
    sha256RecordBytes: v.getUint32(HEADER.SHA256_RECORD_BYTES, true),
    entries: u64(HEADER.ENTRIES),
    capacity: u64(HEADER.CAPACITY),
    optedOut: u64(HEADER.OPTED_OUT),
    neverMatchable: u64(HEADER.NEVER_MATCHABLE),
    builtAt: u64(HEADER.BUILT_AT),
    updatedAt: u64(HEADER.UPDATED_AT),
    tableOffset: u64(HEADER.TABLE_OFFSET),
    tableBytes: u64(HEADER.TABLE_BYTES),
    sha256Offset: u64(HEADER.SHA256_OFFSET),
    sha256Bytes: u64(HEADER.SHA256_BYTES),
    fileBytes: u64(HEADER.FILE_BYTES),
    generation: u64(HEADER.GENERATION),
    logBytes: u64(HEADER.LOG_BYTES),
    metadataVersion: readAscii(bytes, HEADER.METADATA_VERSION, METADATA_VERSION_BYTES),
    metadataSet: readAscii(bytes, HEADER.METADATA_SET, METADATA_SET_BYTES),
    payloadChecksumValue,
    payloadChecksum: payloadChecksumValue.toString(16).padStart(16, '0'),
    headerChecksumValue: v.getBigUint64(HEADER.HEADER_CHECKSUM, true),
  };
}

/** True when the stored header checksum matches the header bytes. */
export async function verifyHeaderChecksum(bytes: Uint8Array, raw: RawHeader): Promise<boolean> {
  return (await headerChecksum(bytes.subarray(0, HEADER_BYTES))) === raw.headerChecksumValue;
}

/**
 * What is inconsistent in a decoded header, as plain sentences (empty when sound). Checks that
 * the fields agree with each other and with the layout, so a reader can trust them as bounds:
 * in particular there is always an empty slot, so every probe ends.
 */
export function headerProblems(h: RawHeader): string[] {
  const p: string[] = [];
  const whole = (n: number) => Number.isSafeInteger(n) && n >= 0;
  if (h.headerBytes !== HEADER_BYTES) p.push(`header size ${h.headerBytes}, expected ${HEADER_BYTES}`);
  if (h.slotBytes !== SLOT_BYTES) p.push(`slot size ${h.slotBytes}, expected ${SLOT_BYTES}`);
  if ((h.flags & ~KNOWN_FLAGS) !== 0) p.push(`unknown flags 0x${h.flags.toString(16)}`);
  if (h.shardCount < 1 || h.shard >= h.shardCount)
    p.push(`shard ${h.shard} of ${h.shardCount} is impossible`);
  for (const [name, n] of [
    ['entries', h.entries],
    ['capacity', h.capacity],
    ['opted-out count', h.optedOut],
    ['never-matchable count', h.neverMatchable],
    ['build time', h.builtAt],
    ['update time', h.updatedAt],
    ['file size', h.fileBytes],
    ['generation', h.generation],
    ['eligibility log size', h.logBytes],
  ] as const) {
    if (!whole(n)) p.push(`${name} is out of range`);
  }
  if (!(h.capacity >= 1 && h.capacity <= MAX_CAPACITY)) p.push(`capacity ${h.capacity} is out of range`);
  // At least one empty slot: a probe of an absent key stops at the first empty slot.
  if (!(h.entries < h.capacity))
    p.push(`${h.entries} entries do not fit ${h.capacity} slots with one left empty`);
  if (!(h.optedOut <= h.entries)) p.push(`opted-out count ${h.optedOut} exceeds entries ${h.entries}`);
  if (!(h.neverMatchable <= h.entries))
    p.push(`never-matchable count ${h.neverMatchable} exceeds entries ${h.entries}`);
  const g = imageGeometry(h.capacity, h.entries, h.hasSha256);
  if (h.tableOffset !== g.tableOffset || h.tableBytes !== g.tableBytes)
    p.push('table offset or size disagrees with capacity');
  if (h.hasSha256 && h.sha256RecordBytes !== SHA256_RECORD_BYTES)
    p.push(`SHA-256 record size ${h.sha256RecordBytes}`);
  if (h.sha256Offset !== g.sha256Offset || h.sha256Bytes !== g.sha256Bytes) {
    p.push('SHA-256 section offset or size disagrees with entries');
  }
  if (h.fileBytes !== g.fileBytes)
    p.push(`file size field ${h.fileBytes} disagrees with the sections (${g.fileBytes})`);
  return p;
}

/** Decodes and fully checks a header (magic, version, checksum, consistency); throws IndexCorruptError. */
export async function readVerifiedHeader(bytes: Uint8Array, file: string): Promise<RawHeader> {
  const raw = decodeHeader(bytes, file);
  if (!(await verifyHeaderChecksum(bytes, raw))) {
    throw new IndexCorruptError(file, 'header checksum mismatch: the header is corrupted');
  }
  const problems = headerProblems(raw);
  if (problems.length > 0) throw new IndexCorruptError(file, `inconsistent header: ${problems.join('; ')}`);
  return raw;
}

/** The public view of a raw header. */
export function publicHeader(raw: RawHeader): IndexHeader {
  return {
    formatVersion: raw.formatVersion,
    entries: raw.entries,
    capacity: raw.capacity,
    optedOut: raw.optedOut,
    neverMatchable: raw.neverMatchable,
    metadataVersion: raw.metadataVersion,
    metadataSet: raw.metadataSet,
    builtAt: raw.builtAt,
    updatedAt: raw.updatedAt,
    hashSeed: raw.hashSeed,
    shard: raw.shard,
    shardCount: raw.shardCount,
    hasSha256: raw.hasSha256,
    fileBytes: raw.fileBytes,
    generation: raw.generation,
    tableBytes: raw.tableBytes,
    sha256Bytes: raw.sha256Bytes,
    payloadChecksum: raw.payloadChecksum,
  };
}
