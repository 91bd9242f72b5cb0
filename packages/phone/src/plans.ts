import metadata from 'libphonenumber-js/max/metadata';

/**
 * libphonenumber-js's max metadata, compiled once into RegExps (internal to this package).
 *
 * libphonenumber-js builds a new `RegExp` from the metadata's pattern strings on every call
 * (`matchesEntirely`, `new Metadata(...)` per step); that is most of its cost. Here each pattern
 * is compiled once, lazily per numbering plan, with exactly the source text the library gives
 * `new RegExp`, so matching is the same. Field positions are those of the library's `Metadata`
 * class for metadata version 4 (source/metadata.js); nothing is kept by hand.
 */

/** One phone number type (fixed line, mobile, …) of a plan: its pattern and lengths. */
interface TypeRule {
  /** `^(?:pattern)$`, as `matchesEntirely` builds it. */
  readonly pattern: RegExp;
  /** The type's possible lengths, or the plan's when the type lists none (as `Type.possibleLengths()`). */
  readonly lengths: readonly number[] | undefined;
}

/** A numbering plan (a country's, or a non-geographic calling code's), compiled. */
export interface Plan {
  /** The ISO country, or undefined for a non-geographic plan. */
  readonly country: string | undefined;
  readonly callingCode: string;
  /** The calling code's value, for {@link callingCodeEntry}. */
  readonly callingCodeValue: number;
  /** `national_number_pattern` as `^(?:…)$`. */
  readonly nationalNumber: RegExp;
  /** General possible lengths (ascending), or undefined when the metadata has none. */
  readonly possibleLengths: readonly number[] | undefined;
  /** The international (IDD) prefix pattern, sticky: only a match at the start counts (`search() === 0`). */
  readonly idd: RegExp;
  /** `^(?:national_prefix_for_parsing || national_prefix)`, or undefined when there is neither. */
  readonly nationalPrefixForParsing: RegExp | undefined;
  readonly nationalPrefixTransformRule: string | undefined;
  /** `leading_digits`, sticky (the library tests `search() === 0`), or undefined. */
  readonly leadingDigits: RegExp | undefined;
  /** Whether the plan lists number types (`NumberingPlan.hasTypes()`). */
  readonly hasTypes: boolean;
  /** The types with a non-empty pattern; the others can never match (`isNumberTypeEqualTo`). */
  readonly types: readonly TypeRule[];
}

/** What a country calling code maps to. */
export class CallingCodeEntry {
  /** `getCountryCodesForCallingCode`: the code's countries, main one first; undefined if non-geographic. */
  readonly countries: readonly string[] | undefined;
  readonly #code: string;
  #plan: Plan | undefined;
  #countryPlans: readonly Plan[] | undefined;

  constructor(code: string, countries: readonly string[] | undefined) {
    this.#code = code;
    this.countries = countries;
  }

