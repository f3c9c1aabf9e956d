/**
 * drachtio-server's `--contact` URIs (drachtio-protocol.md §6) turned into listening endpoints.
 *
 * Accepted shape: `sip[s]:HOST[:PORT][;transport=P1,P2…][;other-params]` where HOST is an IPv4
 * literal, a bracketed IPv6 literal, `*` (all IPv4 interfaces) or `[::]` (all IPv6 interfaces).
 *
 * Defaults (documented choices):
 * - no `transport` param: `sip:` listens on udp and tcp (as sofia-sip does), `sips:` on tls;
 * - port: 5060 for udp/tcp, 5061 for tls (RFC 3261 §19.1.2); ws and wss have **no default port** —
 *   RFC 7118 rides on HTTP, whose 80/443 are rarely free on a PBX and would silently clash with a web
 *   server, so a ws/wss contact must name its port (8080/8443 are customary);
 * - port 0 asks the OS for an ephemeral port (tests);
 * - stream transports (tcp, tls, ws, wss) share the TCP port space, so two of them on the same
 *   explicit port in one contact is rejected here rather than failing later with EADDRINUSE.
 */
import { isIP } from 'node:net';
import type { TransportProtocol } from '../message/types.js';
import { firstExternalAddress, isIpv4Cidr } from './address.js';
import type { ListenSpec } from './types.js';

const protocols: readonly TransportProtocol[] = ['udp', 'tcp', 'tls', 'ws', 'wss'];

/** Options that drachtio attaches to the `--contact` before them (`--external-ip`, `--local-net`). */
export interface ContactOptions {
  /** Public address to advertise instead of the bound one (behind 1:1 NAT). */
  externalIp?: string;
  /** IPv4 CIDR of the local network, where the bound address is advertised instead. */
  localNet?: string;
}

function fail(contact: string, problem: string): never {
  throw new Error(`invalid --contact "${contact}": ${problem}`);
}

interface HostPart {
  host: string;
  port?: number;
  params: string;
}

function splitHostPort(contact: string, rest: string): HostPart {
  let host: string;
  let after: string;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) fail(contact, 'unterminated IPv6 reference "["');
    host = rest.slice(1, close);
    after = rest.slice(close + 1);
  } else {
    if ((rest.split(';')[0] ?? '').split(':').length > 2) fail(contact, 'IPv6 addresses must be in brackets');
    const end = rest.search(/[:;]/);
    host = end < 0 ? rest : rest.slice(0, end);
    after = end < 0 ? '' : rest.slice(end);
  }
  let port: number | undefined;
  if (after.startsWith(':')) {
    const m = /^:(\d{1,5})(?=;|$)/.exec(after);
    if (!m?.[1]) fail(contact, `bad port "${after.slice(1).split(';')[0] ?? ''}"`);
    port = Number(m[1]);
    if (port > 65535) fail(contact, `port ${port} out of range`);
    after = after.slice(m[0].length);
  }
  if (after !== '' && !after.startsWith(';')) fail(contact, `unexpected "${after}" after host`);
  return port === undefined ? { host, params: after } : { host, port, params: after };
}

function parseTransports(contact: string, scheme: 'sip' | 'sips', params: string): TransportProtocol[] {
  let value: string | undefined;
  for (const param of params.split(';').slice(1)) {
    const [name, v] = param.split('=', 2);
    if (name?.trim().toLowerCase() === 'transport') value = (v ?? '').trim().toLowerCase();
  }
  if (value === undefined) return scheme === 'sips' ? ['tls'] : ['udp', 'tcp'];
  const list: TransportProtocol[] = [];
  for (const raw of value.split(',')) {
    const t = raw.trim();
    if (!protocols.includes(t as TransportProtocol)) fail(contact, `unknown transport "${t}"`);
    if (!list.includes(t as TransportProtocol)) list.push(t as TransportProtocol);
  }
  // RFC 3261 §26.2.2: sips requires TLS on every hop, so a sips contact cannot listen in clear.
  if (scheme === 'sips') {
    const clear = list.find((t) => t !== 'tls' && t !== 'wss');
    if (clear) fail(contact, `sips: cannot use transport ${clear} (only tls or wss)`);
  }
  return list;
}

function defaultPort(contact: string, protocol: TransportProtocol): number {
  if (protocol === 'udp' || protocol === 'tcp') return 5060;
  if (protocol === 'tls') return 5061;
  return fail(contact, `transport ${protocol} needs an explicit port (e.g. :8080 for ws, :8443 for wss)`);
}

/**
 * Parse one `--contact` value into a listen spec per transport.
 *
 * Wildcard binds (`*`, `0.0.0.0`, `[::]`) advertise the first non-internal address of that family
 * (127.0.0.1 / ::1 when there is none) unless `externalIp` is given. IPv6 addresses are returned
 * without brackets; whoever writes them into a Via or URI adds the brackets (RFC 3261 §25.1).
 *
 * @throws Error naming the problem when the URI, a transport, a port, `externalIp` or `localNet` is invalid.
 */
export function parseContactSpecs(contact: string, opts: ContactOptions = {}): ListenSpec[] {
  const m = /^(sips?):(.*)$/i.exec(contact.trim());
  if (!m?.[1] || m[2] === undefined) fail(contact, 'must start with sip: or sips:');
  const scheme = m[1].toLowerCase() as 'sip' | 'sips';
  const rest = m[2];
  if (rest.includes('@')) fail(contact, 'must not contain a user part');
  if (rest.includes('?')) fail(contact, 'must not contain URI headers');
  const { host, port, params } = splitHostPort(contact, rest);
  if (host === '') fail(contact, 'missing host');

  let bindAddress: string;
  let localHost: string;
  if (host === '*' || host === '0.0.0.0') {
    bindAddress = '0.0.0.0';
    localHost = firstExternalAddress(4) ?? '127.0.0.1';
  } else if (isIP(host) === 6 && /^[0:]+$/.test(host)) {
    bindAddress = '::';
    localHost = firstExternalAddress(6) ?? '::1';
  } else if (isIP(host) !== 0) {
    bindAddress = host;
    localHost = host;
  } else {
    fail(contact, `host "${host}" must be an IP address, [IPv6] or *`);
  }

  const external = opts.externalIp?.trim();
  if (external !== undefined && external !== '' && isIP(external) === 0) {
    fail(contact, `--external-ip "${external}" is not an IP address`);
  }
  const localNet = opts.localNet?.trim();
  if (localNet !== undefined && localNet !== '' && !isIpv4Cidr(localNet)) {
    fail(contact, `--local-net "${localNet}" is not an IPv4 CIDR such as 10.0.0.0/8`);
  }

  const transports = parseTransports(contact, scheme, params);
  const specs = transports.map((protocol): ListenSpec => {
    const spec: ListenSpec = {
      protocol,
      bindAddress,
      port: port ?? defaultPort(contact, protocol),
      advertisedHost: external || localHost,
      localHost,
    };
    if (localNet) spec.localNet = localNet;
    return spec;
  });

  const streamPorts = new Map<number, TransportProtocol>();
  for (const s of specs) {
    if (s.protocol === 'udp' || s.port === 0) continue;
    const other = streamPorts.get(s.port);
    if (other) fail(contact, `${other} and ${s.protocol} cannot both listen on TCP port ${s.port}`);
    streamPorts.set(s.port, s.protocol);
  }
  return specs;
}
