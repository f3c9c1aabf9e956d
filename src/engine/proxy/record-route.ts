import { listenerUri } from '../core/local-address.js';
import type { ListeningTransport } from '../transport/types.js';

/**
 * Our Record-Route entries for a forwarded request (RFC 3261 §16.6 step 4, drachtio-protocol §4.9:
 * `<sip:HOST:PORT[;transport=x];lr>`), top first. When the request leaves on another transport
 * than it came in on, we record-route twice (RFC 5658 §3.2): the upper entry is the one the
 * downstream side can reach, the lower one the upstream side; the stateless relay strips both.
 */
export function recordRouteFor(inbound: ListeningTransport | undefined, outbound: ListeningTransport): string[] {
  const out = `<${listenerUri(outbound, { lr: true })}>`;
  if (!inbound || inbound === outbound) return [out];
  const into = `<${listenerUri(inbound, { lr: true })}>`;
  return into === out ? [out] : [out, into];
}
