import type { LocalAddresses } from '../core/local-address.js';
import { uriTransport } from '../core/resolver.js';
import { getHeaderValues } from '../message/headers.js';
import { parseNameAddr } from '../message/name-addr.js';
import type { SipHeader, SipMessage } from '../message/types.js';
import { isSipUri, parseUri } from '../message/uri.js';

/**
 * Route header handling for the proxy (RFC 3261 §16.4, §16.12): is a Route entry ours, and
 * removing our entries from the top of the route set.
 */

/**
 * Whether a SIP URI names one of our listening transports. Host *and* port must match: on loopback
 * every peer shares 127.0.0.1 (drachtio-protocol §8.3 item 6). A missing port means the
 * transport's default, as RFC 3263 §4.2 would resolve it.
 */
export function isOurUri(uriText: string, local: LocalAddresses): boolean {
  const uri = parseUri(uriText);
  if (!isSipUri(uri)) return false;
  const host = uri.params.get('maddr') ?? uri.host;
  return local.isLocal(host, uri.port, uriTransport(uri));
}

/** The URI of one Route/Record-Route/Path entry, or undefined when it does not parse. */
export function routeUri(entry: string): string | undefined {
  return parseNameAddr(entry)?.uri;
}

/** Whether a Route entry names us and is a loose route (`;lr`, RFC 3261 §16.4, §19.1.1). */
export function isOurLooseRoute(entry: string, local: LocalAddresses): boolean {
  const uri = routeUri(entry);
  if (uri === undefined || !isOurUri(uri, local)) return false;
  const parsed = parseUri(uri);
  return isSipUri(parsed) && parsed.params.has('lr');
}

/** The top Route entry, if any. */
export function topRoute(msg: SipMessage): string | undefined {
  return getHeaderValues(msg, 'route')[0];
}

/**
 * Remove every Route entry at the top of the route set that names us (RFC 3261 §16.4: "if the
 * first value in the Route header field indicates this proxy, the proxy MUST remove that value";
 * repeated when we record-routed twice, once per transport, RFC 5658). Returns how many were
 * removed. The remaining entries keep their order and their place among the headers.
 */
export function stripOurRoutes(msg: SipMessage, local: LocalAddresses): number {
  const values = getHeaderValues(msg, 'route');
  let n = 0;
  while (n < values.length && isOurUri(routeUri(values[n] ?? '') ?? '', local)) n++;
  if (n === 0) return 0;
  const first = msg.headers.findIndex((h) => h.name === 'route');
  const rawName = msg.headers[first]?.rawName ?? 'Route';
  const rest: SipHeader[] = values.slice(n).map((value) => ({ name: 'route', rawName, value }));
  const out: SipHeader[] = [];
  msg.headers.forEach((h, i) => {
    if (i === first) out.push(...rest);
    if (h.name !== 'route') out.push(h);
  });
  msg.headers = out;
  return n;
}
