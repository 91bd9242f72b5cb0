import { chmodSync, existsSync, mkdirSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MAX_CELL_CHARS, openUpload } from '../src/index.js';
import { openUploadWith } from '../src/reader.js';
import { coded, readAll, tempDir } from './helpers.js';

const tmp = tempDir();

/** Whether open descriptors can be listed (Linux). */
const HAS_PROC_FD = existsSync('/proc/self/fd');

/** How many descriptors this process holds on `file` (0 where they cannot be listed). */
function openDescriptorsOf(file: string): number {
  if (!HAS_PROC_FD) return 0;
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === file) n++;
    } catch {
      // The descriptor of the directory listing itself is gone by now.
    }
  }
  return n;
}

/** Writes `content` and reads it whole (batch size 3 so several batches are crossed). */
async function read(content: string | Uint8Array, options: Parameters<typeof openUpload>[1] = {}) {
  const file = tmp.write('upload.csv', content);
  const reader = await openUpload(file, { batchSize: 3, ...options });
  return { reader, ...(await readAll(reader)) };
}

describe('line ends', () => {
  it.each([
    ['LF', '\n'],
    ['CRLF', '\r\n'],
    ['CR', '\r'],
  ])('%s', async (_name, eol) => {
    const { cells, lines, malformed } = await read(['name,phone', 'a,111', 'b,222', 'c,333', ''].join(eol));
    expect(cells).toEqual(['111', '222', '333']);
    expect(lines).toEqual([2, 3, 4]);
    expect(malformed).toEqual([0, 0, 0]);
  });

  it('mixed in one file, each counted once', async () => {
    const { cells, lines } = await read('name,phone\r\na,111\nb,222\rc,333\r\n\rd,444\n\r\ne,555');
    expect(cells).toEqual(['111', '222', '333', '444', '555']);
    expect(lines).toEqual([2, 3, 4, 6, 8]);
  });

  it('a last line without a line end is a row', async () => {
    const { cells, lines } = await read('name,phone\na,111\nb,222');
    expect(cells).toEqual(['111', '222']);
    expect(lines).toEqual([2, 3]);
  });
});

describe('delimiters', () => {
  it.each([
    [',', 'name,phone,email\na,111,x\n'],
    [';', 'name;phone;email\na;111;x\n'],
    ['\t', 'name\tphone\temail\na\t111\tx\n'],
    ['|', 'name|phone|email\na|111|x\n'],
    [';', 'name;"phone, mobile";email\na;111;x\n'],
    [',', '"a;b;c",phone\n"x;y;z",111\n'],
    [',', 'phone\n111\n'],
  ])('detects %j', async (delimiter, content) => {
    const { reader, cells } = await read(content);
    expect(reader.delimiter).toBe(delimiter);
    expect(cells).toEqual(['111']);
  });

  it.each([
    [';', ';'],
    ['tab', '\t'],
    ['\\t', '\t'],
  ])('the delimiter option %j overrides detection', async (option, expected) => {
    const sep = expected;
    const { reader, cells, malformed } = await read(`name${sep}phone,mobile\na${sep}111,2\n`, {
      delimiter: option,
      phoneColumn: 'phone,mobile',
    });
    expect(reader.delimiter).toBe(expected);
    expect(cells).toEqual(['111,2']);
    expect(malformed).toEqual([0]);
  });
});

