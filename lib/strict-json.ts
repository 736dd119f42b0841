/**
 * JSON with one meaning per text: a key repeated in one object is refused.
 *
 * JSON.parse keeps the last of two equal keys, so `{"side":"Buy","side":"Sell"}` is a Sell to the
 * server while a log, a firewall or a risk check that keeps the first reads a Buy. RFC 8259 leaves
 * duplicates to the implementation ("names SHOULD be unique"); refusing them is the only reading
 * every reader agrees on.
 *
 * JSON.parse still does the parsing (native, and it validates everything). Then a count settles
 * almost every text: every key of the text is followed by a colon, so if the text holds no more
 * colons than the parsed value holds keys, no key collapsed into another (colons = pairs written +
 * colons inside strings ≥ pairs written ≥ keys kept, equal only when nothing collapsed); colons
 * inside strings are counted out of the parsed strings (duplicateKeyOf). Only a real duplicate or
 * a text with escapes and colons gets the second pass, which reads only strings and brackets — no
 * values built, no recursion.
 * Pure: no imports.
 */

/** A key found twice in one object; `path` locates that object (`$`, `$.a`, `$.list[2]`). */
export class DuplicateKeyError extends SyntaxError {
  override name = 'DuplicateKeyError';
  constructor(
    readonly key: string,
    readonly path: string,
  ) {
    super(`duplicate key ${JSON.stringify(key)} in the object at ${path}`);
  }
}

/** JSON.parse that refuses repeated keys: a SyntaxError for malformed text, DuplicateKeyError (a SyntaxError too) for a repeated key. */
export function parseStrictJson(text: string): unknown {
  const value: unknown = JSON.parse(text);
  const duplicate = duplicateKeyOf(text, value);
  if (duplicate) throw duplicate;
  return value;
}

/**
 * The first key repeated within one object of `text`, given `parsed`, what JSON.parse made of it
 * (or of a text with the same keys and strings in the same places): the colon count first, the
 * full scan only when that count cannot tell.
 */
export function duplicateKeyOf(text: string, parsed: unknown): DuplicateKeyError | undefined {
  const colons = colonsIn(text);
  if (colons === 0) return undefined;
  const keys = keyCount(parsed);
  if (colons === keys) return undefined;
  // Colons inside strings (a time in a client_order_id): take out those the parsed strings still
  // hold. Colons of a value that a repeated key overwrote are gone from it, so the count can only
  // come out higher, never equal, when something collapsed — unless an escape (\u003a) put a colon
  // into a parsed string that the text does not show: then only the scan can tell.
  if (!text.includes('\\u') && colons - colonsInStrings(parsed) === keys) return undefined;
  return findDuplicateKey(text);
}

function colonsIn(text: string): number {
  let colons = 0;
  for (let at = text.indexOf(':'); at >= 0; at = text.indexOf(':', at + 1)) colons++;
  return colons;
}

/** Keys of every object in `value`. No recursion (the nesting is the client's), and no allocation for a flat object. */
function keyCount(value: unknown): number {
  let count = 0;
  let pending: object[] | undefined;
  let next = typeof value === 'object' && value !== null ? value : undefined;
  while (next !== undefined) {
    if (Array.isArray(next)) {
      for (const item of next) if (typeof item === 'object' && item !== null) (pending ??= []).push(item);
    } else {
      for (const key in next) {
        count++;
        const item = (next as Record<string, unknown>)[key];
        if (typeof item === 'object' && item !== null) (pending ??= []).push(item);
      }
    }
    next = pending?.pop();
  }
  return count;
}

