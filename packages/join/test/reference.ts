/** A plain single-threaded join (Map + Set) with the reference normaliser: what the pool must equal. */
import { type CountryCode, normalizePhoneReference } from '@rollcall/phone';

export interface IndexRow {
  phone: string;
  userId: bigint;
  optedOut: boolean;
}

export interface ReferenceResult {
  rows: number;
  invalid: number;
  valid: number;
  unique: number;
  matched: number;
  optedOutDropped: number;
  audience: bigint[];
}

export function referenceJoin(
  index: readonly IndexRow[],
  cells: readonly string[],
  country: CountryCode,
): ReferenceResult {
  // An opt-out is the person's: a user opted out on any number is opted out on every number.
  const outUsers = new Set(index.filter((r) => r.optedOut).map((r) => r.userId));
  const byPhone = new Map(index.map((r) => [r.phone, { ...r, optedOut: outUsers.has(r.userId) }]));
  const unique = new Set<string>();
  let invalid = 0;
  for (const cell of cells) {
    const r = normalizePhoneReference(cell, { defaultCountry: country });
    if (r.ok) unique.add(r.e164);
    else invalid++;
  }
  const matched = [...unique].filter((p) => byPhone.has(p));
  const optedOut = matched.filter((p) => byPhone.get(p)!.optedOut);
  const optedOutIds = new Set(optedOut.map((p) => byPhone.get(p)!.userId));
  const ids = new Set(
    matched
      .filter((p) => !byPhone.get(p)!.optedOut)
      .map((p) => byPhone.get(p)!.userId)
      .filter((id) => !optedOutIds.has(id)),
  );
  return {
    rows: cells.length,
    invalid,
    valid: cells.length - invalid,
    unique: unique.size,
    matched: matched.length,
    optedOutDropped: optedOut.length,
    audience: [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)),
  };
}
