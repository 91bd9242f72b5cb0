/**
 * `rollcall index update`: a change set (`add`, `delete`, `optout`, `optin` rows) applied to a
 * built index in place of a rebuild. Numbers are inserted into and removed from the table itself
 * (removal by backward shift, so probes stay exact with no tombstones); when the adds would push
 * the table past its load factor it is rehashed, once, into a larger one. Every user a change
 * touches has their opted-out bit settled (an opt-out is the person's: user-optouts.ts), and
 * every user who stops being eligible, or becomes eligible again, is written to the eligibility
 * log at the index's new generation, for `audience refresh`.
 *
 * The whole update holds the index's update lock (lock.ts); every new file is written beside
 * the old one and renamed over it at the end, all files of a sharded index together, so a
 * reader sees the old index or the new one, never a mix.
 */
import { performance } from 'node:perf_hooks';
import { ErrorCodes, InvalidArgumentError, RollcallError } from '@rollcall/errors';
import { AtomicFile, commitAll } from '@rollcall/files';
import { isValidE164, type PhoneKey } from '@rollcall/phone';
import { writeImage } from './build/image-builder.js';
import { type ChangeRowProblem, type ChangeSet, OP, readChangesCsv } from './changes.js';
import { checksumRange } from './checksum.js';
import { appendEligibilityLog, eligibilityLogPath, LOG_KIND } from './eligibility-log.js';
import { imageGeometry, type RawHeader, sealHeader, writeHeaderFields } from './header.js';
import { generationOf, indexFiles, logBytesOf } from './index-files.js';
import {
  HEADER_BYTES,
  KEY_HI_MASK,
  LOAD_DENOMINATOR,
  LOAD_NUMERATOR,
  MAX_CAPACITY,
  MAX_VIEW_ELEMENTS,
  NUMBER_OPTED_OUT_BIT,
  OPTED_OUT_BIT,
  SLOT,
  SLOT_WORDS,
  TABLE_OFFSET,
  TWO_POW_32,
} from './layout.js';
import { loadImage } from './load.js';
import { type IndexLock, type IndexLockHolder, withIndexLock } from './lock.js';
import { fillSha256Section } from './sha256-section.js';
import { shardOfKey } from './shards.js';
import { capacityFor, findSlot, rehash, removeSlot, setNumberOptedOut, writeSlot } from './table.js';
import { settleTouched, tallyBefore, UserTally } from './user-optouts.js';
import { UserIdSet } from './user-set.js';

/** Options of {@link applyChanges}. */
export interface UpdateOptions {
  /** Count and leave out bad rows instead of refusing the whole change set. Default false. */
  skipInvalid?: boolean;
  /** Give up after this many ms if another update holds the index (ERR_IO). Default 30 minutes. */
  lockWaitMs?: number;
  /** A lock not refreshed for this many ms is broken as stale. Default 10 minutes. */
  lockStaleMs?: number;
  /** Called once if the run has to wait for another update's lock. */
  onLockWait?: (holder: IndexLockHolder | undefined) => void;
  /** Stops the update before its files are renamed (`ERR_ABORTED`); nothing is replaced. */
  signal?: AbortSignal;
}

/** What {@link applyChanges} did. Counts of rows unless said otherwise. */
export interface UpdateReport {
  /** The index as given: a file, or one shard file of a sharded index. */
  index: string;
  /** Every file of the index, in shard order. */
  files: string[];
  /** The change set read. */
  changes: string;
  /** Data rows read (header and blank lines not counted), applied or skipped. */
  rows: number;
  /** Rows skipped, by problem (all zero unless `skipInvalid`). */
  skipped: Record<ChangeRowProblem, number>;
  skippedRows: number;
  /** `add` rows of numbers new to the index. */
  added: number;
  /** `add` rows that moved a number to another user. */
  moved: number;
  /** `delete` rows that removed a number. */
  deleted: number;
  /** `optout` rows that set a number's own flag. */
  optedOutNumbers: number;
  /** `optin` rows that cleared a number's own flag. */
  optedInNumbers: number;
  /** Rows that found things already so (an add to the same user, an opt-out already there). */
  unchanged: number;
  /** `delete`, `optout` and `optin` rows of a phone the index does not hold. */
  notInIndex: number;
  /** Users whose opted-out bit was set by this update (they were in, now out). */
  usersOptedOut: number;
  /** Users whose opted-out bit was cleared (out before, in now). */
  usersOptedIn: number;
  /** Users eligible before and not after (no number left, or opted out): logged for refresh. */
  usersNoLongerEligible: number;
  /** Users not eligible before and eligible after (a new user, or opted back in). */
  usersEligibleAgain: number;
  /** Entries in the index after the update, all files. */
  entries: number;
  /** Entries (numbers) opted out after the update, all files: the sum of the headers' counts. */
  optedOut: number;
  /** The index's generation after the update (unchanged when nothing was written). */
  generation: number;
  /** Files whose table was rehashed into a larger one, because the adds did not fit. */
  filesGrown: string[];
  /** False when nothing changed: every file is then left as it was, byte for byte. */
  written: boolean;
  /** The files rewritten. */
  filesWritten: string[];
  /** The eligibility log appended to (undefined when no user's eligibility changed). */
  log: string | undefined;
  durationMs: number;
}

