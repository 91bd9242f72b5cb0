/**
 * Issue 16, item 2, through the CLI: an opt-out is the person's, not the number's. A user with two
 * numbers, opted out on one, is never put in an audience by an upload holding only the other one:
 * with a built index file, with the CSV index loaded in memory, and after `index optout`.
 * Assertions are booleans with a plain-words message: a failure shows no number and no user id.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import {
  matchInProcess,
  outputPath,
  removeScratchDirs,
  rollcallInProcess,
  scratchDir,
  writeUpload,
} from './helpers.js';

afterAll(removeScratchDirs);

/** Exactly the example of the issue. */
const EXAMPLE = 'phone,user_id,opted_out\n+447400123456,42,false\n+447400123457,42,true\n';

function files(indexCsv: string, upload: string[]) {
  const dir = scratchDir('rollcall-user-optout-');
  const csv = join(dir, 'index.csv');
  writeFileSync(csv, indexCsv);
  const up = writeUpload(dir, `phone\n${upload.join('\n')}\n`);
  return { dir, csv, up, idx: join(dir, 'index.idx'), out: outputPath(dir, 'audience') };
}

/** A match of `upload` against `index`, its audience (if released) in `dir`. */
function match(index: string, upload: string, dir: string) {
  return matchInProcess({ index, upload, dir, outputs: [], threads: null });
}

describe('the issue’s example: uploading only the number that did not opt out', () => {
  test('built index file: no audience (user 42 is out), exit 3', async () => {
    const f = files(EXAMPLE, ['+447400123456']);
    expect((await rollcallInProcess(['index', 'build', f.csv, '-o', f.idx, '--quiet'])).status).toBe(0);
    const run = await match(f.idx, f.up, f.dir);
    // An empty audience is below any floor: suppressed, and no audience file is written.
    expect(run.status, 'suppressed: the only matched user opted out').toBe(3);
    expect(existsSync(f.out), 'no audience file').toBe(false);
  });

  test('CSV index loaded in memory: the same', async () => {
    const f = files(EXAMPLE, ['+447400123456']);
    const run = await match(f.csv, f.up, f.dir);
    expect(run.status, 'suppressed: the only matched user opted out').toBe(3);
    expect(existsSync(f.out), 'no audience file').toBe(false);
  });

  test('beside another user, the audience is that user alone', async () => {
    const f = files(`${EXAMPLE}+447400123458,7,false\n`, ['+447400123456', '07400 123458']);
    for (const index of [f.csv, f.idx]) {
      if (index === f.idx) await rollcallInProcess(['index', 'build', f.csv, '-o', f.idx, '--quiet']);
      const run = await match(index, f.up, f.dir);
      expect(run.status).toBe(0);
      expect(readFileSync(f.out, 'utf8') === '7\n', 'the audience is the other user alone').toBe(true);
    }
  });

  test('after `index optout` of the other number: the user is out', async () => {
    const f = files(EXAMPLE.replace(/true/, 'false'), ['+447400123456']);
    await rollcallInProcess(['index', 'build', f.csv, '-o', f.idx, '--quiet']);
    const changes = join(f.dir, 'changes.csv');
    writeFileSync(changes, 'phone,opted_out\n+447400123457,true\n');
    const opt = await rollcallInProcess(['index', 'optout', f.idx, changes]);
    expect(opt.status).toBe(0);
    const run = await match(f.idx, f.up, f.dir);
    expect(run.status, 'suppressed: the only matched user opted out').toBe(3);
    expect(existsSync(f.out), 'no audience file').toBe(false);
    // The run says what it did to users, and the count it leaves in the header is of numbers.
    expect(opt.stdout).toMatch(/users out\s+1 newly opted out, 0 back in/);
    expect(opt.stdout).toMatch(/opted out now\s+2 numbers/);
  });
});
