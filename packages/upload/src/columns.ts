import { InputError, InvalidArgumentError } from '@rollcall/errors';
import { showHeader, showHeaders } from './redact.js';

/** Words that name a phone number on their own (accents removed, lower case). */
const PHONE_WORDS = new Set([
  'phone',
  'phones',
  'telephone',
  'tel',
  'telefon',
  'telefone',
  'telefono',
  'mobile',
  'mobiles',
  'mobil',
  'movil',
  'mob',
  'cell',
  'cellular',
  'cellphone',
  'celular',
  'handy',
  'msisdn',
  'whatsapp',
]);

/** Words that say "number" and name a phone only alone or after "contact". */
const NUMBER_WORDS = new Set(['number', 'numbers', 'no', 'nr', 'num', 'nummer', 'numero']);

/** Words that make a "number" header a phone header ("Contact number"). */
const CONTACT_WORDS = new Set(['contact', 'kontakt']);

/** Words that keep a phone header exact ("Phone (E164)"). */
const NEUTRAL_WORDS = new Set(['e164']);

/**
 * Words that mean the column is about the phone, not the phone itself ("Phone type",
 * "Mobile opt-in", "Phone country code"): such a header is never a candidate.
 */
const NOT_THE_NUMBER_WORDS = new Set([
  'type',
  'kind',
  'ext',
  'extension',
  'code',
  'country',
  'prefix',
  'verified',
  'valid',
  'validated',
  'confirmed',
  'status',
  'opt',
  'optin',
  'optout',
  'consent',
  'flag',
  'carrier',
]);

/** Headers longer than this are never phone candidates (they can still be named explicitly). */
const MAX_SCORED_HEADER_CHARS = 64;

const KNOWN_WORDS = [...PHONE_WORDS, ...NUMBER_WORDS, ...CONTACT_WORDS];

/** How strongly a header names the phone column; the highest unique score wins. */
export const PhoneHeaderScore = {
  /** Not a candidate. */
  NONE: 0,
  /** Only a number word: `Number`, `No.`. */
  NUMBER_ONLY: 1,
  /** A phone word among others: `Home phone`, `Phone 2`, `Contact number`. */
  MENTIONS_PHONE: 2,
  /** Only phone and number words: `Phone`, `Phone Number`, `MSISDN`, `Tel.`, `cell_phone`. */
  EXACT: 3,
} as const;

/**
 * Splits a word into known words (`phonenumber` → phone + number, `telefonnummer` →
 * telefon + nummer), or returns undefined. Whole-word splitting is what keeps `hotel` and
 * `cancelled` out: they contain `tel` and `cell` but are not made of known words.
 */
function splitCompound(word: string): string[] | undefined {
  // best[i]: a split of word[0, i), or undefined.
  const best: (string[] | undefined)[] = [[]];
  for (let i = 1; i <= word.length; i++) {
    for (const known of KNOWN_WORDS) {
      const start = i - known.length;
      if (start < 0) continue;
      const head = best[start];
      if (head !== undefined && word.startsWith(known, start)) {
        best[i] = [...head, known];
        break;
      }
    }
  }
  return best[word.length];
}

/** The word tokens of a header: lower case, accents removed, compounds and camelCase split. */
export function headerWords(header: string): string[] {
  const plain = header
    .replace(/^\uFEFF/, '')
    .trim()
    .normalize('NFD')
    .replace(/\p{M}/gu, '');
  const words: string[] = [];
  for (const chunk of plain.split(/[^\p{L}\p{N}]+/u)) {
    if (chunk === '') continue;
    if (NEUTRAL_WORDS.has(chunk.toLowerCase())) {
      words.push(chunk.toLowerCase());
      continue;
    }
    // Letters and digits apart ("phone2"); camelCase apart only when the whole is not known.
    for (const piece of chunk.split(/(?<=\p{L})(?=\p{N})|(?<=\p{N})(?=\p{L})/u)) {
      const lower = piece.toLowerCase();
      const whole = /^\p{N}+$/u.test(lower) ? [lower] : splitCompound(lower);
      if (whole !== undefined) {
        words.push(...whole);
        continue;
      }
      for (const part of piece.split(/(?<=\p{Ll})(?=\p{Lu})/u)) {
        const lowerPart = part.toLowerCase();
        words.push(...(splitCompound(lowerPart) ?? [lowerPart]));
      }
    }
  }
  return words;
}