/** Per-row effect counts (the rows of every file). */
type RowCounts = Pick<
  UpdateReport,
  'added' | 'moved' | 'deleted' | 'optedOutNumbers' | 'optedInNumbers' | 'unchanged' | 'notInIndex'
>;

function noRowCounts(): RowCounts {
  return {
    added: 0,
    moved: 0,
    deleted: 0,
    optedOutNumbers: 0,
    optedInNumbers: 0,
    unchanged: 0,
    notInIndex: 0,
  };
}

/**
 * Applies a changes CSV (`op,phone,user_id`) to a built index (`rollcall index update`).
 *
 * Semantics (rows apply in file order; a phone named twice ends as its last row leaves it):
 * - `add` puts the number in the index as the user's. A number new to the index arrives with no
 *   opt-out of its own; added to a user who is opted out, it keeps them out (the user's flag is on
 *   every number of theirs). A number that already belongs to another user moves: that user loses
 *   it, and it starts with no opt-out of its own (a reassigned number is a new person's). An `add`
 *   of a number to the user who already has it changes nothing.
 * - `delete` removes the number.
 * - `optout` sets the number's own flag: its user is out of every audience, whichever number
 *   matched.
 * - `optin` clears the number's own flag: its user is back once none of their numbers is opted out.
 * - An opt-out is the person's, so losing the number it was made on does not end it: a user who
 *   loses (by `delete`, or by the number moving to someone else) a number carrying their opt-out,
 *   and keeps other numbers, has the opt-out carried onto every number they keep — unless a later
 *   row of the same change set opts one of their numbers in (their consent given again). A user
 *   left with no number is gone from the index altogether.
 *
 * Every row is checked before anything is read: a bad row throws `InputError` naming the file,
 * line and column and nothing is applied, unless `skipInvalid`. The run holds the update lock of
 * every file (waiting for another update of the same index), so concurrent updates never lose
 * each other's changes; the new files are renamed into place together at the end.
 *
 * An update that changes anything advances the index's generation by one and appends to the
 * eligibility log (eligibility-log.ts) a record for every user it made ineligible or eligible
 * again. One that changes nothing writes nothing.
 *
 * Cost: an unsharded index is loaded once (its checksum verified) and walked three times (the
 * touched users' state before, after, and the settling of their flags); adds that do not fit the
 * table's load factor rehash it once into one with room for them (load ⅔, 24 bytes an entry). A
 * sharded index is read three to four times, one shard in memory at a time. A SHA-256 section, if
 * any, is rebuilt when numbers are added or removed (one SHA-256 per entry and convention).
 */
export async function applyChanges(
  index: string | readonly string[],
  changesCsvPath: string,
  options: UpdateOptions = {},
): Promise<UpdateReport> {
  const started = performance.now();
  checkChangeArgs(index, changesCsvPath);
  if (options.skipInvalid !== undefined && typeof options.skipInvalid !== 'boolean') {
    throw new InvalidArgumentError('skipInvalid', 'must be a boolean');
  }
  const changes = await readChangesCsv(changesCsvPath, options.skipInvalid === true);
  return applyChangeSet(index, changes, options, started);
}

/** Throws unless `index` is a path or a non-empty list. */
export function checkIndexArg(index: string | readonly string[]): void {
  if (!(typeof index === 'string' ? index !== '' : Array.isArray(index))) {
    throw new InvalidArgumentError('indexPath', 'must be a file path');
  }
}

/** Throws unless `index` is a path or a non-empty list and `changesCsvPath` a path. */
export function checkChangeArgs(index: string | readonly string[], changesCsvPath: string): void {
  checkIndexArg(index);
  if (typeof changesCsvPath !== 'string' || changesCsvPath === '') {
    throw new InvalidArgumentError('changesCsvPath', 'must be a file path');
  }
}

