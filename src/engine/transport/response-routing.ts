/**
 * Where a response goes: RFC 3261 §18.2.2 with the RFC 3581 §4 `rport` extension.
 */
import type { TransportProtocol, Via } from '../message/types.js';
import { normalizeAddress } from './address.js';
import type { Destination, Flow } from './types.js';

/** RFC 3261 §19.1.2 default ports; ws/wss have none of their own, so the HTTP ones apply (RFC 7118 §5.3 is silent). */
const defaultPorts: Record<TransportProtocol, number> = { udp: 5060, tcp: 5060, tls: 5061, ws: 80, wss: 443 };

function validPort(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined || !/^\d{1,5}$/.test(value)) return undefined;
  const n = Number(value);
  return n >= 1 && n <= 65535 ? n : undefined;
}

function param(via: Via, name: string): string | null | undefined {
  return via.params.get(name);
}

/**
 * The destination for a response to a request whose top Via is `via`, received on `flow`.
 *
 * - Reliable transports (tcp, tls, ws, wss): the connection the request came in on
 *   (`connectionId`); should it be gone, the address in `received` (else the sent-by host) and the
 *   sent-by port (else the transport's default port) — §18.2.2, second paragraph.
 * - UDP: `received` (else the sent-by host) with the `rport` value when present (RFC 3581 §4), else
 *   the sent-by port, else 5060. A valueless `rport` (not yet stamped with the source port) means
 *   the flow's source address and port, which is what the stamping would have written.
 *
 * Not supported: `maddr` (§18.2.2's multicast case). The engine never sends to multicast or to an
 * maddr; the response goes to the source as above. A sent-by host name is passed on unresolved
 * (RFC 3263 §6 server location is left to the sender, which hands it to the OS resolver).
 */
export function responseDestination(via: Via, flow: Flow): Destination {
  const protocol = flow.protocol;
  const received = param(via, 'received');
  const sentByHost = normalizeAddress(via.host);
  const sentByPort = via.port !== undefined && via.port >= 1 && via.port <= 65535 ? via.port : undefined;

  if (protocol !== 'udp') {
    const dest: Destination = {
      protocol,
      address: received ? normalizeAddress(received) : sentByHost,
      port: sentByPort ?? defaultPorts[protocol],
    };
    if (flow.connectionId !== undefined) dest.connectionId = flow.connectionId;
    return dest;
  }

  const rport = param(via, 'rport');
  if (rport !== undefined) {
    // RFC 3581 §4: the client asked for symmetric response routing.
    return {
      protocol,
      address: received ? normalizeAddress(received) : flow.remote.address,
      port: validPort(rport) ?? flow.remote.port,
    };
  }
  return {
    protocol,
    address: received ? normalizeAddress(received) : sentByHost,
    port: sentByPort ?? defaultPorts.udp,
  };
}
