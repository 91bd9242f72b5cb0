/**
 * `rollcall audience refresh`: audiences made before an index changed, made true again. Every user
 * who is no longer eligible — no number left in the index (deleted, or the number moved to someone
 * else), or opted out on any of their numbers — is removed; nothing else changes (no one is added,
 * the order and spelling of the remaining lines are kept).
 *
 * Who is no longer eligible comes from one of two places:
 * - the index's eligibility log (eligibility-log.ts): the users every update since the build made
 *   ineligible and who still are. A few bytes per change; the index itself is not read. Exact for
 *   every audience matched against this build of the index, at any generation.
 * - a scan of the index: the eligible users among the audiences' ids, found in one pass over
 *   every file. Exact for any audience, whatever index it was matched against.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { ErrorCodes, fileErrorFrom, InputError, InvalidArgumentError, RollcallError } from '@rollcall/errors';
import { AtomicFile, checkDistinctPaths, commitAll } from '@rollcall/files';
import { eligibilityLogPath, ineligibleUsers, readEligibilityLog } from './eligibility-log.js';
import { generationOf, indexFiles, logBytesOf } from './index-files.js';
import { KEY_HI_MASK, OPTED_OUT_BIT, SLOT, SLOT_WORDS, TWO_POW_32 } from './layout.js';
import { loadImage } from './load.js';
import { checkIndexArg } from './update.js';
import { UserIdSet } from './user-set.js';

/** How a refresh learns who is no longer eligible (see the module's comment). */
export type RefreshMode = 'auto' | 'log' | 'scan';

/** Options of {@link refreshAudience}. */
export interface RefreshOptions {
  /**
   * Write the refreshed audience here instead of in place (one audience only). Default: each
   * audience is replaced in place, atomically, when anything is removed from it.
   */
  out?: string;
  /**
   * `log`: the eligibility log (refused when the index has none of this build's that covers every
   * generation since the build). `scan`: one pass over the index. `auto` (default): the log when it
   * covers the whole build and every audience file is newer than the build (so was made against
   * it); otherwise a scan.
   */
  mode?: RefreshMode;
  /** Stops the refresh before any audience is replaced (`ERR_ABORTED`). */
  signal?: AbortSignal;
}

/** What {@link refreshAudience} did to one audience. */
export interface AudienceRefresh {
  /** The audience read. */
  file: string;
  /** Where the refreshed audience went (= `file` in place). */
  out: string;
  /** Ids the audience held. */
  ids: number;
  /** Ids removed: users no longer eligible. */
  removed: number;
  /** Ids kept. */
  kept: number;
  /** False when the audience was left as it was (nothing removed, in place). */
  written: boolean;
}

/** What {@link refreshAudience} did. */
export interface RefreshReport {
  /** The index as given. */
  index: string;
  /** Its files, in shard order. */
  files: string[];
  /** The index's generation the audiences now agree with. */
  generation: number;
  /** How the ineligible users were found. */
  mode: 'log' | 'scan';
  /** Why that way, in words (for the operator). */
  why: string;
  audiences: AudienceRefresh[];
  /** Ids removed from all audiences together. */
  removed: number;
  durationMs: number;
}

/** One audience file read: its bytes and each id's halves and place. */
interface ParsedAudience {
  file: string;
  bytes: Buffer;
  count: number;
  lo: Uint32Array;
  hi: Uint32Array;
  /** Byte offset of the start of each id's line (the next line's start ends it). */
  starts: Float64Array;
}

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const TAB = 0x09;
const ZERO = 0x30;

/**
 * Reads an audience file: one user id a line (1 to 2^64 − 1, decimal), as `match` writes it.
 * Blank lines are skipped; any other line that is not an id refuses the file (`InputError` at its
 * line; the line itself is never shown).
 */
