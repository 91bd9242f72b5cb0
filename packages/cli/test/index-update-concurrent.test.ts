/**
 * Issue 15 through the real CLI: readers never see half an update, and updates at once lose
 * nothing. A match that runs while `index update` rewrites the index gets the audience of the old
 * index or of the new one, never a mix (the update renames a whole new file into place); reads
 * of the index in a loop during the update see one or the other, every time. Four `index update`
 * processes at once, each with its own adds and opt-outs, serialise on the index's update lock.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyChanges, openIndex } from '@rollcall/index';
import type { PhoneKey } from '@rollcall/phone';
import { afterAll, describe, expect, test } from 'vitest';
import {
  makePlatform,
  matchArgs,
  outputPath,
  removeScratchDirs,
  rollcall,
  rollcallStart,
  writeUpload,
} from './helpers.js';

afterAll(removeScratchDirs);

const keyOf = (phone: string) => Number(phone.slice(1)) as PhoneKey;

/** The audience an index gives an upload of `phones`: users of the hits not opted out, ascending. */
async function audienceOf(indexFile: string, phones: readonly string[]): Promise<string> {
  const reader = await openIndex(indexFile);
  const ids = new Set<bigint>();
  for (const p of phones) {
    const hit = reader.probe(keyOf(p));
    if (hit !== undefined && !hit.optedOut) ids.add(hit.userId);
  }
  return [...ids]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((id) => `${id}\n`)
    .join('');
}

describe('index update beside readers', () => {
  test('a match and repeated loads during an update see the old index or the new one, never a mix', async () => {
    const platform = await makePlatform({ entries: 150_000, seed: 15 });
    const { dir, entries, indexFile } = platform;
    // A change set touching numbers all over the table: opt-outs, deletes, moves and adds.
    const rows: string[] = [];
    entries.slice(0, 60_000).forEach((e, i) => {
      if (i % 3 === 0) rows.push(`optout,${e.phone},`);
      else if (i % 3 === 1) rows.push(`delete,${e.phone}`);
      else rows.push(`add,${e.phone},${900_000_000 + i}`);
    });
    for (let i = 0; i < 20_000; i++)
      rows.push(`add,+4474009${String(i).padStart(5, '0')},${800_000_000 + i}`);
    const changes = join(dir, 'changes.csv');
    writeFileSync(changes, `op,phone,user_id\n${rows.join('\n')}\n`);
    // The upload: numbers changed and not, spread over the file, and new ones.
    const upload = [
      ...entries.filter((_, i) => i % 50 === 0).map((e) => e.phone),
      ...Array.from({ length: 400 }, (_, i) => `+4474009${String(i * 50).padStart(5, '0')}`),
    ];
    const uploadFile = writeUpload(dir, `Phone Number\n${upload.join('\n')}\n`);
    // The old and the new audience, from a copy updated in this process.
    const copy = join(dir, 'copy.idx');
    copyFileSync(indexFile, copy);
    await applyChanges(copy, changes);
    const oldAudience = await audienceOf(indexFile, upload);
    const newAudience = await audienceOf(copy, upload);
    expect(newAudience).not.toBe(oldAudience);

    const out = outputPath(dir, 'audience');
    const matchOfUpload = matchArgs({
      index: indexFile,
      upload: uploadFile,
      dir,
      outputs: [],
      threads: null,
    });
    const update = rollcallStart(['index', 'update', indexFile, changes, '--quiet']);
    const match = rollcallStart(matchOfUpload);
    let running = true;
    void update.done.then(() => {
      running = false;
    });
    const seen = { old: 0, new: 0, other: 0 };
    while (running) {
      const a = await audienceOf(indexFile, upload);
      if (a === oldAudience) seen.old++;
      else if (a === newAudience) seen.new++;
      else seen.other++;
    }
    const u = await update.done;
    expect(u.stderr).toBe('');
    expect(u.status).toBe(0);
    const m = await match.done;
    expect(m.status, m.stderr).toBe(0);
    expect(seen.other, 'reads that saw a mix').toBe(0);
    expect(seen.old + seen.new).toBeGreaterThan(0);
    expect([oldAudience, newAudience]).toContain(readFileSync(out, 'utf8'));
    expect(await audienceOf(indexFile, upload)).toBe(newAudience);
    // A match started after the update ends gets the new audience.
    const after = rollcall(matchOfUpload);
    expect(after.status, after.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(newAudience);
  }, 300_000);

  test('four updates at once, each with its own adds and opt-outs: every change is there', async () => {
    const platform = await makePlatform({ entries: 4000, seed: 16 });
    const { dir, entries, indexFile } = platform;
    const free = entries.filter((e) => !e.optedOut);
    const writers = 4;
    const sets = Array.from({ length: writers }, (_, w) => {
      const adds = Array.from({ length: 500 }, (_, i) => `+4474008${w}${String(i).padStart(4, '0')}`);
      const outs = free.slice(w * 100, (w + 1) * 100).map((e) => e.phone);
      const path = join(dir, `c${w}.csv`);
      writeFileSync(
        path,
        `op,phone,user_id\n${adds.map((p, i) => `add,${p},${700_000_000 + w * 1000 + i}`).join('\n')}\n${outs.map((p) => `optout,${p},`).join('\n')}\n`,
      );
      return { path, adds, outs };
    });
    const runs = sets.map((s) => rollcallStart(['index', 'update', indexFile, s.path, '--quiet']));
    for (const r of runs) {
      const done = await r.done;
      expect(done.status, done.stderr).toBe(0);
    }
    const reader = await openIndex(indexFile);
    expect(reader.header.generation).toBe(writers);
    let lost = 0;
    for (const s of sets) {
      for (const p of s.adds) if (reader.probe(keyOf(p)) === undefined) lost++;
      for (const p of s.outs) if (reader.probe(keyOf(p))?.optedOut !== true) lost++;
    }
    expect(lost, 'changes lost').toBe(0);
    // An added phone the generated platform already held moved to its new user instead.
    const held = new Set(entries.map((e) => e.phone));
    const fresh = sets.reduce((n, s) => n + s.adds.filter((p) => !held.has(p)).length, 0);
    expect(reader.header.entries).toBe(entries.length + fresh);
  }, 300_000);
});