/** {@link applyChanges} of a change set already read (the CSV, PostgreSQL, `index optout`). */
export async function applyChangeSet(
  index: string | readonly string[],
  changes: ChangeSet,
  options: UpdateOptions = {},
  started = performance.now(),
): Promise<UpdateReport> {
  const { files } = await indexFiles(index, 'a change');
  const lockOptions = {
    ...(options.lockWaitMs !== undefined ? { waitMs: options.lockWaitMs } : {}),
    ...(options.lockStaleMs !== undefined ? { staleMs: options.lockStaleMs } : {}),
    ...(options.onLockWait !== undefined ? { onWait: options.onLockWait } : {}),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  };
  const report = await withIndexLock(
    files,
    (locks) => update(files, changes, locks, options.signal),
    lockOptions,
  );
  return {
    index: typeof index === 'string' ? index : files[0]!,
    changes: changes.source,
    rows: changes.rows,
    skipped: { ...changes.skipped },
    skippedRows: changes.skippedRows,
    ...report,
    durationMs: performance.now() - started,
  };
}

type FilesReport = Omit<
  UpdateReport,
  'index' | 'changes' | 'rows' | 'skipped' | 'skippedRows' | 'durationMs'
>;

/** One file of the index as loaded: its image, verified header and table view. */
interface Loaded {
  image: SharedArrayBuffer;
  raw: RawHeader;
  table: Uint32Array;
}

/** A file's table after its rows were applied (possibly a new, larger image). */
interface Applied {
  image: SharedArrayBuffer;
  raw: RawHeader;
  table: Uint32Array;
  capacity: number;
  entries: number;
  neverMatchable: number;
  /** Keys were inserted or removed (slots moved): a SHA-256 section must be rebuilt. */
  keysMoved: boolean;
  /** Some row changed something in this file. */
  changed: boolean;
  grown: boolean;
}

/** Slots for `need` entries after a growth: load ⅔ (24 bytes an entry), room for more adds. */
function grownCapacity(need: number): number {
  return Math.max(capacityFor(need), Math.ceil((need * 3) / 2));
}

/** True when `entries` fit `capacity` slots within the load factor (and one slot stays empty). */
function fits(entries: number, capacity: number): boolean {
  return entries < capacity && entries * LOAD_DENOMINATOR <= capacity * LOAD_NUMERATOR;
}

/**
 * Applies the rows `rows` (indices into `changes`, in order) to a loaded file. Deterministic: a
 * sharded update applies a shard's rows twice (once to learn, once to write) and gets the same
 * table. `inserts` bounds the entries the rows may add (sizes a growth). Counts go to `counts`,
 * and each touched user's numbers and events to `tally`, when given (the run that learns).
 */
