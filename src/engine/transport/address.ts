/**
 * Small address helpers shared by the transports: one canonical spelling per IP so that connection
 * reuse (RFC 3261 §18.2.2, RFC 5923) matches `[::1]`, `::1` and `0:0::1` alike, plus the checks that
 * keep the engine from sending where it must not (RFC 4475 §3.3.1 "bcast").
 */
import { isIP, isIPv4 } from 'node:net';
import { networkInterfaces } from 'node:os';

/**
 * The canonical form of an address as sockets report it: brackets removed, IPv4-mapped IPv6
 * (`::ffff:1.2.3.4`, seen on dual-stack sockets) reduced to the IPv4 address, IPv6 compressed
 * and lower-cased (RFC 5952). Host names are returned lower-cased and otherwise untouched.
 */
export function normalizeAddress(address: string): string {
  let a = address.trim();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const family = isIP(a);
  if (family === 4) return a;
  if (family !== 6) return a.toLowerCase();
  // The WHATWG URL serialiser produces the RFC 5952 canonical text form of an IPv6 address.
  let canonical = new URL(`http://[${a}]/`).hostname.slice(1, -1);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(canonical);
  if (mapped?.[1]) return mapped[1];
  // URL prints mapped addresses in hex (`::ffff:7f00:1`); turn those back into dotted IPv4 too.
  const hexMapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (hexMapped?.[1] && hexMapped[2]) {
    const hi = parseInt(hexMapped[1], 16);
    const lo = parseInt(hexMapped[2], 16);
    canonical = `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
  }
  return canonical;
}

/** 4 or 6 for an IP literal (brackets allowed), 0 for anything else (a host name). */
export function addressFamily(address: string): 0 | 4 | 6 {
  const a = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  return isIP(a) as 0 | 4 | 6;
}

function ipv4ToInt(address: string): number {
  // Runs for every UDP send (the broadcast check): digits folded in place, no split/reduce arrays.
  let acc = 0;
  let octet = 0;
  for (let i = 0; i < address.length; i++) {
    const c = address.charCodeAt(i);
    if (c === 0x2e /* . */) {
      acc = (acc << 8) + octet;
      octet = 0;
    } else octet = octet * 10 + (c - 0x30);
  }
  return ((acc << 8) + octet) >>> 0;
}

/** Whether an IPv4 address lies inside a CIDR block such as `10.0.0.0/8` (IPv4 only). */
export function inCidr(address: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  if (!base || !isIPv4(base) || !isIPv4(address)) return false;
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (ipv4ToInt(address) & mask) === (ipv4ToInt(base) & mask);
}

/** Whether `cidr` is a syntactically valid IPv4 CIDR block (`a.b.c.d/n`). */
export function isIpv4Cidr(cidr: string): boolean {
  const [base, bitsText, extra] = cidr.split('/');
  if (extra !== undefined || !base || !isIPv4(base) || bitsText === undefined) return false;
  const bits = Number(bitsText);
  return /^\d{1,2}$/.test(bitsText) && bits >= 0 && bits <= 32;
}

/**
 * Whether an IPv4 destination is a broadcast address: the limited broadcast 255.255.255.255 or the
 * directed broadcast of one of this host's interfaces. RFC 4475 §3.3.1 ("bcast") exists because
 * answering a request whose Via names a broadcast address would turn the server into an amplifier.
 */
export function isBroadcastAddress(address: string): boolean {
  const a = normalizeAddress(address);
  if (!isIPv4(a)) return false;
  if (a === '255.255.255.255') return true;
  return directedBroadcasts().has(ipv4ToInt(a));
}

/**
 * How long the interfaces' broadcast addresses are reused. This check runs on every UDP send, and
 * `networkInterfaces()` is a getifaddrs system call plus an object per address: asked every time
 * it was a tenth of the engine's CPU under REGISTER load. Interfaces change rarely; a few seconds
 * of staleness after one does is harmless.
 */
const BROADCAST_CACHE_MS = 5000;
let broadcastCache: { at: number; set: Set<number> } | undefined;

function directedBroadcasts(): Set<number> {
  const now = Date.now();
  if (broadcastCache && now - broadcastCache.at < BROADCAST_CACHE_MS) return broadcastCache.set;
  const set = new Set<number>();
  for (const list of Object.values(networkInterfaces())) {
    for (const ni of list ?? []) {
      if (ni.family !== 'IPv4' || ni.internal || !ni.cidr) continue;
      const bits = Number(ni.cidr.split('/')[1]);
      if (bits >= 31) continue; // point-to-point links have no broadcast address
      const hostMask = (~0 >>> bits) >>> 0;
      set.add((ipv4ToInt(ni.address) | hostMask) >>> 0);
    }
  }
  broadcastCache = { at: now, set };
  return set;
}

/** The unspecified addresses, which name "any interface" for bind but no host to send to. */
export function isUnspecifiedAddress(address: string): boolean {
  const a = normalizeAddress(address);
  return a === '0.0.0.0' || a === '::';
}

/**
 * The first non-internal address of a family on this host, used to advertise a wildcard bind
 * (drachtio's `sip:*`). Link-local IPv6 (fe80::/10) is skipped: it is useless in a Via without a zone.
 */
export function firstExternalAddress(family: 4 | 6): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const ni of list ?? []) {
      if (ni.internal) continue;
      if (family === 4 && ni.family === 'IPv4') return ni.address;
      if (family === 6 && ni.family === 'IPv6' && !/^fe[89ab]/i.test(ni.address)) return ni.address;
    }
  }
  return undefined;
}
