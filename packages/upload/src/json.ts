import { InputError } from '@rollcall/errors';

/**
 * Parses JSON text with `JSON.parse` (native, fast); when it fails, finds where with
 * {@link findJsonError} and throws `ERR_BAD_INPUT` at that line and column of `file` (lines end
 * at CRLF, LF or CR; columns count UTF-16 code units from 1). The engine's own message is not
 * used: its wording and position format change between V8 versions, and it may quote the text.
 */
export function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    const found = findJsonError(text);
    if (found === undefined) throw new InputError({ file }, 'is not valid JSON', { cause: err });
    throw new InputError({ file, ...positionAt(text, found.at) }, `not valid JSON: ${found.message}`);
  }
}

/** The 1-based line and column of `text[offset]`. */
export function positionAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || (c === 0x0d && text.charCodeAt(i + 1) !== 0x0a)) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}

const ARRAY = 0;
const OBJECT = 1;

/**
 * The first place where `text` breaks the JSON grammar (RFC 8259), with what was expected there;
 * undefined when it is valid. Iterative (an explicit stack), so deep nesting cannot overflow.
 * Only called once `JSON.parse` has failed: it never needs to be fast.
 */
export function findJsonError(text: string): { at: number; message: string } | undefined {
  const n = text.length;
  const stack: number[] = [];
  let i = 0;
  const skipSpace = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
      i++;
    }
  };
  const found = (): string =>
    i >= n ? 'the text ends' : `found ${JSON.stringify(text[i])} (U+${hex4(text.charCodeAt(i))})`;
  const fail = (expected: string) => ({ at: i, message: `expected ${expected}; ${found()}` });

  /** Scans a string at `i` (on its opening quote); returns an error or undefined. */
  const scanString = (): { at: number; message: string } | undefined => {
    i++;
    for (;;) {
      if (i >= n) return { at: i, message: 'a string is never closed before the end of the text' };
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return undefined;
      }
      if (c < 0x20) return { at: i, message: 'a control character must be escaped inside a string' };
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e !== undefined && '"\\/bfnrt'.includes(e)) i += 2;
        else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else return { at: i, message: 'a bad escape sequence in a string' };
        continue;
      }
      i++;
    }
  };

  /** Scans a number at `i`; returns false when it does not follow the grammar. */
  const scanNumber = (): boolean => {
    const m = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
    m.lastIndex = i;
    if (!m.test(text)) return false;
    i = m.lastIndex;
    return true;
  };

  /** Scans `"key" :` at `i`. */
  const scanKey = (): { at: number; message: string } | undefined => {
    skipSpace();
    if (text[i] !== '"') return fail('a key in double quotes');
    const bad = scanString();
    if (bad !== undefined) return bad;
    skipSpace();
    if (text[i] !== ':') return fail('":" after the key');
    i++;
    return undefined;
  };

  for (;;) {
    // A value is expected at i.
    skipSpace();
    const c = text[i];
    let opened = false;
    if (c === '{') {
      i++;
      skipSpace();
      if (text[i] === '}') i++;
      else {
        stack.push(OBJECT);
        const bad = scanKey();
        if (bad !== undefined) return bad;
        opened = true;
      }
    } else if (c === '[') {
      i++;
      skipSpace();
      if (text[i] === ']') i++;
      else {
        stack.push(ARRAY);
        opened = true;
      }
    } else if (c === '"') {
      const bad = scanString();
      if (bad !== undefined) return bad;
    } else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      if (!scanNumber()) return fail('a number');
    } else if (c !== undefined && text.startsWith('true', i)) i += 4;
    else if (c !== undefined && text.startsWith('false', i)) i += 5;
    else if (c !== undefined && text.startsWith('null', i)) i += 4;
    else return fail('a value (an object, a list, a string, a number, true, false or null)');
    if (opened) continue;

    // After a value: a separator, the end of its container, or the end of the text.
    for (;;) {
      skipSpace();
      const top = stack[stack.length - 1];
      if (top === undefined) return i < n ? fail('the end of the text after the JSON value') : undefined;
      const close = top === ARRAY ? ']' : '}';
      if (text[i] === close) {
        stack.pop();
        i++;
        continue;
      }
      if (text[i] !== ',') return fail(`"," or "${close}"`);
      i++;
      if (top === OBJECT) {
        const bad = scanKey();
        if (bad !== undefined) return bad;
      }
      break;
    }
  }
}

function hex4(code: number): string {
  return code.toString(16).toUpperCase().padStart(4, '0');
}
