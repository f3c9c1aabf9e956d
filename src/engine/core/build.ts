import { addHeader, getHeader, hasHeader, removeHeader } from '../message/headers.js';
import { formatNameAddr, parseNameAddr } from '../message/name-addr.js';
import type { SipHeader, SipMessage } from '../message/types.js';
import { isSipUri, parseUri, uriToString } from '../message/uri.js';
import type { ListeningTransport } from '../transport/types.js';
import { serverOwnedHeaders } from './app-message.js';
import { listenerUri, uriHost } from './local-address.js';

/**
 * Header rules for messages built from an app's SIP text (drachtio-protocol §5).
 */

/** Headers whose `@localhost` URIs are rewritten to this server's address (§5). */
const localhostRewritten = new Set(['from', 'to', 'contact', 'p-asserted-identity']);

/**
 * Rewrite `user@localhost[:port]` in a name-addr to the transport's advertised host:port and
 * re-encode it as `<…>` (srf's `callingNumber` produces `"Name" <sip:NUM@localhost>`).
 */
export function rewriteLocalhost(value: string, l: ListeningTransport): string {
  if (!/@localhost\b/i.test(value)) return value;
  const na = parseNameAddr(value);
  if (!na) return value;
  const uri = parseUri(na.uri);
  if (!isSipUri(uri) || uri.host.toLowerCase() !== 'localhost') return value;
  uri.host = uriHost(l.spec.advertisedHost);
  uri.port = l.local.port;
  if (l.spec.protocol !== 'udp' && !uri.params.has('transport')) uri.params.set('transport', l.spec.protocol);
  return formatNameAddr({ ...na, uri: uriToString(uri), bracketed: true });
}

/**
 * Append the app's headers to a message the server is building, skipping the ones the server owns
 * and the ones listed in `skip` (already taken into account by the caller), with the `@localhost`
 * rewrite applied.
 */
export function appendAppHeaders(
  target: SipMessage,
  appHeaders: readonly SipHeader[],
  l: ListeningTransport,
  skip: ReadonlySet<string>,
): void {
  for (const h of appHeaders) {
    if (serverOwnedHeaders.has(h.name) || skip.has(h.name)) continue;
    const value = localhostRewritten.has(h.name) ? rewriteLocalhost(h.value, l) : h.value;
    target.headers.push({ name: h.name, rawName: h.rawName, value });
  }
}

/** First app header value by canonical name. */
export function appHeader(appHeaders: readonly SipHeader[], name: string): SipHeader | undefined {
  return appHeaders.find((h) => h.name === name);
}

/**
 * Content-Type for a body without one: `application/sdp` when it starts with `v=0` (§4.3, §4.8).
 * Returns false when the body has no type and is not SDP (the caller answers NOK `missing content-type`).
 */
export function ensureContentType(msg: SipMessage): boolean {
  if (msg.body.length === 0 || hasHeader(msg, 'content-type')) return true;
  if (msg.body.subarray(0, 3).toString('latin1') === 'v=0') {
    addHeader(msg, 'content-type', 'application/sdp');
    return true;
  }
  return false;
}

/** Our Contact for a transport: `<sip:HOST:PORT[;transport=x]>`. */
export function localContact(l: ListeningTransport): string {
  return `<${listenerUri(l)}>`;
}

/** The URI inside a Contact/name-addr value, or undefined. */
export function uriOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return parseNameAddr(value)?.uri;
}

/** Whether an option tag appears in Supported or Require (RFC 3261 §20.32, §20.37). */
export function supportsOption(msg: SipMessage, tag: string): boolean {
  for (const name of ['supported', 'require']) {
    const v = getHeader(msg, name);
    if (v && v.split(',').some((t) => t.trim().toLowerCase() === tag)) return true;
  }
  return false;
}

/** Whether an option tag appears in Require. */
export function requiresOption(msg: SipMessage, tag: string): boolean {
  const v = getHeader(msg, 'require');
  return !!v && v.split(',').some((t) => t.trim().toLowerCase() === tag);
}

/** Drop a header and set it to one value. */
export function replaceHeader(msg: SipMessage, name: string, value: string): void {
  removeHeader(msg, name);
  addHeader(msg, name, value);
}
