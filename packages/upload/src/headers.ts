import { type InputPosition, InvalidArgumentError } from '@rollcall/errors';
import { showHeader, showHeaders } from './redact.js';

/**
 * Splits a word into words of `known` (`phonenumber` → phone + number, `countrycode` → country +
 * code), or returns undefined. Whole-word splitting is what keeps `hotel` and `cancelled` out:
 * they contain `tel` and `cell` but are not made of known words.
 */
export function splitCompound(word: string, known: readonly string[]): string[] | undefined {
  // best[i]: a split of word[0, i), or undefined.
  const best: (string[] | undefined)[] = [[]];
  for (let i = 1; i <= word.length; i++) {
    for (const k of known) {
      const start = i - k.length;
      if (start < 0) continue;
      const head = best[start];
      if (head !== undefined && word.startsWith(k, start)) {
        best[i] = [...head, k];
        break;
      }
    }
  }
  return best[word.length];
}

/**
 * The word tokens of a header: lower case, accents removed, letters and digits apart, and
 * compounds (of `known` words) and camelCase split. `neutral` words are kept whole (`e164`).
 */
export function headerWords(
  header: string,
  known: readonly string[],
  neutral: ReadonlySet<string> = new Set(),
): string[] {
  const plain = header
    .replace(/^\uFEFF/, '')
    .trim()
    .normalize('NFD')
    .replace(/\p{M}/gu, '');
  const words: string[] = [];
  for (const chunk of plain.split(/[^\p{L}\p{N}]+/u)) {
    if (chunk === '') continue;
    if (neutral.has(chunk.toLowerCase())) {
      words.push(chunk.toLowerCase());
      continue;
    }
    // Letters and digits apart ("phone2"); camelCase apart only when the whole is not known.
    for (const piece of chunk.split(/(?<=\p{L})(?=\p{N})|(?<=\p{N})(?=\p{L})/u)) {
      const lower = piece.toLowerCase();
      const whole = /^\p{N}+$/u.test(lower) ? [lower] : splitCompound(lower, known);
      if (whole !== undefined) {
        words.push(...whole);
        continue;
      }
      for (const part of piece.split(/(?<=\p{Ll})(?=\p{Lu})/u)) {
        const lowerPart = part.toLowerCase();
        words.push(...(splitCompound(lowerPart, known) ?? [lowerPart]));
      }
    }
  }
  return words;
}

/** A header as compared with a name the user gave: byte-order mark removed, trimmed, lower case. */
export function normalizeHeader(header: string): string {
  return header
    .replace(/^\uFEFF/, '')
    .trim()
    .toLowerCase();
}

/**
 * The index of the one header equal to `name` (case-insensitive, trimmed). Throws
 * `ERR_INVALID_ARGUMENT` naming `option` when `name` is empty, or matches no header (listing
 * them) or several.
 */
export function findHeader(headers: readonly string[], name: string, option: string, file: string): number {
  if (typeof name !== 'string') throw new InvalidArgumentError(option, 'must name a header');
  const wanted = normalizeHeader(name);
  if (wanted === '') throw new InvalidArgumentError(option, 'must name a header; it is empty');
  const found: number[] = [];
  headers.forEach((h, i) => {
    if (normalizeHeader(h) === wanted) found.push(i);
  });
  if (found.length === 1) return found[0]!;
  throw new InvalidArgumentError(
    option,
    found.length === 0
      ? `${file} has no column ${showHeader(name)}; its headers are: ${showHeaders(headers)}`
      : `${file} has ${found.length} columns named ${showHeader(name)} (columns ${found.map((i) => i + 1).join(', ')}); rename one`,
  );
}

/** Where a header row is, for errors: `line` defaults to 1; null means the headers have no line. */
export function headerPosition(file: string, line: number | null | undefined): InputPosition {
  return line === null ? { file } : { file, line: line ?? 1 };
}
