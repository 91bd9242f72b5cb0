/**
 * The build's fast path: a plain source row (`+digits,digits,true|false` and a line break) read
 * straight from the file's bytes into numbers, with no string, no regular expression and no
 * BigInt. Any other row (quoted cells, spaces, other spellings, anything wrong) is left to the
 * general path (csv.ts `parseRecord`, then the string checks), which alone words errors; so
 * this path only has to accept exactly the rows the general path would accept, with the same
 * values, and may decline any row. A test holds it to that.
 */
import { parseE164Strict } from '@rollcall/phone';
import { TWO_POW_32 } from './layout.js';

const PLUS = 0x2b;
const COMMA = 0x2c;
const ZERO = 0x30;
const LF = 0x0a;
const CR = 0x0d;
const LOWER_T = 0x74;
const LOWER_F = 0x66;

/** E.164 allows at most 15 digits (so a key is below 10^15 < 2^53: an exact float64). */
const MAX_PHONE_DIGITS = 15;
/** The shortest key `parseE164Strict` accepts: a calling code and at least 2 national digits. */
const MIN_PHONE_DIGITS = 3;
const MIN_NATIONAL_DIGITS = 2;
/** Digits up to which a decimal id accumulates exactly in a float64 (10^15 < 2^53). */
const EXACT_DIGITS = 15;
/** 2^64 − 1 has 20 digits. */
const MAX_USER_ID_DIGITS = 20;

/**
 * Bytes a plain row can span at most, line break included: `+` and 15 digits, a comma, 20
 * digits, a comma, `false`, CR LF. The caller takes this path only with this many bytes left
 * before the end of what it has read, so the reads below never run past it (the general path
 * handles the last bytes of each read, where a row may be cut).
 */
export const PLAIN_ROW_MAX_BYTES = 1 + MAX_PHONE_DIGITS + 1 + MAX_USER_ID_DIGITS + 1 + 5 + 2;

/** A plain row's values, as the build stores them. */
export class PlainRow {
  /** The phone key (E.164 digits as an integer). */
  key = 0;
  /** User id bits 0 … 31 and 32 … 63. */
  userLo = 0;
  userHi = 0;
  optedOut = false;
}

let codeLengths: Uint8Array | undefined;

/**
 * Length of the country calling code that starts with each 3-digit prefix (100 … 999), 0 when
 * none does. Derived from `parseE164Strict` itself, so the two cannot disagree on which codes
 * exist: calling codes are prefix-free, and `+` c `00` parses exactly when c is a code (or
 * starts with a shorter one) and leaves at least 2 national digits.
 */
function callingCodeLengths(): Uint8Array {
  if (codeLengths !== undefined) return codeLengths;
  const t = new Uint8Array(1000);
  for (let p = 100; p < 1000; p++) {
    const digits = String(p);
    for (let length = 1; length <= 3; length++) {
      if (parseE164Strict(`+${digits.slice(0, length)}00`) !== undefined) {
        t[p] = length;
        break;
      }
    }
  }
  codeLengths = t;
  return t;
}

/**
 * Reads the plain row at `buf[p]` into `row`. Returns the offset after its line break, or -1
 * when the row is not plain (the caller then takes the general path from `p`). The caller
 * guarantees `p + PLAIN_ROW_MAX_BYTES <= ` the bytes available.
 *
 * Accepts exactly: `+`, 3 to 15 digits not starting with 0 whose first 1 to 3 are a calling code
 * followed by at least 2 more (what `parseE164Strict` accepts), `,`, 1 to 20 digits whose value
 * is 1 … 2^64 − 1 (what `readUserIdHalves` accepts), `,`, `true` or `false`, and LF, CR LF or CR.
 */
export function readPlainRow(buf: Uint8Array, p: number, row: PlainRow): number {
  const codes = codeLengths ?? callingCodeLengths();
  let i = p;
  if (buf[i] !== PLUS) return -1;
  i++;
  // The phone: digits into an exact integer (at most 15 of them).
  let d = buf[i]! - ZERO;
  if (d < 1 || d > 9) return -1;
  let key = d;
  let n = 1;
  let prefix = 0;
  for (i++; ; i++) {
    d = buf[i]! - ZERO;
    if (d < 0 || d > 9) break;
    if (++n > MAX_PHONE_DIGITS) return -1;
    key = key * 10 + d;
    if (n === 3) prefix = key;
  }
  if (n < MIN_PHONE_DIGITS || buf[i] !== COMMA) return -1;
  const code = codes[prefix]!;
  if (code === 0 || n - code < MIN_NATIONAL_DIGITS) return -1;
  i++;
  // The user id: exact in a float64 for its first 15 digits; beyond, (hi, lo) × 10 + d with a
  // carry between the halves (lo × 10 + 9 < 2^36 and hi × 10 + carry < 2^36 stay exact).
  d = buf[i]! - ZERO;
  if (d < 0 || d > 9) return -1;
  let value = d;
  let m = 1;
  for (i++; m < EXACT_DIGITS; i++) {
    d = buf[i]! - ZERO;
    if (d < 0 || d > 9) break;
    value = value * 10 + d;
    m++;
  }
  // `>>> 0` is value mod 2^32, exact below 2^53.
  let lo = value >>> 0;
  let hi = (value - lo) / TWO_POW_32;
  if (m === EXACT_DIGITS) {
    for (; ; i++) {
      d = buf[i]! - ZERO;
      if (d < 0 || d > 9) break;
      if (++m > MAX_USER_ID_DIGITS) return -1;
      const wide = lo * 10 + d;
      const carry = Math.floor(wide / TWO_POW_32);
      lo = wide - carry * TWO_POW_32;
      hi = hi * 10 + carry;
      if (hi >= TWO_POW_32) return -1;
    }
  }
  if ((lo === 0 && hi === 0) || buf[i] !== COMMA) return -1;
  i++;
  // The opted-out flag, in the two spellings a generated file uses.
  let optedOut: boolean;
  if (buf[i] === LOWER_T && buf[i + 1] === 0x72 && buf[i + 2] === 0x75 && buf[i + 3] === 0x65) {
    optedOut = true;
    i += 4;
  } else if (
    buf[i] === LOWER_F &&
    buf[i + 1] === 0x61 &&
    buf[i + 2] === 0x6c &&
    buf[i + 3] === 0x73 &&
    buf[i + 4] === 0x65
  ) {
    optedOut = false;
    i += 5;
  } else return -1;
  // The line break: LF, CR LF or a lone CR (the byte after a CR is within the guaranteed bytes).
  const c = buf[i];
  if (c === LF) i++;
  else if (c === CR) i += buf[i + 1] === LF ? 2 : 1;
  else return -1;
  row.key = key;
  row.userLo = lo;
  row.userHi = hi;
  row.optedOut = optedOut;
  return i;
}
