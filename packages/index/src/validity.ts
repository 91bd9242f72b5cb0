/**
 * Counting never-matchable entries (E.164, but in no valid range under the metadata) off the
 * build's critical path. Judging validity (`isValidE164`, libphonenumber-js) costs more per entry
 * than reading and placing it, so the builder only hands each new key to a {@link ValidityCounter}
 * and moves on; worker threads judge the keys in blocks while the builder reads on, and the
 * builder's thread joins in when it is done reading (or whenever the workers fall behind).
 *
 * The keys travel through a ring of blocks in one SharedArrayBuffer, never through messages:
 *
 *   [ control: Int32 words ][ sum: BigInt64 ][ block lengths: Int32 × RING ][ keys: f64 × RING × BLOCK ]
 *
 * Block b lives in ring slot b mod RING. The builder fills a slot, then publishes it (PUBLISHED
 * = b + 1); any thread claims the next published block by compare-and-swap on CLAIMED, judges its
 * keys, adds its count to the sum and marks the slot done. The builder reuses a slot only once
 * the block before in it is done; when it is not, the builder judges keys itself instead of
 * waiting, so no thread ever blocks on another and a lost worker cannot hang the build.
 */
import { availableParallelism } from 'node:os';
import { ErrorCodes, RollcallError } from '@rollcall/errors';
import { isValidE164, type PhoneKey } from '@rollcall/phone';
import { Thread, threadEntry } from '@rollcall/threads';

/** Word offsets of the control words (Int32Array). */
export const CONTROL = {
  /** Blocks published so far. */
  PUBLISHED: 0,
  /** Blocks claimed so far (claims go in block order). */
  CLAIMED: 1,
  /** 1 once the builder publishes no more blocks. */
  CLOSED: 2,
  /** Bumped at every publish and at close; idle workers wait on it (an event count: no lost wake-up). */
  SIGNAL: 3,
  /** Blocks judged so far. */
  JUDGED: 4,
} as const;
/** Control words, padded to 64 bytes so the sum after them starts on its own cache line. */
const CONTROL_WORDS = 16;
const CONTROL_BYTES = CONTROL_WORDS * 4;
const SUM_BYTES = 64;

/** Keys per block (128 KiB of f64): big enough that claims are rare, small enough to spread. */
export const BLOCK_KEYS = 16384;
/** Blocks in the ring: 8 MiB of keys in flight at most, whatever the size of the index. */
export const RING_BLOCKS = 64;

/** What a worker is given at start-up. */
export interface ValidityWorkerData {
  shared: SharedArrayBuffer;
  blockKeys: number;
  ringBlocks: number;
}

/** Typed views of the shared ring. */
export interface RingViews {
  control: Int32Array;
  /** The sum of never-matchable keys judged by every thread (Atomics.add per block). */
  sum: BigInt64Array;
  /** Keys in the block of each slot. */
  lengths: Int32Array;
  /** Block number + 1 of the last block judged in each slot (0: none yet). */
  done: Int32Array;
  keys: Float64Array;
}

/** Bytes of a ring of `ringBlocks` blocks of `blockKeys` keys. */
function ringBytes(blockKeys: number, ringBlocks: number): number {
  return CONTROL_BYTES + SUM_BYTES + 2 * ringBlocks * 4 + ringBlocks * blockKeys * 8;
}

/** The views of a ring buffer (the same on every thread). */
export function ringViews(shared: SharedArrayBuffer, blockKeys: number, ringBlocks: number): RingViews {
  const lengthsAt = CONTROL_BYTES + SUM_BYTES;
  const doneAt = lengthsAt + ringBlocks * 4;
  // Keys start 8-byte aligned, as a Float64Array must: the two Int32 arrays before them take
  // 8 × ringBlocks bytes together.
  const keysAt = doneAt + ringBlocks * 4;
  return {
    control: new Int32Array(shared, 0, CONTROL_WORDS),
    sum: new BigInt64Array(shared, CONTROL_BYTES, 1),
    lengths: new Int32Array(shared, lengthsAt, ringBlocks),
    done: new Int32Array(shared, doneAt, ringBlocks),
    keys: new Float64Array(shared, keysAt, ringBlocks * blockKeys),
  };
}