describe('quoted fields', () => {
  it('embedded newlines, delimiters and doubled quotes; later rows keep their physical line', async () => {
    const content = [
      'name,phone,note',
      '"Ann\nSmith","+44 7400 123456","says ""hi"",\r\nthen\rleaves"',
      'Bob,"+1 (202) 555-0100",x',
      '"",,"a',
      'b"',
      'Cy,"07400 ""9""",z',
      '',
    ].join('\n');
    const { cells, lines, malformed } = await read(content);
    expect(cells).toEqual(['+44 7400 123456', '+1 (202) 555-0100', '', '07400 "9"']);
    expect(lines).toEqual([2, 6, 7, 9]);
    expect(malformed).toEqual([0, 0, 0, 0]);
  });

  it('a phone cell with a newline keeps it', async () => {
    const { cells, lines } = await read('name,phone\na,"+44\r\n7400"\nb,1\n');
    expect(cells).toEqual(['+44\r\n7400', '1']);
    expect(lines).toEqual([2, 4]);
  });

  it('text after a closing quote is kept; a quote not at the start of a field is literal', async () => {
    const { cells } = await read('name,phone\na,"+44"7400\nb,12"34\nc, "56\n');
    expect(cells).toEqual(['+447400', '12"34', ' "56']);
  });

  it.each([
    ['in a data row', 'name,phone\na,1\nb,"2\nc,3\n', 3, 3],
    ['after other fields', 'name,phone\r\na,1\r\nbb,"2\r\n', 3, 4],
    ['on a CR-only line', 'name,phone\ra,1\rb,"2\r', 3, 3],
    ['in the header', 'name,"phone\n', 1, 6],
    ['after a quoted newline', 'name,phone\na,"1\n2"\nb,x"\nc,"3', 5, 3],
  ])(
    'an unterminated quote %s is ERR_BAD_INPUT at the line and column where it opened',
    async (_n, content, line, column) => {
      const file = tmp.write('unterminated.csv', content);
      const error = await openUpload(file, { phoneColumn: 'phone' })
        .then(readAll)
        .catch((e: unknown) => e);
      expect(error).toEqual(coded('ERR_BAD_INPUT', { position: { file, line, column } }));
    },
  );
});

describe('blank lines', () => {
  it('empty, whitespace-only and delimiter-only lines are not rows; quoted empties are', async () => {
    const content = '\n  \nname,phone\n\n,\n\t\na,1\n , \n"",\n,""\n\n';
    const { reader, cells, lines, malformed } = await read(content);
    expect(reader.headerLine).toBe(3);
    expect(cells).toEqual(['1', '', '']);
    expect(lines).toEqual([7, 9, 10]);
    expect(malformed).toEqual([0, 0, 0]);
  });

  it('lines of other delimiters above the header are blank too', async () => {
    const { reader, cells, lines, malformed } = await read(';;;\r\n |\t\r\nname,phone\r\n;;;\r\na,1\r\n');
    expect(reader.headerLine).toBe(3);
    expect(reader.headers).toEqual(['name', 'phone']);
    // Below the header only the file's own delimiter makes a line blank: `;;;` is a short row.
    expect(cells).toEqual(['', '1']);
    expect(lines).toEqual([4, 5]);
    expect(malformed).toEqual([1, 0]);
  });
});

describe('rows with the wrong number of columns', () => {
  it('are returned flagged malformed with the cell at the phone position, or empty', async () => {
    const content = 'name,phone,email\na,111,x\nb\nc,333\nd,444,x,y\ne,555,x,\nf,666,x\n';
    const { cells, lines, malformed } = await read(content);
    expect(cells).toEqual(['111', '', '333', '444', '555', '666']);
    expect(lines).toEqual([2, 3, 4, 5, 6, 7]);
    expect(malformed).toEqual([0, 1, 1, 1, 1, 0]);
  });

  it('a phone cell too long to be a number is cut and flagged malformed', async () => {
    const long = '1'.repeat(MAX_CELL_CHARS + 10);
    const { cells, malformed } = await read(`name,phone\na,${long}\nb,"${long}"\nc,1\n`);
    expect(cells.map((c) => c.length)).toEqual([MAX_CELL_CHARS, MAX_CELL_CHARS, 1]);
    expect(malformed).toEqual([1, 1, 0]);
  });
});

describe('files without rows', () => {
  it.each([
    ['header only', 'name,phone\n'],
    ['header only, no line end', 'name,phone'],
    ['header and blank lines', 'name,phone\r\n\r\n  \r\n'],
  ])('%s: zero rows', async (_n, content) => {
    const { reader, cells } = await read(content);
    expect(reader.headers).toEqual(['name', 'phone']);
    expect(cells).toEqual([]);
  });

  it.each([
    ['0 bytes', ''],
    ['a UTF-8 BOM', '\uFEFF'],
    ['a UTF-16LE BOM', new Uint8Array([0xff, 0xfe])],
    ['whitespace', ' \r\n\t\n\n'],
  ])('%s: ERR_BAD_INPUT "empty file" at line 1', async (_n, content) => {
    const file = tmp.write('empty.csv', content);
    const error = await openUpload(file).catch((e: unknown) => e);
    expect(error).toEqual(coded('ERR_BAD_INPUT', { position: { file, line: 1 } }));
    expect((error as Error).message).toContain('empty file: no header');
  });
});

