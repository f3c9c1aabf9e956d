import { isIP } from 'node:net';
import type { Via } from '../message/types.js';
import type { Destination, Flow } from '../transport/types.js';

/**
 * Default choice of where a response goes (RFC 3261 §18.2.2 with RFC 3581 §4), used when the
 * transport layer provides nothing better:
 * - connection-oriented flows: back on the very connection the request came in on (and, should
 *   it be gone, to the peer's source address);
 * - UDP with `rport` in the top Via: to the packet's source address and port (NAT traversal);
 * - UDP otherwise: to `received` (or the sent-by host, or the source address when sent-by is a
 *   name the transaction layer cannot resolve) at the sent-by port, default 5060.
 */
export function defaultResponseDestination(via: Via, flow: Flow): Destination {
  if (flow.protocol !== 'udp') {
    const dest: Destination = { protocol: flow.protocol, address: flow.remote.address, port: flow.remote.port };
    if (flow.connectionId !== undefined) dest.connectionId = flow.connectionId;
    return dest;
  }
  if (via.params.has('rport')) return { protocol: 'udp', address: flow.remote.address, port: flow.remote.port };
  const received = via.params.get('received');
  const host = via.host.replace(/^\[(.*)\]$/, '$1');
  const address = received ?? (isIP(host) ? host : flow.remote.address);
  return { protocol: 'udp', address, port: via.port ?? 5060 };
}