function applyRows(
  loaded: Loaded,
  rows: readonly number[],
  inserts: number,
  changes: ChangeSet,
  counts?: RowCounts,
  tally?: UserTally,
): Applied {
  const { raw } = loaded;
  const seed = raw.hashSeed;
  let { image, table } = loaded;
  let capacity = raw.capacity;
  let entries = raw.entries;
  let neverMatchable = raw.neverMatchable;
  let grown = false;
  const need = entries + inserts;
  if (!fits(need, capacity)) {
    capacity = grownCapacity(need);
    if (capacity > MAX_CAPACITY || capacity * SLOT_WORDS > MAX_VIEW_ELEMENTS) {
      throw new InvalidArgumentError(
        'index',
        `${raw.entries + inserts} entries are too many for one index file: shard it (index build --shards)`,
      );
    }
    image = new SharedArrayBuffer(imageGeometry(capacity, need, raw.hasSha256).fileBytes);
    new Uint8Array(image, 0, HEADER_BYTES).set(new Uint8Array(loaded.image, 0, HEADER_BYTES));
    table = new Uint32Array(image, TABLE_OFFSET, capacity * SLOT_WORDS);
    rehash(loaded.table, raw.capacity, table, capacity, seed);
    grown = true;
  } else if (raw.hasSha256 && inserts > 0) {
    // The SHA-256 section grows with the entries: a longer image, the table copied as is.
    image = new SharedArrayBuffer(imageGeometry(capacity, need, true).fileBytes);
    const head = TABLE_OFFSET + raw.tableBytes;
    for (let at = 0; at < head; at += 64 << 20) {
      const n = Math.min(64 << 20, head - at);
      new Uint8Array(image, at, n).set(new Uint8Array(loaded.image, at, n));
    }
    table = new Uint32Array(image, TABLE_OFFSET, capacity * SLOT_WORDS);
  }
  let changed = false;
  let keysMoved = grown;
  const c = counts ?? noRowCounts();
  for (const row of rows) {
    const key = changes.keys[row]!;
    const lo = key >>> 0;
    const hi = (key - lo) / TWO_POW_32;
    const slot = findSlot(table, capacity, seed, lo, hi);
    const w = slot * SLOT_WORDS;
    switch (changes.ops[row]) {
      case OP.ADD: {
        const uLo = changes.userLo[row]!;
        const uHi = changes.userHi[row]!;
        if (slot < 0) {
          writeSlot(table, -1 - slot, lo, hi, uLo, uHi, false);
          if (tally !== undefined) tally.numbers[tally.users.indexOf(uLo, uHi)]!++;
          entries++;
          if (!isValidE164(key as PhoneKey)) neverMatchable++;
          c.added++;
          changed = true;
          keysMoved = true;
          break;
        }
        const oLo = table[w + SLOT.USER_LO]!;
        const oHi = table[w + SLOT.USER_HI]!;
        if (oLo === uLo && oHi === uHi) {
          c.unchanged++;
          break;
        }
        const word = table[w + SLOT.KEY_HI_FLAGS]!;
        if (tally !== undefined) {
          const o = tally.users.indexOf(oLo, oHi);
          tally.numbers[o]!--;
          if ((word & NUMBER_OPTED_OUT_BIT) !== 0) {
            tally.numbersOut[o]!--;
            tally.lostAt[o] = row;
          }
          tally.numbers[tally.users.indexOf(uLo, uHi)]!++;
        }
        // The new user's number, with no opt-out of its own; both users' bits are settled later.
        table[w + SLOT.KEY_HI_FLAGS] = word & (KEY_HI_MASK | OPTED_OUT_BIT);
        table[w + SLOT.USER_LO] = uLo;
        table[w + SLOT.USER_HI] = uHi;
        c.moved++;
        changed = true;
        break;
      }
      case OP.DELETE: {
        if (slot < 0) {
          c.notInIndex++;
          break;
        }
        if (tally !== undefined) {
          const o = tally.users.indexOf(table[w + SLOT.USER_LO]!, table[w + SLOT.USER_HI]!);
          tally.numbers[o]!--;
          if ((table[w + SLOT.KEY_HI_FLAGS]! & NUMBER_OPTED_OUT_BIT) !== 0) {
            tally.numbersOut[o]!--;
            tally.lostAt[o] = row;
          }
        }
        removeSlot(table, capacity, seed, slot);
        entries--;
        if (!isValidE164(key as PhoneKey)) neverMatchable--;
        c.deleted++;
        changed = true;
        keysMoved = true;
        break;
      }
      case OP.OPTOUT:
      case OP.OPTIN: {
        if (slot < 0) {
          c.notInIndex++;
          break;
        }
        const optOut = changes.ops[row] === OP.OPTOUT;
        const o =
          tally === undefined ? -1 : tally.users.indexOf(table[w + SLOT.USER_LO]!, table[w + SLOT.USER_HI]!);
        if (!optOut && tally !== undefined) tally.optedInAt[o] = row;
        if (setNumberOptedOut(table, slot, optOut)) {
          if (optOut) c.optedOutNumbers++;
          else c.optedInNumbers++;
          if (tally !== undefined) tally.numbersOut[o]! += optOut ? 1 : -1;
          changed = true;
        } else c.unchanged++;
        break;
      }
      default:
        throw new RollcallError(ErrorCodes.INTERNAL, `change row ${row + 1} has no op`);
    }
  }
  return { image, raw, table, capacity, entries, neverMatchable, keysMoved, changed, grown };
}

