import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isValidE164, type PhoneKey } from '@rollcall/phone';
import { describe, expect, test } from 'vitest';
import {
  buildIndexFromRows,
  buildIndexInMemory,
  FORMAT_VERSION,
  FOUND,
  indexFromBuffer,
  openIndex,
  parseUserId,
  writeIndexFile,
} from '../src/index.js';
import { csvOf, EDGE_USER_IDS, filesIn, keyOf, makeRows, tempDir, writeText } from './helpers.js';

const ROWS = makeRows(1500, 1);
const BUILT_AT = Date.UTC(2025, 0, 2);

describe('build → file → open: every row probes back exactly', () => {
  const dir = tempDir();
  const csv = writeText(dir, 'index.csv', csvOf(ROWS));
  const out = join(dir, 'index.rcx');

  test('writeIndexFile reports the build and leaves only the file', async () => {
    const report = await writeIndexFile(csv, out, { builtAt: BUILT_AT });
    expect(report).toMatchObject({
      source: csv,
      output: out,
      rows: ROWS.length,
      entries: ROWS.length,
      skippedRows: 0,
      optedOut: ROWS.filter((r) => r.optedOut).length,
      neverMatchable: ROWS.filter((r) => !isValidE164(keyOf(r.phone))).length,
      sha256Bytes: 0,
    });
    expect(report.capacity).toBe(Math.ceil((ROWS.length * 10) / 7));
    expect(report.bytesPerEntry).toBeLessThanOrEqual(24);
    expect(report.loadFactor).toBeLessThanOrEqual(0.7);
    expect(report.fileBytes).toBe(readFileSync(out).length);
    expect(filesIn(dir)).toEqual(['index.csv', 'index.rcx']);
  });

  test('every source row probes back, ids above 2^53 and 2^64 − 1 included', async () => {
    const reader = await openIndex(out);
    expect(reader.header).toMatchObject({
      formatVersion: FORMAT_VERSION,
      entries: ROWS.length,
      builtAt: BUILT_AT,
      hasSha256: false,
    });
    for (const row of ROWS) {
      expect(reader.probe(keyOf(row.phone))).toEqual({ userId: row.userId, optedOut: row.optedOut });
    }
    const ids = new Set(ROWS.map((r) => r.userId));
    for (const id of EDGE_USER_IDS) expect(ids.has(id)).toBe(true);
  });

  test('absent keys, 0, NaN, negative and fractional keys are not found', async () => {
    const reader = await openIndex(out);
    const present = new Set(ROWS.map((r) => keyOf(r.phone)));
    let absent = 0;
    for (let k = 447400000000; absent < 500; k += 7) {
      if (present.has(k as PhoneKey)) continue;
      absent++;
      expect(reader.probe(k as PhoneKey)).toBeUndefined();
    }
    for (const k of [0, Number.NaN, -447400123456, keyOf(ROWS[0]!.phone) + 0.5, 2 ** 52]) {
      expect(reader.probe(k as PhoneKey)).toBeUndefined();
    }
  });

  test('the in-memory build holds the same image as the file, byte for byte', async () => {
    const { reader, report } = await buildIndexInMemory(csv, { builtAt: BUILT_AT });
    expect(new Uint8Array(reader.buffer)).toEqual(new Uint8Array(readFileSync(out)));
    expect(report.output).toBeUndefined();
    const fromRows = await buildIndexFromRows(ROWS, { builtAt: BUILT_AT });
    expect(new Uint8Array(fromRows.reader.buffer)).toEqual(new Uint8Array(reader.buffer));
  });

  test('indexFromBuffer wraps the same SharedArrayBuffer without copying', async () => {
    const reader = await openIndex(out);
    const again = await indexFromBuffer(reader.buffer);
    expect(again.buffer).toBe(reader.buffer);
    expect(again.header).toEqual(reader.header);
    for (const row of ROWS.slice(0, 200))
      expect(again.probe(keyOf(row.phone))).toEqual(reader.probe(keyOf(row.phone)));
  });

  test('probeBatch answers as probe does, in rounds and with 0 keys skipped', async () => {
    const reader = await openIndex(out);
    const n = 1000;
    const keys = new Float64Array(n);
    for (let i = 0; i < n; i++)
      keys[i] = i % 3 === 0 ? 447400000000 + i : i % 7 === 0 ? 0 : keyOf(ROWS[i]!.phone);
    const found = new Uint8Array(n).fill(9);
    const userIds = new BigUint64Array(n).fill(7n);
    reader.probeBatch(keys, n, found, userIds);
    for (let i = 0; i < n; i++) {
      const hit = reader.probe(keys[i] as PhoneKey);
      expect(found[i]).toBe(
        hit === undefined ? FOUND.ABSENT : hit.optedOut ? FOUND.OPTED_OUT : FOUND.PRESENT,
      );
      expect(userIds[i]).toBe(hit?.userId ?? 0n);
    }
  });

  test('probeBatch refuses a count larger than its arrays', async () => {
    const reader = await openIndex(out);
    const f = () => reader.probeBatch(new Float64Array(4), 5, new Uint8Array(5), new BigUint64Array(5));
    expect(f).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', option: 'count' }));
  });
});

