import { describe, expect, it } from 'vitest';
import type { SipUri, TelUri } from './types.js';
import { isSipUri, parseUri, unescapeUriPart, uriToString } from './uri.js';

function sip(s: string): SipUri {
  const u = parseUri(s);
  if (!isSipUri(u)) throw new Error(`not a SIP URI: ${s}`);
  return u;
}

describe('parseUri: sip and sips (RFC 3261 §19.1.1)', () => {
  it('parses user, password, host, port, params and headers', () => {
    const u = sip('sips:alice:secret@Example.COM:5061;transport=TCP;LR;maddr=192.0.2.1?subject=x&Priority=urgent');
    expect(u).toEqual({
      scheme: 'sips',
      user: 'alice',
      password: 'secret',
      host: 'Example.COM',
      port: 5061,
      params: new Map([
        ['transport', 'TCP'],
        ['lr', null],
        ['maddr', '192.0.2.1'],
      ]),
      headers: new Map([
        ['subject', 'x'],
        ['Priority', 'urgent'],
      ]),
    });
  });

  it('accepts a host-only URI and a scheme in any case', () => {
    expect(sip('SIP:example.com')).toMatchObject({ scheme: 'sip', host: 'example.com' });
    expect(sip('sip:192.0.2.1:5060').port).toBe(5060);
  });

  it('handles IPv6 references (RFC 5118)', () => {
    expect(sip('sip:[2001:db8::1]').host).toBe('[2001:db8::1]');
    expect(sip('sip:user@[2001:db8::1]:5070;lr')).toMatchObject({ host: '[2001:db8::1]', port: 5070 });
    // §4.3 port-ambiguous: an address with no port
    expect(sip('sip:[2001:db8::10:5070]').port).toBeUndefined();
    // §4.2 ipv6-bad: unbracketed
    expect(parseUri('sip:user@2001:db8::10')).toBeUndefined();
  });

  it('takes the user part up to the first @ (RFC 4475 semiuri, intmeth)', () => {
    expect(sip('sip:user;par=u%40example.net@example.com')).toMatchObject({
      user: 'user;par=u%40example.net',
      host: 'example.com',
    });
    expect(sip('sip:*72#@pbx.example.com').user).toBe('*72#');
  });

  it('keeps escapes as written', () => {
    const u = sip('sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31');
    expect(u.user).toBe('cal%6Cer');
    expect([...u.params]).toEqual([
      ['%6c%72', null],
      ['n%61me', 'v%61lue%25%34%31'],
    ]);
  });

  it('rejects malformed SIP URIs', () => {
    for (const bad of [
      'sip:',
      'sip:user@',
      'sip:@host',
      'sip:host:99999',
      'sip:host:',
      'sip:ho st',
      'sip:%zz@host',
      'sip:host;',
      'sip:host;=x',
      'sip:host;a=',
      'sip:host?',
      'sip:host?a',
      'sip:[::1',
      'sip:[::1]x',
      'sip:a<b@host',
    ]) {
      expect(parseUri(bad), bad).toBeUndefined();
    }
  });
});

describe('parseUri: tel and other schemes', () => {
  it('parses tel URIs (RFC 3966)', () => {
    const u = parseUri('tel:+1-201-555-0123;phone-context=example.com;ext=12') as TelUri;
    expect(u).toEqual({
      scheme: 'tel',
      number: '+1-201-555-0123',
      params: new Map([
        ['phone-context', 'example.com'],
        ['ext', '12'],
      ]),
    });
    expect(parseUri('tel:')).toBeUndefined();
    expect(parseUri('tel:12 34')).toBeUndefined();
  });

  it('keeps other absolute URIs opaque (RFC 4475 unkscm, novelsc, unksm2)', () => {
    expect(parseUri('nobodyKnowsThisScheme:totallyopaquecontent')).toEqual({
      scheme: 'nobodyknowsthisscheme',
      value: 'nobodyKnowsThisScheme:totallyopaquecontent',
    });
    expect(parseUri('soap.beep://192.0.2.103:3002')?.scheme).toBe('soap.beep');
    expect(parseUri('isbn:2983792873')?.scheme).toBe('isbn');
    expect(parseUri('http:')).toBeUndefined();
    expect(parseUri('no-colon')).toBeUndefined();
    expect(parseUri('x:a b')).toBeUndefined();
  });
});

describe('uriToString', () => {
  it('round-trips parsed URIs', () => {
    for (const s of [
      'sip:alice@example.com',
      'sips:alice:pw@[2001:db8::1]:5061;transport=tcp;lr?Route=%3Csip:x%3E&h=v',
      'sip:user;par=u%40example.net@example.com',
      'tel:+1-201-555-0123;phone-context=example.com',
      'urn:service:sos',
    ]) {
      const u = parseUri(s);
      expect(u && uriToString(u)).toBe(s);
    }
  });

  it('reflects edits', () => {
    const u = sip('sip:alice@localhost');
    u.host = '192.0.2.7';
    u.port = 5080;
    u.params.set('transport', 'tcp');
    expect(uriToString(u)).toBe('sip:alice@192.0.2.7:5080;transport=tcp');
  });
});

describe('unescapeUriPart', () => {
  it('decodes %HH as UTF-8 bytes and keeps NULs', () => {
    expect(unescapeUriPart('null-%00-null')).toBe('null-\0-null');
    expect(unescapeUriPart('%75se%72')).toBe('user');
    expect(unescapeUriPart('caf%C3%A9')).toBe('café');
    expect(unescapeUriPart('100%')).toBe('100%');
    expect(unescapeUriPart('%zz')).toBe('%zz');
    expect(unescapeUriPart('naïve%20😀')).toBe('naïve 😀');
  });
});
