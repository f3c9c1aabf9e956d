/**
 * The qualify ping over drachtio-srf: OPTIONS with the binding's Contact as Request-URI, sent to
 * the address, port and transport the REGISTER came from (the `proxy` next hop of srf.request,
 * drachtio-protocol §4.8: the Request-URI stays, the request goes to the route URI). Behind NAT the
 * Contact is a private address; the source is the pinhole that reaches the phone, and for TCP/TLS/
 * WS the engine reuses the phone's open connection to that address and port.
 */
import type Srf from 'drachtio-srf';
import type { Binding } from './location.js';
import type { Ping } from './qualify.js';

/** `sip:<source>:<port>;transport=<t>`, the next hop of a binding's flow. */
export function flowUri(b: Pick<Binding, 'sourceAddress' | 'sourcePort' | 'transport'>): string {
  const host = b.sourceAddress.includes(':') ? `[${b.sourceAddress}]` : b.sourceAddress;
  return `sip:${host}:${b.sourcePort};transport=${b.transport.toLowerCase()}`;
}

/** What srf.request looks like at run time (its type declarations do not describe this form). */
type SrfRequestFn = (
  uri: string,
  opts: { method: string; proxy?: string; headers?: Record<string, string> },
  cb: (err: unknown, req?: { on(event: 'response', fn: (res: { status: number }) => void): void }) => void,
) => void;

/**
 * A {@link Ping} through `srf`. Any answer means the UA is there (405 or 404 included); 408 and
 * 503 are what the engine synthesises for a timeout or a transport failure, so they count as none.
 */
export function srfPing(srf: Srf): Ping {
  const request = (srf as unknown as { request: SrfRequestFn }).request.bind(srf);
  return (b) =>
    new Promise<boolean>((resolve) => {
      try {
        request(b.contactUri, { method: 'OPTIONS', proxy: flowUri(b), headers: { 'Max-Forwards': '70' } }, (err, req) => {
          if (err || !req) return resolve(false);
          req.on('response', (res) => resolve(res.status !== 408 && res.status !== 503));
        });
      } catch {
        resolve(false);
      }
    });
}
