import { isToken, schemeLength } from './grammar.js';

/** A Request-Line or Status-Line as read (RFC 3261 §7.1, §7.2). */
export type StartLine =
  | { type: 'request'; method: string; uri: string }
  | { type: 'response'; status: number; reason: string };

/**
 * A start line, always filled in as far as it could be read (so that a stateless error response can
 * still be built), plus the first error found in it.
 */
export interface StartLineResult {
  start: StartLine;
  error?: { status: number; reason: string };
}

/**
 * Parse a Request-Line or Status-Line (RFC 3261 §7.1, §7.2, §25.1).
 *
 * Strict by choice where RFC 4475 allows either: exactly one SP between Request-Line elements and
 * none at the end (§3.1.2.9 lwsstart, §3.1.2.10 trws → 400). `<…>` around the Request-URI
 * (§3.1.2.7 ltgtruri) and LWS inside it (§3.1.2.8 lwsruri) → 400. A well-formed but different
 * SIP version → 505 (§3.1.2.16 badvers, RFC 3261 §8.2.2 / §21.5.6). Status codes must be three
 * digits 100–699 (§3.1.2.19 bigcode). The reason phrase may be empty (§3.1.1.13 noreason) and
 * is any UTF-8 text (§3.1.1.12 unreason).
 */
export function parseStartLine(line: string): StartLineResult {
  if (line.startsWith('SIP/') || (line.length >= 4 && line.slice(0, 4).toUpperCase() === 'SIP/')) return parseStatusLine(line);
  return parseRequestLine(line);
}

function parseRequestLine(line: string): StartLineResult {
  const sp1 = line.indexOf(' ');
  const method = sp1 < 0 ? line : line.slice(0, sp1);
  const sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
  const start: StartLine = { type: 'request', method, uri: '' };
  if (sp1 <= 0 || sp2 < 0) return { start, error: bad('malformed Request-Line') };
  const uri = line.slice(sp1 + 1, sp2);
  start.uri = uri;
  const version = line.slice(sp2 + 1);
  if (uri.length === 0 || version.includes(' ')) {
    return { start, error: bad('Request-Line elements must be separated by exactly one SP') };
  }
  if (!isToken(method)) return { start, error: bad('invalid method') };
  if (version !== 'SIP/2.0' && version.toUpperCase() !== 'SIP/2.0') {
    if (isSipVersion(version)) return { start, error: { status: 505, reason: 'Version Not Supported' } };
    return { start, error: bad('malformed SIP-Version') };
  }
  const uriError = checkRequestUri(uri);
  if (uriError !== undefined) return { start, error: bad(uriError) };
  return { start };
}

/** Only the outline of a Request-URI is checked here; the validator parses it fully. */
function checkRequestUri(uri: string): string | undefined {
  for (let i = 0; i < uri.length; i++) {
    const c = uri.charCodeAt(i);
    if (c === 0x3c || c === 0x3e) return 'Request-URI must not be enclosed in <>';
    if (c <= 0x20 || c >= 0x7f) return 'invalid character in Request-URI';
  }
  if (schemeLength(uri) === 0 || schemeLength(uri) === uri.length - 1) return 'Request-URI is not an absolute URI';
  return undefined;
}

/** SIP-Version = "SIP" "/" 1*DIGIT "." 1*DIGIT */
function isSipVersion(v: string): boolean {
  const dot = v.indexOf('.');
  return v.length > 4 && v.slice(0, 4).toUpperCase() === 'SIP/' && dot > 4 && dot < v.length - 1
    && isDigits(v.slice(4, dot)) && isDigits(v.slice(dot + 1));
}

function isDigits(s: string): boolean {
  if (s.length === 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}

function parseStatusLine(line: string): StartLineResult {
  const start: StartLine = { type: 'response', status: 0, reason: '' };
  const sp1 = line.indexOf(' ');
  if (sp1 < 0) return { start, error: bad('malformed Status-Line') };
  if (line.slice(0, sp1).toUpperCase() !== 'SIP/2.0') {
    return { start, error: { status: 505, reason: 'Version Not Supported' } };
  }
  const sp2 = line.indexOf(' ', sp1 + 1);
  const code = sp2 < 0 ? line.slice(sp1 + 1) : line.slice(sp1 + 1, sp2);
  // a missing SP before an empty reason phrase is tolerated: nothing is ambiguous about it
  start.reason = sp2 < 0 ? '' : line.slice(sp2 + 1);
  if (code.length !== 3 || !isDigits(code)) return { start, error: bad('invalid Status-Code') };
  const status = Number(code);
  if (status < 100 || status > 699) return { start, error: bad('Status-Code out of range') };
  start.status = status;
  return { start };
}

function bad(reason: string): { status: number; reason: string } {
  return { status: 400, reason };
}