/** The read-change-write of {@link applyChangeSet}, under the locks of every file. */
async function update(
  paths: readonly string[],
  changes: ChangeSet,
  locks: readonly IndexLock[],
  signal: AbortSignal | undefined,
): Promise<FilesReport> {
  // Headers again under the lock: the files read before it may have been replaced meanwhile.
  const { files, heads } = await indexFiles(paths.length === 1 ? paths[0]! : paths, 'a change');
  const shardCount = files.length;
  const seed = heads[0]!.hashSeed;
  const rowsOf: number[][] = files.map(() => []);
  for (let row = 0; row < changes.count; row++) {
    rowsOf[shardOfKey(changes.keys[row]! as PhoneKey, seed, shardCount)]!.push(row);
  }
  const stop = () => {
    if (signal?.aborted)
      throw new RollcallError(ErrorCodes.ABORTED, 'index update stopped; nothing was written');
  };
  // An unsharded index stays in memory for the whole run; shards are loaded one at a time.
  const cache = shardCount === 1 ? new Map<number, Loaded>() : undefined;
  const load = async (i: number): Promise<Loaded> => {
    const hit = cache?.get(i);
    if (hit !== undefined) return hit;
    stop();
    const { image, raw } = await loadImage(files[i]!, true);
    for (const lock of locks) lock.refresh();
    if (raw.headerChecksumValue !== heads[i]!.headerChecksumValue) {
      // Only a writer that takes no lock can do this.
      throw new RollcallError(
        ErrorCodes.IO,
        `${files[i]}: the index was replaced while being updated; nothing was written`,
      );
    }
    const loaded = { image, raw, table: new Uint32Array(image, raw.tableOffset, raw.capacity * SLOT_WORDS) };
    cache?.set(i, loaded);
    return loaded;
  };

  // 1. The users the rows touch: each named number's owner now, and each add's user. Every user
  //    whose numbers or flags the rows can change is among them (an owner later in the set was an
  //    earlier add's user). Also a bound on each file's inserts, to size a growth.
  const touched = new UserIdSet(Math.min(changes.count, 1 << 28));
  const inserts: number[] = files.map(() => 0);
  for (let i = 0; i < shardCount; i++) {
    if (rowsOf[i]!.length === 0) continue;
    const { table, raw } = await load(i);
    for (const row of rowsOf[i]!) {
      const key = changes.keys[row]!;
      const lo = key >>> 0;
      const slot = findSlot(table, raw.capacity, raw.hashSeed, lo, (key - lo) / TWO_POW_32);
      if (slot >= 0)
        touched.add(table[slot * SLOT_WORDS + SLOT.USER_LO]!, table[slot * SLOT_WORDS + SLOT.USER_HI]!);
      if (changes.ops[row] === OP.ADD) {
        touched.add(changes.userLo[row]!, changes.userHi[row]!);
        if (slot < 0) inserts[i]!++;
      }
    }
  }
  const generation = generationOf(heads);
  const unchangedReport = (counts: RowCounts): FilesReport => ({
    files,
    ...counts,
    usersOptedOut: 0,
    usersOptedIn: 0,
    usersNoLongerEligible: 0,
    usersEligibleAgain: 0,
    entries: heads.reduce((a, h) => a + h.entries, 0),
    optedOut: heads.reduce((a, h) => a + h.optedOut, 0),
    generation,
    filesGrown: [],
    written: false,
    filesWritten: [],
    log: undefined,
  });
  if (touched.size === 0) {
    // Every row names a number the index does not hold: nothing to do.
    const counts = noRowCounts();
    counts.notInIndex = changes.count;
    return unchangedReport(counts);
  }

  // 2. The touched users before (the set is complete: their places in it are fixed from here):
  //    how many numbers they have, and how many opted out, in every file.
  const tally = new UserTally(touched);
  const holds: boolean[] = [];
  for (let i = 0; i < shardCount; i++) {
    const { table, raw } = await load(i);
    holds.push(tallyBefore(table, raw.capacity, tally));
  }
  tally.sealBefore();

  // 3. Apply the rows, file by file; the tally follows every number gained, lost or flagged.
  const counts = noRowCounts();
  const applied: (Applied | undefined)[] = [];
  for (let i = 0; i < shardCount; i++) {
    if (rowsOf[i]!.length === 0) {
      // Holds touched users but no row: only their flags may change (settled in step 6).
      applied.push(undefined);
      continue;
    }
    const loaded = await load(i);
    const a = applyRows(loaded, rowsOf[i]!, inserts[i]!, changes, counts, tally);
    // Kept only when the file stays in memory anyway (unsharded); shards apply again below.
    applied.push(cache !== undefined ? a : undefined);
    if (cache !== undefined && a.image !== loaded.image) cache.delete(i);
  }

  // 4. Who is out after (see applyChanges), and the transitions of eligibility (a number, and no
  //    opt-out) and of the opted-out bit, for the report and the eligibility log.
  tally.settleOut();
  let usersOptedOut = 0;
  let usersOptedIn = 0;
  let noLonger = 0;
  let again = 0;
  const nextGeneration = generation + 1;
  const records = new Uint32Array(touched.size * 4);
  let recorded = 0;
  touched.forEachIndexed((lo, hi, i) => {
    const before = (tally.before[i]! & 1) !== 0;
    const wasOut = (tally.before[i]! & 2) !== 0;
    const after = tally.numbers[i]! > 0;
    const isOut = tally.out[i] === 1;
    if (before && after && wasOut !== isOut) {
      if (isOut) usersOptedOut++;
      else usersOptedIn++;
    }
    const eligibleBefore = before && !wasOut;
    if (eligibleBefore === (after && !isOut)) return;
    if (eligibleBefore) noLonger++;
    else again++;
    records[recorded++] = lo;
    records[recorded++] = hi;
    records[recorded++] = nextGeneration;
    records[recorded++] = eligibleBefore ? LOG_KIND.NO_LONGER_ELIGIBLE : LOG_KIND.ELIGIBLE_AGAIN;
  });

  // 5. The log first, made durable: the files written below name its new length. If the run
  //    fails after this, the records appended lie past the length the index names: never read,
  //    and cut off by the next update.
  const logPath = eligibilityLogPath(files);
  let logBytes = logBytesOf(heads);
  if (recorded > 0) {
    stop();
    const h = heads[0]!;
    logBytes = appendEligibilityLog(
      logPath,
      { builtAt: h.builtAt, hashSeed: h.hashSeed, shardCount },
      logBytes,
      generation,
      records.subarray(0, recorded),
    );
  }

  // 6. Settle the touched users' flags and write every file that changes (one shard in memory
  //    at a time); rename them all at the end.
  const outs: AtomicFile[] = [];
  const filesGrown: string[] = [];
  let entries = 0;
  let optedOut = 0;
  const now = Date.now();
  try {
    for (let i = 0; i < shardCount; i++) {
      if (rowsOf[i]!.length === 0 && !holds[i]) {
        entries += heads[i]!.entries;
        optedOut += heads[i]!.optedOut;
        continue;
      }
      const a = applied[i] ?? applyRows(await load(i), rowsOf[i]!, inserts[i]!, changes);
      applied[i] = undefined;
      const s = settleTouched(a.table, a.capacity, tally);
      entries += a.entries;
      optedOut += s.optedOut;
      if (!a.changed && s.changed === 0) continue;
      if (a.grown) filesGrown.push(files[i]!);
      await stage(files[i]!, a, s.optedOut, nextGeneration, now, logBytes, outs);
      for (const lock of locks) lock.refresh();
    }
    if (outs.length === 0) return unchangedReport(counts);
    stop();
    // A lock broken as stale while this run stalled: another update may have run; write nothing.
    for (const lock of locks) lock.assertHeld();
    // All or nothing: a rename that fails puts back the files already renamed.
    await commitAll(outs, { signal });
    return {
      files,
      ...counts,
      usersOptedOut,
      usersOptedIn,
      usersNoLongerEligible: noLonger,
      usersEligibleAgain: again,
      entries,
      optedOut,
      generation: nextGeneration,
      filesGrown,
      written: true,
      filesWritten: outs.map((o) => o.target),
      log: recorded > 0 ? logPath : undefined,
    };
  } catch (err) {
    for (const out of outs) out.abort();
    throw err;
  }
}

