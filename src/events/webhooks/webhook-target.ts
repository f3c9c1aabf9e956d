import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP, type BlockList } from 'node:net';
import { SwitchboardError } from '../../shared/errors.js';
import { refusedAddressReason } from './ip-ranges.js';

/** Name resolution, injectable so tests (and the API's creation check) need no real DNS. */
export type Resolver = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

/** Every address a name has (A and AAAA), in the resolver's order. */
export const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** What the SSRF guard needs: the admin allow-list and a resolver. */
export interface TargetPolicy {
  allow?: BlockList;
  resolve?: Resolver;
}

/** A checked destination: the URL, and the one address to connect to (never resolved again). */
export interface WebhookTarget {
  url: URL;
  /** Host name for the Host header and TLS SNI/certificate check (no brackets). */
  hostname: string;
  address: string;
  family: 4 | 6;
}

export const MAX_WEBHOOK_URL_LENGTH = 2048;

/** A refused URL; `reason` is safe to show to the API caller. */
export function urlRefused(reason: string): SwitchboardError {
  return new SwitchboardError('WEBHOOK_URL_REFUSED', reason, { httpStatus: 422 });
}

/**
 * Parses a webhook URL and checks what can be checked without DNS. The WHATWG URL parser is the
 * normaliser: `http://2130706433/`, `0177.0.0.1`, `0x7f.1` and `127.1` all come out as
 * `127.0.0.1`, and `[::ffff:127.0.0.1]` as `[::ffff:7f00:1]`, so the address rules see one form.
 */
export function parseWebhookUrl(raw: string): URL {
  if (raw.length > MAX_WEBHOOK_URL_LENGTH) throw urlRefused(`longer than ${MAX_WEBHOOK_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw urlRefused('not a valid absolute URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw urlRefused(`scheme ${url.protocol} is not allowed (https, or http for allow-listed hosts)`);
  // Credentials in a URL end up in logs and in Authorization headers nobody asked for.
  if (url.username !== '' || url.password !== '') throw urlRefused('user info (user:password@) is not allowed in the URL; use custom headers');
  if (url.hostname === '') throw urlRefused('no host');
  return url;
}

/** `localhost` and its subdomains resolve to loopback by definition (RFC 6761 §6.3), whatever DNS says. */
const isLocalhostName = (host: string): boolean => /(^|\.)localhost\.?$/i.test(host);

async function addressesOf(hostname: string, resolve: Resolver): Promise<Array<{ address: string; family: number }>> {
  if (isIP(hostname)) return [{ address: hostname, family: isIP(hostname) }];
  if (isLocalhostName(hostname)) return [{ address: '127.0.0.1', family: 4 }, { address: '::1', family: 6 }];
  let found: Array<{ address: string; family: number }>;
  try {
    found = await resolve(hostname);
  } catch {
    throw urlRefused(`host ${hostname} does not resolve`);
  }
  if (found.length === 0) throw urlRefused(`host ${hostname} does not resolve`);
  return found;
}

/**
 * Resolves the URL's host and checks every address it has: one refused address refuses the URL
 * (a name with a public and a private address would otherwise be a coin toss away from SSRF).
 * Plain http is only for destinations the admin allow-listed. Returns the address to connect to,
 * so the request goes to exactly what was checked (no second lookup a DNS rebinding could change).
 * Called at creation (the API) and again before every delivery (the dispatcher).
 */
export async function resolveWebhookTarget(raw: string | URL, policy: TargetPolicy = {}): Promise<WebhookTarget> {
  const url = typeof raw === 'string' ? parseWebhookUrl(raw) : parseWebhookUrl(raw.href);
  const hostname = url.hostname.replace(/^\[|\]$/g, '');
  const addresses = await addressesOf(hostname, policy.resolve ?? systemResolver);
  for (const { address } of addresses) {
    const reason = refusedAddressReason(address, policy.allow);
    if (reason !== undefined) {
      const subject = hostname === address ? address : `${hostname} resolves to ${address}, which`;
      throw urlRefused(`${subject} is refused: ${reason} (an admin can allow a range with SWITCHBOARD_WEBHOOK_ALLOWLIST)`);
    }
    if (url.protocol === 'http:' && !(policy.allow?.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6') ?? false)) {
      throw urlRefused(`http is only allowed for allow-listed hosts (${address} is not in SWITCHBOARD_WEBHOOK_ALLOWLIST); use https`);
    }
  }
  const first = addresses[0] as { address: string; family: number };
  return { url, hostname, address: first.address, family: isIP(first.address) === 6 ? 6 : 4 };
}
