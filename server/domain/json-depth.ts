/**
 * How deep a JSON text may nest objects and arrays. A report or a feed item is four or five levels
 * deep; thousands of levels only ever come from a probe, and would exhaust the stack of whatever
 * walks the parsed value (schemas, serializers).
 */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * Whether a JSON text nests deeper than `max`, read in one pass over its bytes before it is
 * parsed (brackets inside strings do not count). Malformed text is left to the parser.
 */
export function nestsDeeperThan(text: Buffer | string, max = MAX_JSON_DEPTH): boolean {
  const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (inString) {
      if (b === BACKSLASH) i++;
      else if (b === QUOTE) inString = false;
    } else if (b === QUOTE) {
      inString = true;
    } else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

export const TOO_DEEP_MESSAGE = `The JSON is nested more than ${MAX_JSON_DEPTH} levels deep.`;
