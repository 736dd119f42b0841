/**
 * Decimals may arrive as JSON numbers, but JSON.parse turns `0.010000000000000000000000000001`
 * into the float 0.01 before any validator sees it — a silently rounded quantity. So, before
 * parsing, every number literal outside a string is rewritten as a string holding exactly the
 * characters the client sent; validation then sees the client's text, and exponent notation or
 * too many digits are refused the same way whether sent as a number or as a string.
 *
 * Only literals that are valid JSON numbers are rewritten: anything else (`01`, `+1`, `1.`, `.5`)
 * is left in place so JSON.parse still refuses the body as malformed.
 */
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

function isNumberChar(code: number): boolean {
  // 0-9 . - + e E
  return (code >= 48 && code <= 57) || code === 46 || code === 45 || code === 43 || code === 101 || code === 69;
}

/**
 * Marks a string that was a JSON number in the body (it cannot come from a client's string unless
 * the client wrote \u0000 itself, which no field accepts): decimals drop it, every other field is
 * refused with it — `"client_order_id": 123` is a 400, not the string "123".
 */
export const NUMBER_MARK = '\u0000';

export function quoteJsonNumbers(text: string): string {
  let out = '';
  let copiedUpTo = 0;
  let inString = false;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (inString) {
      if (code === 92)
        index++; // backslash: skip the escaped character
      else if (code === 34) inString = false;
      continue;
    }
    if (code === 34) {
      inString = true;
      continue;
    }
    // A literal starts with a digit or '-'; letters e/E alone (true/false/null) never start one.
    if (!((code >= 48 && code <= 57) || code === 45)) continue;
    let end = index + 1;
    while (end < text.length && isNumberChar(text.charCodeAt(end))) end++;
    const literal = text.slice(index, end);
    if (JSON_NUMBER.test(literal)) {
      out += text.slice(copiedUpTo, index) + '"\\u0000' + literal + '"';
      copiedUpTo = end;
    }
    index = end - 1;
  }
  return copiedUpTo === 0 ? text : out + text.slice(copiedUpTo);
}
