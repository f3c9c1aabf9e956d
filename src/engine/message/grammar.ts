/**
 * Character classes and small scanners for the RFC 3261 §25.1 ABNF.
 *
 * Everything here works on char codes with lookup tables instead of regular expressions: the
 * parser runs on every datagram, and table lookups can neither backtrack nor allocate.
 */

/** Char codes of the ABNF delimiters (RFC 3261 §25.1). */
export const SP = 0x20;
export const HT = 0x09;
export const DQUOTE = 0x22;
export const BACKSLASH = 0x5c;
export const SEMI = 0x3b;
export const COMMA = 0x2c;
export const EQUAL = 0x3d;
export const COLON = 0x3a;
export const LAQUOT = 0x3c;
export const RAQUOT = 0x3e;
export const SLASH = 0x2f;
export const LBRACKET = 0x5b;
export const RBRACKET = 0x5d;

function table(chars: string, ranges: Array<[string, string]> = []): Uint8Array {
  const t = new Uint8Array(128);
  for (const [from, to] of ranges) for (let c = from.charCodeAt(0); c <= to.charCodeAt(0); c++) t[c] = 1;
  for (let k = 0; k < chars.length; k++) t[chars.charCodeAt(k)] = 1;
  return t;
}

const ALNUM: Array<[string, string]> = [
  ['a', 'z'],
  ['A', 'Z'],
  ['0', '9'],
];

/** token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~") (RFC 3261 §25.1). */
const TOKEN = table("-.!%*_+`'~", ALNUM);
/** user-unreserved plus unreserved; `#` is added because PBX feature codes (`*72#`) are sent raw in practice. */
const USER = table("-_.!~*'()&=+$,;?/#", ALNUM);
/** password = *( unreserved / escaped / "&" / "=" / "+" / "$" / "," ). */
const PASSWORD = table("-_.!~*'()&=+$,", ALNUM);
/** paramchar = param-unreserved / unreserved / escaped; param-unreserved = "[" / "]" / "/" / ":" / "&" / "+" / "$". */
const PARAMCHAR = table("-_.!~*'()[]/:&+$", ALNUM);
/** hnv-unreserved = "[" / "]" / "/" / "?" / ":" / "+" / "$" (plus unreserved). */
const HNVCHAR = table("-_.!~*'()[]/?:+$", ALNUM);
/** Hostnames and IPv4 addresses; `_` is tolerated because real DNS names carry it. */
const HOSTCHAR = table('-._', ALNUM);
/** Header-parameter values outside quotes: token, plus what `host` adds (IPv6 literals, RFC 5118 §4.5). */
const GENVALUE = table("-.!%*_+`'~:[]/", ALNUM);
/** scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) (RFC 3986 §3.1). */
const SCHEME = table('+-.', ALNUM);
/** word (RFC 3261 §25.1), the Call-ID alphabet. */
const WORD = table('-.!%*_+`\'~()<>:\\"/[]?{}', ALNUM);
const HEX = table('', [
  ['0', '9'],
  ['a', 'f'],
  ['A', 'F'],
]);

function inTable(t: Uint8Array, code: number): boolean {
  return code < 128 && t[code] === 1;
}

/** Whether a char code belongs to `token` (RFC 3261 §25.1). */
export function isTokenChar(code: number): boolean {
  return inTable(TOKEN, code);
}

/** Whether `s` is a non-empty RFC 3261 token (methods, header names, option tags, param names). */
export function isToken(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!inTable(TOKEN, s.charCodeAt(i))) return false;
  return true;
}

/** callid = word [ "@" word ] (RFC 3261 §25.1). */
export function isCallId(s: string): boolean {
  let wordStart = 0;
  let sawAt = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x40 /* @ */ && !sawAt && i > 0) {
      sawAt = true;
      wordStart = i + 1;
    } else if (!inTable(WORD, c)) return false;
  }
  return s.length > wordStart;
}

/** SP or HTAB: after unfolding, the only whitespace LWS/SWS can contain (RFC 3261 §25.1). */
export function isWs(code: number): boolean {
  return code === SP || code === HT;
}

/** Index of the first non SP/HT character at or after `i` (LWS has already been unfolded). */
export function skipWs(s: string, i: number): number {
  while (i < s.length && isWs(s.charCodeAt(i))) i++;
  return i;
}

/** Trim SP and HT only: `String#trim` would also eat Unicode spaces that belong to UTF-8 values. */
export function trimWs(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isWs(s.charCodeAt(a))) a++;
  while (b > a && isWs(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** End index of a token run starting at `i` (equal to `i` when there is none). */
export function scanToken(s: string, i: number): number {
  while (i < s.length && inTable(TOKEN, s.charCodeAt(i))) i++;
  return i;
}

/**
 * Validate `s` as a run of characters from a URI character class where `%HH` escapes are allowed
 * (RFC 3261 §25.1 `escaped`). A lone `%` is rejected: it is how esc02-style garbage is told apart.
 */
function escapedRun(t: Uint8Array, s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 /* % */) {
      if (!inTable(HEX, s.charCodeAt(i + 1)) || !inTable(HEX, s.charCodeAt(i + 2))) return false;
      i += 2;
    } else if (!inTable(t, c)) return false;
  }
  return true;
}