/**
 * Writes the header (new counts, generation, update time, log length) and the SHA-256 section of
 * an applied file, seals it, and writes the image to a new {@link AtomicFile} beside the file.
 */
async function stage(
  file: string,
  a: Applied,
  optedOut: number,
  generation: number,
  now: number,
  logBytes: number,
  outs: AtomicFile[],
): Promise<void> {
  const raw = a.raw;
  const header = new Uint8Array(a.image, 0, HEADER_BYTES);
  const g = writeHeaderFields(header, {
    entries: a.entries,
    capacity: a.capacity,
    optedOut,
    neverMatchable: a.neverMatchable,
    metadataVersion: raw.metadataVersion,
    metadataSet: raw.metadataSet,
    builtAt: raw.builtAt,
    updatedAt: now,
    hashSeed: raw.hashSeed,
    shard: raw.shard,
    shardCount: raw.shardCount,
    hasSha256: raw.hasSha256,
    generation,
    logBytes,
  });
  if (raw.hasSha256 && a.keysMoved)
    fillSha256Section(a.image, a.table, a.capacity, a.entries, g.sha256Offset);
  await sealHeader(header, await checksumRange(a.image, HEADER_BYTES, g.fileBytes));
  const out = new AtomicFile(file);
  outs.push(out);
  writeImage(out, a.image, g.fileBytes);
}