function readAudience(file: string): ParsedAudience {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw fileErrorFrom(file, err, 'read the audience');
  }
  let bytes: Buffer;
  try {
    const st = statSync(file);
    if (!st.isFile()) {
      throw fileErrorFrom(
        file,
        Object.assign(new Error('not a regular file'), { code: 'EISDIR' }),
        'read the audience',
      );
    }
    bytes = Buffer.allocUnsafe(st.size);
    let done = 0;
    while (done < bytes.length) {
      const n = readSync(fd, bytes, done, bytes.length - done, done);
      if (n === 0) break;
      done += n;
    }
    bytes = bytes.subarray(0, done);
  } catch (err) {
    if (err instanceof RollcallError) throw err;
    throw fileErrorFrom(file, err, 'read the audience');
  } finally {
    closeSync(fd);
  }
  // At most one id a line.
  let max = 1;
  for (let at = bytes.indexOf(LF); at >= 0; at = bytes.indexOf(LF, at + 1)) max++;
  const lo = new Uint32Array(max);
  const hi = new Uint32Array(max);
  const starts = new Float64Array(max);
  let count = 0;
  let line = 1;
  let p = 0;
  const n = bytes.length;
  while (p < n) {
    // One line: [p, eol).
    let eol = bytes.indexOf(LF, p);
    if (eol < 0) eol = n;
    let a = p;
    let b = eol;
    while (a < b && (bytes[a] === SPACE || bytes[a] === TAB)) a++;
    while (b > a && (bytes[b - 1] === SPACE || bytes[b - 1] === TAB || bytes[b - 1] === CR)) b--;
    if (a < b) {
      let l = 0;
      let h = 0;
      let ok = b - a <= 20;
      for (let i = a; ok && i < b; i++) {
        const d = bytes[i]! - ZERO;
        if (d < 0 || d > 9) {
          ok = false;
          break;
        }
        const wide = l * 10 + d;
        const carry = Math.floor(wide / TWO_POW_32);
        l = wide - carry * TWO_POW_32;
        h = h * 10 + carry;
        if (h >= TWO_POW_32) ok = false;
      }
      if (!ok || (l === 0 && h === 0)) {
        throw new InputError({ file, line }, 'not a user id (one decimal integer from 1 to 2^64 − 1 a line)');
      }
      lo[count] = l;
      hi[count] = h;
      starts[count] = p;
      count++;
    }
    line++;
    p = eol + 1;
  }
  return { file, bytes, count, lo, hi, starts };
}

/**
 * The eligible users among `wanted`, found in one pass over every file of the index: a user is
 * eligible when they have an entry whose user's opted-out bit is clear (the bit is the same on
 * every entry of a user).
 */
async function eligibleByScan(
  files: readonly string[],
  wanted: UserIdSet,
  signal?: AbortSignal,
): Promise<UserIdSet> {
  const eligible = new UserIdSet(wanted.size);
  for (const file of files) {
    if (signal?.aborted)
      throw new RollcallError(ErrorCodes.ABORTED, 'audience refresh stopped; nothing was written');
    const { image, raw } = await loadImage(file, true);
    const t = new Uint32Array(image, raw.tableOffset, raw.capacity * SLOT_WORDS);
    for (let s = 0; s < raw.capacity; s++) {
      const w = s * SLOT_WORDS;
      const word = t[w + SLOT.KEY_HI_FLAGS]!;
      if ((t[w + SLOT.KEY_LO]! | (word & KEY_HI_MASK)) === 0 || word >= OPTED_OUT_BIT) continue;
      const lo = t[w + SLOT.USER_LO]!;
      const hi = t[w + SLOT.USER_HI]!;
      if (wanted.has(lo, hi)) eligible.add(lo, hi);
    }
  }
  return eligible;
}

/**
 * Removes from each audience (a file of user ids, one a line, as `match` writes it) every user
 * who is no longer eligible in `index` (a built index file; one shard file or the list of all shard
 * files of a sharded index): no number left, or opted out on any of their numbers. A refreshed
 * audience is exactly the old one minus those users, lines in their order.
 *
 * In place by default: each audience from which anything is removed is written beside itself and
 * renamed over it; all of them together at the end, all or nothing. With `out` (one audience
 * only), the refreshed audience is written there whatever was removed. A file that is not an
 * audience refuses the whole run (`InputError` at its line) and nothing is written. The report
 * counts ids; it never holds one.
 */
