/**
 * Load: a large upload streams through the CLI in bounded memory. Scaled for CI: a million rows,
 * ~230 MB, matched under a 64 MB V8 heap (main thread and workers). An implementation that held the
 * file, or anything proportional to it, could not finish. The 10M-row figures are in SECURITY.md.
 */
import { once } from 'node:events';
import { createWriteStream, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import {
  makePlatform,
  matchArgs,
  readJsonOutput,
  removeScratchDirs,
  rollcallPeakRss,
  scratchDir,
} from './helpers.js';

afterAll(removeScratchDirs);

const ROWS = 1_000_000;
const HEAP_MIB = 64;
/** Above what this run needs (~200–240 MiB, most of it code and metadata), below file + baseline. */
const PEAK_RSS_BOUND_MIB = 384;

/** Writes `rows` upload rows of ~230 bytes: a note column, and a phone that is valid one row in ten. */
async function writeWideUpload(path: string, rows: number, phones: readonly string[]): Promise<void> {
  const out = createWriteStream(path);
  const note = 'n'.repeat(200);
  let chunk = 'id,notes,Phone Number,email\n';
  for (let i = 0; i < rows; i++) {
    const phone = i % 10 === 0 ? phones[(i / 10) % phones.length]! : i % 10 === 1 ? 'N/A' : '';
    chunk += `${i},${note},${phone},c${i}@example.com\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
}

describe('a large upload streams in bounded memory', () => {
  test(`${ROWS.toLocaleString('en-US')} rows (~230 MB) match under a ${HEAP_MIB} MB heap, peak RSS < ${PEAK_RSS_BOUND_MIB} MiB`, async () => {
    const platform = await makePlatform({ entries: 5000, seed: 51 });
    const dir = scratchDir();
    const upload = join(dir, 'wide.csv');
    await writeWideUpload(
      upload,
      ROWS,
      platform.entries.map((e) => e.phone),
    );
    const fileMiB = statSync(upload).size / 2 ** 20;
    // The file must dwarf the heap, or the test would prove nothing.
    expect(fileMiB).toBeGreaterThan(3 * HEAP_MIB);
    const r = rollcallPeakRss(
      matchArgs({ index: platform.indexFile, upload, dir, outputs: ['report'], threads: 2 }),
      { nodeArgs: [`--max-old-space-size=${HEAP_MIB}`] },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const report = readJsonOutput(dir, 'report');
    expect(report.rows).toBe(ROWS);
    expect(report.valid).toBe(ROWS / 10);
    expect(report.invalid_by_reason).toMatchObject({ EMPTY: (ROWS * 8) / 10, NOT_A_NUMBER: ROWS / 10 });
    expect(report.unique).toBe(5000);
    expect(r.peakRssMiB).toBeLessThan(PEAK_RSS_BOUND_MIB);
    console.info(
      `load: ${ROWS} rows, ${fileMiB.toFixed(0)} MiB file, ${HEAP_MIB} MiB heap cap: peak RSS ${r.peakRssMiB.toFixed(0)} MiB`,
    );
  });
});