describe('batching', () => {
  it.each([1, 2, 3, 7, 10, 11, 8192])('batchSize %i gives every row once, in order', async (batchSize) => {
    const rows = Array.from({ length: 10 }, (_, i) => `n${i},${1000 + i}`);
    const file = tmp.write('batch.csv', `name,phone\n${rows.join('\n')}\n`);
    const got = await readAll(await openUpload(file, { batchSize }));
    expect(got.cells).toEqual(rows.map((_, i) => String(1000 + i)));
    expect(got.lines).toEqual(rows.map((_, i) => i + 2));
    expect(got.batchSizes.every((n) => n <= batchSize && n > 0)).toBe(true);
    expect(got.batchSizes.length).toBe(Math.ceil(10 / batchSize));
  });

  it.each([1, 2, 3, 5, 64])(
    'chunks of %i bytes give the same rows (boundaries in CRLF, quotes, UTF-8)',
    async (chunkBytes) => {
      const content =
        '\uFEFFnom;téléphone\r\n"Zoë\r\n""Z""";"+33 6 12 34 56 78"\r\n\r\nÉmile;"06 ""1"""\r\nØ;0612\r';
      const file = tmp.write('chunks.csv', content);
      const whole = await readAll(await openUploadWith(file, {}, {}));
      const chunked = await readAll(await openUploadWith(file, {}, { chunkBytes }));
      expect(chunked.cells).toEqual(['+33 6 12 34 56 78', '06 "1"', '0612']);
      expect(chunked.lines).toEqual([2, 5, 6]);
      expect(chunked.cells).toEqual(whole.cells);
      expect(chunked.lines).toEqual(whole.lines);
    },
  );

  it('batches() can be iterated again and each batch is fresh', async () => {
    const file = tmp.write('again.csv', 'name,phone\na,1\nb,2\nc,3\n');
    const reader = await openUpload(file, { batchSize: 2 });
    const first = await readAll(reader);
    const second = await readAll(reader);
    expect(second).toEqual(first);
    const batches = [];
    for await (const b of reader.batches()) batches.push(b);
    expect(batches[0]!.lines.buffer).not.toBe(batches[1]!.lines.buffer);
    expect(reader.bytesRead).toBe(reader.totalBytes);
  });

  it('a file whose header changed after opening is ERR_BAD_INPUT', async () => {
    const file = tmp.write('changed.csv', 'name,phone\na,1\n');
    const reader = await openUpload(file);
    writeFileSync(file, 'phone,name\n1,a\n');
    await expect(readAll(reader)).rejects.toEqual(coded('ERR_BAD_INPUT', { position: { file, line: 1 } }));
  });
});

describe('long lines', () => {
  it('a 50 MB data line streams: one malformed-free row with a cut phone cell', async () => {
    const huge = 'x'.repeat(50 * 1024 * 1024);
    const { cells, lines, malformed } = await read(`name,phone\n${huge},123\nb,456\n`);
    expect(cells).toEqual(['123', '456']);
    expect(lines).toEqual([2, 3]);
    expect(malformed).toEqual([0, 0]);
  });

  it('a 50 MB quoted phone cell spanning many lines streams: cut, flagged, later lines right', async () => {
    const chunk = `${'7'.repeat(999)}\n`;
    const huge = chunk.repeat(50 * 1024);
    const { cells, lines, malformed } = await read(`name,phone\na,"${huge}"\nb,456\n`);
    expect(cells).toEqual([huge.slice(0, MAX_CELL_CHARS), '456']);
    expect(lines).toEqual([2, 2 + 50 * 1024 + 1]);
    expect(malformed).toEqual([1, 0]);
  });

  it('a 50 MB single line (no header row) is ERR_BAD_INPUT, not a crash', async () => {
    const file = tmp.write('one-line.csv', '5'.repeat(50 * 1024 * 1024));
    await expect(openUpload(file)).rejects.toEqual(coded('ERR_BAD_INPUT', { position: { file, line: 1 } }));
  });
});

