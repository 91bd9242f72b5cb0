/**
 * Issue 15: `applyChanges` (`rollcall index update`) and `refreshAudience` (`rollcall audience
 * refresh`) by example: the semantics of each op, bad rows, the generation and the eligibility
 * log, a log that cannot be trusted, and two updates at once.
 */
import { appendFileSync, readFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes } from '@rollcall/errors';
import { describe, expect, test } from 'vitest';
import {
  applyChanges,
  applyOptOuts,
  eligibilityLogPath,
  inspectIndex,
  openIndex,
  refreshAudience,
  writeIndexFile,
  writeShardedIndexFiles,
} from '../src/index.js';
import { filesIn, keyOf, tempDir, writeText } from './helpers.js';

const A = '+447400100001';
const B = '+447400100002';
const C = '+447400100003';
const D = '+447400100004';
const NEW = '+447400100099';

/** User 42 has A (opted out) and B; user 7 has C; user 9 has D. */
const SOURCE = `phone,user_id,opted_out\n${A},42,true\n${B},42,false\n${C},7,false\n${D},9,false\n`;

async function platform(source = SOURCE) {
  const dir = tempDir();
  const index = join(dir, 'p.idx');
  await writeIndexFile(writeText(dir, 'p.csv', source), index, { builtAt: 1000 });
  let n = 0;
  const update = (...rows: string[]) =>
    applyChanges(index, writeText(dir, `c${n++}.csv`, `op,phone,user_id\n${rows.join('\n')}\n`));
  const probe = async (phone: string) => (await openIndex(index)).probe(keyOf(phone));
  /** `user_id: opted out` of each phone, `-` for absent. */
  const state = async (...phones: string[]) =>
    Promise.all(
      phones.map(async (p) => {
        const h = await probe(p);
        return h === undefined ? '-' : `${h.userId}:${h.optedOut ? 'out' : 'in'}`;
      }),
    );
  return { dir, index, update, probe, state };
}

describe('the ops', () => {
  test('add: a new number, to a new user or to an opted-out user (who stays out)', async () => {
    const p = await platform();
    const r = await p.update(`add,${NEW},5`, `add,+447400100098,42`);
    expect(r).toMatchObject({ added: 2, written: true, generation: 1, usersEligibleAgain: 1 });
    expect(await p.state(NEW, '+447400100098', A, B)).toEqual(['5:in', '42:out', '42:out', '42:out']);
  });

  test('add of an existing number to another user moves it; its opt-out does not follow it', async () => {
    const p = await platform();
    const r = await p.update(`add,${C},9`, `add,${A},11`);
    expect(r).toMatchObject({ moved: 2, usersNoLongerEligible: 1, usersEligibleAgain: 1 });
    // 7 lost its only number; 11 has A with no opt-out of its own; 42 keeps its opt-out on B.
    expect(await p.state(C, A, B, D)).toEqual(['9:in', '11:in', '42:out', '9:in']);
  });

  test('losing the number an opt-out was made on does not end it; an opt-in after the loss does', async () => {
    const p = await platform();
    await p.update(`delete,${A}`);
    expect(await p.state(A, B)).toEqual(['-', '42:out']);
    // The opt-out was carried onto B: opting B in brings 42 back.
    expect(await p.update(`optin,${B}`)).toMatchObject({ optedInNumbers: 1, usersEligibleAgain: 1 });
    expect(await p.state(B)).toEqual(['42:in']);

    const q = await platform();
    // In one change set: the loss, then the person's opt-in: they are back.
    await q.update(`delete,${A}`, `optin,${B}`);
    expect(await q.state(B)).toEqual(['42:in']);
    const s = await platform();
    // The opt-in first, then the loss: the opt-out stays.
    await s.update(`optin,${B}`, `delete,${A}`);
    expect(await s.state(B)).toEqual(['42:out']);
  });

  test('optout and optin: the person is out while any of their numbers is', async () => {
    const p = await platform();
    expect(await p.update(`optout,${C}`, `optin,${A}`, `optout,${B}`)).toMatchObject({
      optedOutNumbers: 2,
      optedInNumbers: 1,
      usersNoLongerEligible: 1,
    });
    expect(await p.state(A, B, C)).toEqual(['42:out', '42:out', '7:out']);
    await p.update(`optin,${B}`);
    expect(await p.state(A, B)).toEqual(['42:in', '42:in']);
  });

  test('a user whose last number is deleted is gone; added again later, they start afresh', async () => {
    const p = await platform();
    expect(await p.update(`delete,${A}`, `delete,${B}`)).toMatchObject({ deleted: 2, entries: 2 });
    expect(await p.state(A, B)).toEqual(['-', '-']);
    await p.update(`add,${NEW},42`);
    expect(await p.state(NEW)).toEqual(['42:in']);
  });

  test('nothing to change (same user, flags already so, phones not held): the file is left byte for byte', async () => {
    const p = await platform();
    const bytes = readFileSync(p.index);
    const r = await p.update(`add,${C},7`, `optout,${A}`, `optin,${D}`, `delete,${NEW}`, `optout,${NEW}`);
    expect(r).toMatchObject({ unchanged: 3, notInIndex: 2, written: false, generation: 0, log: undefined });
    expect(readFileSync(p.index).equals(bytes)).toBe(true);
    expect(filesIn(p.dir)).not.toContain('p.idx.eligibility.log');
  });

  test('ops are case-insensitive, rows apply in order, a phone named twice ends as its last row', async () => {
    const p = await platform();
    await p.update(`ADD,${NEW},5`, `Delete,${NEW}`, `add,${NEW},6`, `optout,${NEW}`, ` optin ,${NEW}`);
    expect(await p.state(NEW)).toEqual(['6:in']);
  });
});

