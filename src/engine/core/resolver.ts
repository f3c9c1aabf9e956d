import { lookup, resolveSrv } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { SipUri, TransportProtocol } from '../message/types.js';
import { isSipUri, parseUri } from '../message/uri.js';
import type { Destination } from '../transport/types.js';
import { defaultPort, normalizeHost } from './local-address.js';

/** A next hop that resolves to several addresses is tried in this order (RFC 3263 §4.3). */
export type ResolvedTarget = Destination & { host: string };

const transportParam: Record<string, TransportProtocol> = {
  udp: 'udp',
  tcp: 'tcp',
  tls: 'tls',
  ws: 'ws',
  wss: 'wss',
};

/** The transport a SIP URI asks for (RFC 3263 §4.1, simplified: no NAPTR). */
export function uriTransport(uri: SipUri): TransportProtocol {
  const t = uri.params.get('transport');
  if (t && transportParam[t.toLowerCase()]) return transportParam[t.toLowerCase()]!;
  return uri.scheme === 'sips' ? 'tls' : 'udp';
}

/**
 * Resolve a SIP URI (next hop) to transport, address and port (RFC 3263 §4). IP literals are used
 * as they are; a name with an explicit port uses A/AAAA; a name without a port tries SRV
 * (`_sip._udp.name`, `_sips._tcp.name` …) first and falls back to A/AAAA on the default port.
 */
export async function resolveUri(uriText: string): Promise<ResolvedTarget> {
  const parsed = parseUri(uriText);
  if (!isSipUri(parsed)) throw new Error(`invalid request-uri: ${uriText}`);
  const uri = parsed;
  const protocol = uriTransport(uri);
  const maddr = uri.params.get('maddr');
  const host = normalizeHost(maddr ?? uri.host);
  if (isIP(host)) {
    return { protocol, address: host, port: uri.port ?? defaultPort(protocol, uri.scheme === 'sips'), host };
  }
  if (uri.port === undefined && host !== '127.0.0.1') {
    const srv = await lookupSrv(host, protocol, uri.scheme === 'sips');
    if (srv) return srv;
  }
  const { address } = await lookup(host);
  return { protocol, address, port: uri.port ?? defaultPort(protocol, uri.scheme === 'sips'), host };
}

async function lookupSrv(host: string, protocol: TransportProtocol, secure: boolean): Promise<ResolvedTarget | undefined> {
  const service = secure ? '_sips' : '_sip';
  const proto = protocol === 'udp' ? '_udp' : '_tcp';
  try {
    const records = await resolveSrv(`${service}.${proto}.${host}`);
    records.sort((a, b) => a.priority - b.priority || b.weight - a.weight);
    const best = records[0];
    if (!best) return undefined;
    const { address } = await lookup(best.name);
    return { protocol, address, port: best.port, host };
  } catch {
    return undefined;
  }
}
