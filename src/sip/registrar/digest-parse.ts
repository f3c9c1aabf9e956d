/**
 * Parser for `Authorization` / `Proxy-Authorization` header values with the Digest scheme
 * (RFC 3261 §22.4 and §25.1 `credentials`, RFC 7616 §3.4). Total: any input yields a result or
 * `undefined`, never an exception.
 */

/** Parsed Digest credentials: parameter names lowercased, quoted values unescaped. */
export interface DigestCredentials {
  /** Every parameter, by lowercased name. */
  readonly params: ReadonlyMap<string, string>;
  /** Convenience lookup by (any-case) name. */
  get(name: string): string | undefined;
}

const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
const MAX_LENGTH = 8192;

/**
 * Parse `Digest name=value, name="quoted, value", …`. The scheme and parameter names are
 * case-insensitive (RFC 3261 §25.1, RFC 7616 §3.4). Returns `undefined` for another scheme, a
 * duplicate parameter (RFC 7616 §3.4: each parameter at most once), an unterminated quoted string,
 * an empty value list, an oversized header, or anything else not matching the grammar.
 */
export function parseDigestCredentials(header: string): DigestCredentials | undefined {
  if (typeof header !== 'string' || header.length > MAX_LENGTH) return undefined;
  const s = header;
  let i = skipWs(s, 0);
  if (s.slice(i, i + 6).toLowerCase() !== 'digest') return undefined;
  i += 6;
  const afterScheme = i;
  i = skipWs(s, i);
  if (i === afterScheme || i >= s.length) return undefined;
  const params = new Map<string, string>();
  for (;;) {
    const nameStart = i;
    while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
    if (i === nameStart) return undefined;
    const name = s.slice(nameStart, i).toLowerCase();
    i = skipWs(s, i);
    if (s[i] !== '=') return undefined;
    i = skipWs(s, i + 1);
    let value: string;
    if (s[i] === '"') {
      const quoted = readQuoted(s, i + 1);
      if (quoted === undefined) return undefined;
      value = quoted.value;
      i = quoted.next;
    } else {
      const valueStart = i;
      while (i < s.length && isTokenChar(s.charCodeAt(i))) i++;
      if (i === valueStart) return undefined;
      value = s.slice(valueStart, i);
      if (!TOKEN.test(value)) return undefined;
    }
    if (params.has(name)) return undefined;
    params.set(name, value);
    i = skipWs(s, i);
    if (i >= s.length) break;
    if (s[i] !== ',') return undefined;
    i = skipWs(s, i + 1);
    if (i >= s.length) return undefined;
  }
  return { params, get: (n: string) => params.get(n.toLowerCase()) };
}

/**
 * The content of a quoted-string whose opening quote is just before `from`, unescaped, and the
 * index after its closing quote; undefined when it is not closed. Values without a backslash
 * (nonces, URIs, hashes: all of them in practice) are one slice rather than a character-by-character build.
 */
function readQuoted(s: string, from: number): { value: string; next: number } | undefined {
  const close = s.indexOf('"', from);
  let k = from;
  while (k < close && s.charCodeAt(k) !== 0x5c /* \\ */) k++;
  if (close >= 0 && k === close) return { value: s.slice(from, close), next: close + 1 };
  let out = '';
  let i = from;
  for (;;) {
    if (i >= s.length) return undefined;
    const c = s[i];
    if (c === '"') break;
    if (c === '\\') {
      if (i + 1 >= s.length) return undefined;
      out += s[i + 1];
      i += 2;
      continue;
    }
    out += c;
    i++;
  }
  return { value: out, next: i + 1 };
}

function skipWs(s: string, i: number): number {
  while (i < s.length && (s[i] === ' ' || s[i] === '\t' || s[i] === '\r' || s[i] === '\n')) i++;
  return i;
}

/** RFC 3261 §25.1 token characters. */
function isTokenChar(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x2d || c === 0x2e || c === 0x21 || c === 0x25 || c === 0x2a ||
    c === 0x5f || c === 0x2b || c === 0x60 || c === 0x27 || c === 0x7e
  );
}