describe('file problems are ERR_IO', () => {
  it.each([
    ['missing', () => tmp.path('does-not-exist.csv'), 'does not exist'],
    [
      'a directory',
      () => {
        const dir = tmp.path('a-dir');
        mkdirSync(dir);
        return dir;
      },
      'is a directory',
    ],
  ])('%s', async (_n, make, why) => {
    const file = make();
    const error = await openUpload(file).catch((e: unknown) => e);
    expect(error).toEqual(coded('ERR_IO', { file }));
    expect((error as Error).message).toContain(why);
  });

  it.skipIf(process.getuid?.() === 0)('no permission', async () => {
    const file = tmp.write('secret.csv', 'name,phone\n');
    chmodSync(file, 0o000);
    await expect(openUpload(file)).rejects.toEqual(coded('ERR_IO', { syscallCode: 'EACCES' }));
  });

  it('a file removed after opening fails in batches() with ERR_IO', async () => {
    const file = tmp.write('gone.csv', 'name,phone\na,1\n');
    const reader = await openUpload(file);
    rmSync(file);
    await expect(readAll(reader)).rejects.toEqual(coded('ERR_IO', { syscallCode: 'ENOENT' }));
  });
});

describe('abort', () => {
  it('an aborted signal fails openUpload with ERR_ABORTED', async () => {
    const file = tmp.write('abort.csv', 'name,phone\na,1\n');
    await expect(openUpload(file, { signal: AbortSignal.abort() })).rejects.toEqual(coded('ERR_ABORTED'));
  });

  it('aborting while reading stops at the next chunk and closes the file', async () => {
    const rows = Array.from({ length: 2000 }, (_, i) => `n${i},${i}`).join('\n');
    const file = tmp.write('abort-mid.csv', `name,phone\n${rows}\n`);
    const controller = new AbortController();
    const reader = await openUploadWith(
      file,
      { batchSize: 10, signal: controller.signal },
      { chunkBytes: 256 },
    );
    let seen = 0;
    const error = await (async () => {
      for await (const batch of reader.batches()) {
        seen += batch.cells.length;
        controller.abort();
      }
    })().catch((e: unknown) => e);
    expect(error).toEqual(coded('ERR_ABORTED'));
    expect(seen).toBeLessThan(2000);
    expect(reader.bytesRead).toBeLessThan(reader.totalBytes!);
    expect(openDescriptorsOf(file)).toBe(0);
  });

  it.skipIf(!HAS_PROC_FD)('leaving the loop early closes the file', async () => {
    const file = tmp.write('break.csv', 'name,phone\na,1\nb,2\nc,3\n');
    const reader = await openUpload(file, { batchSize: 1 });
    for await (const batch of reader.batches()) {
      expect(openDescriptorsOf(file)).toBe(1);
      expect(batch.cells).toEqual(['1']);
      break;
    }
    expect(openDescriptorsOf(file)).toBe(0);
  });
});

describe('bad options are ERR_INVALID_ARGUMENT naming the option', () => {
  it.each([
    [{ batchSize: 0 }, 'batchSize'],
    [{ batchSize: 1.5 }, 'batchSize'],
    [{ delimiter: '' }, 'delimiter'],
    [{ delimiter: ',,' }, 'delimiter'],
    [{ delimiter: '"' }, 'delimiter'],
    [{ delimiter: '\n' }, 'delimiter'],
    [{ encoding: 'latin9' as 'utf-8' }, 'encoding'],
    [{ phoneColumn: '  ' }, 'phoneColumn'],
    [{ phoneColumn: 'mobile' }, 'phoneColumn'],
  ])('%j', async (options, option) => {
    const file = tmp.write('opts.csv', 'name,phone\na,1\n');
    await expect(openUpload(file, options)).rejects.toEqual(coded('ERR_INVALID_ARGUMENT', { option }));
  });
});
