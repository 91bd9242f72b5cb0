/** Meta's Custom Audience JSON payload as an upload file. */
import { spawn, spawnSync } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MAX_CELL_CHARS, MAX_COUNTRY_CHARS, openUpload, type UploadOptions } from '../src/index.js';
import { openUploadWith } from '../src/reader.js';
import { byRow, coded, readAll, tempDir, utf16 } from './helpers.js';

const tmp = tempDir();

const H1 = 'a'.repeat(64);
const H2 = '0123456789abcdef'.repeat(4);
const H3 = 'F'.repeat(64);

async function read(content: string | Uint8Array, options: UploadOptions = {}) {
  const reader = await openUpload(tmp.write('payload.json', content), { batchSize: 2, ...options });
  const rows = await readAll(reader);
  return { reader, ...rows, rows: byRow(rows.cells, reader.phoneColumns.length) };
}

const json = (value: unknown): string => JSON.stringify(value);

describe('single-key schemas', () => {
  it.each([
    ['data as strings', { payload: { schema: 'PHONE_SHA256', data: [H1, H2, H3] } }],
    ['data as one-element lists', { payload: { schema: 'PHONE_SHA256', data: [[H1], [H2], [H3]] } }],
    ['both, bare (no "payload")', { schema: 'PHONE_SHA256', data: [H1, [H2], H3] }],
    ['a one-key list schema', { payload: { schema: ['PHONE_SHA256'], data: [[H1], [H2], [H3]] } }],
  ])('PHONE_SHA256, %s', async (_name, payload) => {
    const { reader, cells, lines, malformed, countries } = await read(json(payload));
    expect(reader).toMatchObject({
      format: 'meta-payload',
      headers: ['PHONE_SHA256'],
      phoneColumn: 0,
      phoneColumns: [0],
      countryColumn: null,
      hashed: 'meta',
      headerLine: 0,
      delimiter: null,
      encoding: 'utf-8',
      compression: null,
    });
    expect(cells).toEqual([H1, H2, H3]);
    // A payload's "line" is the row's position in data.
    expect(lines).toEqual([1, 2, 3]);
    expect(malformed).toEqual([0, 0, 0]);
    expect(countries).toBeUndefined();
  });

  it('a schema with no phone key is ERR_BAD_INPUT naming the file, without a line', async () => {
    const file = tmp.write('email.json', json({ payload: { schema: 'EMAIL_SHA256', data: [H1] } }));
    const error = await openUpload(file).catch((e: unknown) => e);
    expect(error).toEqual(coded('ERR_BAD_INPUT', { position: { file } }));
    expect((error as Error).message).toContain('"EMAIL_SHA256"');
  });
});

