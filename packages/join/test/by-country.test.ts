/**
 * `by_country`: each distinct valid number counted under the region libphonenumber-js gives its
 * E.164 form, and its matched count withheld with the totals when the match is suppressed.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import examples from 'libphonenumber-js/examples.mobile.json';
import { type CountryCode, getCountryCallingCode, parsePhoneNumber } from 'libphonenumber-js/max';
import metadata from 'libphonenumber-js/metadata.max.json';
import { describe, expect, test } from 'vitest';
import { matchUpload } from '../src/index.js';
import { CountryCounter, countByCountry, NON_GEOGRAPHIC_REGION } from '../src/regions.js';

const SET = resolve(import.meta.dirname, '../../../fixtures/conformance');

/** The reference: libphonenumber-js's own answer for the E.164 number. */
function referenceRegion(key: number): string | null {
  const parsed = parsePhoneNumber(`+${key}`);
  if (parsed.country !== undefined) return parsed.country;
  const code = parsed.countryCallingCode;
  return (metadata.nonGeographic as Record<string, unknown>)[code] !== undefined
    ? NON_GEOGRAPHIC_REGION
    : null;
}

function regionOfKey(key: number): string | null {
  const counter = new CountryCounter();
  counter.add(key, false);
  return counter.counts()[0]!.country;
}

const callingCodes = metadata.country_calling_codes as Record<string, string[]>;
const sharedRegions = Object.values(callingCodes)
  .filter((regions) => regions.length > 1)
  .flat() as CountryCode[];

describe('the country of a number', () => {
  test.each(sharedRegions.filter((r) => (examples as Record<string, string>)[r] !== undefined))(
    '%s: example numbers, their last digits varied, resolve as libphonenumber-js says',
    (region) => {
      const example = `${getCountryCallingCode(region)}${(examples as Record<string, string>)[region]}`;
      for (let i = 0; i < 200; i++) {
        const digits = example.slice(0, -3) + String(i * 5).padStart(3, '0');
        const key = Number(digits);
        expect({ key, region: regionOfKey(key) }).toEqual({ key, region: referenceRegion(key) });
      }
    },
  );

  test('any digits under a shared calling code resolve as libphonenumber-js says (fast-check)', () => {
    const shared = Object.keys(callingCodes).filter((code) => callingCodes[code]!.length > 1);
    fc.assert(
      fc.property(fc.constantFrom(...shared), fc.stringMatching(/^[0-9]{4,12}$/), (code, national) => {
        const key = Number(`${code}${national}`);
        // Number() drops nothing here: the code never starts with 0 and national digits follow it.
        expect(regionOfKey(key)).toBe(referenceRegion(key));
      }),
      { numRuns: 3000 },
    );
  });

  test('single-region and non-geographic codes need no digits beyond the code', () => {
    expect(regionOfKey(254712345678)).toBe('KE');
    expect(regionOfKey(263712345637)).toBe('ZW');
    expect(regionOfKey(80012345678)).toBe(NON_GEOGRAPHIC_REGION);
    expect(regionOfKey(80012345678)).toBe(referenceRegion(80012345678));
  });

  test('counts distinct keys once each, and matched ones by a merge with the matched keys', () => {
    const valid = new Float64Array([254712345678, 254712345678, 254712345679, 447400123456, 15417543010]);
    const matched = new Float64Array([254712345678, 254712345678, 447400123456]);
    expect(countByCountry(valid, matched)).toEqual([
      { country: 'KE', callingCode: '254', unique: 2, matched: 1 },
      { country: 'US', callingCode: '1', unique: 1, matched: 0 },
      { country: 'GB', callingCode: '44', unique: 1, matched: 1 },
    ]);
  });
});

/** For each conformance upload: the reference per-country counts from its truth file and the index. */
function referenceByCountry(name: string): Map<string, { unique: number; matched: number }> {
  const indexKeys = new Set(
    readFileSync(join(SET, 'index.csv'), 'utf8')
      .split('\n')
      .slice(1)
      .filter((line) => line !== '')
      .map((line) => line.split(',')[0]!),
  );
  const unique = new Set<string>();
  for (const line of readFileSync(join(SET, 'expected', `${name}.truth.jsonl`), 'utf8').split('\n')) {
    if (line === '') continue;
    const [, e164] = JSON.parse(line) as [string, string | null];
    if (e164 !== null) unique.add(e164);
  }
  const out = new Map<string, { unique: number; matched: number }>();
  for (const e164 of unique) {
    const region = referenceRegion(Number(e164.slice(1))) ?? 'none';
    const entry = out.get(region) ?? { unique: 0, matched: 0 };
    entry.unique++;
    if (indexKeys.has(e164)) entry.matched++;
    out.set(region, entry);
  }
  return out;
}

describe('by_country in the report', () => {
  const names = ['br-store', 'de-clinic', 'ke-shop', 'mx-tiny'];
  test.each(names)('%s: equals the truth file, country by country', async (name) => {
    const expected = JSON.parse(readFileSync(join(SET, 'expected', `${name}.json`), 'utf8')) as {
      default_country: string;
      unique: number;
      matched: number;
    };
    const { report, audit } = await matchUpload({
      index: join(SET, 'index.csv'),
      upload: join(SET, 'uploads', `${name}.csv`),
      defaultCountry: expected.default_country,
      minAudience: 1,
      threads: 2,
    });
    // The exact counts are the operator's audit; the advertiser's report has the same countries and
    // unique counts, and a protected estimate (or null) for matched.
    const byCountry = audit.by_country!;
    expect(report.by_country!.map((c) => [c.country, c.unique])).toEqual(
      byCountry.map((c) => [c.country, c.unique]),
    );
    const got = new Map(
      byCountry.map((c) => [c.country ?? 'none', { unique: c.unique, matched: c.matched }]),
    );
    expect(got).toEqual(referenceByCountry(name));
    expect(byCountry.reduce((sum, c) => sum + c.unique, 0)).toBe(expected.unique);
    expect(byCountry.reduce((sum, c) => sum + (c.matched ?? 0), 0)).toBe(expected.matched);
    // Largest first.
    for (let i = 1; i < byCountry.length; i++) {
      expect(byCountry[i - 1]!.unique).toBeGreaterThanOrEqual(byCountry[i]!.unique);
    }
  });

  test('a suppressed match withholds matched for every country, and keeps the upload-only counts', async () => {
    const { report, audience } = await matchUpload({
      index: join(SET, 'index.csv'),
      upload: join(SET, 'uploads', 'mx-tiny.csv'),
      defaultCountry: 'MX',
      threads: 1,
    });
    expect(report.suppressed).toBe(true);
    expect(audience).toBeNull();
    expect(report.by_country!.length).toBeGreaterThan(0);
    for (const c of report.by_country!) expect(c.matched).toBeNull();
    expect(report.by_country!.reduce((sum, c) => sum + c.unique, 0)).toBe(report.unique);
  });
});
