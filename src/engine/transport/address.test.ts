import { describe, expect, it } from 'vitest';
import { addressFamily, inCidr, isBroadcastAddress, isIpv4Cidr, isUnspecifiedAddress, normalizeAddress } from './address.js';

describe('normalizeAddress', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['[::1]', '::1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['2001:DB8:0::1', '2001:db8::1'],
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['::FFFF:7f00:1', '127.0.0.1'],
    ['PBX.Example.COM', 'pbx.example.com'],
  ])('%s → %s', (input, out) => {
    expect(normalizeAddress(input)).toBe(out);
  });
});

describe('address checks', () => {
  it('tells families apart', () => {
    expect([addressFamily('10.0.0.1'), addressFamily('[::1]'), addressFamily('::'), addressFamily('example.com')]).toEqual([4, 6, 6, 0]);
  });

  it('matches CIDR blocks', () => {
    expect(inCidr('10.1.2.3', '10.0.0.0/8')).toBe(true);
    expect(inCidr('11.1.2.3', '10.0.0.0/8')).toBe(false);
    expect(inCidr('192.168.1.77', '192.168.1.64/26')).toBe(true);
    expect(inCidr('1.2.3.4', '0.0.0.0/0')).toBe(true);
    expect(inCidr('::1', '10.0.0.0/8')).toBe(false);
    expect([isIpv4Cidr('10.0.0.0/8'), isIpv4Cidr('10.0.0.0'), isIpv4Cidr('10.0.0.0/x'), isIpv4Cidr('::/0')]).toEqual([true, false, false, false]);
  });

  it('recognises broadcast and unspecified addresses', () => {
    expect(isBroadcastAddress('255.255.255.255')).toBe(true);
    expect(isBroadcastAddress('127.0.0.1')).toBe(false);
    expect(isBroadcastAddress('::1')).toBe(false);
    expect(isUnspecifiedAddress('0.0.0.0')).toBe(true);
    expect(isUnspecifiedAddress('[::]')).toBe(true);
    expect(isUnspecifiedAddress('127.0.0.1')).toBe(false);
  });
});