export async function refreshAudience(
  audiences: string | readonly string[],
  index: string | readonly string[],
  options: RefreshOptions = {},
): Promise<RefreshReport> {
  const started = performance.now();
  const list = typeof audiences === 'string' ? [audiences] : audiences;
  if (!Array.isArray(list) || list.length === 0 || list.some((f) => typeof f !== 'string' || f === '')) {
    throw new InvalidArgumentError('audiences', 'must be a file path or a non-empty list of file paths');
  }
  checkIndexArg(index);
  const mode = options.mode ?? 'auto';
  if (mode !== 'auto' && mode !== 'log' && mode !== 'scan') {
    throw new InvalidArgumentError('mode', `must be "auto", "log" or "scan", got ${String(mode)}`);
  }
  const out = options.out;
  if (out !== undefined) {
    if (typeof out !== 'string' || out === '') throw new InvalidArgumentError('out', 'must be a file path');
    if (list.length !== 1) {
      throw new InvalidArgumentError(
        'out',
        `writes one audience, but ${list.length} were given: refresh them in place`,
      );
    }
  }
  const { files, heads } = await indexFiles(index, 'a refresh');
  // An audience or --out that is the index would destroy it; two audiences named twice, one of them.
  const indexPaths = files.map((f) => ['the index', f] as const);
  if (out !== undefined) checkDistinctPaths([['out', out]], indexPaths);
  checkDistinctPaths(
    list.map((f) => ['audiences', f] as const),
    indexPaths,
  );
  // Audiences are read one at a time (a hundred of 100k ids would not all fit comfortably): their
  // dates first, then each is read when it is refreshed (and once before, for a scan).
  const stats = list.map((f) => {
    try {
      return statSync(f);
    } catch (err) {
      throw fileErrorFrom(f, err, 'read the audience');
    }
  });
  const mtimes = stats.map((st) => st.mtimeMs);
  const sizes = stats.map((st) => st.size);
  const h = heads[0]!;
  const build = { builtAt: h.builtAt, hashSeed: h.hashSeed, shardCount: files.length };
  const generation = generationOf(heads);

  // Which source of ineligibility to trust.
  let chosen: 'log' | 'scan' = 'scan';
  let why = 'a scan of the index was asked for';
  let removedUsers: UserIdSet | undefined;
  if (mode !== 'scan') {
    const logPath = eligibilityLogPath(files);
    const log = readEligibilityLog(logPath, build, logBytesOf(heads));
    const older = mtimes.filter((m) => m < h.builtAt).length;
    if (log !== undefined && log.fromGeneration === 0 && (mode === 'log' || older === 0)) {
      chosen = 'log';
      removedUsers = ineligibleUsers(log);
      why = `the eligibility log: ${removedUsers.size.toLocaleString('en-US')} users no longer eligible since the build, generations 1 to ${generation}`;
    } else if (logBytesOf(heads) === 0 && (mode === 'log' || older === 0)) {
      // No update since the build made anyone ineligible (or the index is as built): every
      // audience matched against this build is still true.
      chosen = 'log';
      removedUsers = new UserIdSet();
      why = `no update since the build made anyone ineligible (generation ${generation})`;
    } else if (mode === 'log') {
      throw new InvalidArgumentError(
        'mode',
        log === undefined
          ? `the index has no eligibility log of this build (${logPath}): refresh with a scan of the index`
          : 'the eligibility log does not reach back to the build (it was lost and started again): refresh with a scan of the index',
      );
    } else {
      why =
        older > 0
          ? `${older} of the audiences are older than this build of the index: a scan of the index`
          : 'the index has no eligibility log reaching back to its build: a scan of the index';
    }
  }

  let keep: (lo: number, hi: number) => boolean;
  if (removedUsers !== undefined) {
    const gone = removedUsers;
    keep = (lo, hi) => !gone.has(lo, hi);
  } else {
    // Sized for the ids the files may hold (about one per 10 bytes), so it seldom grows.
    const wanted = new UserIdSet(Math.round(sizes.reduce((x, y) => x + y, 0) / 10));
    for (const f of list) {
      const a = readAudience(f);
      for (let i = 0; i < a.count; i++) wanted.add(a.lo[i]!, a.hi[i]!);
    }
    const eligible = await eligibleByScan(files, wanted, options.signal);
    keep = (lo, hi) => eligible.has(lo, hi);
  }

  const outs: AtomicFile[] = [];
  const results: AudienceRefresh[] = [];
  try {
    for (const f of list) {
      if (options.signal?.aborted) {
        throw new RollcallError(ErrorCodes.ABORTED, 'audience refresh stopped; nothing was written');
      }
      const a = readAudience(f);
      const kept = new Uint8Array(a.count);
      let removed = 0;
      for (let i = 0; i < a.count; i++) {
        if (keep(a.lo[i]!, a.hi[i]!)) kept[i] = 1;
        else removed++;
      }
      const target = out ?? a.file;
      const write = out !== undefined || removed > 0;
      if (write) {
        const file = new AtomicFile(target);
        outs.push(file);
        // The kept lines as they are, a run of consecutive kept lines at a time (blank lines
        // before a removed id go with it).
        const parts: Buffer[] = [];
        let run = -1;
        for (let i = 0; i < a.count; i++) {
          if (kept[i] === 1) {
            if (run < 0) run = a.starts[i]!;
          } else if (run >= 0) {
            parts.push(a.bytes.subarray(run, a.starts[i]!));
            run = -1;
          }
        }
        if (run >= 0) parts.push(a.bytes.subarray(run));
        file.write(Buffer.concat(parts));
      }
      results.push({
        file: a.file,
        out: target,
        ids: a.count,
        removed,
        kept: a.count - removed,
        written: write,
      });
    }
    await commitAll(outs, { signal: options.signal });
  } catch (err) {
    for (const o of outs) o.abort();
    throw err;
  }
  return {
    index: typeof index === 'string' ? index : files[0]!,
    files,
    generation,
    mode: chosen,
    why,
    audiences: results,
    removed: results.reduce((s, r) => s + r.removed, 0),
    durationMs: performance.now() - started,
  };
}