/** Keys of `keys[from, to)` that are not valid numbers under the metadata. */
export function countNeverMatchable(keys: Float64Array, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) if (!isValidE164(keys[i]! as PhoneKey)) n++;
  return n;
}

/** No block to claim now (`-2`), or never again (`-1`). */
export const NONE_NOW = -2;
export const NONE_EVER = -1;

/** Claims the next published block: its number, or {@link NONE_NOW} / {@link NONE_EVER}. */
export function claimBlock(control: Int32Array): number {
  for (;;) {
    // CLOSED is read before PUBLISHED: the builder publishes its last block before it closes,
    // so a closed ring with nothing published beyond the claims is finished for good.
    const closed = Atomics.load(control, CONTROL.CLOSED) === 1;
    const claimed = Atomics.load(control, CONTROL.CLAIMED);
    if (claimed >= Atomics.load(control, CONTROL.PUBLISHED)) return closed ? NONE_EVER : NONE_NOW;
    // Compare-and-swap: of the threads that saw the same count, exactly one takes the block.
    if (Atomics.compareExchange(control, CONTROL.CLAIMED, claimed, claimed + 1) === claimed) return claimed;
  }
}

/** Judges claimed block `block`: adds its count to the sum, then frees its slot. */
export function judgeBlock(views: RingViews, block: number, blockKeys: number, ringBlocks: number): void {
  const slot = block % ringBlocks;
  const from = slot * blockKeys;
  const n = countNeverMatchable(views.keys, from, from + views.lengths[slot]!);
  if (n > 0) Atomics.add(views.sum, 0, BigInt(n));
  // Stored last, and atomically: once the builder sees it, the keys of the slot may be overwritten.
  Atomics.store(views.done, slot, block + 1);
  Atomics.add(views.control, CONTROL.JUDGED, 1);
}

/** Options of a {@link ValidityCounter}. */
export interface ValidityCounterOptions {
  /** Worker threads; 0 judges every key on the calling thread as it is added. */
  threads: number;
  /** Test-only: ring geometry. */
  blockKeys?: number;
  ringBlocks?: number;
  /** Test-only: the builder's thread never judges keys, so the workers judge all of them. */
  builderJudges?: boolean;
}

/** The default worker count: one core for the builder's reading, the rest judge. */
export function defaultValidityThreads(): number {
  return Math.max(1, availableParallelism() - 1);
}

/**
 * Counts the never-matchable keys among those added. `add` never blocks; `total` waits for the
 * workers and returns the count, exactly what judging every key on one thread would give.
 */
export class ValidityCounter {
  /** Keys judged on the calling thread (inline, or when the workers fell behind). */
  #local = 0;
  readonly #threads: number;
  readonly #blockKeys: number;
  readonly #ringBlocks: number;
  readonly #builderJudges: boolean;
  readonly #views: RingViews | undefined;
  readonly #workers: Thread[] = [];
  readonly #exits: Promise<void>[] = [];
  /** The block being filled (its number), how many keys it holds, and where its slot starts. */
  #block = 0;
  #fill = 0;
  #base = 0;
  /** Keys still to judge inline before the next slot is checked again (its block is in progress). */
  #inline = 0;
  #closed = false;

