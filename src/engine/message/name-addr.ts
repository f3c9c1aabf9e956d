import { RecentResults } from './recent.js';
import {
  COLON,
  DQUOTE,
  formatParams,
  isWs,
  LAQUOT,
  parseParams,
  quote,
  scanQuoted,
  scanToken,
  skipWs,
  unquote,
} from './grammar.js';
import { splitCommaList } from './headers.js';
import type { NameAddr } from './types.js';
import { parseUri } from './uri.js';

/**
 * Parse one From/To/Contact/Route/Record-Route/Refer-To value (RFC 3261 §20.10, §25.1):
 *
 *     ( name-addr / addr-spec ) *( SEMI generic-param )
 *     name-addr = [ display-name ] LAQUOT addr-spec RAQUOT
 *     display-name = *(token LWS) / quoted-string
 *
 * A display name may touch the `<` without LWS (RFC 4475 §3.1.1.6 lwsdisp, a known ABNF bug).
 * No whitespace is allowed inside `<…>` (§3.1.2.14 badaspec). For the addr-spec form the URI
 * ends at the first `;` or whitespace and everything after it is a header parameter — §20.10:
 * a URI containing `,`, `?` or `;` must be bracketed, so `?` or `,` there is an error
 * (§3.1.2.13 regbadct) and `;unknownparam` is a contact-param (§3.3.12 cparam01). The URI itself
 * must parse with {@link parseUri}. Returns undefined on any syntax error.
 */
export function parseNameAddr(s: string): NameAddr | undefined {
  // The result is shared between callers with the same input: treat it as read-only.
  return recentNameAddrs.get(s, parseNameAddrUncached);
}

const recentNameAddrs = new RecentResults<NameAddr | undefined>(4);

function parseNameAddrUncached(s: string): NameAddr | undefined {
  let i = skipWs(s, 0);
  let displayName: string | undefined;
  const c = s.charCodeAt(i);
  if (c === DQUOTE) {
    const end = scanQuoted(s, i);
    if (end === undefined) return undefined;
    displayName = unquote(s.slice(i, end));
    i = skipWs(s, end);
    if (s.charCodeAt(i) !== LAQUOT) return undefined;
  } else if (c !== LAQUOT) {
    const first = scanToken(s, i);
    if (first === i) return undefined;
    if (s.charCodeAt(first) === COLON) return parseAddrSpec(s, i);
    let lastEnd = first;
    let j = skipWs(s, first);
    while (s.charCodeAt(j) !== LAQUOT) {
      const e = scanToken(s, j);
      if (e === j) return undefined;
      lastEnd = e;
      j = skipWs(s, e);
    }
    displayName = s.slice(i, lastEnd);
    i = j;
  }
  // s[i] === '<'
  const close = s.indexOf('>', i + 1);
  if (close < 0) return undefined;
  const uri = s.slice(i + 1, close);
  for (let k = 0; k < uri.length; k++) if (uri.charCodeAt(k) <= 0x20) return undefined;
  if (parseUri(uri) === undefined) return undefined;
  const params = new Map<string, string | null>();
  if (parseParams(s, close + 1, params, false) !== s.length) return undefined;
  const out: NameAddr = { uri, params, bracketed: true };
  if (displayName !== undefined) out.displayName = displayName;
  return out;
}

function parseAddrSpec(s: string, i: number): NameAddr | undefined {
  let end = i;
  while (end < s.length) {
    const c = s.charCodeAt(end);
    if (c === 0x3b /* ; */ || isWs(c)) break;
    if (c === 0x3f /* ? */ || c === 0x2c /* , */ || c === LAQUOT || c === 0x3e || c === DQUOTE) return undefined;
    end++;
  }
  const uri = s.slice(i, end);
  if (parseUri(uri) === undefined) return undefined;
  const params = new Map<string, string | null>();
  if (parseParams(s, end, params, false) !== s.length) return undefined;
  return { uri, params, bracketed: false };
}

/**
 * Parse a comma-separated list of name-addr values (Contact, Route, Record-Route; RFC 3261 §7.3.1).
 * Undefined when any element is malformed or the list is empty.
 */
export function parseNameAddrList(value: string): NameAddr[] | undefined {
  const out: NameAddr[] = [];
  for (const part of splitCommaList(value)) {
    const na = parseNameAddr(part);
    if (na === undefined) return undefined;
    out.push(na);
  }
  return out.length > 0 ? out : undefined;
}

/**
 * Serialise a name-addr. Brackets are kept when the value had them, and added whenever a display
 * name is present or the URI contains `,`, `;` or `?` (RFC 3261 §20.10) so parameters stay
 * header parameters. Display names are always written quoted.
 */
export function formatNameAddr(n: NameAddr): string {
  const bracket = n.bracketed || n.displayName !== undefined || /[;,?]/.test(n.uri);
  let out = n.displayName !== undefined ? `${quote(n.displayName)} ` : '';
  out += bracket ? `<${n.uri}>` : n.uri;
  return out + formatParams(n.params);
}

/** The `tag` parameter of a From/To value (RFC 3261 §19.3), or undefined when absent or unparseable. */
export function getTag(nameAddrValue: string): string | undefined {
  const tag = parseNameAddr(nameAddrValue)?.params.get('tag');
  return tag ?? undefined;
}
