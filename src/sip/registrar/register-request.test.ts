import { describe, expect, it } from 'vitest';
import { contactExpiry, parseDelta, parseSipUri } from './register-request.js';

const limits = { minExpires: 60, maxExpires: 3600, defaultExpires: 3600 };

describe('parseSipUri', () => {
  it('reads user and host from bare and bracketed URIs', () => {
    expect(parseSipUri('<sip:1001@Example.COM:5060;transport=udp>;tag=x')).toEqual({ user: '1001', host: 'example.com' });
    expect(parseSipUri('sips:alice%20b@10.0.0.1')).toEqual({ user: 'alice b', host: '10.0.0.1' });
    expect(parseSipUri('"A" <sip:example.com>')).toEqual({ user: '', host: 'example.com' });
  });

  it('rejects other schemes', () => {
    expect(parseSipUri('<tel:+123>')).toBeUndefined();
    expect(parseSipUri(undefined)).toBeUndefined();
  });
});

describe('contactExpiry', () => {
  it('prefers the contact parameter, then the header, then the default', () => {
    expect(contactExpiry('120', '600', limits)).toEqual({ kind: 'bind', seconds: 120 });
    expect(contactExpiry(undefined, '600', limits)).toEqual({ kind: 'bind', seconds: 600 });
    expect(contactExpiry(undefined, undefined, limits)).toEqual({ kind: 'bind', seconds: 3600 });
  });

  it('removes on 0, refuses too brief, clamps too long', () => {
    expect(contactExpiry('0', '600', limits)).toEqual({ kind: 'remove' });
    expect(contactExpiry(undefined, '30', limits)).toEqual({ kind: 'too-brief' });
    expect(contactExpiry('99999', undefined, limits)).toEqual({ kind: 'bind', seconds: 3600 });
  });

  it('treats malformed values as absent', () => {
    expect(parseDelta('abc')).toBeUndefined();
    expect(contactExpiry('x', '120', limits)).toEqual({ kind: 'bind', seconds: 120 });
  });
});