describe('multi-key schemas', () => {
  const payload = {
    session: { session_id: 9, batch_seq: 1, last_batch_flag: true, estimated_num_total: 4 },
    payload: {
      schema: ['EMAIL', 'PHONE', 'FN', 'COUNTRY'],
      data: [
        ['a@x', '+44 7400 123456', 'Ann', 'gb'],
        ['b@x', '07400 123457', 'Bob', ' GB '],
        ['c@x', null, 'Cy', null],
        ['d@x', 447400123458, 'Di', 'United Kingdom'],
      ],
    },
  };

  it('["EMAIL","PHONE","FN","COUNTRY"]: PHONE and COUNTRY, the rest ignored', async () => {
    const { reader, cells, countries, lines, malformed } = await read(json(payload));
    expect(reader.headers).toEqual(['EMAIL', 'PHONE', 'FN', 'COUNTRY']);
    expect(reader.phoneColumns).toEqual([1]);
    expect(reader.countryColumn).toBe(3);
    expect(reader.hashed).toBeNull();
    // null is an empty cell; a whole number is its digits.
    expect(cells).toEqual(['+44 7400 123456', '07400 123457', '', '447400123458']);
    expect(countries).toEqual(['gb', ' GB ', '', 'United Kingdom']);
    expect(lines).toEqual([1, 2, 3, 4]);
    expect(malformed).toEqual([0, 0, 0, 0]);
  });

  it('several PHONE keys become several phone columns', async () => {
    const { reader, rows, countries } = await read(
      json({
        schema: ['PHONE', 'EXTERN_ID', 'PHONE', 'PHONE', 'COUNTRY'],
        data: [['1', 'x', '2', '', 'DE']],
      }),
    );
    expect(reader.phoneColumns).toEqual([0, 2, 3]);
    expect(rows).toEqual([['1', '2', '']]);
    expect(countries).toEqual(['DE']);
  });

  it('a row of the wrong length, or a phone that is no text, is malformed', async () => {
    const { rows, countries, lines, malformed } = await read(
      json({
        schema: ['PHONE', 'COUNTRY'],
        data: [
          ['1', 'GB'],
          ['2'],
          ['3', 'GB', 'x'],
          '4',
          [{ n: 5 }, 'GB'],
          [6.5, 'GB'],
          [true, 'GB'],
          ['7', ['GB']],
          [],
        ],
      }),
    );
    expect(rows).toEqual([['1'], [''], [''], [''], [''], [''], [''], ['7'], ['']]);
    expect(countries).toEqual(['GB', '', '', '', 'GB', 'GB', 'GB', '', '']);
    expect(lines).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(malformed).toEqual([0, 1, 1, 1, 1, 1, 1, 1, 1]);
  });

  it('an overlong phone is cut and malformed; an overlong country only cut', async () => {
    const { rows, countries, malformed } = await read(
      json({
        schema: ['PHONE', 'COUNTRY'],
        data: [
          ['1'.repeat(MAX_CELL_CHARS + 1), 'GB'],
          ['2', 'Z'.repeat(1000)],
        ],
      }),
    );
    expect(rows.map((r) => r[0]!.length)).toEqual([MAX_CELL_CHARS, 1]);
    expect(countries).toEqual(['GB', 'Z'.repeat(MAX_COUNTRY_CHARS)]);
    expect(malformed).toEqual([1, 0]);
  });

  it('named columns apply to the schema keys', async () => {
    const body = json({ schema: ['PHONE', 'EXTERN_ID', 'COUNTRY'], data: [['1', '2', 'GB']] });
    const a = await read(body, { phoneColumn: ['extern_id', 'phone'], countryColumn: false });
    expect(a.reader.phoneColumns).toEqual([0, 1]);
    expect(a.rows).toEqual([['1', '2']]);
    expect(a.countries).toBeUndefined();
    await expect(read(body, { phoneColumn: 'MOBILE' })).rejects.toEqual(
      coded('ERR_INVALID_ARGUMENT', { option: 'phoneColumn' }),
    );
  });
});

describe('hashed or not', () => {
  it.each([
    ['PHONE_SHA256 key', { schema: ['EMAIL', 'PHONE_SHA256'], data: [['e', '+44 7400 123456']] }, 'meta'],
    [
      'PHONE, every value a digest',
      {
        schema: ['PHONE', 'COUNTRY'],
        data: [
          [H1, 'gb'],
          [H3, ''],
          ['', 'x'],
        ],
      },
      'meta',
    ],
    [
      'PHONE, digests in several PHONE keys',
      {
        schema: ['PHONE', 'PHONE'],
        data: [
          [H1, null],
          [null, H2],
        ],
      },
      'meta',
    ],
    ['PHONE, one plain value', { schema: ['PHONE'], data: [[H1], ['447400123456'], [H2]] }, null],
    ['PHONE, a digest one character short', { schema: ['PHONE'], data: [[H1.slice(1)]] }, null],
    ['PHONE, a number', { schema: ['PHONE'], data: [[H1], [447400123456]] }, null],
    ['PHONE, every value empty', { schema: ['PHONE'], data: [[''], [null]] }, null],
    ['PHONE, no rows', { schema: ['PHONE'], data: [] }, null],
  ])('%s → %j', async (_name, payload, hashed) => {
    const { reader } = await read(json(payload));
    expect(reader.hashed).toBe(hashed);
  });
});