/** Scores how likely a header names the phone column; see {@link PhoneHeaderScore}. */
export function scorePhoneHeader(header: string): number {
  // No real header is this long; the bound keeps compound splitting cheap on garbage.
  if (header.length > MAX_SCORED_HEADER_CHARS) return PhoneHeaderScore.NONE;
  const words = headerWords(header);
  let phone = 0;
  let number = 0;
  let contact = 0;
  let other = 0;
  for (const w of words) {
    if (NOT_THE_NUMBER_WORDS.has(w)) return PhoneHeaderScore.NONE;
    if (PHONE_WORDS.has(w)) phone++;
    else if (NUMBER_WORDS.has(w)) number++;
    else if (CONTACT_WORDS.has(w)) contact++;
    else if (!NEUTRAL_WORDS.has(w)) other++;
  }
  if (phone > 0)
    return other === 0 && contact === 0 ? PhoneHeaderScore.EXACT : PhoneHeaderScore.MENTIONS_PHONE;
  if (number > 0 && other === 0)
    return contact > 0 ? PhoneHeaderScore.MENTIONS_PHONE : PhoneHeaderScore.NUMBER_ONLY;
  return PhoneHeaderScore.NONE;
}

/** Where the headers come from, for error messages. */
export interface PhoneColumnOptions {
  /** The header of the phone column as given by the user (`--phone-column`); matched case-insensitively, trimmed. */
  phoneColumn?: string;
  /** The file named in errors; default `<headers>`. */
  file?: string;
  /** The line of the header row, named in errors; default 1. */
  line?: number;
}

function normalizeHeader(header: string): string {
  return header
    .replace(/^\uFEFF/, '')
    .trim()
    .toLowerCase();
}

/**
 * Finds the phone column among `headers` and returns its 0-based index.
 * With `phoneColumn`, the header equal to it (case-insensitive, trimmed) — else an
 * `ERR_INVALID_ARGUMENT` error listing the headers. Without, the one header that best names a
 * phone (see {@link scorePhoneHeader}) — else, when none or several tie, an `ERR_BAD_INPUT`
 * error at the header line listing the headers and asking for `--phone-column`.
 */
export function detectPhoneColumn(headers: readonly string[], options: PhoneColumnOptions = {}): number {
  const file = options.file ?? '<headers>';
  const line = options.line ?? 1;
  if (options.phoneColumn !== undefined) {
    const wanted = normalizeHeader(options.phoneColumn);
    if (wanted === '') throw new InvalidArgumentError('phoneColumn', 'must name a header; it is empty');
    const found: number[] = [];
    headers.forEach((h, i) => {
      if (normalizeHeader(h) === wanted) found.push(i);
    });
    if (found.length === 1) return found[0]!;
    throw new InvalidArgumentError(
      'phoneColumn',
      found.length === 0
        ? `${file} has no column ${showHeader(options.phoneColumn)}; its headers are: ${showHeaders(headers)}`
        : `${file} has ${found.length} columns named ${showHeader(options.phoneColumn)} (columns ${found.map((i) => i + 1).join(', ')}); rename one`,
    );
  }

  let bestScore: number = PhoneHeaderScore.NONE;
  let best: number[] = [];
  headers.forEach((h, i) => {
    const score = scorePhoneHeader(h);
    if (score === PhoneHeaderScore.NONE || score < bestScore) return;
    if (score > bestScore) {
      bestScore = score;
      best = [];
    }
    best.push(i);
  });
  if (best.length === 1) return best[0]!;
  const position = { file, line };
  if (best.length === 0) {
    throw new InputError(
      position,
      `no phone column found among the headers ${showHeaders(headers)}; pass --phone-column <header>`,
    );
  }
  throw new InputError(
    position,
    `several columns could hold the phone number: ${showHeaders(best.map((i) => headers[i]!))} ` +
      `(headers: ${showHeaders(headers)}); pass --phone-column <header> to choose one`,
  );
}
