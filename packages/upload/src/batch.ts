import { batchRows } from './options.js';
import type { UploadBatch } from './types.js';

/**
 * Country cells are cut at this many characters (not flagged: the phone package resolves the
 * value, and a cut one is no country it knows). Far above any spelling of a country name.
 */
export const MAX_COUNTRY_CHARS = 64;

/**
 * Rows whose cells are allocated up front. Growing a batch's cells by `push` copies the array
 * again and again, and past 128 KiB (16,384 cells) each copy lands in V8's large-object space,
 * where every young string stored into it costs a write barrier: measured, 1M rows of three
 * phone columns took 3x as long to gather with `push` as into an array allocated once. The cap
 * keeps a huge `batchSize` on a small file from allocating for rows it never has.
 */
const PREALLOCATED_ROWS = 1 << 16;

/**
 * Collects rows into batches of a fixed size (`batchSize` rows, fewer for several phone columns:
 * see {@link batchRows}): `width` phone cells a row (row-major) and, with a country column, one
 * country cell a row.
 */
export class BatchBuilder {
  readonly #size: number;
  readonly #width: number;
  /** Cells allocated for each new batch. */
  readonly #cellsUpFront: number;
  readonly #withCountry: boolean;
  readonly ready: UploadBatch[] = [];
  #cells: string[];
  #countries: string[] = [];
  #lines: Uint32Array;
  #malformed: Uint8Array;
  #n = 0;

  constructor(batchSize: number, width: number, withCountry: boolean) {
    const size = batchRows(batchSize, width);
    this.#size = size;
    this.#width = width;
    this.#withCountry = withCountry;
    this.#cellsUpFront = Math.min(size, PREALLOCATED_ROWS) * width;
    this.#cells = new Array<string>(this.#cellsUpFront);
    this.#lines = new Uint32Array(size);
    this.#malformed = new Uint8Array(size);
  }

  /**
   * Adds a row: `row[0, width)` are its phone cells, `row[width]` its country cell (when there is
   * a country column); `undefined` reads as `''`. The strings are copied out: `row` may be reused.
   */
  add(row: readonly (string | undefined)[], line: number, malformed: boolean): void {
    const n = this.#n;
    const width = this.#width;
    const cells = this.#cells;
    // Past the cells allocated up front, the array grows by one at its end, as push does.
    const at = n * width;
    for (let c = 0; c < width; c++) cells[at + c] = row[c] ?? '';
    if (this.#withCountry) this.#countries.push(row[width] ?? '');
    this.#lines[n] = line;
    if (malformed) this.#malformed[n] = 1;
    this.#n = n + 1;
    if (this.#n === this.#size) this.flush();
  }

  /** Moves the rows gathered so far (if any) to {@link BatchBuilder.ready}. */
  flush(): void {
    const n = this.#n;
    if (n === 0) return;
    const cells = this.#cells;
    // A partial batch: drop the cells allocated for rows it does not have.
    if (cells.length > n * this.#width) cells.length = n * this.#width;
    const batch: UploadBatch = {
      cells,
      // subarray only for the last, partial batch; full batches keep their buffers whole.
      lines: n === this.#size ? this.#lines : this.#lines.subarray(0, n),
      malformed: n === this.#size ? this.#malformed : this.#malformed.subarray(0, n),
    };
    if (this.#withCountry) {
      batch.countries = this.#countries;
      this.#countries = [];
    }
    this.ready.push(batch);
    this.#cells = new Array<string>(this.#cellsUpFront);
    this.#lines = new Uint32Array(this.#size);
    this.#malformed = new Uint8Array(this.#size);
    this.#n = 0;
  }

  /** The batches made ready so far, each once. */
  *drain(): Generator<UploadBatch, void, undefined> {
    const ready = this.ready;
    for (let i = 0; i < ready.length; i++) yield ready[i]!;
    ready.length = 0;
  }
}
