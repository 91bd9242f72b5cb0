/**
 * The build's byte-level fast path accepts only rows the general path (CSV record, then the string
 * checks) accepts, with the same values and the same end; it may decline any row.
 */
import { parseE164Strict } from '@rollcall/phone';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { INCOMPLETE, type ParsedRecord, parseOptedOut, parseRecord } from '../src/csv.js';
import { PLAIN_ROW_MAX_BYTES, PlainRow, readPlainRow } from '../src/source-row.js';
import { readUserIdHalves } from '../src/user-id.js';

/** What the general path makes of the first record of `text`: its values and end, or undefined. */
function general(text: string) {
  const buf = Buffer.from(text);
  const rec: ParsedRecord = { cells: [], breaks: 0 };
  const end = parseRecord(buf, 0, buf.length, true, 't.csv', 1, rec);
  if (end === INCOMPLETE || rec.cells.length !== 3) return undefined;
  const [phone, id, flag] = rec.cells as [string, string, string];
  const key = parseE164Strict(phone);
  const halves = new Uint32Array(2);
  const optedOut = parseOptedOut(flag);
  if (key === undefined || !readUserIdHalves(id, halves) || optedOut === undefined) return undefined;
  return { key, userLo: halves[0], userHi: halves[1], optedOut, end };
}

/** What the fast path makes of it (the row followed by enough bytes, as the build guarantees). */
function fast(text: string) {
  const buf = Buffer.concat([Buffer.from(text), Buffer.alloc(PLAIN_ROW_MAX_BYTES, 0x78)]);
  const row = new PlainRow();
  const end = readPlainRow(buf, 0, row);
  return end < 0
    ? undefined
    : { key: row.key, userLo: row.userLo, userHi: row.userHi, optedOut: row.optedOut, end };
}

/** A row's end after `text` is followed by another row (a lone CR then ends it, CR LF does not). */
const NEXT = 'x,1,true\n';

function agrees(text: string): void {
  const f = fast(text + NEXT);
  if (f !== undefined) expect(f).toEqual(general(text + NEXT));
}

describe('readPlainRow accepts only what the general path accepts, with the same values', () => {
  test('every 3-digit prefix at every length (calling codes and the 2 national digits)', () => {
    for (let prefix = 100; prefix < 1000; prefix++) {
      for (let length = 3; length <= 16; length++) {
        const phone = `+${String(prefix)}${'5'.repeat(length - 3)}`;
        const text = `${phone},7,false\n`;
        const g = general(text + NEXT);
        expect({ phone, fast: fast(text + NEXT) }).toEqual({ phone, fast: g });
      }
    }
  });

  test.each([
    ['+447400123456,1,false\n', true],
    ['+447400123456,18446744073709551615,true\r\n', true],
    ['+447400123456,18446744073709551616,true\n', false],
    ['+447400123456,0,true\n', false],
    ['+447400123456,00000000000000000001,true\n', true],
    ['+447400123456,000000000000000000001,true\n', false],
    ['+447400123456,9007199254740993,true\r', true],
    ['+447400123456,1,TRUE\n', false],
    ['+447400123456,1,false', false],
    ['"+447400123456",1,false\n', false],
    ['+447400123456 ,1,false\n', false],
    ['+0447400123456,1,false\n', false],
    ['+4474001234567890,1,false\n', false],
  ])('%j: fast path %s', (text, taken) => {
    const f = fast(text + NEXT);
    expect(f !== undefined).toBe(taken);
    agrees(text);
  });

  test('random rows (fast-check)', () => {
    const digits = (min: number, max: number) =>
      fc
        .array(fc.constantFrom('0', '1', '5', '9'), { minLength: min, maxLength: max })
        .map((d) => d.join(''));
    const phone = fc.oneof(
      digits(0, 17).map((d) => `+${d}`),
      fc.constantFrom('+447400123456', '+1201555', '+4412', '+999123', '+80012345678', '447400123456'),
    );
    const id = fc.oneof(
      digits(0, 22),
      fc.bigInt({ min: 0n, max: 1n << 65n }).map(String),
      fc.constantFrom('18446744073709551615', '18446744073709551616', '9007199254740993', '-1', '1e5'),
    );
    const flag = fc.constantFrom('true', 'false', 'TRUE', ' true', 'tru', 'falsey', '1', '');
    const end = fc.constantFrom('\n', '\r\n', '\r', '', ',', ' \n');
    fc.assert(
      fc.property(phone, id, flag, end, (p, i, f, e) => agrees(`${p},${i},${f}${e}`)),
      { numRuns: 3000 },
    );
  });
});
