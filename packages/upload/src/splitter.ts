import { InputError } from '@rollcall/errors';

const QUOTE = 0x22;
const CR = 0x0d;
const LF = 0x0a;

/** The highest line number a batch can hold (`lines` is a Uint32Array). */
const MAX_LINE = 0xffff_ffff;

// Parser states between characters (kept across chunks). Plain numbers: the hot loop compares them.
/** At the start of a field (and of a record when `inRecord` is false). */
const FIELD_START = 0;
/** Inside an unquoted field. */
const UNQUOTED = 1;
/** Inside a quoted field. */
const QUOTED = 2;
/** Just after a `"` inside a quoted field: an escaped `""` or the closing quote. */
const QUOTE_SEEN = 3;
type State = typeof FIELD_START | typeof UNQUOTED | typeof QUOTED | typeof QUOTE_SEEN;

/**
 * Receives each record: the line it starts on, its number of fields, and the captured cells —
 * all of them in header mode, else only the one at the capture index (`undefined` when the
 * record is shorter). `overlong` is true when the captured cell was cut at the length limit.
 */
export type RecordSink = (
  line: number,
  fieldCount: number,
  cell: string | undefined,
  fields: string[] | undefined,
  overlong: boolean,
) => void;

/**
 * A streaming CSV record splitter that knows physical line numbers.
 *
 * fast-csv is not used because it reports no line numbers (only record counts, which differ
 * once a quoted field holds a newline), reports an unterminated quote without a position and
 * with the cell text in the message, and has no lone-CR-aware line count.
 *
 * Rules (RFC 4180, lenient where spreadsheets are): CRLF, LF and lone CR end lines, also across
 * chunk boundaries; a `"` opens a quoted field only at the start of a field; inside, `""` is a
 * quote and newlines are content; text after a closing quote is appended to the field
 * (`"ab"c` reads `abc`); a `"` inside an unquoted field is literal. Lines of nothing but
 * spaces, tabs and delimiters (no quotes) are blank: not records.
 *
 * Only the cells asked for are built, so memory does not grow with line length, and each
 * character is looked at a bounded number of times (no rescanning of partial lines).
 */
export class RowSplitter {
  readonly #file: string;
  readonly #delimiter: number;
  readonly #delimiterText: string;
  readonly #sink: RecordSink;
  #maxCell: number;
  /** Capture every field (header mode) instead of only `#capture`. */
  #captureAll = true;
  #capture = -1;

  #state: State = FIELD_START;
  /** Absolute character offset of the start of the next chunk. */
  #abs = 0;
  #line = 1;
  /** Absolute offset of the first character of the current physical line (for columns). */
  #lineStart = 0;
  /** Absolute offset of the last CR seen (an LF right after it is the same line end). */
  #lastCR = -2;

  #inRecord = false;
  #recordLine = 1;
  #field = 0;
  #quotedInRecord = false;
  /** The current record holds something other than spaces, tabs and delimiters. */
  #nonBlank = false;
  #quoteLine = 0;
  #quoteColumn = 0;

  /** The captured part of the current field from earlier chunks and quote escapes. */
  #partial = '';
  #overlong = false;
  #fields: string[] = [];
  #cell: string | undefined = undefined;
  #cellOverlong = false;

  /**
   * @param file - named in errors.
   * @param delimiter - one character.
   * @param sink - receives each record.
   * @param maxCell - captured cells (header mode: each header) are cut at this many characters
   *   (and flagged `overlong`).
   */
  constructor(file: string, delimiter: string, sink: RecordSink, maxCell: number) {
    this.#file = file;
    this.#delimiter = delimiter.charCodeAt(0);
    this.#delimiterText = delimiter;
    this.#sink = sink;
    this.#maxCell = maxCell;
  }

  /**
   * From the next record on, captures only field `index` (-1: none), cut at `maxCell`
   * characters: header mode ends. Callable from the sink.
   */
  captureOnly(index: number, maxCell: number): void {
    this.#captureAll = false;
    this.#capture = index;
    this.#maxCell = maxCell;
  }

  /** The physical line the splitter has reached (1-based). */
  get line(): number {
    return this.#line;
  }

