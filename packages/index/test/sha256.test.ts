import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ErrorCodes } from '@rollcall/errors';
import { hashPhone, type PhoneKey } from '@rollcall/phone';
import { describe, expect, test } from 'vitest';
import { buildIndexFromRows, type HashConvention, openIndex, writeIndexFile } from '../src/index.js';
import { csvOf, keyOf, makeRows, tempDir, writeText } from './helpers.js';

const ROWS = makeRows(500, 4);
const CONVENTIONS: readonly HashConvention[] = ['meta', 'google'];

describe('the SHA-256 section', () => {
  test('every entry is found by its digest in both conventions, through a file', async () => {
    const dir = tempDir();
    const out = join(dir, 's.rcx');
    const report = await writeIndexFile(writeText(dir, 's.csv', csvOf(ROWS)), out, { withSha256: true });
    // Reported apart from the table's bytes per entry: 8 bytes per entry and convention.
    expect(report.sha256Bytes).toBe(ROWS.length * 2 * 8);
    expect(report.bytesPerEntry).toBeLessThanOrEqual(24);
    const reader = await openIndex(out);
    expect(reader.header.hasSha256).toBe(true);
    for (const row of ROWS) {
      const key = keyOf(row.phone);
      for (const c of CONVENTIONS) expect(reader.probeSha256(hashPhone(key, c), c)).toBe(key);
    }
  });

  test('no false matches: other convention, absent keys, random digests, one flipped bit', async () => {
    const { reader } = await buildIndexFromRows(ROWS, { withSha256: true });
    const present = new Set(ROWS.map((r) => keyOf(r.phone)));
    for (const row of ROWS.slice(0, 100)) {
      const key = keyOf(row.phone);
      // A digest made under one convention never matches under the other.
      expect(reader.probeSha256(hashPhone(key, 'meta'), 'google')).toBeUndefined();
      expect(reader.probeSha256(hashPhone(key, 'google'), 'meta')).toBeUndefined();
      const flipped = hashPhone(key, 'meta').slice();
      flipped[31]! ^= 1;
      expect(reader.probeSha256(flipped, 'meta')).toBeUndefined();
    }
    for (let k = 447400000001; k < 447400000301; k++) {
      if (present.has(k as PhoneKey)) continue;
      for (const c of CONVENTIONS) expect(reader.probeSha256(hashPhone(k as PhoneKey, c), c)).toBeUndefined();
    }
    for (let i = 0; i < 200; i++)
      expect(reader.probeSha256(new Uint8Array(randomBytes(32)), 'meta')).toBeUndefined();
  });

  test('a digest sharing its 4-byte prefix with an entry is verified on all 32 bytes', async () => {
    // Found by search: these keys' digests agree on their first 4 bytes in that convention.
    const pairs: [HashConvention, number, number][] = [
      ['meta', 447400005702, 447400038149],
      ['google', 447400064685, 447400094678],
    ];
    for (const [c, a, b] of pairs) {
      const da = hashPhone(a as PhoneKey, c);
      const db = hashPhone(b as PhoneKey, c);
      expect(da.subarray(0, 4)).toEqual(db.subarray(0, 4));
      const only = await buildIndexFromRows([{ phone: `+${a}`, userId: 1n, optedOut: false }], {
        withSha256: true,
      });
      expect(only.reader.probeSha256(db, c)).toBeUndefined();
      expect(only.reader.probeSha256(da, c)).toBe(a);
      const both = await buildIndexFromRows(
        [
          { phone: `+${a}`, userId: 1n, optedOut: false },
          { phone: `+${b}`, userId: 2n, optedOut: false },
        ],
        { withSha256: true },
      );
      expect(both.reader.probeSha256(da, c)).toBe(a);
      expect(both.reader.probeSha256(db, c)).toBe(b);
    }
  });

  test('an index without the section says so with ERR_INDEX_MISSING_SECTION', async () => {
    const { reader } = await buildIndexFromRows(ROWS.slice(0, 10));
    expect(reader.header.hasSha256).toBe(false);
    expect(() => reader.probeSha256(hashPhone(keyOf(ROWS[0]!.phone), 'meta'), 'meta')).toThrow(
      expect.objectContaining({ code: ErrorCodes.INDEX_MISSING_SECTION }),
    );
  });

  test('a digest of the wrong size or an unknown convention is a bad argument', async () => {
    const { reader } = await buildIndexFromRows(ROWS.slice(0, 10), { withSha256: true });
    expect(() => reader.probeSha256(new Uint8Array(31), 'meta')).toThrow(
      expect.objectContaining({ code: ErrorCodes.INVALID_ARGUMENT, option: 'digest' }),
    );
    expect(() => reader.probeSha256(new Uint8Array(32), 'sha1' as never)).toThrow(
      expect.objectContaining({ code: ErrorCodes.INVALID_ARGUMENT, option: 'convention' }),
    );
  });

  test('skipped rows with the section on: the image is cut to its exact size', async () => {
    const rows = [...ROWS.slice(0, 20), { phone: 'junk', userId: 1n, optedOut: false }];
    const { reader, report } = await buildIndexFromRows(rows, { withSha256: true, skipInvalid: true });
    expect(reader.buffer.byteLength).toBe(report.fileBytes);
    for (const row of ROWS.slice(0, 20))
      expect(reader.probeSha256(hashPhone(keyOf(row.phone), 'google'), 'google')).toBe(keyOf(row.phone));
  });
});
