import { buildIndexFromRows } from '@rollcall/index';
import { describe, expect, test } from 'vitest';
import { matchUpload } from '../src/index.js';

const GB = ['+447400123451', '+447400123452', '+447400123453', '+447400123454', '+447400123455'];
const DE = ['+4915123456781', '+4915123456782', '+4915123456783'];
const KE = ['+254712345671'];
const IN = ['+919812345671', '+919812345672'];

async function byCountry(cells: string[], minAudience: number) {
  const { reader } = await buildIndexFromRows(
    [...GB, ...DE, ...KE, ...IN].map((phone, i) => ({ phone, userId: BigInt(i + 1), optedOut: false })),
  );
  const { report, audit } = await matchUpload({
    index: reader,
    upload: cells,
    defaultCountry: 'GB',
    minAudience,
    threads: 1,
  });
  // Released (a protected estimate) or withheld (null), and the exact counts the operator sees.
  const shown = Object.fromEntries(
    (report.by_country ?? []).map((c) => [c.country, c.matched === null ? null : 'estimate']),
  );
  const exact = Object.fromEntries((audit.by_country ?? []).map((c) => [c.country, c.matched]));
  return { shown, exact };
}

describe('per-country matched counts keep the minimum-audience floor', () => {
  test('a country with fewer distinct numbers than the floor is withheld; larger ones are released', async () => {
    const counts = await byCountry([...GB, ...DE, ...KE, ...IN], 3);
    expect(counts.shown).toEqual({ GB: 'estimate', DE: 'estimate', KE: null, IN: null });
    expect(counts.exact).toEqual({ GB: 5, DE: 3, KE: 1, IN: 2 });
  });

  test('when the withheld countries together are below the floor, every country is withheld', async () => {
    // KE alone is withheld, and total − released would give KE's matched count: so nothing is released.
    const counts = await byCountry([...GB, ...DE, ...KE], 3);
    expect(counts.shown).toEqual({ GB: null, DE: null, KE: null });
  });

  test('with a floor of 1 every country is released', async () => {
    const counts = await byCountry([...GB, ...KE], 1);
    expect(counts.shown).toEqual({ GB: 'estimate', KE: 'estimate' });
    expect(counts.exact).toEqual({ GB: 5, KE: 1 });
  });
});
