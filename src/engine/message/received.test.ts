import { describe, expect, it } from 'vitest';
import { stampReceived } from './received.js';
import type { SipRequest } from './types.js';

function req(...vias: string[]): SipRequest {
  return {
    type: 'request',
    method: 'OPTIONS',
    uri: 'sip:x@example.com',
    headers: vias.map((value) => ({ name: 'via', rawName: 'Via', value })),
    body: Buffer.alloc(0),
  };
}

const src = { address: '198.51.100.7', port: 40123 };

describe('stampReceived (RFC 3261 §18.2.1, RFC 3581 §4)', () => {
  it('leaves the Via alone when sent-by is the source address and there is no rport', () => {
    const r = req('SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1');
    stampReceived(r, src);
    expect(r.headers[0]?.value).toBe('SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1');
  });

  it('adds received when the address differs or sent-by is a name', () => {
    const r = req('SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK1', 'SIP/2.0/UDP proxy.example.com;branch=z9hG4bK0');
    stampReceived(r, src);
    expect(r.headers[0]?.value).toBe('SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK1;received=198.51.100.7');
    expect(r.headers[1]?.value).toBe('SIP/2.0/UDP proxy.example.com;branch=z9hG4bK0');
    const named = req('SIP/2.0/TCP client.example.com;branch=z9hG4bK2');
    stampReceived(named, src);
    expect(named.headers[0]?.value).toBe('SIP/2.0/TCP client.example.com;branch=z9hG4bK2;received=198.51.100.7');
  });

  it('fills a valueless rport and always adds received with it', () => {
    const r = req('SIP/2.0/UDP 198.51.100.7:5060;rport;branch=z9hG4bK1');
    stampReceived(r, src);
    expect(r.headers[0]?.value).toBe('SIP/2.0/UDP 198.51.100.7:5060;rport=40123;branch=z9hG4bK1;received=198.51.100.7');
  });

  it('replaces an existing received and keeps other params and spacing untouched', () => {
    const r = req('SIP/2.0/UDP 10.0.0.2 ; branch = z9hG4bK1 ;received=1.2.3.4; x="a;b" , SIP/2.0/UDP next.example.com');
    stampReceived(r, src);
    expect(r.headers[0]?.value).toBe(
      'SIP/2.0/UDP 10.0.0.2 ; branch = z9hG4bK1 ;received=198.51.100.7; x="a;b" , SIP/2.0/UDP next.example.com',
    );
  });

  it('edits only the first via-parm of a comma list', () => {
    const r = req('SIP/2.0/UDP 10.0.0.2;rport;branch=z9hG4bK1,SIP/2.0/UDP 10.0.0.3;rport;branch=z9hG4bK0');
    stampReceived(r, src);
    expect(r.headers[0]?.value).toBe(
      'SIP/2.0/UDP 10.0.0.2;rport=40123;branch=z9hG4bK1;received=198.51.100.7,SIP/2.0/UDP 10.0.0.3;rport;branch=z9hG4bK0',
    );
  });

  it('compares IPv6 addresses in normal form and writes received without brackets', () => {
    const same = req('SIP/2.0/UDP [2001:DB8:0::1]:5060;branch=z9hG4bK1');
    stampReceived(same, { address: '2001:db8::1', port: 5060 });
    expect(same.headers[0]?.value).toBe('SIP/2.0/UDP [2001:DB8:0::1]:5060;branch=z9hG4bK1');
    const other = req('SIP/2.0/UDP [2001:db8::1];branch=z9hG4bK1;rport');
    stampReceived(other, { address: '2001:db8::2', port: 5062 });
    expect(other.headers[0]?.value).toBe('SIP/2.0/UDP [2001:db8::1];branch=z9hG4bK1;rport=5062;received=2001:db8::2');
  });

  it('treats an IPv4-mapped source from a dual-stack socket as the IPv4 address', () => {
    const same = req('SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1');
    stampReceived(same, { address: '::ffff:198.51.100.7', port: 5060 });
    expect(same.headers[0]?.value).toBe('SIP/2.0/UDP 198.51.100.7:5060;branch=z9hG4bK1');
    const natted = req('SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK1;rport');
    stampReceived(natted, { address: '::FFFF:198.51.100.7', port: 1024 });
    expect(natted.headers[0]?.value).toBe('SIP/2.0/UDP 10.0.0.2:5060;branch=z9hG4bK1;rport=1024;received=198.51.100.7');
  });

  it('does nothing without a Via or with an unparseable top Via', () => {
    const none = req();
    stampReceived(none, src);
    expect(none.headers).toEqual([]);
    const broken = req('SIP/2.0/UDP 10.0.0.2;;');
    stampReceived(broken, src);
    expect(broken.headers[0]?.value).toBe('SIP/2.0/UDP 10.0.0.2;;');
  });
});
