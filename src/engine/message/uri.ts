import {
  isHeaderText,
  isHostName,
  isIPv6Reference,
  isParamText,
  isPasswordPart,
  isUserPart,
  parsePort,
  schemeLength,
} from './grammar.js';
import type { SipUri, TelUri, Uri } from './types.js';

/**
 * Parse an absolute URI as it appears in a Request-URI or inside a name-addr.
 *
 * - `sip:`/`sips:` (RFC 3261 §19.1.1): userinfo ends at the first `@`, so a user part may carry
 *   `;`, `?` and `,` (RFC 4475 §3.1.1.9 semiuri: user = `user;par=u%40example.net`); escapes are
 *   kept as written. IPv6 hosts must be bracketed (RFC 5118 §4.2); the brackets are kept.
 *   URI headers (`?Route=%3C…%3E`) are returned still escaped and are never applied here.
 * - `tel:` (RFC 3966): number and parameters.
 * - any other RFC 3986 scheme: kept opaque, so that a 416 can be chosen later (RFC 3261 §8.2.2.1).
 *
 * Returns undefined when the text is not a URI of that shape.
 */
export function parseUri(s: string): Uri | undefined {
  const n = schemeLength(s);
  if (n === 0) return undefined;
  const scheme = s.slice(0, n).toLowerCase();
  const rest = s.slice(n + 1);
  if (scheme === 'sip' || scheme === 'sips') return parseSipUri(scheme, rest);
  if (scheme === 'tel') return parseTelUri(rest);
  return rest.length > 0 && isOpaque(rest) ? { scheme, value: s } : undefined;
}

/** Whether an opaque URI body has no whitespace, controls or the delimiters that end a URI in a header. */
function isOpaque(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f || c === 0x22 || c === 0x3c || c === 0x3e) return false;
  }
  return true;
}

function parseSipUri(scheme: 'sip' | 'sips', rest: string): SipUri | undefined {
  const uri: SipUri = { scheme, host: '', params: new Map(), headers: new Map() };
  let i = 0;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const colon = rest.indexOf(':');
    const userEnd = colon >= 0 && colon < at ? colon : at;
    const user = rest.slice(0, userEnd);
    if (!isUserPart(user)) return undefined;
    uri.user = user;
    if (userEnd < at) {
      const password = rest.slice(userEnd + 1, at);
      if (!isPasswordPart(password)) return undefined;
      uri.password = password;
    }
    i = at + 1;
  }
  let end = i;
  while (end < rest.length) {
    const c = rest.charCodeAt(end);
    if (c === 0x3b /* ; */ || c === 0x3f /* ? */) break;
    end++;
  }
  if (!parseHostPort(rest.slice(i, end), uri)) return undefined;
  i = end;
  while (i < rest.length && rest.charCodeAt(i) === 0x3b) {
    let next = i + 1;
    while (next < rest.length && rest.charCodeAt(next) !== 0x3b && rest.charCodeAt(next) !== 0x3f) next++;
    if (!addParam(rest.slice(i + 1, next), uri.params)) return undefined;
    i = next;
  }
  if (i < rest.length) {
    // rest[i] is '?': hname "=" hvalue *( "&" hname "=" hvalue )
    for (const pair of rest.slice(i + 1).split('&')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) return undefined;
      const name = pair.slice(0, eq);
      const value = pair.slice(eq + 1);
      if (!isHeaderText(name) || !isHeaderText(value)) return undefined;
      if (!uri.headers.has(name)) uri.headers.set(name, value);
    }
  }
  return uri;
}

