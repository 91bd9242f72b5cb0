/**
 * Rows per batch (issue 14, item 7): a batch of several phone columns holds no more phone cells
 * than a one-column batch of the same size would, unless the size asked for is small.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_BATCH_SIZE, openUpload } from '../src/index.js';
import { batchRows } from '../src/options.js';
import { readAll, tempDir } from './helpers.js';

const tmp = tempDir();

describe('batchRows', () => {
  it.each([
    // [batchSize, width, rows]
    [DEFAULT_BATCH_SIZE, 1, DEFAULT_BATCH_SIZE],
    [1, 1, 1],
    [262_144, 1, 262_144],
    [DEFAULT_BATCH_SIZE, 3, 2730],
    [DEFAULT_BATCH_SIZE, 2, 4096],
    [5000, 3, 2730],
    [2, 3, 2],
    [2730, 3, 2730],
    [30_000, 3, 10_000],
    [DEFAULT_BATCH_SIZE, 10_000, 1],
    [1, 10_000, 1],
  ])('batchSize %i, %i phone cells a row: %i rows', (batchSize, width, rows) => {
    expect(batchRows(batchSize, width)).toBe(rows);
  });
});

describe('batches of several phone columns', () => {
  it('hold at most the cells of a default one-column batch, in whole rows, all read', async () => {
    const rows = 10_000;
    const lines = ['Phone,Mobile,Work Phone'];
    for (let r = 0; r < rows; r++) lines.push(`0740${r},0741${r},0742${r}`);
    const reader = await openUpload(tmp.write('three.csv', `${lines.join('\n')}\n`));
    const got = await readAll(reader);
    expect(got.batchSizes).toEqual([2730, 2730, 2730, 1810]);
    expect(got.cells.length).toBe(3 * rows);
    expect(got.cells.slice(-3)).toEqual([`0740${rows - 1}`, `0741${rows - 1}`, `0742${rows - 1}`]);
    expect(got.lines).toEqual(Array.from({ length: rows }, (_, r) => r + 2));
  });

  it('leave one column as batchSize says', async () => {
    const lines = ['phone'];
    for (let r = 0; r < 10_000; r++) lines.push(`0740${r}`);
    const file = tmp.write('one.csv', `${lines.join('\n')}\n`);
    expect((await readAll(await openUpload(file))).batchSizes).toEqual([DEFAULT_BATCH_SIZE, 1808]);
    expect((await readAll(await openUpload(file, { batchSize: 9000 }))).batchSizes).toEqual([9000, 1000]);
  });
});
