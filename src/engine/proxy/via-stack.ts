import { normalizeHost } from '../core/local-address.js';
import type { LocalAddresses } from '../core/local-address.js';
import { getHeaderValues, splitCommaList } from '../message/headers.js';
import type { SipMessage, TransportProtocol, Via } from '../message/types.js';
import { parseVia } from '../message/via.js';
import type { Destination } from '../transport/types.js';

/** Via handling for relayed responses (RFC 3261 §16.7 step 3, §16.11, §18.2.2). */

/** The top Via value, parsed; undefined when absent or malformed. */
export function topVia(msg: SipMessage): Via | undefined {
  const first = getHeaderValues(msg, 'via')[0];
  return first === undefined ? undefined : parseVia(first)?.[0];
}

/** Whether a Via's sent-by is one of our transports (host and port, as for Route). */
export function isOurVia(via: Via, local: LocalAddresses): boolean {
  return local.isLocal(via.host, via.port, viaProtocol(via));
}

/**
 * A copy of the message without its top Via value (RFC 3261 §16.7 step 3: "the proxy removes the
 * topmost Via"). A Via line carrying several comma-separated values loses only the first one.
 */
export function withoutTopVia<T extends SipMessage>(msg: T): T {
  const headers = msg.headers.map((h) => ({ ...h }));
  const idx = headers.findIndex((h) => h.name === 'via');
  const line = headers[idx];
  if (line) {
    const values = splitCommaList(line.value);
    if (values.length > 1) line.value = values.slice(1).join(', ');
    else headers.splice(idx, 1);
  }
  return { ...msg, headers };
}

const protocols: Record<string, TransportProtocol> = { UDP: 'udp', TCP: 'tcp', TLS: 'tls', WS: 'ws', WSS: 'wss' };

/** The transport a Via names (`SIP/2.0/TCP` → tcp); unknown transports are treated as UDP. */
export function viaProtocol(via: Via): TransportProtocol {
  return protocols[via.transport] ?? 'udp';
}

/**
 * Where a statelessly relayed response goes, from the Via that is on top once ours is removed
 * (RFC 3261 §18.2.2 with RFC 3581 §4): `received` (else the sent-by host) and `rport` (else the
 * sent-by port, else the default). For stream transports there is no remembered connection in a
 * stateless relay, so the transport layer reuses or opens one to that address.
 */
export function viaDestination(via: Via): Destination {
  const protocol = viaProtocol(via);
  const received = via.params.get('received');
  const rport = via.params.get('rport');
  const rportNum = rport && /^\d{1,5}$/.test(rport) ? Number(rport) : undefined;
  const fallback = protocol === 'tls' || protocol === 'wss' ? 5061 : 5060;
  return {
    protocol,
    address: normalizeHost(received ?? via.host),
    port: rportNum ?? via.port ?? fallback,
  };
}
