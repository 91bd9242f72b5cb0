import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes } from '@rollcall/errors';
import { beforeAll, describe, expect, test } from 'vitest';
import { indexFromBuffer, inspectIndex, openIndex, writeIndexFile } from '../src/index.js';
import { FORMAT_VERSION, HEADER, HEADER_BYTES } from '../src/layout.js';
import { csvOf, keyOf, makeRows, tempDir, writeText } from './helpers.js';

const ROWS = makeRows(300, 2);
let dir: string;
let good: Uint8Array;

beforeAll(async () => {
  dir = tempDir();
  const out = join(dir, 'good.rcx');
  await writeIndexFile(writeText(dir, 'src.csv', csvOf(ROWS)), out, { withSha256: true });
  good = new Uint8Array(readFileSync(out));
});

/** A copy of the good file with `edit` applied, written to a new path. */
function variant(name: string, edit: (bytes: Uint8Array) => Uint8Array): string {
  return writeText(dir, name, edit(good.slice()));
}

const flip = (at: number) => (b: Uint8Array) => {
  b[at]! ^= 0x01;
  return b;
};

describe('a damaged index file is refused with ERR_INDEX_CORRUPT', () => {
  test.each([
    ['empty file', () => new Uint8Array(0)],
    ['truncated inside the header', (b: Uint8Array) => b.subarray(0, 100)],
    ['truncated inside the table', (b: Uint8Array) => b.subarray(0, b.length - 1000)],
    ['truncated by one byte', (b: Uint8Array) => b.subarray(0, b.length - 1)],
    ['one extra byte at the end', (b: Uint8Array) => Uint8Array.of(...b, 0)],
    ['one flipped byte in the table', flip(HEADER_BYTES + 37)],
    ['one flipped byte in the SHA-256 section', (b: Uint8Array) => flip(b.length - 5)(b)],
    ['one flipped byte in the header (entry count)', flip(HEADER.ENTRIES)],
    ['one flipped byte in the header (reserved bytes)', flip(200)],
    ['one flipped byte in the header checksum', flip(HEADER.HEADER_CHECKSUM + 3)],
    ['wrong magic', flip(HEADER.MAGIC + 1)],
    ['a text file', () => new TextEncoder().encode('phone,user_id,opted_out\n+447400123456,1,false\n')],
    [
      'another format version',
      (b: Uint8Array) => {
        new DataView(b.buffer).setUint32(HEADER.FORMAT_VERSION, FORMAT_VERSION + 1, true);
        return b;
      },
    ],
  ])('%s', async (name, edit) => {
    const path = variant(`${name}.rcx`, edit);
    await expect(openIndex(path)).rejects.toMatchObject({ code: ErrorCodes.INDEX_CORRUPT, file: path });
  });

  test('skipping the checksum still checks header, size and version, but not the payload', async () => {
    const payload = variant('payload.rcx', flip(HEADER_BYTES + 37));
    await expect(openIndex(payload, { verifyChecksum: false })).resolves.toBeDefined();
    for (const edit of [flip(HEADER.ENTRIES), (b: Uint8Array) => b.subarray(0, b.length - 16)]) {
      await expect(openIndex(variant('h.rcx', edit), { verifyChecksum: false })).rejects.toMatchObject({
        code: ErrorCodes.INDEX_CORRUPT,
      });
    }
  });

  test('indexFromBuffer checks the header of the image it is given', async () => {
    const share = (b: Uint8Array) => {
      const sab = new SharedArrayBuffer(b.length);
      new Uint8Array(sab).set(b);
      return sab;
    };
    const reader = await indexFromBuffer(share(good));
    expect(reader.probe(keyOf(ROWS[0]!.phone))?.userId).toBe(ROWS[0]!.userId);
    for (const bad of [
      good.subarray(0, good.length - 8),
      flip(HEADER.CAPACITY)(good.slice()),
      new Uint8Array(10),
    ]) {
      await expect(indexFromBuffer(share(bad))).rejects.toMatchObject({ code: ErrorCodes.INDEX_CORRUPT });
    }
    await expect(indexFromBuffer(new ArrayBuffer(8) as never)).rejects.toMatchObject({
      code: ErrorCodes.INVALID_ARGUMENT,
    });
  });
});

describe('a path that cannot be read is an I/O error (ERR_IO)', () => {
  test('missing path', async () => {
    await expect(openIndex(join(dir, 'missing.rcx'))).rejects.toMatchObject({
      code: ErrorCodes.IO,
      syscallCode: 'ENOENT',
    });
  });

  test('a directory', async () => {
    await expect(openIndex(dir)).rejects.toMatchObject({ code: ErrorCodes.IO, syscallCode: 'EISDIR' });
    await expect(inspectIndex(dir)).rejects.toMatchObject({ code: ErrorCodes.IO });
  });

  test.skipIf(process.getuid?.() === 0)('no permission', async () => {
    const path = variant('locked.rcx', (b) => b);
    chmodSync(path, 0o000);
    await expect(openIndex(path)).rejects.toMatchObject({ code: ErrorCodes.IO, syscallCode: 'EACCES' });
  });
});

describe('inspectIndex reports damage instead of throwing when the header is readable', () => {
  test('a sound file', async () => {
    const info = await inspectIndex(variant('ok.rcx', (b) => b));
    expect(info).toMatchObject({
      entries: ROWS.length,
      optedOut: ROWS.filter((r) => r.optedOut).length,
      checksum: { header: 'ok', payload: 'ok' },
      problems: [],
      sound: true,
      sha256Bytes: ROWS.length * 16,
      header: { hasSha256: true, formatVersion: FORMAT_VERSION },
    });
    expect(info.bytesPerEntry).toBeCloseTo(16 / 0.7, 0);
    expect(info.loadFactor).toBeLessThanOrEqual(0.7);
  });

  test('a flipped payload byte: payload mismatch', async () => {
    const info = await inspectIndex(variant('p.rcx', flip(HEADER_BYTES + 37)));
    expect(info.checksum).toEqual({ header: 'ok', payload: 'mismatch' });
    expect(info.sound).toBe(false);
  });

  test('a flipped header byte: header mismatch', async () => {
    const info = await inspectIndex(variant('hd.rcx', flip(200)));
    expect(info.checksum.header).toBe('mismatch');
    expect(info.sound).toBe(false);
  });

  test('a truncated file: payload mismatch and a problem', async () => {
    const info = await inspectIndex(variant('t.rcx', (b) => b.subarray(0, b.length - 100)));
    expect(info.checksum).toEqual({ header: 'ok', payload: 'mismatch' });
    expect(info.problems.length).toBeGreaterThan(0);
  });

  test('not an index at all: throws', async () => {
    await expect(inspectIndex(variant('m.rcx', flip(0)))).rejects.toMatchObject({
      code: ErrorCodes.INDEX_CORRUPT,
    });
    await expect(inspectIndex(variant('e.rcx', () => new Uint8Array(0)))).rejects.toMatchObject({
      code: ErrorCodes.INDEX_CORRUPT,
    });
  });
});
