import { isIP } from 'node:net';
import { defaultPort, normalizeHost } from '../core/local-address.js';
import { resolveUri, uriTransport, type ResolvedTarget } from '../core/resolver.js';
import { isSipUri, parseUri } from '../message/uri.js';

/**
 * Resolve a proxy target or next hop (RFC 3263 §4). IP literals (and `localhost`) are answered
 * synchronously, so a serial fork over IP targets launches its first branch within the `proxy`
 * command and the order of events stays deterministic; names go through DNS (`resolveUri`).
 * @throws Error for anything that is not a sip/sips URI.
 */
export function resolveTarget(uriText: string): ResolvedTarget | Promise<ResolvedTarget> {
  const uri = parseUri(uriText);
  if (!isSipUri(uri)) throw new Error(`invalid request-uri: ${uriText}`);
  const protocol = uriTransport(uri);
  const host = normalizeHost(uri.params.get('maddr') ?? uri.host);
  if (isIP(host)) return { protocol, address: host, port: uri.port ?? defaultPort(protocol, uri.scheme === 'sips'), host };
  return resolveUri(uriText);
}
