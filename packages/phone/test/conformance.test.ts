import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  assertCountry,
  normalizeBatch,
  normalizePhone,
  normalizePhoneReference,
  reasonCode,
} from '../src/index.js';

// The conformance truth: for each upload row, the E.164 Google's reference libphonenumber gives
// (or null for a reject). Known by construction, not computed by this package.
const EXPECTED = new URL('../../../fixtures/conformance/expected/', import.meta.url);

interface Upload {
  name: string;
  country: string;
  counts: { rows: number; valid: number; invalid: number };
  rows: [cell: string, e164: string | null][];
}

const uploads: Upload[] = readdirSync(EXPECTED)
  .filter((file) => file.endsWith('.truth.jsonl'))
  .sort()
  .map((file) => {
    const name = file.slice(0, -'.truth.jsonl'.length);
    const meta = JSON.parse(readFileSync(new URL(`${name}.json`, EXPECTED), 'utf8')) as {
      default_country: string;
      rows: number;
      valid: number;
      invalid: number;
    };
    const rows = readFileSync(new URL(file, EXPECTED), 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as [string, string | null]);
    const counts = { rows: meta.rows, valid: meta.valid, invalid: meta.invalid };
    return { name, country: meta.default_country, counts, rows };
  });

describe('conformance truth', () => {
  it('has the four uploads', () => {
    expect(uploads.map((u) => u.name)).toEqual(['br-store', 'de-clinic', 'ke-shop', 'mx-tiny']);
  });

  describe.each(uploads)('$name', ({ country, counts, rows }) => {
    const defaultCountry = assertCountry(country);

    it('truth rows match the report counts', () => {
      const valid = rows.filter(([, e164]) => e164 !== null).length;
      expect({ rows: rows.length, valid, invalid: rows.length - valid }).toEqual(counts);
    });

    it('agrees with the reference on every row', () => {
      const disagreements = rows.flatMap(([cell, expected], i) => {
        const result = normalizePhone(cell, { defaultCountry });
        const reference = normalizePhoneReference(cell, { defaultCountry });
        const got = result.ok ? result.e164 : null;
        const ref = reference.ok ? reference.e164 : null;
        return got === expected && ref === expected ? [] : [{ row: i + 1, cell, expected, got, ref }];
      });
      expect(disagreements).toEqual([]);
    });

    it('gives the same in a batch', () => {
      const cells = rows.map(([cell]) => cell);
      const { keys, reasons } = normalizeBatch(cells, { defaultCountry });
      cells.forEach((cell, i) => {
        const single = normalizePhone(cell, { defaultCountry });
        expect([keys[i], reasons[i]]).toEqual(single.ok ? [single.key, 0] : [0, reasonCode(single.reason)]);
      });
    });
  });
});
