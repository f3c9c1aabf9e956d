import type { Resolver } from './webhook-target.js';

/**
 * The SSRF forms the guard must refuse (issue 5: at creation and at delivery, a test for each), and
 * the fake DNS they resolve through. Shared by the creation-time tests (webhook-target.test.ts) and
 * the delivery-time ones (ssrf-at-delivery.test.ts), so both always cover the same list.
 */

/** A resolver answering from a table; an unknown name fails like NXDOMAIN. */
export const fakeDns = (table: Record<string, string[]>): Resolver => async (host) => {
  const found = table[host.replace(/\.$/, '')];
  if (!found) throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
  return found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};
export const ssrfDns = fakeDns({
  'hooks.example.com': ['93.184.215.14'],
  'dual.example.com': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
  'internal.example.com': ['10.1.2.3'],
  'mixed.example.com': ['93.184.215.14', '192.168.1.10'],
  'rebind.example.com': ['169.254.169.254'],
  'v6-private.example.com': ['fd12:3456::1'],
  'mapped.example.com': ['::ffff:10.0.0.1'],
});

/** [what the form is, the URL]; each one a test of its own, so a regression names the form. */
export const SSRF_FORMS: ReadonlyArray<readonly [string, string]> = [
  ['loopback', 'https://127.0.0.1/hook'],
  ['loopback elsewhere in 127/8', 'https://127.45.6.7/hook'],
  ['decimal IPv4', 'https://2130706433/hook'],
  ['octal IPv4', 'https://0177.0.0.1/hook'],
  ['hex IPv4', 'https://0x7f.1/hook'],
  ['hex dotted IPv4', 'https://0x7f.0x0.0x0.0x1/hook'],
  ['short IPv4', 'https://127.1/hook'],
  ['IPv6 loopback', 'https://[::1]/hook'],
  ['IPv6 loopback, long form', 'https://[0:0:0:0:0:0:0:1]/hook'],
  ['IPv4-mapped IPv6', 'https://[::ffff:127.0.0.1]/hook'],
  ['IPv4-mapped IPv6, hex', 'https://[::ffff:7f00:1]/hook'],
  ['IPv4-compatible IPv6', 'https://[::127.0.0.1]/hook'],
  ['IPv4-translated IPv6', 'https://[::ffff:0:a00:1]/hook'],
  ['NAT64 of a private address', 'https://[64:ff9b::10.0.0.1]/hook'],
  ['6to4 of loopback', 'https://[2002:7f00:1::]/hook'],
  ['localhost', 'https://localhost/hook'],
  ['localhost.', 'https://localhost./hook'],
  ['a localhost subdomain', 'https://api.localhost/hook'],
  ['RFC 1918 10/8', 'https://10.0.0.5/hook'],
  ['RFC 1918 172.16/12', 'https://172.31.255.1/hook'],
  ['RFC 1918 192.168/16', 'https://192.168.1.1/hook'],
  ['CGNAT 100.64/10', 'https://100.100.100.100/hook'],
  ['link-local', 'https://169.254.10.10/hook'],
  ['cloud metadata', 'http://169.254.169.254/latest/meta-data/'],
  ['AWS IPv6 metadata', 'https://[fd00:ec2::254]/hook'],
  ['IPv6 unique-local', 'https://[fc00::1]/hook'],
  ['IPv6 link-local', 'https://[fe80::1]/hook'],
  ['unspecified IPv4', 'https://0.0.0.0/hook'],
  ['unspecified IPv4, one number', 'https://0/hook'],
  ['unspecified IPv6', 'https://[::]/hook'],
  ['broadcast', 'https://255.255.255.255/hook'],
  ['multicast IPv4', 'https://224.0.0.1/hook'],
  ['multicast IPv6', 'https://[ff02::1]/hook'],
  ['documentation IPv4', 'https://198.51.100.7/hook'],
  ['documentation IPv6', 'https://[2001:db8::1]/hook'],
  ['a name resolving to a private address', 'https://internal.example.com/hook'],
  ['a name with one public and one private address', 'https://mixed.example.com/hook'],
  ['a name resolving to the metadata address', 'https://rebind.example.com/hook'],
  ['a name resolving to an IPv6 unique-local address', 'https://v6-private.example.com/hook'],
  ['a name resolving to an IPv4-mapped private address', 'https://mapped.example.com/hook'],
  ['a name that does not resolve', 'https://nowhere.example.com/hook'],
  ['scheme ftp', 'ftp://hooks.example.com/hook'],
  ['scheme file', 'file:///etc/passwd'],
  ['scheme gopher', 'gopher://hooks.example.com:70/_x'],
  ['scheme javascript', 'javascript:alert(1)'],
  ['user info', 'https://user:pass@hooks.example.com/hook'],
  ['user info hiding the host', 'https://hooks.example.com@127.0.0.1/hook'],
  ['plain http to a public host', 'http://hooks.example.com/hook'],
  ['not a URL', 'hooks.example.com/hook'],
  ['an invalid IPv4 form', 'https://127.0.0.1.2/hook'],
];
