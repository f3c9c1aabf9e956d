import { isIP } from 'node:net';

/** One address range of an allow-list, as `net.BlockList.addSubnet` takes it. */
export interface Cidr {
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

/**
 * Parses `a.b.c.d/n`, `x::y/n` or a bare address (a single host: /32 or /128). Only canonical
 * dotted-quad IPv4 is accepted (`isIP` refuses `0177.1` and `2130706433`), so the admin's list
 * means exactly what it reads as. Returns an error message instead of throwing, so config
 * loading can list every bad entry.
 */
export function parseCidr(text: string): Cidr | string {
  const [address = '', prefixText, extra] = text.trim().split('/');
  const version = isIP(address);
  if (version === 0 || extra !== undefined) return `"${text}" is not an IP address or CIDR range`;
  const max = version === 4 ? 32 : 128;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return `"${text}" has a bad prefix length`;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefix > max) return `"${text}": prefix length must be 0-${max}`;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** A comma-separated list of CIDRs (empty entries ignored); every bad entry is reported. */
export function parseCidrList(text: string): { cidrs: Cidr[]; errors: string[] } {
  const cidrs: Cidr[] = [];
  const errors: string[] = [];
  for (const entry of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const parsed = parseCidr(entry);
    if (typeof parsed === 'string') errors.push(parsed);
    else cidrs.push(parsed);
  }
  return { cidrs, errors };
}
