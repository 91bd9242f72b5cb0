/** Delimiters tried on the header line, in order of preference when counts tie. */
export const DELIMITER_CANDIDATES: readonly string[] = [',', ';', '\t', '|'];

/** Characters of a blank line before the header: spaces, tabs and candidate delimiters. */
const BLANK_CHARS = new Set([0x20, 0x09, ...DELIMITER_CANDIDATES.map((d) => d.charCodeAt(0))]);

/**
 * Locates the header line in the text read so far: the first line that is not blank (spaces,
 * tabs and delimiters only). Returns its bounds; `end` is undefined while the text does not yet
 * hold its end, and `start` is then where the line read so far starts (so a caller can bound it).
 * A line end inside a quoted section does not end the line.
 */
export function findHeaderLine(text: string, eof: boolean): { start: number; end: number | undefined } {
  let start = 0;
  let blank = true;
  let inQuotes = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      inQuotes = !inQuotes;
      blank = false;
    } else if ((c === 0x0a || c === 0x0d) && !inQuotes) {
      if (!blank) return { start, end: i };
      start = i + 1;
    } else if (!BLANK_CHARS.has(c)) {
      blank = false;
    }
  }
  return { start, end: eof ? text.length : undefined };
}

/**
 * Picks the delimiter of a header line: the candidate among `,` `;` tab `|` that occurs most
 * often outside quoted sections (so splits the header into the most fields); `,` when none
 * occurs (a one-column file).
 */
export function detectDelimiter(headerLine: string): string {
  const counts = new Map<string, number>(DELIMITER_CANDIDATES.map((d) => [d, 0]));
  let inQuotes = false;
  for (const ch of headerLine) {
    if (ch === '"') inQuotes = !inQuotes;
    else if (!inQuotes && counts.has(ch)) counts.set(ch, counts.get(ch)! + 1);
    else if (!inQuotes && (ch === '\n' || ch === '\r')) break;
  }
  let best = ',';
  let bestCount = 0;
  for (const d of DELIMITER_CANDIDATES) {
    const n = counts.get(d)!;
    if (n > bestCount) {
      best = d;
      bestCount = n;
    }
  }
  return best;
}