describe('bad change sets', () => {
  test.each([
    ['an unknown op', `merge,${A},`, 2, 1, 'BAD_OP'],
    ['a bad phone', `optout,07400100001,`, 2, 2, 'BAD_PHONE'],
    ['an add without a user id', `add,${NEW},`, 2, 3, 'BAD_USER_ID'],
    ['an add with user id 0', `add,${NEW},0`, 2, 3, 'BAD_USER_ID'],
    ['an add with a user id of 2^64', `add,${NEW},18446744073709551616`, 2, 3, 'BAD_USER_ID'],
    ['a delete naming a user id', `delete,${A},42`, 2, 3, 'UNEXPECTED_USER_ID'],
    ['four cells', `add,${NEW},5,x`, 2, 4, 'WRONG_COLUMN_COUNT'],
    ['one cell', `optout`, 2, 2, 'WRONG_COLUMN_COUNT'],
  ])(
    '%s: InputError at its line and column, nothing applied; --skip-invalid counts it',
    async (_n, row, line, column, problem) => {
      const p = await platform();
      const bytes = readFileSync(p.index);
      const changes = writeText(p.dir, 'bad.csv', `op,phone,user_id\n${row}\noptout,${C},\n`);
      const err = (await applyChanges(p.index, changes).catch((e: unknown) => e)) as Error;
      expect(err).toMatchObject({ code: ErrorCodes.BAD_INPUT, position: { file: changes, line, column } });
      // The message shows no phone number and no user id.
      expect(err.message).not.toMatch(/100001|10009|18446744073709551616|,42/);
      expect(readFileSync(p.index).equals(bytes)).toBe(true);
      const r = await applyChanges(p.index, changes, { skipInvalid: true });
      expect(r).toMatchObject({ rows: 2, skippedRows: 1, optedOutNumbers: 1 });
      expect(r.skipped[problem as keyof typeof r.skipped]).toBe(1);
      expect(await p.state(C)).toEqual(['7:out']);
    },
  );

  test('a wrong header (e.g. the opt-out format) is refused without showing the row', async () => {
    const p = await platform();
    const noHeader = writeText(p.dir, 'h.csv', `add,${NEW},123456789\n`);
    const err = (await applyChanges(p.index, noHeader).catch((e: unknown) => e)) as Error;
    expect(err).toMatchObject({ code: ErrorCodes.BAD_INPUT, position: { line: 1 } });
    expect(err.message).not.toContain('100099');
    expect(err.message).not.toContain('123456789');
    await expect(
      applyChanges(p.index, writeText(p.dir, 'o.csv', `phone,opted_out\n${A},false\n`)),
    ).rejects.toMatchObject({
      code: ErrorCodes.BAD_INPUT,
    });
  });

  test('a missing changes file or index is an I/O error; a corrupt index is refused', async () => {
    const p = await platform();
    await expect(applyChanges(p.index, join(p.dir, 'none.csv'))).rejects.toMatchObject({
      code: ErrorCodes.IO,
    });
    const c = writeText(p.dir, 'c.csv', `op,phone,user_id\noptout,${C},\n`);
    await expect(applyChanges(join(p.dir, 'none.idx'), c)).rejects.toMatchObject({ code: ErrorCodes.IO });
    const bytes = readFileSync(p.index);
    bytes[300]! ^= 0xff;
    writeText(p.dir, 'p.idx', bytes);
    await expect(applyChanges(p.index, c)).rejects.toMatchObject({ code: ErrorCodes.INDEX_CORRUPT });
  });
});

