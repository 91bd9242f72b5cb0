/**
 * CSV uploads with several phone columns and a country column (issue 14): what is captured, row by
 * row, and what is not.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MAX_CELL_CHARS, MAX_COUNTRY_CHARS, openUpload, type UploadOptions } from '../src/index.js';
import { openUploadWith } from '../src/reader.js';
import { byRow, coded, readAll, tempDir } from './helpers.js';

const tmp = tempDir();

async function read(content: string | Uint8Array, options: UploadOptions = {}) {
  const reader = await openUpload(tmp.write('upload.csv', content), { batchSize: 2, ...options });
  const rows = await readAll(reader);
  return { reader, ...rows, rows: byRow(rows.cells, reader.phoneColumns.length) };
}

const CRM = [
  'Name,Phone,Fax,Mobile,Emergency Contact Phone,Work Phone,Phone Country Code,Country,Email',
  'Ann,07400 123456,07400 999999,+44 7400 123457,+44 7400 888888,,+44,gb,ann@example.com',
  'Bob,030 1234567,,,,+49 30 7654321,+49, DE ,bob@example.com',
  'Cy,,,+1 202 555 0100,,,+1,,cy@example.com',
].join('\r\n');

describe('several phone columns and a country column, detected', () => {
  it('captures the phone cells row-major in header order, and the country of each row', async () => {
    const { reader, rows, countries, lines, malformed, batchSizes } = await read(CRM);
    expect(reader.phoneColumns).toEqual([1, 3, 5]);
    expect(reader.phoneColumn).toBe(1);
    expect(reader.countryColumn).toBe(7);
    expect(reader.hashed).toBeNull();
    expect(reader.format).toBe('csv');
    expect(rows).toEqual([
      ['07400 123456', '+44 7400 123457', ''],
      ['030 1234567', '', '+49 30 7654321'],
      ['', '+1 202 555 0100', ''],
    ]);
    // Raw: the phone package trims and resolves.
    expect(countries).toEqual(['gb', ' DE ', '']);
    expect(lines).toEqual([2, 3, 4]);
    expect(malformed).toEqual([0, 0, 0]);
    expect(batchSizes).toEqual([2, 1]);
  });

  it('reads the same whatever the chunk size and line ends', async () => {
    const expected = await read(CRM);
    for (const [eol, chunkBytes] of [
      ['\n', 1],
      ['\r', 3],
      ['\r\n', 17],
    ] as const) {
      const file = tmp.write('chunks.csv', CRM.replaceAll('\r\n', eol));
      const rows = await readAll(await openUploadWith(file, { batchSize: 2 }, { chunkBytes }));
      expect(rows.cells).toEqual(expected.cells);
      expect(rows.countries).toEqual(expected.countries);
      expect(rows.lines).toEqual(expected.lines);
    }
  });

  it('gzip-compressed, the same', async () => {
    const plain = await read(CRM);
    const gz = await read(gzipSync(CRM));
    expect(gz.reader.compression).toBe('gzip');
    expect(gz.cells).toEqual(plain.cells);
    expect(gz.countries).toEqual(plain.countries);
  });

  it('a short row is malformed; the cells it lacks are empty', async () => {
    const { rows, countries, malformed } = await read(
      'phone,name,mobile,country\n1,a,2,FR\n3,b\n4\n5,c,6,IT,x\n',
    );
    expect(rows).toEqual([
      ['1', '2'],
      ['3', ''],
      ['4', ''],
      ['5', '6'],
    ]);
    expect(countries).toEqual(['FR', '', '', 'IT']);
    expect(malformed).toEqual([0, 1, 1, 1]);
  });

  it('an overlong phone cell in any phone column makes the row malformed; an overlong country is only cut', async () => {
    const long = '9'.repeat(MAX_CELL_CHARS + 5);
    const country = 'X'.repeat(MAX_COUNTRY_CHARS * 3);
    const { rows, countries, malformed } = await read(
      `phone,mobile,country\n1,${long},GB\n"${long}",2,GB\n3,4,${country}\n`,
    );
    expect(rows.map((r) => r.map((c) => c.length))).toEqual([
      [1, MAX_CELL_CHARS],
      [MAX_CELL_CHARS, 1],
      [1, 1],
    ]);
    expect(countries).toEqual(['GB', 'GB', 'X'.repeat(MAX_COUNTRY_CHARS)]);
    expect(malformed).toEqual([1, 1, 0]);
  });

  it('a file with no country column has no countries', async () => {
    const { reader, countries } = await read('phone,mobile\n1,2\n');
    expect(reader.countryColumn).toBeNull();
    expect(countries).toBeUndefined();
  });

  it('several country columns is ERR_BAD_INPUT at the header line, asking for --country-column', async () => {
    const file = tmp.write('two-countries.csv', '\nphone,Country,Country Code\n1,GB,GB\n');
    const error = await openUpload(file).catch((e: unknown) => e);
    expect(error).toEqual(coded('ERR_BAD_INPUT', { position: { file, line: 2 } }));
    expect((error as Error).message).toContain('--country-column');
    // Named, it reads.
    const { countries } = await read('phone,Country,Country Code\n1,France,FR\n', {
      countryColumn: 'country code',
    });
    expect(countries).toEqual(['FR']);
  });
});

describe('columns named by the caller', () => {
  it.each([
    [{ phoneColumn: 'Mobile' }, [3], 7],
    [{ phoneColumn: ['Work Phone', 'phone'] }, [1, 5], 7],
    [{ phoneColumn: ['Fax'], countryColumn: false as const }, [2], null],
    [{ countryColumn: 'Phone Country Code' }, [1, 3, 5], 6],
  ])('%j → phone columns %j, country column %j', async (options, phoneColumns, countryColumn) => {
    const { reader, rows, countries } = await read(CRM, options);
    expect(reader.phoneColumns).toEqual(phoneColumns);
    expect(reader.countryColumn).toBe(countryColumn);
    expect(rows[0]).toEqual(phoneColumns.map((c) => CRM.split('\r\n')[1]!.split(',')[c]));
    if (countryColumn === null) expect(countries).toBeUndefined();
    else expect(countries![0]).toBe(CRM.split('\r\n')[1]!.split(',')[countryColumn]);
  });

  it.each([
    [{ phoneColumn: ['phone', 'PHONE '] }, 'phoneColumn'],
    [{ phoneColumn: [] as string[] }, 'phoneColumn'],
    [{ phoneColumn: ['phone', 3 as unknown as string] }, 'phoneColumn'],
    [{ countryColumn: 'nowhere' }, 'countryColumn'],
    [{ countryColumn: 'mobile' }, 'countryColumn'],
    [{ countryColumn: true as unknown as string }, 'countryColumn'],
  ])('%j is ERR_INVALID_ARGUMENT naming the option', async (options, option) => {
    const file = tmp.write('named.csv', CRM);
    await expect(openUpload(file, options)).rejects.toEqual(coded('ERR_INVALID_ARGUMENT', { option }));
  });
});

describe("Meta's customer-file shapes as CSV", () => {
  it('headers that are Meta schema keys: PHONE and COUNTRY are used, the others ignored', async () => {
    const header =
      'EMAIL,PHONE,FN,LN,ZIP,CT,ST,COUNTRY,DOB,DOBY,GEN,MADID,EXTERN_ID,PAGEUID,FI,DOBM,DOBD,UID';
    const row = 'a@x.com,+44 7400 123456,Ann,Lee,SW1,London,LDN,GB,19900101,1990,F,ABC-123,c1,42,A,01,01,7';
    const { reader, rows, countries } = await read(`${header}\n${row}\n`);
    expect(reader.phoneColumns).toEqual([1]);
    expect(reader.countryColumn).toBe(7);
    expect(rows).toEqual([['+44 7400 123456']]);
    expect(countries).toEqual(['GB']);
  });

  it('up to three "phone" columns, as Meta accepts, and lower-case keys', async () => {
    const { reader, rows, countries } = await read('email,phone,phone,phone,country\na@x,1,2,3,us\n');
    expect(reader.phoneColumns).toEqual([1, 2, 3]);
    expect(rows).toEqual([['1', '2', '3']]);
    expect(countries).toEqual(['us']);
  });

  it('pre-hashed: two columns of SHA-256 digests are carried as they are', async () => {
    const a = 'a'.repeat(64);
    const b = 'B'.repeat(64);
    const { reader, rows, malformed } = await read(`id,phone_sha256,mobile_sha256\n1,${a},${b}\n2,,${a}\n`);
    expect(reader.phoneColumns).toEqual([1, 2]);
    // A CSV never says it is hashed: the caller does (--hashed).
    expect(reader.hashed).toBeNull();
    expect(rows).toEqual([
      [a, b],
      ['', a],
    ]);
    expect(malformed).toEqual([0, 0]);
  });
});