/** hostport = host [ ":" port ]; host = hostname / IPv4address / IPv6reference. */
function parseHostPort(s: string, uri: SipUri): boolean {
  let portText: string | undefined;
  if (s.charCodeAt(0) === 0x5b /* [ */) {
    const close = s.indexOf(']');
    if (close < 0) return false;
    uri.host = s.slice(0, close + 1);
    if (!isIPv6Reference(uri.host)) return false;
    const after = s.slice(close + 1);
    if (after.length > 0) {
      if (after.charCodeAt(0) !== 0x3a) return false;
      portText = after.slice(1);
    }
  } else {
    const colon = s.indexOf(':');
    uri.host = colon < 0 ? s : s.slice(0, colon);
    if (!isHostName(uri.host)) return false;
    if (colon >= 0) portText = s.slice(colon + 1);
  }
  if (portText !== undefined) {
    const port = parsePort(portText);
    if (port === undefined) return false;
    uri.port = port;
  }
  return true;
}

/** uri-parameter = pname [ "=" pvalue ] with escapes allowed; names lowercased; first value wins. */
function addParam(text: string, params: Map<string, string | null>): boolean {
  const eq = text.indexOf('=');
  const name = eq < 0 ? text : text.slice(0, eq);
  const value = eq < 0 ? null : text.slice(eq + 1);
  if (name.length === 0 || !isParamText(name)) return false;
  if (value !== null && (value.length === 0 || !isParamText(value))) return false;
  const key = name.toLowerCase();
  if (!params.has(key)) params.set(key, value);
  return true;
}

/** RFC 3966 §3: global (`+…`) or local numbers; visual separators and `*#` allowed; escapes kept. */
function parseTelUri(rest: string): TelUri | undefined {
  const semi = rest.indexOf(';');
  const number = semi < 0 ? rest : rest.slice(0, semi);
  if (number.length === 0) return undefined;
  for (let k = 0; k < number.length; k++) {
    const c = number[k] as string;
    if (!/[0-9A-Fa-f*#+().%-]/.test(c)) return undefined;
  }
  const params = new Map<string, string | null>();
  if (semi >= 0) {
    for (const part of rest.slice(semi + 1).split(';')) if (!addParam(part, params)) return undefined;
  }
  return { scheme: 'tel', number, params };
}

/** Serialise a parsed URI (escapes are kept as parsed, so this round-trips `parseUri`). */
export function uriToString(u: Uri): string {
  if (u.scheme === 'sip' || u.scheme === 'sips') {
    const sip = u as SipUri;
    let out = `${sip.scheme}:`;
    if (sip.user !== undefined) out += sip.password !== undefined ? `${sip.user}:${sip.password}@` : `${sip.user}@`;
    out += sip.host;
    if (sip.port !== undefined) out += `:${sip.port}`;
    for (const [k, v] of sip.params) out += v === null ? `;${k}` : `;${k}=${v}`;
    let sep = '?';
    for (const [k, v] of sip.headers) {
      out += `${sep}${k}=${v}`;
      sep = '&';
    }
    return out;
  }
  if (u.scheme === 'tel' && 'number' in u) {
    let out = `tel:${u.number}`;
    for (const [k, v] of u.params) out += v === null ? `;${k}` : `;${k}=${v}`;
    return out;
  }
  return 'value' in u ? u.value : '';
}

/** Whether a parsed URI is a SIP or SIPS URI. */
export function isSipUri(u: Uri | undefined): u is SipUri {
  return u !== undefined && (u.scheme === 'sip' || u.scheme === 'sips');
}

/**
 * Resolve `%HH` escapes (RFC 3261 §19.1.4: escaped and unescaped forms compare equal inside a
 * SIP-URI). Escapes are decoded as UTF-8 bytes; `%00` stays a NUL character (RFC 4475 §3.1.1.4).
 */
export function unescapeUriPart(s: string): string {
  if (!s.includes('%')) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x25 && i + 2 < s.length && /^[0-9A-Fa-f]{2}$/.test(s.slice(i + 1, i + 3))) {
      bytes.push(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c < 0x80) bytes.push(c);
    else {
      const cp = s.codePointAt(i) ?? c;
      if (cp > 0xffff) i++;
      for (const b of Buffer.from(String.fromCodePoint(cp), 'utf8')) bytes.push(b);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
