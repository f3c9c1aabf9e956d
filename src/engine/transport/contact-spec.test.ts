import { describe, expect, it } from 'vitest';
import { firstExternalAddress } from './address.js';
import { parseContactSpecs } from './contact-spec.js';

describe('parseContactSpecs', () => {
  it('expands a transport list on one address', () => {
    expect(parseContactSpecs('sip:127.0.0.1:5060;transport=udp,tcp')).toEqual([
      { protocol: 'udp', bindAddress: '127.0.0.1', port: 5060, advertisedHost: '127.0.0.1', localHost: '127.0.0.1' },
      { protocol: 'tcp', bindAddress: '127.0.0.1', port: 5060, advertisedHost: '127.0.0.1', localHost: '127.0.0.1' },
    ]);
  });

  it('binds all IPv4 interfaces for * and advertises the first external IPv4 (or 127.0.0.1)', () => {
    const expected = firstExternalAddress(4) ?? '127.0.0.1';
    const [spec, ...rest] = parseContactSpecs('sip:*;transport=udp');
    expect(rest).toEqual([]);
    expect(spec).toEqual({ protocol: 'udp', bindAddress: '0.0.0.0', port: 5060, advertisedHost: expected, localHost: expected });
    expect(parseContactSpecs('sip:0.0.0.0:5080;transport=udp')[0]?.bindAddress).toBe('0.0.0.0');
  });

  it('takes bracketed IPv6 addresses and returns them without brackets', () => {
    expect(parseContactSpecs('sip:[::1]:5070;transport=udp')).toEqual([
      { protocol: 'udp', bindAddress: '::1', port: 5070, advertisedHost: '::1', localHost: '::1' },
    ]);
    const [any] = parseContactSpecs('sip:[::];transport=tcp');
    expect(any?.bindAddress).toBe('::');
    expect(any?.advertisedHost).toBe(firstExternalAddress(6) ?? '::1');
  });

  it('applies the default ports: 5060 for udp/tcp, 5061 for tls', () => {
    expect(parseContactSpecs('sip:127.0.0.1').map((s) => [s.protocol, s.port])).toEqual([
      ['udp', 5060],
      ['tcp', 5060],
    ]);
    expect(parseContactSpecs('sips:127.0.0.1;transport=tls').map((s) => [s.protocol, s.port])).toEqual([['tls', 5061]]);
    expect(parseContactSpecs('sips:127.0.0.1').map((s) => [s.protocol, s.port])).toEqual([['tls', 5061]]);
    expect(parseContactSpecs('sip:127.0.0.1;transport=tls')[0]?.port).toBe(5061);
  });

  it('parses ws and wss with explicit ports, and case-insensitive schemes and transports', () => {
    expect(parseContactSpecs('sip:127.0.0.1:8080;transport=ws')[0]).toMatchObject({ protocol: 'ws', port: 8080 });
    expect(parseContactSpecs('SIPS:127.0.0.1:8443;Transport=WSS')[0]).toMatchObject({ protocol: 'wss', port: 8443 });
  });

  it('allows port 0 (ephemeral) for every transport, even shared', () => {
    const specs = parseContactSpecs('sip:127.0.0.1:0;transport=udp,tcp,ws');
    expect(specs.map((s) => s.port)).toEqual([0, 0, 0]);
  });

  it('advertises --external-ip and keeps --local-net', () => {
    const [spec] = parseContactSpecs('sip:10.0.0.5:5060;transport=udp', { externalIp: '203.0.113.9', localNet: '10.0.0.0/8' });
    expect(spec).toEqual({
      protocol: 'udp',
      bindAddress: '10.0.0.5',
      port: 5060,
      advertisedHost: '203.0.113.9',
      localHost: '10.0.0.5',
      localNet: '10.0.0.0/8',
    });
  });

  it('ignores other URI parameters and duplicate transports', () => {
    expect(parseContactSpecs('sip:127.0.0.1:5060;lr;transport=udp,udp').map((s) => s.protocol)).toEqual(['udp']);
  });

  it.each([
    ['http://127.0.0.1:5060', /sip: or sips:/],
    ['sip:', /missing host/],
    ['sip:pbx.example.com:5060', /must be an IP address/],
    ['sip:user@127.0.0.1', /user part/],
    ['sip:127.0.0.1:5060?x=y', /URI headers/],
    ['sip:127.0.0.1:abc', /bad port/],
    ['sip:127.0.0.1:70000', /out of range/],
    ['sip:127.0.0.1:5060x', /bad port/],
    ['sip:[::1', /unterminated/],
    ['sip:::1:5060', /IPv6 addresses must be in brackets/],
    ['sip:127.0.0.1;transport=sctp', /unknown transport "sctp"/],
    ['sip:127.0.0.1;transport=', /unknown transport ""/],
    ['sips:127.0.0.1;transport=udp', /sips: cannot use transport udp/],
    ['sip:127.0.0.1;transport=ws', /ws needs an explicit port/],
    ['sips:127.0.0.1;transport=wss', /wss needs an explicit port/],
    ['sip:127.0.0.1:5060;transport=tcp,ws', /tcp and ws cannot both listen on TCP port 5060/],
  ])('rejects %s', (contact, problem) => {
    expect(() => parseContactSpecs(contact)).toThrow(problem);
  });

  it('rejects a bad --external-ip or --local-net', () => {
    expect(() => parseContactSpecs('sip:*', { externalIp: 'example.com' })).toThrow(/external-ip/);
    expect(() => parseContactSpecs('sip:*', { localNet: '10.0.0.0' })).toThrow(/local-net/);
    expect(() => parseContactSpecs('sip:*', { localNet: '10.0.0.0/33' })).toThrow(/local-net/);
  });
});