  /** Splits the next piece of text; records completed in it go to the sink before this returns. */
  push(text: string): void {
    const n = text.length;
    const base = this.#abs;
    const delim = this.#delimiter;
    let state = this.#state;
    let i = 0;
    // Start, in `text`, of the current field's content not yet added to #partial.
    let seg = state === UNQUOTED || state === QUOTED ? 0 : -1;
    // Next positions (>= i) of the delimiter, LF, CR and quote in `text`; `n` when there is none.
    let nextDelim = -1;
    let nextLF = -1;
    let nextCR = -1;
    let nextQuote = -1;

    while (i < n) {
      let c = text.charCodeAt(i);
      if (state === FIELD_START) {
        if (c === QUOTE) {
          this.#startRecord();
          this.#quotedInRecord = true;
          this.#quoteLine = this.#line;
          this.#quoteColumn = base + i - this.#lineStart + 1;
          state = QUOTED;
          seg = ++i;
          continue;
        }
        if (c === delim) {
          this.#startRecord();
          this.#endField(text, i, i);
          i++;
          continue;
        }
        if (c === CR || c === LF) {
          if (this.#inRecord) {
            this.#endField(text, i, i);
            this.#endRecord();
          }
          this.#newline(c, base + i);
          i++;
          continue;
        }
        this.#startRecord();
        state = UNQUOTED;
        seg = i;
      }
      if (state === UNQUOTED) {
        // Most characters of most files pass here: jump to the next delimiter or line end with
        // indexOf (fast, native) and remember where each lies, so no character is searched twice.
        if (nextDelim < i) nextDelim = indexOrEnd(text, this.#delimiterText, i);
        if (nextLF < i) nextLF = indexOrEnd(text, '\n', i);
        if (nextCR < i) nextCR = indexOrEnd(text, '\r', i);
        i = Math.min(nextDelim, nextLF, nextCR);
        if (i === n) break;
        c = text.charCodeAt(i);
        this.#endField(text, seg, i);
        seg = -1;
        state = FIELD_START;
        if (c !== delim) {
          this.#endRecord();
          this.#newline(c, base + i);
        }
        i++;
        continue;
      }
      if (state === QUOTED) {
        // Jump to the closing quote, counting the line ends inside the field on the way.
        if (nextQuote < i) nextQuote = indexOrEnd(text, '"', i);
        for (;;) {
          if (nextLF < i) nextLF = indexOrEnd(text, '\n', i);
          if (nextCR < i) nextCR = indexOrEnd(text, '\r', i);
          const eol = Math.min(nextLF, nextCR);
          if (eol >= nextQuote) break;
          this.#newline(text.charCodeAt(eol), base + eol);
          i = eol + 1;
        }
        i = nextQuote;
        if (i === n) break;
        this.#append(text, seg, i);
        seg = -1;
        state = QUOTE_SEEN;
        i++;
        continue;
      }
      // QUOTE_SEEN
      if (c === QUOTE) {
        // `""`: one literal quote; the content continues after the second.
        this.#append(text, i, i + 1);
        state = QUOTED;
        seg = ++i;
        continue;
      }
      if (c === delim || c === CR || c === LF) {
        this.#endField(text, i, i);
        state = FIELD_START;
        if (c !== delim) {
          this.#endRecord();
          this.#newline(c, base + i);
        }
        i++;
        continue;
      }
      // Text after a closing quote: kept, as spreadsheets do, as part of the field.
      state = UNQUOTED;
      seg = i;
    }

    if (seg >= 0 && seg < n) {
      if (this.#capturing()) this.#append(text, seg, n);
      if (!this.#nonBlank && state === UNQUOTED && !isBlank(text, seg, n)) this.#nonBlank = true;
    }
    this.#state = state;
    this.#abs = base + n;
  }

  /** Ends the input: flushes the last record (a last line without a newline is a record). */
  end(): void {
    const state = this.#state;
    if (state === QUOTED) {
      throw new InputError(
        { file: this.#file, line: this.#quoteLine, column: this.#quoteColumn },
        'unterminated quoted field: this quote is never closed before the end of the file',
      );
    }
    if (this.#inRecord) {
      this.#endField('', 0, 0);
      this.#endRecord();
    }
    this.#state = FIELD_START;
  }

  #capturing(): boolean {
    return this.#captureAll || this.#field === this.#capture;
  }

  #startRecord(): void {
    if (this.#inRecord) return;
    this.#inRecord = true;
    this.#recordLine = this.#line;
  }

  #newline(c: number, at: number): void {
    // CRLF counts once: the CR counted it.
    if (c === CR) {
      this.#line++;
      this.#lastCR = at;
    } else if (this.#lastCR !== at - 1) {
      this.#line++;
    }
    this.#lineStart = at + 1;
  }

  /** Adds `text[from, to)` to the captured field, up to the cell limit. */
  #append(text: string, from: number, to: number): void {
    if (from >= to || !this.#capturing()) return;
    const room = this.#maxCell - this.#partial.length;
    if (to - from > room) {
      this.#overlong = true;
      to = from + room;
    }
    if (from < to) this.#partial += text.slice(from, to);
  }

  /** Ends the current field, whose last uncaptured content is `text[from, to)`. */
  #endField(text: string, from: number, to: number): void {
    if (!this.#nonBlank && !isBlank(text, from, to)) this.#nonBlank = true;
    if (this.#capturing()) {
      this.#append(text, from, to);
      if (this.#captureAll) this.#fields.push(this.#partial);
      else {
        this.#cell = this.#partial;
        this.#cellOverlong = this.#overlong;
      }
    }
    this.#partial = '';
    this.#overlong = false;
    this.#field++;
  }

  #endRecord(): void {
    const fieldCount = this.#field;
    // Nothing but spaces, tabs and delimiters, unquoted: a blank line (or a spreadsheet's
    // empty row, `,,,`), not a record.
    const blank = !this.#quotedInRecord && !this.#nonBlank;
    if (!blank) {
      if (this.#recordLine > MAX_LINE) {
        throw new InputError({ file: this.#file, line: this.#recordLine }, 'too many lines (over 2^32 - 1)');
      }
      const fields = this.#captureAll ? this.#fields : undefined;
      this.#sink(this.#recordLine, fieldCount, this.#cell, fields, this.#cellOverlong);
    }
    this.#inRecord = false;
    this.#quotedInRecord = false;
    this.#nonBlank = false;
    this.#field = 0;
    this.#cell = undefined;
    this.#cellOverlong = false;
    if (this.#fields.length > 0) this.#fields = [];
  }
}

/** The index of `search` in `text` from `from`, or the length of `text` when absent. */
function indexOrEnd(text: string, search: string, from: number): number {
  const at = text.indexOf(search, from);
  return at < 0 ? text.length : at;
}

/** True when `text[from, to)` holds only spaces and tabs. */
function isBlank(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09) return false;
  }
  return true;
}