  /** The plan `selectNumberingPlan(callingCode)` picks: the main country's, or the non-geographic one. */
  get plan(): Plan {
    this.#plan ??=
      this.countries === undefined ? nonGeographicPlan(this.#code) : countryPlan(this.countries[0]!);
    return this.#plan;
  }

  /** The plans of the countries sharing the code, main one first. */
  get countryPlans(): readonly Plan[] {
    this.#countryPlans ??= (this.countries ?? []).map(countryPlan);
    return this.#countryPlans;
  }
}

/**
 * The metadata format the positions below are read in. Another format (a libphonenumber-js
 * upgrade that changes it) turns the fast path off rather than misread it.
 */
const METADATA_FORMAT = 4;

/** Whether the installed metadata is in the format this module compiles. */
export const metadataCompilable = metadata.version === METADATA_FORMAT;

// Positions in a numbering plan array of format 4 (source/metadata.js, class NumberingPlan).
const CALLING_CODE = 0;
const IDD_PREFIX = 1;
const NATIONAL_NUMBER_PATTERN = 2;
const POSSIBLE_LENGTHS = 3;
const NATIONAL_PREFIX = 5;
const NATIONAL_PREFIX_FOR_PARSING = 7;
const NATIONAL_PREFIX_TRANSFORM_RULE = 8;
const LEADING_DIGITS = 10;
const TYPES = 11;
// Positions of a type in the types array (source/metadata.js, getType()); the order of checks
// does not matter here, only whether one matches, so the common types come first.
const TYPE_POSITIONS = [1, 0, 2, 3, 4, 5, 6, 7, 8, 9];

type RawPlan = readonly unknown[];

const countries = metadata.countries as Record<string, RawPlan | undefined>;
const nonGeographic = (metadata.nonGeographic ?? {}) as Record<string, RawPlan | undefined>;
const callingCodes = metadata.country_calling_codes as Record<string, readonly string[] | undefined>;

function compile(raw: RawPlan, country: string | undefined): Plan {
  const text = (value: unknown): string | undefined =>
    typeof value === 'string' && value !== '' ? value : undefined;
  // An array, even empty, counts as given (the library tests it for truthiness).
  const lengths = (value: unknown): readonly number[] | undefined =>
    Array.isArray(value) ? (value as number[]) : undefined;
  const nationalPrefixForParsing = text(raw[NATIONAL_PREFIX_FOR_PARSING]) ?? text(raw[NATIONAL_PREFIX]);
  const leadingDigits = text(raw[LEADING_DIGITS]);
  const rawTypes = raw[TYPES];
  const possibleLengths = lengths(raw[POSSIBLE_LENGTHS]);
  const types: TypeRule[] = [];
  if (Array.isArray(rawTypes)) {
    for (const position of TYPE_POSITIONS) {
      const type = rawTypes[position] as unknown;
      if (!Array.isArray(type) || !text(type[0])) continue;
      types.push({
        pattern: new RegExp(`^(?:${type[0] as string})$`),
        lengths: lengths(type[1]) ?? possibleLengths,
      });
    }
  }
  return {
    country,
    callingCode: String(raw[CALLING_CODE]),
    callingCodeValue: Number(raw[CALLING_CODE]),
    nationalNumber: new RegExp(`^(?:${String(raw[NATIONAL_NUMBER_PATTERN])})$`),
    possibleLengths,
    // `new RegExp(IDDPrefix())`: a missing prefix would be the empty pattern.
    idd: new RegExp(String(raw[IDD_PREFIX] ?? ''), 'y'),
    nationalPrefixForParsing:
      nationalPrefixForParsing === undefined ? undefined : new RegExp(`^(?:${nationalPrefixForParsing})`),
    nationalPrefixTransformRule: text(raw[NATIONAL_PREFIX_TRANSFORM_RULE]),
    leadingDigits: leadingDigits === undefined ? undefined : new RegExp(leadingDigits, 'y'),
    hasTypes: Array.isArray(rawTypes) ? rawTypes.length > 0 : Boolean(rawTypes),
    types,
  };
}

const plans = new Map<string, Plan>();

/** The compiled plan of a country the metadata knows (compiled on first use). */
export function countryPlan(country: string): Plan {
  let plan = plans.get(country);
  if (plan === undefined) {
    const raw = countries[country];
    if (raw === undefined) throw new Error(`no metadata for country ${country}`);
    plan = compile(raw, country);
    plans.set(country, plan);
  }
  return plan;
}

function nonGeographicPlan(callingCode: string): Plan {
  const key = `+${callingCode}`;
  let plan = plans.get(key);
  if (plan === undefined) {
    plan = compile(nonGeographic[callingCode]!, undefined);
    plans.set(key, plan);
  }
  return plan;
}

// `Metadata.hasCallingCode`: a code with countries, or a non-geographic one (listed as `001`).
// Indexed by the code's value: codes never start with 0, so the value says the length too.
const MAX_CALLING_CODE = 999;
const CALLING_CODES: (CallingCodeEntry | undefined)[] = new Array(MAX_CALLING_CODE + 1).fill(undefined);
for (const [code, list] of Object.entries(callingCodes)) {
  if (list === undefined || list.length === 0) continue;
  // `getCountryCodesForCallingCode`: a single three-letter entry (`001`) means non-geographic.
  const geographic = !(list.length === 1 && list[0]!.length === 3);
  if (geographic || nonGeographic[code] !== undefined) {
    CALLING_CODES[Number(code)] = new CallingCodeEntry(code, geographic ? list : undefined);
  }
}
for (const code of Object.keys(nonGeographic)) {
  CALLING_CODES[Number(code)] ??= new CallingCodeEntry(code, undefined);
}

/**
 * The entry of the calling code whose digits have the value `value` (a code never starts with
 * 0), or undefined when the metadata knows no such code.
 */
export function callingCodeEntry(value: number): CallingCodeEntry | undefined {
  return value > 0 && value <= MAX_CALLING_CODE ? CALLING_CODES[value] : undefined;
}

/** `getNumberType(...) !== undefined`: the national pattern and then some type's pattern match. */
export function hasNumberType(plan: Plan, nationalNumber: string): boolean {
  if (!plan.nationalNumber.test(nationalNumber)) return false;
  const length = nationalNumber.length;
  for (const type of plan.types) {
    // `isNumberTypeEqualTo`: the length must be one of the type's before its pattern is tried.
    if (type.lengths !== undefined && type.lengths.indexOf(length) < 0) continue;
    if (type.pattern.test(nationalNumber)) return true;
  }
  return false;
}

/** `isValidNumber` for a plan: a number type when the plan lists types, else the national pattern. */
export function isValidIn(plan: Plan, nationalNumber: string): boolean {
  return plan.hasTypes ? hasNumberType(plan, nationalNumber) : plan.nationalNumber.test(nationalNumber);
}

/** `checkNumberLength` against a plan's general possible lengths. */
export type LengthCheck = 'IS_POSSIBLE' | 'TOO_SHORT' | 'TOO_LONG' | 'INVALID_LENGTH';

/** `checkNumberLength(nationalNumber, undefined, plan)`. */
export function checkLength(plan: Plan, nationalNumber: string): LengthCheck {
  const lengths = plan.possibleLengths;
  if (lengths === undefined) return 'IS_POSSIBLE';
  const length = nationalNumber.length;
  // An empty list (none in the metadata) compares false everywhere in the library's code.
  if (lengths.length === 0) return 'INVALID_LENGTH';
  const min = lengths[0]!;
  if (min === length) return 'IS_POSSIBLE';
  if (min > length) return 'TOO_SHORT';
  if (lengths[lengths.length - 1]! < length) return 'TOO_LONG';
  return lengths.indexOf(length, 1) >= 0 ? 'IS_POSSIBLE' : 'INVALID_LENGTH';
}

/**
 * `getCountryByCallingCode`: the plan of the country a national number belongs to under a
 * calling code. One country: that one, unchecked. Several: the first whose `leading_digits`
 * start the number (unchecked otherwise) or, for a country without them, whose number types
 * match. Undefined for a non-geographic code or when none fits.
 */
export function planOfNumber(entry: CallingCodeEntry, nationalNumber: string): Plan | undefined {
  if (entry.countries === undefined) return undefined;
  if (entry.countries.length === 1) return entry.plan;
  for (const plan of entry.countryPlans) {
    const leading = plan.leadingDigits;
    if (leading !== undefined) {
      leading.lastIndex = 0;
      if (nationalNumber !== '' && leading.test(nationalNumber)) return plan;
    } else if (hasNumberType(plan, nationalNumber)) {
      return plan;
    }
  }
  return undefined;
}
