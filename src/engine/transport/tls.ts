/**
 * SIP over TLS (RFC 3261 §26.3.1, RFC 5630): the tcp machinery with TLS sockets. The listener's own
 * key and certificate also serve as the client certificate on outbound connections, for peers that
 * ask for mutual TLS. `spec.tls.ca` is taken as extra trust anchors for verifying peers; an
 * intermediate chain (drachtio's `--chain-file`) belongs appended to `cert`.
 */
import { isIP } from 'node:net';
import tls from 'node:tls';
import type { TlsClientOptions } from './endpoint.js';
import type { StreamFlavor } from './tcp.js';
import type { ListenSpec } from './types.js';

/** Build the tls flavour for one listener; throws if the spec carries no key/cert. */
export function tlsFlavor(spec: ListenSpec, client: TlsClientOptions, handshakeTimeoutMs: number): StreamFlavor {
  const material = spec.tls;
  if (!material) {
    throw new Error(`${spec.protocol} listener on ${spec.bindAddress}:${spec.port} needs a TLS key and certificate`);
  }
  // `ca` replaces Node's bundled roots, so the extra anchors are appended to them instead.
  const extra = [client.ca, material.ca].filter((x): x is Buffer | string => x !== undefined);
  const ca = extra.length > 0 ? [...tls.rootCertificates, ...extra] : undefined;
  return {
    protocol: 'tls',
    createServer: () =>
      tls.createServer({
        key: material.key,
        cert: material.cert,
        ...(material.ca ? { ca: material.ca } : {}),
        // A peer that never completes the handshake is a slowloris too.
        handshakeTimeout: handshakeTimeoutMs,
        noDelay: true,
      }),
    readyEvent: 'secureConnection',
    connect: ({ host, port, localAddress }) =>
      tls.connect({
        host,
        port,
        ...(localAddress ? { localAddress } : {}),
        // SNI only for names (RFC 6066 §3 forbids IP literals in server_name).
        ...(isIP(host) === 0 ? { servername: host } : {}),
        rejectUnauthorized: client.rejectUnauthorized ?? true,
        ...(ca ? { ca } : {}),
        key: material.key,
        cert: material.cert,
      }),
    connectEvent: 'secureConnect',
  };
}