describe('bad JSON and bad shapes are ERR_BAD_INPUT naming the file', () => {
  it.each([
    ['a missing comma', '{"schema": "PHONE",\n "data": ["1" "2"]}', 2, 15],
    ['a trailing comma', '{"schema": "PHONE", "data": ["1",]}', 1, 34],
    ['CRLF lines', '{\r\n"schema": "PHONE",\r\n"data": [\r\n"1",\r\n\'2\']}', 5, 1],
    ['CR lines', '{\r"schema": "PHONE",\r"data": x}', 3, 9],
    ['the text ends', '{"schema": "PHONE", "data": ["1"', 1, 33],
    ['an unclosed string', '{"schema": "PHONE", "data": ["1]}', 1, 34],
    ['a raw newline in a string', '{"schema": "PH\nONE", "data": []}', 1, 15],
    ['a bad escape', '{"schema": "PHONE", "data": ["\\x"]}', 1, 31],
    ['a key without quotes', '{schema: "PHONE", "data": []}', 1, 2],
    ['text after the value', '{"schema": "PHONE", "data": []} {"schema": "PHONE", "data": []}', 1, 33],
    ['JSON lines', '{"schema": "PHONE", "data": []}\n{"schema": "PHONE", "data": []}\n', 2, 1],
    ['a bad number', '{"schema": "PHONE", "data": [01]}', 1, 31],
    ['after a BOM and blank lines', '\uFEFF\n\n  {"schema": "PHONE", "data": [1 2]}', 3, 34],
  ])('%s: at its line and column', async (_name, content, line, column) => {
    const file = tmp.write('bad.json', content);
    const error = await openUpload(file).catch((e: unknown) => e);
    expect(error).toEqual(coded('ERR_BAD_INPUT', { position: { file, line, column } }));
    expect((error as Error).message).toMatch(/not valid JSON/);
  });

  it.each([
    ['no schema', { data: [] }, 'no "schema" and "data"'],
    ['no data', { payload: { schema: 'PHONE' } }, 'no "schema" and "data"'],
    ['payload not an object', { payload: [1] }, 'no "schema" and "data"'],
    ['an empty schema', { schema: [], data: [] }, '"schema" must be'],
    ['a schema of numbers', { schema: [1, 2], data: [] }, '"schema" must be'],
    ['an empty key', { schema: ['PHONE', ''], data: [] }, '"schema" must be'],
    ['data not a list', { schema: 'PHONE', data: { a: 1 } }, '"data" must be a list'],
  ])('%s', async (_name, payload, why) => {
    const file = tmp.write('shape.json', json(payload));
    const error = await openUpload(file).catch((e: unknown) => e);
    expect(error).toEqual(coded('ERR_BAD_INPUT', { position: { file } }));
    expect((error as Error).message).toContain(why);
  });

  it('a payload over the size cap is refused before it is parsed', async () => {
    const body = json({ schema: 'PHONE', data: Array.from({ length: 200 }, (_, i) => `+4474001${i}`) });
    const file = tmp.write('big.json', body);
    for (const [cap, chunkBytes] of [
      [body.length - 1, 64],
      [100, 1 << 18],
    ] as const) {
      const error = await openUploadWith(file, {}, { maxPayloadBytes: cap, chunkBytes }).catch(
        (e: unknown) => e,
      );
      expect(error).toEqual(coded('ERR_BAD_INPUT', { position: { file } }));
      expect((error as Error).message).toContain('larger than');
    }
    // At the cap exactly, it reads.
    const reader = await openUploadWith(file, {}, { maxPayloadBytes: body.length, chunkBytes: 64 });
    expect((await readAll(reader)).cells).toHaveLength(200);
  });
});

