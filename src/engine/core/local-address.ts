import { networkInterfaces } from 'node:os';
import type { TransportProtocol } from '../message/types.js';
import type { ListeningTransport } from '../transport/types.js';

/** Default port of a SIP transport (RFC 3261 §19.1.2, RFC 7118 §5). */
export function defaultPort(protocol: TransportProtocol | string, secure = false): number {
  return secure || protocol === 'tls' || protocol === 'wss' ? 5061 : 5060;
}

/** Strip the brackets of an IPv6 reference and lowercase, so that hosts compare equal. */
export function normalizeHost(host: string): string {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  const lower = h.toLowerCase();
  return lower === 'localhost' ? '127.0.0.1' : lower;
}

/** Bracket an IPv6 literal for use in a URI or Via. */
export function uriHost(address: string): string {
  return address.includes(':') && !address.startsWith('[') ? `[${address}]` : address;
}

/**
 * The engine's own addresses, for the loop check (drachtio-protocol §4.8), "is this Route ours"
 * (§4.2 step 4) and Contact/Record-Route generation. On loopback every peer shares 127.0.0.1, so
 * a match needs host *and* port (drachtio-protocol §8.3 item 6).
 */
export class LocalAddresses {
  private readonly listeners: ListeningTransport[];
  /** Every address that means "this host" for a wildcard-bound listener. */
  private readonly hostAliases: Set<string>;

  constructor(listeners: ListeningTransport[], extraNames: string[] = []) {
    this.listeners = listeners;
    this.hostAliases = new Set(['127.0.0.1', '::1', '0.0.0.0', '::']);
    for (const list of Object.values(networkInterfaces())) {
      for (const ni of list ?? []) this.hostAliases.add(normalizeHost(ni.address));
    }
    for (const name of extraNames) this.hostAliases.add(normalizeHost(name));
  }

  /** Whether host:port (port defaulting per transport) is one of our listening transports. */
  isLocal(host: string, port: number | undefined, protocol?: TransportProtocol): boolean {
    const h = normalizeHost(host);
    for (const l of this.listeners) {
      const p = port ?? defaultPort(l.spec.protocol);
      if (p !== l.local.port) continue;
      if (protocol && !sameFamilyOfTransport(protocol, l.spec.protocol)) continue;
      const bound = normalizeHost(l.spec.bindAddress);
      const wildcard = bound === '0.0.0.0' || bound === '::';
      if (h === bound || h === normalizeHost(l.spec.advertisedHost) || h === normalizeHost(l.spec.localHost)) return true;
      if (wildcard && this.hostAliases.has(h)) return true;
    }
    return false;
  }

  /** The listener to use for a protocol and address family, preferring an exact family match. */
  listenerFor(protocol: TransportProtocol, family: 4 | 6 = 4): ListeningTransport | undefined {
    const sameProto = this.listeners.filter((l) => l.spec.protocol === protocol);
    return sameProto.find((l) => familyOf(l.local.address) === family) ?? sameProto[0];
  }

  all(): readonly ListeningTransport[] {
    return this.listeners;
  }

  /** `proto/host:port` list for the authenticate reply (drachtio-protocol §2.1). */
  hostports(which: 'external' | 'local'): string {
    return this.listeners
      .map((l) => `${l.spec.protocol}/${which === 'external' ? l.spec.advertisedHost : l.spec.localHost}:${l.local.port}`)
      .join(',');
  }
}

/** TCP and TLS both listen on stream sockets but are different transports; UDP matches only UDP. */
function sameFamilyOfTransport(a: TransportProtocol, b: TransportProtocol): boolean {
  return a === b;
}

export function familyOf(address: string): 4 | 6 {
  return normalizeHost(address).includes(':') ? 6 : 4;
}

/**
 * `sip:HOST:PORT[;transport=x]` for a listener: our Contact / Record-Route / default From.
 * drachtio uses the sip: scheme with `;transport=tcp|tls|ws|wss` for every non-UDP transport.
 */
export function listenerUri(l: ListeningTransport, opts: { lr?: boolean; user?: string } = {}): string {
  const user = opts.user ? `${opts.user}@` : '';
  const transport = l.spec.protocol === 'udp' ? '' : `;transport=${l.spec.protocol}`;
  return `sip:${user}${uriHost(l.spec.advertisedHost)}:${l.local.port}${transport}${opts.lr ? ';lr' : ''}`;
}
