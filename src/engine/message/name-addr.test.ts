import { describe, expect, it } from 'vitest';
import { formatNameAddr, getTag, parseNameAddr, parseNameAddrList } from './name-addr.js';

describe('parseNameAddr (RFC 3261 §20.10, §25.1)', () => {
  it('parses a quoted display name with escapes', () => {
    expect(parseNameAddr('"J Rosenberg \\\\\\""       <sip:jdrosen@example.com> ; tag = 98asjd8')).toEqual({
      displayName: 'J Rosenberg \\"',
      uri: 'sip:jdrosen@example.com',
      params: new Map([['tag', '98asjd8']]),
      bracketed: true,
    });
  });

  it('parses token display names, with or without LWS before < (RFC 4475 lwsdisp)', () => {
    expect(parseNameAddr('A. Bell <sip:a.g.bell@example.com>;tag=qweoiqpe')?.displayName).toBe('A. Bell');
    expect(parseNameAddr('caller<sip:caller@example.com>;tag=323')).toMatchObject({
      displayName: 'caller',
      uri: 'sip:caller@example.com',
    });
  });

  it('parses a bare <uri> and an empty quoted display name', () => {
    expect(parseNameAddr('<sip:a@b>')).toEqual({ uri: 'sip:a@b', params: new Map(), bracketed: true });
    expect(parseNameAddr('"" <sip:a@b>')?.displayName).toBe('');
  });

  it('gives params after an addr-spec to the header (RFC 4475 cparam01)', () => {
    expect(parseNameAddr('sip:+19725552222@gw1.example.net;unknownparam')).toEqual({
      uri: 'sip:+19725552222@gw1.example.net',
      params: new Map([['unknownparam', null]]),
      bracketed: false,
    });
    expect(parseNameAddr('sip:vivekg@chair-dnrc.example.com ;   tag    = 1918181833n')?.params.get('tag')).toBe(
      '1918181833n',
    );
  });

  it('keeps params inside <> in the URI (RFC 4475 cparam02)', () => {
    const na = parseNameAddr('<sip:+19725552222@gw1.example.net;unknownparam>');
    expect(na?.uri).toBe('sip:+19725552222@gw1.example.net;unknownparam');
    expect(na?.params.size).toBe(0);
  });

  it('accepts other URI schemes', () => {
    expect(parseNameAddr('<http://www.example.com>;tag=3234233')?.uri).toBe('http://www.example.com');
    expect(parseNameAddr('isbn:2983792873')?.uri).toBe('isbn:2983792873');
    expect(parseNameAddr('<tel:+1-555-0100;phone-context=x>')?.uri).toBe('tel:+1-555-0100;phone-context=x');
  });

  it('accepts quoted header-param values containing < and ,', () => {
    const na = parseNameAddr('<sip:a@192.0.2.1>;+sip.instance="<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>";methods="INVITE,BYE"');
    expect(na?.params.get('+sip.instance')).toBe('"<urn:uuid:00000000-0000-1000-8000-AABBCCDDEEFF>"');
    expect(na?.params.get('methods')).toBe('"INVITE,BYE"');
  });

  it('rejects the RFC 4475 malformed forms', () => {
    // quotbal: unterminated quote
    expect(parseNameAddr('"Mr. J. User <sip:j.user@example.com>')).toBeUndefined();
    // badaspec: spaces inside <>
    expect(parseNameAddr('"Watson, Thomas" < sip:t.watson@example.org >')).toBeUndefined();
    // baddn: non-token display name
    expect(parseNameAddr('Bell, Alexander <sip:a.g.bell@example.com>;tag=43')).toBeUndefined();
    // regbadct: ? in an unbracketed addr-spec
    expect(parseNameAddr('sip:user@example.com?Route=%3Csip:sip.example.com%3E')).toBeUndefined();
    // badinv01: empty params
    expect(parseNameAddr('"Joe" <sip:joe@example.org>;;;;')).toBeUndefined();
  });

  it('rejects other malformed values', () => {
    for (const bad of ['', '   ', '<>', '<sip:a@b', 'sip:a@b>', '"x"sip:a@b', 'name', '<sip:a@b> junk', '<sip:>', 'a@b', '<sip:a@b>;']) {
      expect(parseNameAddr(bad), bad).toBeUndefined();
    }
  });
});

describe('parseNameAddrList', () => {
  it('splits top-level commas only', () => {
    const list = parseNameAddrList('"Bell, A" <sip:a@x>;q=0.5, <sip:b@y;lr>, sip:c@z');
    expect(list?.map((n) => n.uri)).toEqual(['sip:a@x', 'sip:b@y;lr', 'sip:c@z']);
  });

  it('fails on any bad element or an empty list', () => {
    expect(parseNameAddrList('<sip:a@x>, bad bad')).toBeUndefined();
    expect(parseNameAddrList('')).toBeUndefined();
  });
});

describe('formatNameAddr', () => {
  it('quotes display names and keeps brackets', () => {
    expect(
      formatNameAddr({ displayName: 'Bell, "A"', uri: 'sip:a@x', params: new Map([['tag', '1']]), bracketed: true }),
    ).toBe('"Bell, \\"A\\"" <sip:a@x>;tag=1');
  });

  it('writes a plain addr-spec when that is safe and brackets when the URI needs it', () => {
    expect(formatNameAddr({ uri: 'sip:a@x', params: new Map([['tag', '1']]), bracketed: false })).toBe('sip:a@x;tag=1');
    expect(formatNameAddr({ uri: 'sip:a@x;lr', params: new Map(), bracketed: false })).toBe('<sip:a@x;lr>');
  });

  it('round-trips through parseNameAddr', () => {
    for (const s of ['"J \\"R\\"" <sip:j@x>;tag=a;lr', '<sip:a@x;lr>;expires=60', 'sip:a@x;tag=b']) {
      const na = parseNameAddr(s);
      expect(na && formatNameAddr(na)).toBe(s);
    }
  });
});

describe('getTag', () => {
  it('returns the tag parameter only', () => {
    expect(getTag('<sip:a@x>;tag=abc')).toBe('abc');
    expect(getTag('sip:a@x;tag=abc')).toBe('abc');
    expect(getTag('<sip:a@x;tag=uri-param>')).toBeUndefined();
    expect(getTag('<sip:a@x>;tag')).toBeUndefined();
    expect(getTag('garbage <<')).toBeUndefined();
  });
});
