import { describe, expect, it } from 'vitest';
import { getHeader, getHeaderLines } from './headers.js';
import { parseNameAddr } from './name-addr.js';
import { parseMessage } from './parse.js';
import { stampReceived } from './received.js';
import type { SipRequest } from './types.js';
import { isSipUri, parseUri } from './uri.js';
import { defaultValidationPolicy, validateRequest } from './validate.js';
import { parseVia } from './via.js';

/**
 * RFC 5118 (IPv6 torture tests), §4.1–4.10, written here in the RFC's shape with CRLF line ends
 * (the published archive is LF-only, which this parser rejects by design).
 */
function request(startLine: string, headers: string[]): SipRequest {
  const text = [startLine, ...headers, 'Max-Forwards: 70', 'Content-Length: 0', '', ''].join('\r\n');
  const r = parseMessage(Buffer.from(text));
  if (r.kind !== 'message' || r.message.type !== 'request') throw new Error(`did not parse: ${JSON.stringify(r)}`);
  return r.message;
}

const common = [
  'To: sip:user@example.com',
  'From: sip:user@example.com;tag=81x2',
  'Call-ID: SSG9559905523997077@hlau_4100',
];

const register = (ruri: string, via = 'SIP/2.0/UDP [2001:db8::9:1];branch=z9hG4bKas3-111', contact = '"Caller" <sip:caller@[2001:db8::1]>') =>
  request(`REGISTER ${ruri} SIP/2.0`, [...common, `Via: ${via}`, `Contact: ${contact}`, 'CSeq: 98176 REGISTER']);

describe('RFC 5118 IPv6 torture tests', () => {
  it('§4.1 ipv6-good: IPv6 in Request-URI, Via and Contact', () => {
    const req = register('sip:[2001:db8::10]');
    expect(validateRequest(req, defaultValidationPolicy)).toBeUndefined();
    const contact = parseUri(parseNameAddr(getHeader(req, 'contact') ?? '')?.uri ?? '');
    expect(isSipUri(contact) && contact.host).toBe('[2001:db8::1]');
  });

  it('§4.2 ipv6-bad: an unbracketed IPv6 Request-URI is a 400', () => {
    expect(validateRequest(register('sip:2001:db8::10'), defaultValidationPolicy)?.status).toBe(400);
  });

  it('§4.3 port-ambiguous: [2001:db8::10:5070] is an address without a port', () => {
    const req = register('sip:[2001:db8::10:5070]');
    expect(validateRequest(req, defaultValidationPolicy)).toBeUndefined();
    const u = parseUri(req.uri);
    expect(isSipUri(u) && [u.host, u.port]).toEqual(['[2001:db8::10:5070]', undefined]);
  });

  it('§4.4 port-unambiguous: [2001:db8::10]:5070', () => {
    const u = parseUri(register('sip:[2001:db8::10]:5070').uri);
    expect(isSipUri(u) && [u.host, u.port]).toEqual(['[2001:db8::10]', 5070]);
  });

  it('§4.5 received with and without brackets', () => {
    for (const received of ['[2001:db8::9:255]', '2001:db8::9:255']) {
      const req = register('sip:[2001:db8::10]', `SIP/2.0/UDP [2001:db8::9:1];received=${received};branch=z9hG4bKas3-111`);
      expect(validateRequest(req, defaultValidationPolicy)).toBeUndefined();
      expect(parseVia(getHeader(req, 'via') ?? '')?.[0]?.params.get('received')).toBe(received);
    }
  });

  it('§4.7 mult-ip-in-header: IPv4 and IPv6 Vias', () => {
    const req = request('BYE sip:user@host.example.net SIP/2.0', [
      'Via: SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3-111',
      'Via: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKjhja8781hjuaij65144',
      'Via: SIP/2.0/TCP [2001:db8::9:255];branch=z9hG4bK451jj;received=192.0.2.200',
      'Call-ID: 997077@lau_4100',
      'CSeq: 89187 BYE',
      'To: sip:user@example.net;tag=9817--94',
      'From: sip:user@example.com;tag=81x2',
    ]);
    expect(validateRequest(req, defaultValidationPolicy)).toBeUndefined();
    expect(getHeaderLines(req, 'via').map((l) => parseVia(l)?.[0]?.host)).toEqual(['[2001:db8::9:1]', '192.0.2.1', '[2001:db8::9:255]']);
    stampReceived(req, { address: '2001:db8::9:1', port: 6050 });
    expect(getHeader(req, 'via')).toBe('SIP/2.0/UDP [2001:db8::9:1]:6050;branch=z9hG4bKas3-111');
  });

  it('§4.9 ipv4-mapped-ipv6', () => {
    const req = register('sip:[::ffff:192.0.2.10]', 'SIP/2.0/UDP [::ffff:192.0.2.2]:19823;branch=z9hG4bKbh19', '<sip:user@[::ffff:192.0.2.2]:19823>');
    expect(validateRequest(req, defaultValidationPolicy)).toBeUndefined();
  });

  it('§4.10 the ABNF-bug form with three colons is tolerated, as is the correct one (our pinned choice)', () => {
    for (const host of ['[2001:db8:::192.0.2.1]', '[2001:db8::192.0.2.1]']) {
      const req = register(`sip:user@${host}`, `SIP/2.0/UDP ${host};branch=z9hG4bKas3`, `<sip:caller@${host}>`);
      expect(validateRequest(req, defaultValidationPolicy), host).toBeUndefined();
    }
  });
});