describe('generations, the eligibility log and audience refresh', () => {
  /** An audience file of the given ids (as `match` writes one: ascending, one a line). */
  const audience = (dir: string, name: string, ids: readonly number[]) =>
    writeText(dir, name, ids.map((i) => `${i}\n`).join(''));

  test('each update that changes something advances the generation; refresh removes exactly the users out now', async () => {
    const p = await platform();
    const old = audience(p.dir, 'old.aud', [7, 9]); // matched at generation 0 (42 was out)
    await p.update(`optout,${C}`); // generation 1: 7 out
    const mid = audience(p.dir, 'mid.aud', [9]); // matched at generation 1
    await p.update(`optin,${C}`, `delete,${D}`); // generation 2: 7 back, 9 gone
    expect((await openIndex(p.index)).header.generation).toBe(2);
    expect((await inspectIndex(p.index)).sound).toBe(true);
    const r = await refreshAudience([old, mid], p.index);
    expect(r).toMatchObject({ mode: 'log', generation: 2, removed: 2 });
    expect(r.audiences.map((a) => [a.ids, a.removed, a.kept, a.written])).toEqual([
      [2, 1, 1, true],
      [1, 1, 0, true],
    ]);
    expect(readFileSync(old, 'utf8')).toBe('7\n');
    expect(readFileSync(mid, 'utf8')).toBe('');
    // Refreshing again removes nothing and writes nothing.
    const again = await refreshAudience(old, p.index);
    expect(again).toMatchObject({ removed: 0, audiences: [{ written: false }] });
  });

  test('records an update appended but never committed are ignored, then cut off by the next update', async () => {
    const p = await platform();
    await p.update(`optout,${C}`);
    const log = eligibilityLogPath([p.index]);
    const committed = readFileSync(log);
    // As if an update died after appending (7 made eligible again) but before its rename.
    appendFileSync(log, Buffer.from(Uint32Array.of(7, 0, 2, 2).buffer));
    const aud = audience(p.dir, 'a.aud', [7, 9]);
    expect(await refreshAudience(aud, p.index)).toMatchObject({ mode: 'log', removed: 1 });
    expect(readFileSync(aud, 'utf8')).toBe('9\n');
    await p.update(`delete,${D}`);
    const now = readFileSync(log);
    expect(now.subarray(0, committed.length).equals(committed)).toBe(true);
    expect(now.length).toBe(committed.length + 16);
  });

  test('a log of another build, or an audience older than the build, is refreshed by a scan', async () => {
    const p = await platform();
    await p.update(`optout,${C}`);
    const aud = audience(p.dir, 'a.aud', [7, 9, 42, 123]);
    // Older than the build: it may come from another index; a scan checks every id.
    utimesSync(aud, 0, 0);
    const r = await refreshAudience(aud, p.index);
    expect(r.mode).toBe('scan');
    expect(r.why).toContain('older than this build');
    expect(readFileSync(aud, 'utf8')).toBe('9\n');
    // Rebuilt (another build time): the log is the old build's; auto scans, --log-only refuses.
    await writeIndexFile(writeText(p.dir, 'p2.csv', SOURCE.replace(`${C},7,false`, `${C},7,true`)), p.index, {
      builtAt: 2000,
    });
    const aud2 = audience(p.dir, 'b.aud', [7, 9]);
    await expect(refreshAudience(aud2, p.index, { mode: 'log' })).resolves.toMatchObject({
      mode: 'log',
      removed: 0,
    });
    await p.update(`delete,${D}`);
    // The update replaced the old build's log with a fresh one of this build.
    expect(await refreshAudience(aud2, p.index)).toMatchObject({ mode: 'log', removed: 1 });
    expect(readFileSync(aud2, 'utf8')).toBe('7\n');
    // (7 was out in the rebuilt source: only a scan, which trusts no log, finds it.)
    expect(await refreshAudience(aud2, p.index, { mode: 'scan' })).toMatchObject({ removed: 1 });
    expect(readFileSync(aud2, 'utf8')).toBe('');
  });

  test('a log that no longer reaches back to the build is not trusted', async () => {
    const p = await platform();
    await p.update(`optout,${C}`);
    const log = eligibilityLogPath([p.index]);
    writeText(p.dir, 'p.idx.eligibility.log', Buffer.alloc(0));
    await p.update(`delete,${D}`); // finds the log gone: starts a fresh one after generation 1
    expect(readFileSync(log).length).toBe(64 + 16);
    const aud = audience(p.dir, 'a.aud', [7, 9]);
    await expect(refreshAudience(aud, p.index, { mode: 'log' })).rejects.toMatchObject({
      code: ErrorCodes.INVALID_ARGUMENT,
    });
    expect(await refreshAudience(aud, p.index)).toMatchObject({ mode: 'scan', removed: 2 });
  });

  test('index optout advances the generation and logs too', async () => {
    const p = await platform();
    await applyOptOuts(p.index, writeText(p.dir, 'o.csv', `phone,opted_out\n${D},true\n`));
    const aud = audience(p.dir, 'a.aud', [7, 9]);
    expect(await refreshAudience(aud, p.index, { mode: 'log' })).toMatchObject({ generation: 1, removed: 1 });
    expect(readFileSync(aud, 'utf8')).toBe('7\n');
  });

  test('a file that is not an audience refuses the run at its line, without showing it; nothing is written', async () => {
    const p = await platform();
    await p.update(`optout,${C}`);
    const good = audience(p.dir, 'g.aud', [7, 9]);
    const bad = writeText(p.dir, 'b.aud', `9\n${A}\n`);
    const err = (await refreshAudience([good, bad], p.index).catch((e: unknown) => e)) as Error;
    expect(err).toMatchObject({ code: ErrorCodes.BAD_INPUT, position: { file: bad, line: 2 } });
    expect(err.message).not.toContain('100001');
    expect(readFileSync(good, 'utf8')).toBe('7\n9\n');
    await expect(refreshAudience(p.index, p.index)).rejects.toMatchObject({
      code: ErrorCodes.INVALID_ARGUMENT,
    });
    await expect(refreshAudience([good, good], p.index)).rejects.toMatchObject({
      code: ErrorCodes.INVALID_ARGUMENT,
    });
  });
});

