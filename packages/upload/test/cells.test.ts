import { describe, expect, it } from 'vitest';
import { uploadFromCells } from '../src/index.js';
import { coded, readAll } from './helpers.js';

describe('uploadFromCells', () => {
  it.each([1, 2, 5, 8192])(
    'batchSize %i: the cells in order, lines as under a header, none malformed',
    async (batchSize) => {
      const cells = ['+44 7400 123456', '', 'tel:+1-202-555-0100', 'x', '0'];
      const reader = uploadFromCells(cells, { batchSize });
      expect(reader).toMatchObject({ file: '<cells>', headers: ['phone'], phoneColumn: 0, encoding: null });
      const rows = await readAll(reader);
      expect(rows.cells).toEqual(cells);
      expect(rows.lines).toEqual([2, 3, 4, 5, 6]);
      expect(rows.malformed).toEqual([0, 0, 0, 0, 0]);
      expect(Math.max(...rows.batchSizes)).toBeLessThanOrEqual(batchSize);
    },
  );

  it('no cells: no batches', async () => {
    expect((await readAll(uploadFromCells([]))).batchSizes).toEqual([]);
  });

  it.each([
    [() => uploadFromCells('123' as unknown as string[]), 'cells'],
    [() => uploadFromCells([], { batchSize: 0 }), 'batchSize'],
  ])('bad arguments are ERR_INVALID_ARGUMENT (%#)', (call, option) => {
    expect(call).toThrow(coded('ERR_INVALID_ARGUMENT', { option }) as Error);
  });

  it('a cell that is not a string is ERR_INVALID_ARGUMENT when read', async () => {
    await expect(readAll(uploadFromCells(['1', 2 as unknown as string]))).rejects.toEqual(
      coded('ERR_INVALID_ARGUMENT', { option: 'cells' }),
    );
  });
});
