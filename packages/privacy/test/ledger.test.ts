import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { defaultLedgerPath, FileLedger } from '../src/index.js';

const WORKER = join(import.meta.dirname, 'ledger-worker.ts');

function startWriter(path: string, adv: string, count: number) {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, path, adv, String(count)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  const done = new Promise<{ code: number | null; committed: string[]; err: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, committed: out.split('\n').filter(Boolean), err })),
  );
  return { child, done, committedSoFar: () => out.split('\n').filter(Boolean) };
}

async function ids(path: string, adv: string): Promise<string[]> {
  const seen: string[] = [];
  await new FileLedger(path).transact(adv, 0, ({ entries }) => {
    for (const e of entries) seen.push((e.release as { id: string }).id);
    return { append: null, result: null };
  });
  return seen;
}

describe('the file ledger', () => {
  test('is created once, mode 0600, under $XDG_STATE_HOME/rollcall by default', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledger-'));
    expect(defaultLedgerPath({ XDG_STATE_HOME: dir })).toBe(join(dir, 'rollcall', 'ledger.jsonl'));
    const path = defaultLedgerPath({ XDG_STATE_HOME: dir });
    const ledger = new FileLedger(path);
    let first: Uint8Array | undefined;
    await ledger.transact('a', 0, ({ secret }) => {
      first = secret;
      return { append: null, result: null };
    });
    await ledger.transact('a', 0, ({ secret }) => {
      expect(Buffer.from(secret).equals(Buffer.from(first!))).toBe(true);
      return { append: null, result: null };
    });
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  test('six processes appending at once lose no entry', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ledger-')), 'ledger.jsonl');
    const writers = Array.from({ length: 6 }, () => startWriter(path, 'acme', 25));
    const results = await Promise.all(writers.map((w) => w.done));
    for (const r of results) expect(r.code, r.err).toBe(0);
    const committed = results.flatMap((r) => r.committed);
    expect(committed).toHaveLength(150);
    expect(new Set(await ids(path, 'acme'))).toEqual(new Set(committed));
  });

  test('kill -9 mid-write loses nothing committed, and the ledger stays usable', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ledger-')), 'ledger.jsonl');
    for (let round = 0; round < 3; round++) {
      const w = startWriter(path, 'acme', 100_000);
      // Let it commit some entries, then kill it wherever it is (often inside a write or holding the lock).
      while (w.committedSoFar().length < 20 + round * 7) await new Promise((r) => setTimeout(r, 5));
      w.child.kill('SIGKILL');
      const { committed } = await w.done;
      const present = new Set(await ids(path, 'acme'));
      for (const id of committed) expect(present.has(id)).toBe(true);
    }
    // A torn last line (as power loss may leave) is skipped, and the next append ends it first.
    writeFileSync(path, `${readFileSync(path, 'utf8')}{"t":1,"adv":"acme","ki`);
    const before = (await ids(path, 'acme')).length;
    await new FileLedger(path).transact('acme', 0, () => ({
      append: { t: Date.now(), adv: 'acme', kind: 'reused', release: { id: 'after' } },
      result: null,
    }));
    const after = await ids(path, 'acme');
    expect(after).toHaveLength(before + 1);
    expect(after.at(-1)).toBe('after');
  }, 120_000);

  test('a file that is not a ledger is refused with ERR_LEDGER, and left as it was', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'ledger-')), 'notes.txt');
    writeFileSync(path, 'my notes\n');
    await expect(
      new FileLedger(path).transact('a', 0, () => ({ append: null, result: null })),
    ).rejects.toMatchObject({ code: 'ERR_LEDGER' });
    expect(readFileSync(path, 'utf8')).toBe('my notes\n');
  });
});
