/**
 * Where each top-level element of a JSON array lies in its source bytes, so the collector
 * can keep an event's own bytes instead of re-serialising it (see raw-value.ts).
 *
 * Runs only AFTER JSON.parse accepted the same bytes, so it assumes valid JSON and checks
 * nothing: it only has to tell strings from structure. Scanning the raw UTF-8 is safe
 * because every byte it looks at (`"` `\` `[` `]` `{` `}` `,` and JSON whitespace) is
 * ASCII, and in UTF-8 no byte of a multi-byte sequence is below 0x80.
 */

/** Byte offsets in the body: the event's source text is body[start, end). */
export interface SourceRange {
  start: number;
  end: number;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

export function isJsonWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * The ranges of the elements of the array that starts at or after `from` (past a BOM and
 * whitespace), without the whitespace around each element.
 */
export function arrayElementRanges(body: Buffer, from: number): SourceRange[] {
  const ranges: SourceRange[] = [];
  let i = body.indexOf(OPEN_ARRAY, from) + 1;
  let depth = 0;
  let start = -1;
  let end = -1;
  for (; i < body.length; i++) {
    const c = body[i]!;
    if (c === QUOTE) {
      if (start < 0) start = i;
      i = closingQuote(body, i);
      end = i + 1;
    } else if (isJsonWhitespace(c)) {
      continue;
    } else if (depth === 0 && (c === COMMA || c === CLOSE_ARRAY)) {
      if (start >= 0) ranges.push({ start, end });
      if (c === CLOSE_ARRAY) break;
      start = -1;
    } else {
      if (start < 0) start = i;
      if (c === OPEN_ARRAY || c === OPEN_OBJECT) depth++;
      else if (c === CLOSE_ARRAY || c === CLOSE_OBJECT) depth--;
      end = i + 1;
    }
  }
  return ranges;
}

/** The index of the quote that closes the string opening at `open`. */
function closingQuote(body: Buffer, open: number): number {
  let q = body.indexOf(QUOTE, open + 1);
  // A quote is escaped when an odd number of backslashes precede it (`\\"` ends the string).
  while (q > 0) {
    let backslashes = 0;
    for (let b = q - 1; body[b] === BACKSLASH; b--) backslashes++;
    if (backslashes % 2 === 0) return q;
    q = body.indexOf(QUOTE, q + 1);
  }
  return body.length;
}