describe('how a payload file is told and read', () => {
  const body = json({
    payload: {
      schema: ['PHONE', 'COUNTRY'],
      data: [
        ['1', 'GB'],
        ['2', 'FR'],
        ['3', ''],
      ],
    },
  });

  it('by its first non-blank character, whatever its name; gzip too; any chunk size', async () => {
    for (const [name, content, chunkBytes] of [
      ['upload.csv', body, 0],
      ['payload.json.gz', gzipSync(body), 0],
      ['payload', gzipSync(`\uFEFF \r\n\t${body}`), 5],
      ['utf16.json', utf16(body, 'le'), 3],
      ['crlf.json', body.replaceAll(',', ',\r\n'), 1],
    ] as const) {
      const file = tmp.write(name, content);
      const reader = await openUploadWith(file, { batchSize: 2 }, chunkBytes > 0 ? { chunkBytes } : {});
      expect(reader.format).toBe('meta-payload');
      const rows = await readAll(reader);
      expect(rows.cells).toEqual(['1', '2', '3']);
      expect(rows.countries).toEqual(['GB', 'FR', '']);
      expect(rows.batchSizes).toEqual([2, 1]);
      // Progress ends at the file's size; a file is read again by each pass.
      expect(reader.totalBytes).toBe(statSync(file).size);
      expect(reader.bytesRead).toBe(reader.totalBytes);
      expect((await readAll(reader)).cells).toEqual(['1', '2', '3']);
    }
  });

  it('a payload without rows reads as none, and its progress ends at its size', async () => {
    const file = tmp.write('empty.json', json({ schema: 'PHONE', data: [] }));
    const reader = await openUpload(file);
    expect((await readAll(reader)).cells).toEqual([]);
    expect(reader.bytesRead).toBe(statSync(file).size);
  });

  it('a CSV whose header starts with something else is still a CSV', async () => {
    const reader = await openUpload(tmp.write('brace.csv', '"{phone}",name\n1,a\n'));
    expect(reader.format).toBe('csv');
  });

  it('a file changed to another schema between opening and reading is ERR_BAD_INPUT', async () => {
    const file = tmp.write('changing.json', body);
    const reader = await openUpload(file);
    writeFileSync(file, json({ schema: ['COUNTRY', 'PHONE'], data: [] }));
    await expect(readAll(reader)).rejects.toEqual(coded('ERR_BAD_INPUT', { position: { file } }));
  });

  it('an aborted read stops with ERR_ABORTED', async () => {
    const controller = new AbortController();
    const reader = await openUpload(tmp.write('abort.json', body), {
      batchSize: 1,
      signal: controller.signal,
    });
    const seen: string[] = [];
    const error = await (async () => {
      for await (const batch of reader.batches()) {
        seen.push(...batch.cells);
        controller.abort();
      }
    })().catch((e: unknown) => e);
    expect(error).toEqual(coded('ERR_ABORTED'));
    expect(seen).toEqual(['1']);
  });

  it.skipIf(process.platform === 'win32')('from a FIFO: read once, gzip or not', async () => {
    for (const data of [body, gzipSync(body)]) {
      const path = tmp.path(`payload-${Math.random()}.fifo`);
      expect(spawnSync('mkfifo', [path]).status).toBe(0);
      const child = spawn('sh', ['-c', `sleep 0.2; cat > "${path}"`], {
        stdio: ['pipe', 'ignore', 'ignore'],
      });
      child.stdin.end(data);
      const written = new Promise<void>((resolve) => child.on('close', () => resolve()));
      const reader = await openUploadWith(path, { batchSize: 2 }, { chunkBytes: 7 });
      expect(reader.totalBytes).toBeNull();
      expect((await readAll(reader)).cells).toEqual(['1', '2', '3']);
      await written;
      await expect(readAll(reader)).rejects.toEqual(coded('ERR_INVALID_ARGUMENT'));
    }
  });
});
