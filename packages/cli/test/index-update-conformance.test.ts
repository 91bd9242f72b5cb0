/**
 * Issue 15 through the real CLI, on the round-2 conformance set (fixtures/conformance/round2,
 * known by construction): a day of changes applied by `index update` gives exactly the audience
 * the set expects, and `audience refresh` of an audience made before the changes removes exactly
 * the users no longer eligible. Nothing printed shows a phone number or a user id.
 */
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { ROOT, rollcall, tempDir } from './helpers.js';

const SET = join(ROOT, 'fixtures/conformance');
const ROUND2 = join(SET, 'round2');

/** Every phone number and user id of the set's files that a message might leak. */
function secrets(): string[] {
  const out = new Set<string>();
  for (const line of readFileSync(join(ROUND2, 'changes.csv'), 'utf8').split('\n').slice(1)) {
    const [, phone, id] = line.split(',');
    if (phone) out.add(phone.slice(1));
    if (id) out.add(id.trim());
  }
  for (const f of [join(SET, 'expected/ke-shop.audience'), join(ROUND2, 'ke-shop-after.audience')]) {
    for (const id of readFileSync(f, 'utf8').split('\n')) if (id) out.add(id);
  }
  return [...out];
}

function expectNoSecrets(text: string): void {
  const leaked = secrets().filter((s) => text.includes(s)).length;
  expect(leaked, 'phone numbers or user ids printed').toBe(0);
}

function matchKeShop(index: string, out: string) {
  return rollcall([
    'match',
    '--index',
    index,
    '--upload',
    join(SET, 'uploads/ke-shop.csv'),
    '--country',
    'KE',
    '--out',
    out,
    '--min-audience',
    '1',
    '--quiet',
  ]);
}

describe('round 2: a day of changes', () => {
  const dir = tempDir();
  const index = join(dir, 'platform.idx');

  test('index build, index update: the KE shop audience is ke-shop-after.audience, byte for byte', () => {
    const built = rollcall(['index', 'build', join(SET, 'index.csv'), '-o', index, '--quiet']);
    expect(built.status, built.stderr).toBe(0);
    const updated = rollcall(['index', 'update', index, join(ROUND2, 'changes.csv')]);
    expect(updated.stderr).toBe('');
    expect(updated.status).toBe(0);
    expect(updated.stdout).toMatch(/added\s+300 numbers new/);
    expect(updated.stdout).toMatch(/moved\s+100 numbers/);
    expect(updated.stdout).toMatch(/deleted\s+200/);
    expect(updated.stdout).toMatch(/600 no longer eligible, 600 eligible again/);
    expect(updated.stdout).toMatch(/generation\s+1/);
    expectNoSecrets(updated.stdout);
    const out = join(dir, 'after.audience');
    const m = matchKeShop(index, out);
    expect(m.status, m.stderr).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(join(ROUND2, 'ke-shop-after.audience'), 'utf8'));
    const inspect = rollcall(['index', 'inspect', index]);
    expect(inspect.status).toBe(0);
    expect(inspect.stdout).toMatch(/generation\s+1, updated/);
  });

  test.each([
    ['from the eligibility log', [], /from\s+the eligibility log/],
    ['by a scan of the index (--full)', ['--full'], /from\s+a scan of the index was asked for/],
  ])('audience refresh %s: ke-shop.audience becomes ke-shop-refreshed.audience', (_n, flags, how) => {
    const audience = join(dir, `ke-shop-${flags.length}.audience`);
    copyFileSync(join(SET, 'expected/ke-shop.audience'), audience);
    const r = rollcall(['audience', 'refresh', audience, '--index', index, ...flags]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('600 of 765 ids removed (no longer eligible), 165 kept');
    expect(r.stdout).toMatch(how);
    expectNoSecrets(r.stdout);
    expect(readFileSync(audience, 'utf8')).toBe(
      readFileSync(join(ROUND2, 'ke-shop-refreshed.audience'), 'utf8'),
    );
  });

  test('audience refresh --out writes one audience elsewhere and leaves the original', () => {
    const audience = join(dir, 'keep.audience');
    copyFileSync(join(SET, 'expected/ke-shop.audience'), audience);
    const out = join(dir, 'refreshed.audience');
    const r = rollcall(['audience', 'refresh', audience, '--index', index, '--out', out, '--quiet']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(join(ROUND2, 'ke-shop-refreshed.audience'), 'utf8'));
    expect(readFileSync(audience, 'utf8')).toBe(readFileSync(join(SET, 'expected/ke-shop.audience'), 'utf8'));
    // --out with two audiences is refused: it names one file.
    const two = rollcall(['audience', 'refresh', audience, audience, '--index', index, '--out', out]);
    expect(two.status).toBe(2);
  });

  test('a bad row refuses the whole change set, naming file and line (exit 2); --skip-invalid applies the rest', () => {
    const d = tempDir();
    const idx = join(d, 'p.idx');
    expect(rollcall(['index', 'build', join(SET, 'index.csv'), '-o', idx, '--quiet']).status).toBe(0);
    const before = readFileSync(idx);
    const good = readFileSync(join(ROUND2, 'changes.csv'), 'utf8').trimEnd().split('\n');
    // Line 6: an add with no user id; line 9: an opt-out that names a user id.
    const bad = [
      ...good.slice(0, 5),
      'add,+254712000999,',
      ...good.slice(5, 7),
      `optout,${good[1]!.split(',')[1]},42`,
      ...good.slice(7),
    ];
    const changes = join(d, 'bad.csv');
    writeFileSync(changes, `${bad.join('\n')}\n`);
    const r = rollcall(['index', 'update', idx, changes]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${changes}:6:3`);
    expect(r.stderr).toContain('[ERR_BAD_INPUT]');
    expectNoSecrets(r.stderr);
    expect(readFileSync(idx).equals(before)).toBe(true);
    const skip = rollcall(['index', 'update', idx, changes, '--skip-invalid']);
    expect(skip.status, skip.stderr).toBe(0);
    expect(skip.stdout).toMatch(/skipped\s+2/);
    expect(skip.stdout).toMatch(/BAD_USER_ID\s+1/);
    expect(skip.stdout).toMatch(/UNEXPECTED_USER_ID\s+1/);
    const out = join(d, 'after.audience');
    expect(matchKeShop(idx, out).status).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(join(ROUND2, 'ke-shop-after.audience'), 'utf8'));
  });
});