describe('sharded indexes and concurrent updates', () => {
  test('a sharded update routes each change to its shard; the generation and log are the whole index’s', async () => {
    const dir = tempDir();
    const rows = Array.from(
      { length: 60 },
      (_, i) => `+4474001${String(i).padStart(5, '0')},${(i % 20) + 1},false`,
    );
    const built = await writeShardedIndexFiles(
      writeText(dir, 's.csv', `phone,user_id,opted_out\n${rows.join('\n')}\n`),
      join(dir, 'sh'),
      {
        shardCount: 4,
      },
    );
    const changes = writeText(
      dir,
      'c.csv',
      `op,phone,user_id\noptout,+447400100000,\ndelete,+447400100001,\nadd,+447400199999,77\n`,
    );
    const r = await applyChanges(built.files[2]!, changes);
    expect(r).toMatchObject({ optedOutNumbers: 1, deleted: 1, added: 1, generation: 1, entries: 60 });
    expect(r.log).toBe(join(dir, 'sh.shards-of-4.eligibility.log'));
    // User 1 (numbers 0, 20, 40 in any shard) is out; user 77 is new.
    const aud = writeText(dir, 'a.aud', '1\n2\n3\n77\n');
    expect(await refreshAudience(aud, built.files[0]!)).toMatchObject({
      mode: 'log',
      generation: 1,
      removed: 1,
    });
    expect(readFileSync(aud, 'utf8')).toBe('2\n3\n77\n');
    for (const f of built.files) expect((await inspectIndex(f)).sound).toBe(true);
  });

  test('two updates at once lose nothing: they run one after the other on the update lock', async () => {
    const dir = tempDir();
    const rows = Array.from(
      { length: 500 },
      (_, i) => `+4474002${String(i).padStart(5, '0')},${i + 1},false`,
    );
    const index = join(dir, 'i.idx');
    await writeIndexFile(writeText(dir, 'i.csv', `phone,user_id,opted_out\n${rows.join('\n')}\n`), index);
    // Each adds 300 numbers (together they grow the table) and opts out its own 50.
    const set = (w: number) =>
      writeText(
        dir,
        `c${w}.csv`,
        `op,phone,user_id\n${Array.from({ length: 300 }, (_, i) => `add,+4474003${w}${String(i).padStart(4, '0')},${10_000 + w * 1000 + i}`).join('\n')}\n${Array.from(
          { length: 50 },
          (_, i) => `optout,+4474002${String(w * 100 + i).padStart(5, '0')},`,
        ).join('\n')}\n`,
      );
    const reports = await Promise.all([applyChanges(index, set(0)), applyChanges(index, set(1))]);
    expect(reports.map((r) => r.generation).sort()).toEqual([1, 2]);
    const after = await openIndex(index);
    expect(after.header).toMatchObject({ entries: 1100, optedOut: 100, generation: 2 });
    let lost = 0;
    for (let w = 0; w < 2; w++) {
      for (let i = 0; i < 300; i++)
        if (after.probe(keyOf(`+4474003${w}${String(i).padStart(4, '0')}`)) === undefined) lost++;
      for (let i = 0; i < 50; i++)
        if (!after.probe(keyOf(`+4474002${String(w * 100 + i).padStart(5, '0')}`))?.optedOut) lost++;
    }
    expect(lost, 'changes lost').toBe(0);
    expect(filesIn(dir).filter((f) => !f.endsWith('.csv'))).toEqual(['i.idx', 'i.idx.eligibility.log']);
  });
});
