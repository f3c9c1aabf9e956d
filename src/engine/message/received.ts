import { DQUOTE, isWs, scanQuoted } from './grammar.js';
import type { SipRequest } from './types.js';
import { parseVia } from './via.js';

/**
 * Record where a request really came from in its top Via, so that responses find their way back
 * through NATs (RFC 3261 §18.2.1, RFC 3581 §4):
 *
 * - `received=<source address>` is added (or replaced) when the sent-by host is a name or an
 *   address other than the packet source, and always when `rport` is present;
 * - a valueless `rport` is filled with the source port.
 *
 * The header value is edited in place as text: every other parameter, the other via-parms of the
 * same line, and their spacing stay byte-for-byte as received (drachtio-srf and the branch-based
 * transaction matching see the original values). A top Via that does not parse is left alone; the
 * validator rejects such requests anyway. IPv6 sources are written without brackets, as the
 * RFC 3261 §20.42 `received` ABNF (IPv6address) requires; IPv4-mapped sources as plain IPv4.
 */
export function stampReceived(req: SipRequest, source: { address: string; port: number }): void {
  const header = req.headers.find((h) => h.name === 'via');
  if (header === undefined) return;
  const value = header.value;
  const comma = indexOutsideQuotes(value, 0x2c /* , */, 0);
  const topEnd = comma < 0 ? value.length : comma;
  let trimmedEnd = topEnd;
  while (trimmedEnd > 0 && isWs(value.charCodeAt(trimmedEnd - 1))) trimmedEnd--;
  const top = value.slice(0, trimmedEnd);
  const via = parseVia(top)?.[0];
  if (via === undefined) return;

  const address = unmapIPv4(stripBrackets(source.address));
  const needReceived = via.params.has('rport') || !sameAddress(via.host, address);
  const parts = splitOutsideQuotes(top, 0x3b /* ; */);
  let sawReceived = false;
  for (let k = 1; k < parts.length; k++) {
    const part = parts[k] as string;
    const eq = part.indexOf('=');
    const name = (eq < 0 ? part : part.slice(0, eq)).trim().toLowerCase();
    const lead = part.slice(0, part.length - part.trimStart().length);
    if (name === 'rport' && eq < 0) parts[k] = `${lead}rport=${source.port}`;
    else if (name === 'received' && needReceived && !sawReceived) {
      parts[k] = `${lead}received=${address}`;
      sawReceived = true;
    }
  }
  if (needReceived && !sawReceived) parts.push(`received=${address}`);
  header.value = parts.join(';') + value.slice(trimmedEnd);
}

/**
 * A dual-stack socket reports IPv4 peers as IPv4-mapped IPv6 (`::ffff:192.0.2.1`, RFC 4291
 * §2.5.5.2); the peer itself wrote, and will be answered at, the plain IPv4 address.
 */
function unmapIPv4(address: string): string {
  const m = /^::ffff:(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i.exec(address);
  return m?.[1] ?? address;
}

function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/** Compare a sent-by host with a source address; IPv6 forms are normalised (`0:0::1` equals `::1`). */
function sameAddress(viaHost: string, address: string): boolean {
  const a = stripBrackets(viaHost).toLowerCase();
  const b = address.toLowerCase();
  if (a === b) return true;
  if (!a.includes(':') || !b.includes(':')) return false;
  return normaliseIPv6(a) === normaliseIPv6(b);
}

function normaliseIPv6(a: string): string {
  try {
    return new URL(`http://[${a}]/`).hostname;
  } catch {
    return a;
  }
}

function indexOutsideQuotes(s: string, ch: number, from: number): number {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === DQUOTE) {
      const end = scanQuoted(s, i);
      if (end === undefined) return -1;
      i = end - 1;
    } else if (c === ch) return i;
  }
  return -1;
}

function splitOutsideQuotes(s: string, ch: number): string[] {
  const out: string[] = [];
  let start = 0;
  for (;;) {
    const at = indexOutsideQuotes(s, ch, start);
    if (at < 0) break;
    out.push(s.slice(start, at));
    start = at + 1;
  }
  out.push(s.slice(start));
  return out;
}