/** Colons in every key and string of `value` (walked as keyCount walks it). */
function colonsInStrings(value: unknown): number {
  if (typeof value === 'string') return colonsIn(value);
  let colons = 0;
  let pending: object[] | undefined;
  let next = typeof value === 'object' && value !== null ? value : undefined;
  while (next !== undefined) {
    if (Array.isArray(next)) {
      for (const item of next) {
        if (typeof item === 'string') colons += colonsIn(item);
        else if (typeof item === 'object' && item !== null) (pending ??= []).push(item);
      }
    } else {
      for (const key in next) {
        colons += colonsIn(key);
        const item = (next as Record<string, unknown>)[key];
        if (typeof item === 'string') colons += colonsIn(item);
        else if (typeof item === 'object' && item !== null) (pending ??= []).push(item);
      }
    }
    next = pending?.pop();
  }
  return colons;
}

/** Objects with more keys than this switch from a list to a Set (a list is faster for the small ones every request has). */
const LIST_KEYS = 8;

/** An open object or array; the path of an error is read off the stack of them. */
interface Frame {
  readonly isObject: boolean;
  /** object: the keys seen so far (`set` once there are many); the last one names the value open below */
  readonly keys: string[];
  set: Set<string> | undefined;
  lastKey: string;
  /** array: the slot open below */
  index: number;
}

/**
 * The first key repeated within one object of `text`, or undefined. Meant for text JSON.parse
 * accepted: on malformed text the answer means nothing (parse first, as parseStrictJson does).
 * Keys compare as JSON.parse decodes them, so `"a"` and `"\u0061"` are the same key.
 */
export function findDuplicateKey(text: string): DuplicateKeyError | undefined {
  const stack: Frame[] = [];
  let top: Frame | undefined;
  // in an object, after `{` or `,`: the next string is a key
  let expectKey = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code === 34) {
      // a string: find its closing quote (a quote after an odd run of backslashes is escaped)
      const start = index + 1;
      let end = text.indexOf('"', start);
      while (end > 0 && isEscaped(text, end)) end = text.indexOf('"', end + 1);
      if (end < 0) return undefined; // malformed: JSON.parse refuses it
      if (expectKey && top !== undefined) {
        const raw = text.slice(start, end);
        const key = raw.includes('\\') ? (JSON.parse(text.slice(index, end + 1)) as string) : raw;
        if (hasKey(top, key)) return new DuplicateKeyError(key, pathOf(stack));
        addKey(top, key);
        expectKey = false;
      }
      index = end;
      continue;
    }
    switch (code) {
      case 123: // {
        top = { isObject: true, keys: [], set: undefined, lastKey: '', index: 0 };
        stack.push(top);
        expectKey = true;
        break;
      case 91: // [
        top = { isObject: false, keys: NO_KEYS, set: undefined, lastKey: '', index: 0 };
        stack.push(top);
        expectKey = false;
        break;
      case 125: // }
      case 93: // ]
        stack.pop();
        top = stack[stack.length - 1];
        expectKey = false;
        break;
      case 44: // ,
        if (top === undefined) break;
        if (top.isObject) expectKey = true;
        else top.index++;
        break;
      default:
        break;
    }
  }
  return undefined;
}

const NO_KEYS: string[] = [];

function isEscaped(text: string, quote: number): boolean {
  let backslashes = 0;
  for (let at = quote - 1; text.charCodeAt(at) === 92; at--) backslashes++;
  return backslashes % 2 === 1;
}

function hasKey(frame: Frame, key: string): boolean {
  return frame.set !== undefined ? frame.set.has(key) : frame.keys.includes(key);
}

function addKey(frame: Frame, key: string): void {
  if (frame.set !== undefined) frame.set.add(key);
  else if (frame.keys.length < LIST_KEYS) frame.keys.push(key);
  else frame.set = new Set([...frame.keys, key]);
  // the last key names the value that may open next (read by pathOf)
  frame.lastKey = key;
}

/** `$`, then per open level the key or slot that leads into the next one (the innermost object is the duplicate's). */
function pathOf(stack: readonly Frame[]): string {
  let path = '$';
  for (let level = 0; level < stack.length - 1; level++) {
    const frame = stack[level]!;
    path += frame.isObject ? `.${frame.lastKey}` : `[${frame.index}]`;
  }
  return path;
}
