import { BlockList, isIP } from 'node:net';
import type { Cidr } from '../../config/cidr.js';

/**
 * Address ranges a webhook must not reach unless the admin allow-list names them (issue 5 §3, SSRF).
 * Each entry says why, so a refusal can tell the integrator what is wrong with their URL.
 * Sources: IANA IPv4/IPv6 Special-Purpose Address Registries (RFC 6890 and updates).
 */
const REFUSED_V4: ReadonlyArray<[string, number, string]> = [
  ['0.0.0.0', 8, 'unspecified ("this network")'],
  ['10.0.0.0', 8, 'private (RFC 1918)'],
  ['100.64.0.0', 10, 'shared address space (CGNAT, RFC 6598)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local (includes cloud metadata 169.254.169.254)'],
  ['172.16.0.0', 12, 'private (RFC 1918)'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation (TEST-NET-1)'],
  ['192.88.99.0', 24, '6to4 relay anycast'],
  ['192.168.0.0', 16, 'private (RFC 1918)'],
  ['198.18.0.0', 15, 'benchmarking (RFC 2544)'],
  ['198.51.100.0', 24, 'documentation (TEST-NET-2)'],
  ['203.0.113.0', 24, 'documentation (TEST-NET-3)'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved (includes broadcast 255.255.255.255)'],
];

const REFUSED_V6: ReadonlyArray<[string, number, string]> = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['100::', 64, 'discard-only (RFC 6666)'],
  ['2001::', 32, 'Teredo (embeds an obfuscated IPv4 address)'],
  ['2001:db8::', 32, 'documentation'],
  ['3fff::', 20, 'documentation (RFC 9637)'],
  ['64:ff9b:1::', 48, 'local-use NAT64 (RFC 8215)'],
  ['fc00::', 7, 'unique-local (includes AWS metadata fd00:ec2::254)'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local (deprecated)'],
  ['ff00::', 8, 'multicast'],
];

const lists = (ranges: ReadonlyArray<[string, number, string]>, family: 'ipv4' | 'ipv6') =>
  ranges.map(([address, prefix, reason]) => {
    const list = new BlockList();
    list.addSubnet(address, prefix, family);
    return { list, reason };
  });
const V4 = lists(REFUSED_V4, 'ipv4');
const V6 = lists(REFUSED_V6, 'ipv6');

/** The eight 16-bit words of an IPv6 address (any valid textual form, dotted tail included). */
export function ipv6Words(address: string): number[] {
  let text = address.toLowerCase().split('%')[0] ?? '';
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted?.[1]) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted[1].split('.').map(Number);
    text = `${text.slice(0, -dotted[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const part = (s: string) => (s === '' ? [] : s.split(':').map((w) => parseInt(w, 16)));
  const h = part(head);
  const t = tail === undefined ? [] : part(tail);
  return [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
}

const v4Of = (hi: number, lo: number): string => [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.');

/**
 * The IPv4 address an IPv6 address carries, for the forms that reach it: IPv4-mapped
 * (`::ffff:a.b.c.d`), IPv4-translated (`::ffff:0:a.b.c.d`), IPv4-compatible (`::a.b.c.d`), NAT64
 * well-known prefix (`64:ff9b::a.b.c.d`) and 6to4 (`2002:AABB:CCDD::`). Connecting to these can
 * reach the IPv4 host, so the IPv4 rules apply to them.
 */
export function embeddedIpv4(address: string): string | undefined {
  const w = ipv6Words(address);
  const zero = (from: number, to: number) => w.slice(from, to).every((x) => x === 0);
  if (zero(0, 5) && w[5] === 0xffff) return v4Of(w[6] ?? 0, w[7] ?? 0);
  if (zero(0, 4) && w[4] === 0xffff && w[5] === 0) return v4Of(w[6] ?? 0, w[7] ?? 0);
  if (zero(0, 6) && (w[6] !== 0 || (w[7] ?? 0) > 1)) return v4Of(w[6] ?? 0, w[7] ?? 0);
  if (w[0] === 0x64 && w[1] === 0xff9b && zero(2, 6)) return v4Of(w[6] ?? 0, w[7] ?? 0);
  if (w[0] === 0x2002) return v4Of(w[1] ?? 0, w[2] ?? 0);
  return undefined;
}

/** An allow-list as a BlockList, built once per configuration. */
export function allowListOf(cidrs: readonly Cidr[]): BlockList {
  const list = new BlockList();
  for (const c of cidrs) list.addSubnet(c.address, c.prefix, c.family);
  return list;
}

/**
 * Why a webhook may not connect to `address` (an IP literal), or undefined if it may. The allow-list
 * wins over every refusal, for the address itself or the IPv4 address it embeds.
 */
export function refusedAddressReason(address: string, allow?: BlockList): string | undefined {
  const family = isIP(address);
  if (family === 0) return `${address} is not an IP address`;
  if (family === 4) {
    if (allow?.check(address, 'ipv4')) return undefined;
    return V4.find((r) => r.list.check(address, 'ipv4'))?.reason;
  }
  if (allow?.check(address, 'ipv6')) return undefined;
  const v4 = embeddedIpv4(address);
  if (v4 !== undefined) {
    const inner = refusedAddressReason(v4, allow);
    return inner === undefined ? undefined : `embeds ${v4}: ${inner}`;
  }
  return V6.find((r) => r.list.check(address, 'ipv6'))?.reason;
}
