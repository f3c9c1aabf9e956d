import { describe, expect, it } from 'vitest';
import { parseMessage } from './parse.js';
import type { SipRequest } from './types.js';
import { defaultValidationPolicy, effectiveMaxForwards, validateRequest, type ValidationPolicy } from './validate.js';

const base: Record<string, string> = {
  Via: 'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK74bf9',
  'Max-Forwards': '70',
  From: 'Alice <sip:alice@example.com>;tag=9fxced76sl',
  To: 'Bob <sip:bob@example.com>',
  'Call-ID': '3848276298220188511@atlanta.example.com',
  CSeq: '1 INVITE',
  Contact: '<sip:alice@192.0.2.1>',
};

/** Build a request from the base headers; `null` removes one, an array repeats it. */
function build(
  startLine = 'INVITE sip:bob@example.com SIP/2.0',
  changes: Record<string, string | string[] | null> = {},
): SipRequest {
  const lines = [startLine];
  const all: Record<string, string | string[] | null> = { ...base, ...changes };
  for (const [name, value] of Object.entries(all)) {
    if (value === null) continue;
    for (const v of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${v}`);
  }
  const r = parseMessage(Buffer.from(`${lines.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`));
  if (r.kind !== 'message' || r.message.type !== 'request') throw new Error(`bad fixture: ${JSON.stringify(r)}`);
  return r.message;
}

const check = (req: SipRequest, policy: ValidationPolicy = defaultValidationPolicy) => validateRequest(req, policy);

describe('validateRequest', () => {
  it('accepts a well-formed INVITE', () => {
    expect(check(build())).toBeUndefined();
  });

  it.each(['To', 'From', 'Call-ID', 'CSeq', 'Via'])('400 when %s is missing', (name) => {
    expect(check(build(undefined, { [name]: null }))?.status).toBe(400);
  });

  it('accepts a missing Max-Forwards, out-of-range is treated as absent, junk is a 400', () => {
    expect(check(build(undefined, { 'Max-Forwards': null }))).toBeUndefined();
    expect(check(build(undefined, { 'Max-Forwards': '300' }))).toBeUndefined();
    expect(check(build(undefined, { 'Max-Forwards': 'seventy' }))?.status).toBe(400);
    expect(effectiveMaxForwards(build(undefined, { 'Max-Forwards': null }))).toBe(70);
    expect(effectiveMaxForwards(build(undefined, { 'Max-Forwards': '300' }))).toBe(70);
    expect(effectiveMaxForwards(build(undefined, { 'Max-Forwards': '0' }))).toBe(0);
  });

  it('400 for single-value headers given twice, as two lines or a comma list', () => {
    expect(check(build(undefined, { 'Call-ID': ['a@b', 'c@d'] }))?.status).toBe(400);
    expect(check(build(undefined, { To: '<sip:a@b>, <sip:c@d>' }))?.status).toBe(400);
    expect(check(build(undefined, { Expires: ['60', '60'] }))?.status).toBe(400);
    expect(check(build(undefined, { 'Content-Type': 'application/sdp, text/plain' }))?.status).toBe(400);
    expect(check(build(undefined, { To: '"Bob, Jr." <sip:bob@example.com>' }))).toBeUndefined();
    expect(check(build(undefined, { Date: 'Sat, 13 Nov 2010 23:29:00 GMT' }))).toBeUndefined();
  });

  it('400 for malformed name-addr headers', () => {
    expect(check(build(undefined, { From: '"unterminated <sip:a@b>;tag=1' }))?.status).toBe(400);
    expect(check(build(undefined, { Contact: '<sip:a@b>;;' }))?.status).toBe(400);
    expect(check(build(undefined, { Route: '<sip:p1@x;lr>, junk junk' }))?.status).toBe(400);
    expect(check(build(undefined, { 'Record-Route': '<sip:p1@x;lr>' }))).toBeUndefined();
  });

  it('400 for a malformed Via or a branch that is only the magic cookie', () => {
    expect(check(build(undefined, { Via: 'SIP/2.0/UDP host;;' }))?.status).toBe(400);
    expect(check(build(undefined, { Via: 'SIP/2.0/UDP host;branch=z9hG4bK' }))?.status).toBe(400);
    expect(check(build(undefined, { Via: ['SIP/2.0/UDP a;branch=z9hG4bK1', 'SIP/2.0/UDP b;;'] }))?.status).toBe(400);
    // RFC 2543 peers: no branch at all is accepted
    expect(check(build(undefined, { Via: 'SIP/2.0/UDP host' }))).toBeUndefined();
  });

  it('400 for a malformed Call-ID or CSeq', () => {
    expect(check(build(undefined, { 'Call-ID': 'a@b@c' }))?.status).toBe(400);
    expect(check(build(undefined, { CSeq: '4294967296 INVITE' }))?.status).toBe(400);
  });

  it('501 with Allow for an unknown method, even with a CSeq mismatch; 400 for a mismatch otherwise', () => {
    const r = check(build('FOO sip:bob@example.com SIP/2.0', { CSeq: '1 INVITE' }));
    expect(r?.status).toBe(501);
    expect(r?.headers?.[0]?.[0]).toBe('Allow');
    expect(check(build('OPTIONS sip:bob@example.com SIP/2.0', { CSeq: '1 INVITE' }))?.status).toBe(400);
    expect(check(build('invite sip:bob@example.com SIP/2.0', { CSeq: '1 invite' }))?.status).toBe(501);
  });

  it('416 for Request-URI schemes not served, 400 for malformed or header-carrying SIP URIs', () => {
    expect(check(build('INVITE mailto:bob@example.com SIP/2.0'))?.status).toBe(416);
    expect(check(build('INVITE tel:+15550100 SIP/2.0'))).toBeUndefined();
    expect(check(build('INVITE sip:bob@example.com:99999 SIP/2.0'))?.status).toBe(400);
    expect(check(build('INVITE sip:bob@example.com?Subject=x SIP/2.0'))?.status).toBe(400);
    const telOnly: ValidationPolicy = { ...defaultValidationPolicy, supportedUriSchemes: new Set(['sip']) };
    expect(check(build('INVITE tel:+15550100 SIP/2.0'), telOnly)?.status).toBe(416);
  });

  describe('REGISTER (RFC 3261 §10.3)', () => {
    const reg = (changes: Record<string, string | string[] | null>) =>
      build('REGISTER sip:example.com SIP/2.0', { CSeq: '2 REGISTER', ...changes });

    it('requires a SIP or SIPS To', () => {
      expect(check(reg({}))).toBeUndefined();
      expect(check(reg({ To: 'isbn:2983792873' }))?.status).toBe(400);
      expect(check(reg({ To: '<tel:+15550100>' }))?.status).toBe(400);
    });

    it('accepts Contact: * only alone and with Expires: 0', () => {
      expect(check(reg({ Contact: '*', Expires: '0' }))).toBeUndefined();
      expect(check(reg({ Contact: '*', Expires: '3600' }))?.status).toBe(400);
      expect(check(reg({ Contact: '*' }))?.status).toBe(400);
      expect(check(reg({ Contact: ['*', '<sip:a@b>'], Expires: '0' }))?.status).toBe(400);
      expect(check(build(undefined, { Contact: '*' }))?.status).toBe(400);
    });
  });

  describe('Require (RFC 3261 §8.2.2.3)', () => {
    it('420 with Unsupported listing unknown tags; known tags and Proxy-Require pass', () => {
      expect(check(build(undefined, { Require: '100rel, foo', 'Proxy-Require': 'bar' }))).toEqual({
        status: 420,
        reason: 'Bad Extension',
        headers: [['Unsupported', 'foo']],
      });
      expect(check(build(undefined, { Require: '100rel, Timer', 'Proxy-Require': 'bar' }))).toBeUndefined();
    });

    it('is not applied to ACK and CANCEL', () => {
      expect(check(build('ACK sip:bob@example.com SIP/2.0', { CSeq: '1 ACK', Require: 'foo' }))).toBeUndefined();
      expect(check(build('CANCEL sip:bob@example.com SIP/2.0', { CSeq: '1 CANCEL', Require: 'foo' }))).toBeUndefined();
    });

    it('follows the policy', () => {
      const policy: ValidationPolicy = { ...defaultValidationPolicy, supportedOptionTags: new Set(['foo']) };
      expect(check(build(undefined, { Require: 'foo' }), policy)).toBeUndefined();
    });
  });
});