describe('sources beyond the happy path', () => {
  test('the conformance index (20,000 users) reads back exactly', async () => {
    const path = join(import.meta.dirname, '../../../fixtures/conformance/index.csv');
    const { reader, report } = await buildIndexInMemory(path);
    const lines = readFileSync(path, 'utf8').trim().split('\n').slice(1);
    expect(report.entries).toBe(lines.length);
    for (const line of lines) {
      const [phone, id, opted] = line.split(',') as [string, string, string];
      expect(reader.probe(keyOf(phone))).toEqual({ userId: parseUserId(id), optedOut: opted === 'true' });
    }
  });

  test('CRLF line ends, a BOM, blank lines and every opted_out spelling', async () => {
    const dir = tempDir();
    const text =
      '\ufeffPhone , USER_ID,Opted_Out\r\n' +
      '+447400123456,1,TRUE\r\n' +
      '\r\n' +
      '+447400123457,2, yes \r\n' +
      '+447400123458,3,1\r\n' +
      '+447400123459,4,No\r\n' +
      '+447400123460,5,0\r\n' +
      '+447400123461,6,False'; // no final line break
    const { reader, report } = await buildIndexInMemory(writeText(dir, 'a.csv', text));
    expect(report.rows).toBe(6);
    expect(
      [456, 457, 458, 459, 460, 461].map((n) => reader.probe((447400123000 + n) as PhoneKey)?.optedOut),
    ).toEqual([true, true, true, false, false, false]);
  });

  test('keys whose low or high 32 bits are all zero are entries like any other', async () => {
    // 3 × 2^32 = 12884901888 (+1 288 490 1888): low half 0; 1415555010 < 2^32: high half 0.
    const rows = [
      { phone: '+12884901888', userId: 10n, optedOut: true },
      { phone: '+1415555010', userId: 11n, optedOut: false },
    ];
    const { reader } = await buildIndexFromRows(rows);
    expect(reader.probe(12884901888 as PhoneKey)).toEqual({ userId: 10n, optedOut: true });
    expect(reader.probe(1415555010 as PhoneKey)).toEqual({ userId: 11n, optedOut: false });
    expect(reader.probe(12884901889 as PhoneKey)).toBeUndefined();
  });

  test('progress is reported, ending with every row', async () => {
    const dir = tempDir();
    const seen: number[] = [];
    const csv = writeText(dir, 'p.csv', csvOf(ROWS.slice(0, 50)));
    await buildIndexInMemory(csv, { onProgress: (p) => seen.push(p.rows) });
    expect(seen.at(-1)).toBe(50);
  });

  test('an empty index (header only) probes nothing', async () => {
    const dir = tempDir();
    const out = join(dir, 'empty.rcx');
    const report = await writeIndexFile(writeText(dir, 'e.csv', 'phone,user_id,opted_out\n'), out);
    expect(report).toMatchObject({ entries: 0, capacity: 1, bytesPerEntry: 0 });
    const reader = await openIndex(out);
    expect(reader.probe(447400123456 as PhoneKey)).toBeUndefined();
  });

  test('the header records seed, shard, metadata and counts; builds are reproducible', async () => {
    const rows = makeRows(100, 5);
    const options = { hashSeed: 0xdeadbeef, shard: 2, shardCount: 4, builtAt: BUILT_AT };
    const a = await buildIndexFromRows(rows, options);
    const b = await buildIndexFromRows(rows, options);
    expect(a.reader.header).toMatchObject({
      hashSeed: 0xdeadbeef,
      shard: 2,
      shardCount: 4,
      metadataSet: 'max',
    });
    expect(a.reader.header.metadataVersion).toMatch(/^\d+\.\d+\.\d+/);
    expect(new Uint8Array(a.reader.buffer)).toEqual(new Uint8Array(b.reader.buffer));
    for (const row of rows) expect(a.reader.probe(keyOf(row.phone))?.userId).toBe(row.userId);
  });

  test('bad options fail at once, naming the option', async () => {
    for (const [options, option] of [
      [{ hashSeed: -1 }, 'hashSeed'],
      [{ hashSeed: 2 ** 32 }, 'hashSeed'],
      [{ shard: 4, shardCount: 4 }, 'shard'],
      [{ shardCount: 0 }, 'shardCount'],
      [{ skipInvalid: 'yes' }, 'skipInvalid'],
    ] as const) {
      await expect(buildIndexFromRows([], options as never)).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
        option,
      });
    }
  });
});