  constructor(options: ValidityCounterOptions) {
    this.#threads = options.threads;
    this.#blockKeys = options.blockKeys ?? BLOCK_KEYS;
    this.#ringBlocks = options.ringBlocks ?? RING_BLOCKS;
    this.#builderJudges = options.builderJudges ?? true;
    if (this.#threads === 0) return;
    const shared = new SharedArrayBuffer(ringBytes(this.#blockKeys, this.#ringBlocks));
    this.#views = ringViews(shared, this.#blockKeys, this.#ringBlocks);
    // The entry is `./validity-worker.ts` from source, `./validity-worker.js` from dist.
    const entry = threadEntry(import.meta.url, './validity-worker');
    const workerData: ValidityWorkerData = {
      shared,
      blockKeys: this.#blockKeys,
      ringBlocks: this.#ringBlocks,
    };
    for (let i = 0; i < this.#threads; i++) {
      const thread = new Thread(entry, { workerData });
      const worker = thread.worker;
      this.#workers.push(thread);
      this.#exits.push(
        new Promise<void>((resolve, reject) => {
          let failure: unknown;
          worker.on('error', (err) => {
            failure = err;
          });
          worker.on('exit', (code) => {
            if (failure === undefined && code === 0) resolve();
            else {
              reject(
                new RollcallError(
                  ErrorCodes.WORKER_FAILED,
                  `a validity worker failed${failure instanceof Error ? `: ${failure.message}` : ` (exit code ${code})`}`,
                  { cause: failure },
                ),
              );
            }
          });
        }),
      );
    }
    // A failure is reported by total(); until then it must not count as unhandled.
    for (const exit of this.#exits) exit.catch(() => {});
  }

  /** Adds one key (an entry just placed in the table). */
  add(key: PhoneKey): void {
    const views = this.#views;
    if (views === undefined || this.#inline > 0) {
      if (!isValidE164(key)) this.#local++;
      if (this.#inline > 0 && --this.#inline === 0) this.#nextSlot();
      return;
    }
    views.keys[this.#base + this.#fill] = key;
    if (++this.#fill === this.#blockKeys) {
      this.#publish();
      this.#nextSlot();
    }
  }

  /** Publishes the block being filled, if it holds any key. */
  #publish(): void {
    const views = this.#views!;
    if (this.#fill === 0) return;
    const slot = this.#block % this.#ringBlocks;
    views.lengths[slot] = this.#fill;
    // After the keys and the length: a thread that sees the new count sees them too (Atomics are
    // sequentially consistent).
    Atomics.store(views.control, CONTROL.PUBLISHED, this.#block + 1);
    this.#wake();
    this.#block++;
    this.#fill = 0;
  }

  /** Wakes idle workers: something changed (a block published, or the ring closed). */
  #wake(): void {
    const control = this.#views!.control;
    Atomics.add(control, CONTROL.SIGNAL, 1);
    Atomics.notify(control, CONTROL.SIGNAL);
  }

  /** True when the slot of the block being filled is free (the block RING before it is judged). */
  #slotFree(): boolean {
    const b = this.#block;
    return (
      b < this.#ringBlocks ||
      Atomics.load(this.#views!.done, b % this.#ringBlocks) === b - this.#ringBlocks + 1
    );
  }

  /**
   * Gets the slot of the next block ready. When its previous block is still unjudged, this thread
   * helps: it judges published blocks itself; if the slot is still busy (a worker is on it), it
   * judges the next keys inline and looks again after a block's worth.
   */
  #nextSlot(): void {
    const views = this.#views!;
    while (!this.#slotFree()) {
      const claimed = this.#builderJudges ? claimBlock(views.control) : NONE_NOW;
      if (claimed >= 0) {
        judgeBlock(views, claimed, this.#blockKeys, this.#ringBlocks);
        continue;
      }
      this.#inline = this.#blockKeys;
      return;
    }
    this.#base = (this.#block % this.#ringBlocks) * this.#blockKeys;
  }

  /** Publishes the last keys, judges what is left alongside the workers, and returns the count. */
  async total(): Promise<number> {
    const views = this.#views;
    if (views === undefined) return this.#local;
    if (!this.#closed) {
      this.#publish();
      Atomics.store(views.control, CONTROL.CLOSED, 1);
      this.#closed = true;
      this.#wake();
    }
    if (this.#builderJudges) {
      for (let b = claimBlock(views.control); b >= 0; b = claimBlock(views.control)) {
        judgeBlock(views, b, this.#blockKeys, this.#ringBlocks);
      }
    }
    // Every block judged (this thread took the last ones): the count is final, and workers still
    // starting up are not waited for.
    const control = views.control;
    if (Atomics.load(control, CONTROL.JUDGED) !== Atomics.load(control, CONTROL.PUBLISHED)) {
      // Workers leave once the ring is closed and nothing is left to claim, after judging what
      // they claimed: when all have left, every block is judged.
      await Promise.all(this.#exits);
    }
    return this.#local + Number(Atomics.load(views.sum, 0));
  }

  /**
   * Stops the workers (after an error, or to free them early), each once it has loaded its entry
   * (see @rollcall/threads); idempotent.
   */
  async close(): Promise<void> {
    if (this.#views !== undefined && !this.#closed) {
      Atomics.store(this.#views.control, CONTROL.CLOSED, 1);
      this.#closed = true;
      this.#wake();
    }
    await Promise.all(this.#workers.map((t) => t.terminate()));
  }
}
