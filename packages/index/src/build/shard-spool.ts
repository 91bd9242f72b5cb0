/**
 * The rows of a sharded build between its routing pass and each shard's build: one temporary
 * file per shard of fixed-size records of numbers. The source is parsed once, by the routing
 * pass; a shard's build copies its records into the table with no parsing at all, and its
 * record count sizes the table exactly as the routed rows' count would.
 *
 *   one record (native byte order: this process writes it and reads it back)
 *   ┌──────────────────────────────────────┬─────────────────┬──────────────────┐
 *   │ phone key, float64; negated when the │ user id bits    │ user id bits     │
 *   │ row says opted out (a key is ≥ 100)  │ 0 … 31, u32     │ 32 … 63, u32     │
 *   └──────────────────────────────────────┴─────────────────┴──────────────────┘
 *   0                                      8                 12                 16
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { fileErrorFrom } from '@rollcall/errors';
import type { PhoneKey } from '@rollcall/phone';
import type { UserIdSet } from '../user-set.js';
import { type BuiltImage, ImageBuilder, makeReport, PendingRows } from './image-builder.js';
import { type ResolvedOptions, throwIfAborted } from './options.js';
import { noSourceRowProblems } from './source-rules.js';

/** Bytes of one record, and its fields in the views' units (see the layout above). */
const RECORD_BYTES = 16;
const RECORD_F64S = RECORD_BYTES / 8;
const RECORD_U32S = RECORD_BYTES / 4;
const USER_LO_U32 = 2;
const USER_HI_U32 = 3;

/**
 * Bytes of the write buffers of all shards together, and of one shard's at most and at least:
 * 1 MiB a shard keeps the writes large; the total keeps 4,096 shards within 64 MiB.
 */
const WRITE_BUDGET_BYTES = 64 << 20;
const MAX_WRITE_BYTES = 1 << 20;
const MIN_WRITE_BYTES = 4 << 10;
/** Records read back per read call (1 MiB). */
const READ_RECORDS = (1 << 20) / RECORD_BYTES;

/** One shard's spool file, written through a buffer of whole records. */
export class ShardSpool {
  readonly path: string;
  /** Rows routed to the shard so far. */
  rows = 0;
  readonly #fd: number;
  readonly #bytes: Uint8Array;
  readonly #f64: Float64Array;
  readonly #u32: Uint32Array;
  readonly #capacity: number;
  /** Records in the buffer. */
  #held = 0;

  /** Creates the file at `path` (which must not exist), with a buffer sized for `shardCount` spools. */
  constructor(path: string, shardCount: number) {
    this.path = path;
    const bytes = Math.min(MAX_WRITE_BYTES, Math.max(MIN_WRITE_BYTES, WRITE_BUDGET_BYTES / shardCount));
    this.#capacity = Math.floor(bytes / RECORD_BYTES);
    const buffer = new ArrayBuffer(this.#capacity * RECORD_BYTES);
    this.#bytes = new Uint8Array(buffer);
    this.#f64 = new Float64Array(buffer);
    this.#u32 = new Uint32Array(buffer);
    this.#fd = openSync(path, 'wx');
  }

  /** Appends a row. */
  add(key: number, userLo: number, userHi: number, optedOut: boolean): void {
    if (this.#held === this.#capacity) this.flush();
    const r = this.#held++;
    // The sign carries the flag: no key is 0, so -key is never +key.
    this.#f64[r * RECORD_F64S] = optedOut ? -key : key;
    this.#u32[r * RECORD_U32S + USER_LO_U32] = userLo;
    this.#u32[r * RECORD_U32S + USER_HI_U32] = userHi;
    this.rows++;
  }

  /** Writes the buffered records. */
  flush(): void {
    const bytes = this.#held * RECORD_BYTES;
    try {
      for (let at = 0; at < bytes; ) at += writeSync(this.#fd, this.#bytes, at, bytes - at);
    } catch (err) {
      throw fileErrorFrom(this.path, err, 'write the routed rows');
    }
    this.#held = 0;
  }

  /** Writes what is buffered and closes the file (closed even when the write fails). */
  close(): void {
    try {
      this.flush();
    } finally {
      closeSync(this.#fd);
    }
  }
}

/** Reads exactly `bytes` bytes at `position` of `fh` into the front of `into`. */
async function readExactly(fh: FileHandle, into: Uint8Array, bytes: number, position: number, path: string) {
  for (let got = 0; got < bytes; ) {
    let n: number;
    try {
      ({ bytesRead: n } = await fh.read(into, got, bytes - got, position + got));
    } catch (err) {
      throw fileErrorFrom(path, err, 'read the routed rows');
    }
    if (n === 0) throw fileErrorFrom(path, 'the file ended early', 'read the routed rows');
    got += n;
  }
}

/**
 * Builds the image of one shard from its closed spool: the rows in routed order, a batch at a
 * time, as a build from a CSV places them. Entries of users in `optedOutUsers` are marked opted
 * out: the users of every shard's opted-out rows, so those of this shard's own rows too (see
 * {@link ImageBuilder.finish}). A row whose phone is already in the table is skipped
 * with `skipInvalid`, or fails the build with the error `duplicateError` makes of its key (the
 * spool knows no source lines). `source` names the source in the report and in errors.
 */
export async function buildImageFromSpool(
  spool: ShardSpool,
  o: ResolvedOptions,
  source: string,
  optedOutUsers: UserIdSet,
  duplicateError: (key: PhoneKey) => Promise<Error>,
): Promise<BuiltImage> {
  const started = performance.now();
  const skipped = noSourceRowProblems();
  const builder = new ImageBuilder(spool.rows, o, source);
  try {
    const pending = new PendingRows();
    const place = async () => {
      for (let dup = pending.place(builder); dup >= 0; dup = pending.place(builder)) {
        if (!o.skipInvalid) throw await duplicateError(pending.keys[dup]! as PhoneKey);
        skipped.DUPLICATE_PHONE++;
      }
    };
    let fh: FileHandle;
    try {
      fh = await open(spool.path, 'r');
    } catch (err) {
      throw fileErrorFrom(spool.path, err, 'read the routed rows');
    }
    try {
      const buffer = new ArrayBuffer(READ_RECORDS * RECORD_BYTES);
      const bytes = new Uint8Array(buffer);
      const f64 = new Float64Array(buffer);
      const u32 = new Uint32Array(buffer);
      for (let done = 0; done < spool.rows; ) {
        throwIfAborted(o.signal);
        const n = Math.min(READ_RECORDS, spool.rows - done);
        await readExactly(fh, bytes, n * RECORD_BYTES, done * RECORD_BYTES, spool.path);
        for (let r = 0; r < n; r++) {
          const signed = f64[r * RECORD_F64S]!;
          // The line of a row is its place in the spool (1-based): only duplicateError needs
          // where a row was, and it asks the source.
          pending.push(
            Math.abs(signed),
            u32[r * RECORD_U32S + USER_LO_U32]!,
            u32[r * RECORD_U32S + USER_HI_U32]!,
            signed < 0,
            done + r + 1,
          );
          if (pending.full) await place();
        }
        done += n;
      }
      if (pending.count > 0) await place();
    } finally {
      await fh.close();
    }
    throwIfAborted(o.signal);
    const { image, raw } = await builder.finish(optedOutUsers);
    const users = builder.optedOutUsers;
    return {
      image,
      raw,
      report: makeReport(source, spool.rows, skipped, raw, users.size, builder.validityThreads, started),
      optedOutUsers: users,
    };
  } finally {
    await builder.close();
  }
}