/** URI component validators: RFC 3261 §25.1 character classes with `%HH` escapes. */
export const isUserPart = (s: string): boolean => s.length > 0 && escapedRun(USER, s);
export const isPasswordPart = (s: string): boolean => escapedRun(PASSWORD, s);
export const isParamText = (s: string): boolean => escapedRun(PARAMCHAR, s);
export const isHeaderText = (s: string): boolean => escapedRun(HNVCHAR, s);

/** Whether a char code may appear in a hostname or IPv4 address. */
export function isHostChar(code: number): boolean {
  return inTable(HOSTCHAR, code);
}

/** hostname / IPv4address (loosely: the character class only; the resolver judges the rest). */
export function isHostName(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) if (!inTable(HOSTCHAR, s.charCodeAt(i))) return false;
  return true;
}

/** IPv6reference = "[" IPv6address "]" (RFC 3261 §25.1), checked by character class and shape. */
export function isIPv6Reference(s: string): boolean {
  if (s.length < 4 || s.charCodeAt(0) !== LBRACKET || s.charCodeAt(s.length - 1) !== RBRACKET) return false;
  let colons = 0;
  for (let i = 1; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c === COLON) colons++;
    else if (c !== 0x2e /* . */ && !inTable(HEX, c)) return false;
  }
  return colons >= 2;
}

/** Parse a port: 1–5 digits, 0–65535. */
export function parsePort(s: string): number | undefined {
  if (s.length === 0 || s.length > 5) return undefined;
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const d = s.charCodeAt(i) - 0x30;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
  }
  return n <= 65535 ? n : undefined;
}

/** Length of a URI scheme at the start of `s` (0 when `s` does not start with one followed by `:`). */
export function schemeLength(s: string): number {
  const first = s.charCodeAt(0);
  if (!((first >= 0x41 && first <= 0x5a) || (first >= 0x61 && first <= 0x7a))) return 0;
  let i = 1;
  while (i < s.length && inTable(SCHEME, s.charCodeAt(i))) i++;
  return s.charCodeAt(i) === COLON ? i : 0;
}

/**
 * Given `s[i] === '"'`, return the index just past the closing quote, or undefined when the quoted
 * string is unterminated (RFC 4475 quotbal). quoted-pair = "\" any char except CR/LF (§25.1).
 */
export function scanQuoted(s: string, i: number): number | undefined {
  for (let k = i + 1; k < s.length; k++) {
    const c = s.charCodeAt(k);
    if (c === BACKSLASH) k++;
    else if (c === DQUOTE) return k + 1;
  }
  return undefined;
}

/** The content of a quoted string (quotes included in `raw`) with quoted-pairs resolved. */
export function unquote(raw: string): string {
  const inner = raw.slice(1, -1);
  if (!inner.includes('\\')) return inner;
  let out = '';
  for (let k = 0; k < inner.length; k++) {
    const c = inner[k];
    if (c === '\\' && k + 1 < inner.length) out += inner[++k];
    else out += c;
  }
  return out;
}

/** Quote a display name or parameter value, escaping `"` and `\` (RFC 3261 §25.1 quoted-pair). */
export function quote(s: string): string {
  return `"${s.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/**
 * Parse header parameters `*( SEMI generic-param )` (RFC 3261 §25.1) from `s[i]` into `params`.
 * LWS is allowed around `;` and `=` (SEMI and EQUAL include SWS). Names are lowercased; values are
 * kept as written (quoted values keep their quotes so that re-serialising is lossless); a repeated
 * name keeps its first value. Stops at the end of `s`, or at a top-level `,` when `stopAtComma`.
 * Returns the stop index, or undefined on a syntax error such as an empty parameter (`;;`).
 */
export function parseParams(
  s: string,
  i: number,
  params: Map<string, string | null>,
  stopAtComma: boolean,
): number | undefined {
  for (;;) {
    i = skipWs(s, i);
    if (i >= s.length) return i;
    const c = s.charCodeAt(i);
    if (c === COMMA && stopAtComma) return i;
    if (c !== SEMI) return undefined;
    i = skipWs(s, i + 1);
    const nameEnd = scanToken(s, i);
    if (nameEnd === i) return undefined;
    const name = s.slice(i, nameEnd).toLowerCase();
    i = skipWs(s, nameEnd);
    let value: string | null = null;
    if (s.charCodeAt(i) === EQUAL) {
      i = skipWs(s, i + 1);
      let end: number | undefined;
      if (s.charCodeAt(i) === DQUOTE) end = scanQuoted(s, i);
      else {
        end = i;
        while (end < s.length && inTable(GENVALUE, s.charCodeAt(end))) end++;
        if (end === i) end = undefined;
      }
      if (end === undefined) return undefined;
      value = s.slice(i, end);
      i = end;
    }
    if (!params.has(name)) params.set(name, value);
  }
}

/** Serialise parameters back to `;name=value` form. */
export function formatParams(params: ReadonlyMap<string, string | null>): string {
  let out = '';
  for (const [k, v] of params) out += v === null ? `;${k}` : `;${k}=${v}`;
  return out;
}
