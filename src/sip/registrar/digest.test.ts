import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  computeHa1,
  computeHa2,
  computeResponse,
  formatChallenge,
  formatChallenges,
  parseAlgorithm,
  quoteString,
  responsesEqual,
} from './digest.js';

describe('RFC 7616 §3.9.1 test vectors (Mufasa / Circle of Life, qop=auth)', () => {
  const common = {
    nonce: '7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v',
    method: 'GET',
    uri: '/dir/index.html',
    qop: 'auth' as const,
    nc: '00000001',
    cnonce: 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ',
  };
  const realm = 'http-auth@example.org';

  it('MD5', () => {
    const ha1 = computeHa1('MD5', 'Mufasa', realm, 'Circle of Life');
    expect(computeResponse({ ...common, algorithm: 'MD5', ha1 })).toBe(
      '8ca523f5e9506fed4657c9700eebdbec',
    );
  });

  it('SHA-256', () => {
    const ha1 = computeHa1('SHA-256', 'Mufasa', realm, 'Circle of Life');
    expect(computeResponse({ ...common, algorithm: 'SHA-256', ha1 })).toBe(
      '753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1',
    );
  });
});

describe('RFC 2617 §3.5 example', () => {
  it('MD5 with qop=auth', () => {
    const ha1 = computeHa1('MD5', 'Mufasa', 'testrealm@host.com', 'Circle Of Life');
    expect(
      computeResponse({
        algorithm: 'MD5',
        ha1,
        nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
        method: 'GET',
        uri: '/dir/index.html',
        qop: 'auth',
        nc: '00000001',
        cnonce: '0a4f113b',
      }),
    ).toBe('6629fae49393a05397450978507c4ef1');
  });
});

describe('SIP REGISTER computed independently', () => {
  const h = (alg: string, s: string) => createHash(alg).update(s).digest('hex');

  it.each([
    ['MD5', 'md5'],
    ['SHA-256', 'sha256'],
  ] as const)('%s without qop (RFC 2069 form, RFC 3261 §22.4)', (algorithm, node) => {
    const ha1 = h(node, '1001:pbx.example.com:s3cret!');
    expect(computeHa1(algorithm, '1001', 'pbx.example.com', 's3cret!')).toBe(ha1);
    const ha2 = h(node, 'REGISTER:sip:pbx.example.com');
    expect(computeHa2(algorithm, 'REGISTER', 'sip:pbx.example.com')).toBe(ha2);
    expect(
      computeResponse({ algorithm, ha1, nonce: 'abc', method: 'REGISTER', uri: 'sip:pbx.example.com' }),
    ).toBe(h(node, `${ha1}:abc:${ha2}`));
  });

  it('SHA-256 with qop=auth', () => {
    const ha1 = h('sha256', '1001:pbx.example.com:pw');
    const ha2 = h('sha256', 'REGISTER:sip:pbx.example.com;transport=tcp');
    const expected = h('sha256', `${ha1}:n1:0000000a:c1:auth:${ha2}`);
    expect(
      computeResponse({
        algorithm: 'SHA-256',
        ha1,
        nonce: 'n1',
        method: 'REGISTER',
        uri: 'sip:pbx.example.com;transport=tcp',
        qop: 'auth',
        nc: '0000000a',
        cnonce: 'c1',
      }),
    ).toBe(expected);
  });
});

describe('parseAlgorithm', () => {
  it('defaults to MD5, ignores case, rejects -sess and unknown', () => {
    expect(parseAlgorithm(undefined)).toBe('MD5');
    expect(parseAlgorithm('md5')).toBe('MD5');
    expect(parseAlgorithm('sha-256')).toBe('SHA-256');
    expect(parseAlgorithm('SHA-256-sess')).toBeUndefined();
    expect(parseAlgorithm('SHA-512-256')).toBeUndefined();
  });
});

describe('responsesEqual', () => {
  it('matches ignoring hex case, rejects other values and lengths', () => {
    expect(responsesEqual('abcdef', 'ABCDEF')).toBe(true);
    expect(responsesEqual('abcdef', 'abcdee')).toBe(false);
    expect(responsesEqual('abcdef', 'abcde')).toBe(false);
    expect(responsesEqual('abcdef', '')).toBe(false);
  });
});

describe('challenges', () => {
  it('formats one challenge with qop and optional stale', () => {
    expect(formatChallenge({ realm: 'pbx.example.com', nonce: 'N', algorithm: 'SHA-256' })).toBe(
      'Digest realm="pbx.example.com", nonce="N", algorithm=SHA-256, qop="auth"',
    );
    expect(formatChallenge({ realm: 'r', nonce: 'N', algorithm: 'MD5', stale: true })).toBe(
      'Digest realm="r", nonce="N", algorithm=MD5, qop="auth", stale=true',
    );
  });

  it('escapes quotes and backslashes in the realm', () => {
    expect(quoteString('a"b\\c')).toBe('"a\\"b\\\\c"');
  });

  it('offers SHA-256 first, then MD5 (RFC 8760 §2.4)', () => {
    const [first, second, ...rest] = formatChallenges({ realm: 'r', nonce: 'N' });
    expect(first).toContain('algorithm=SHA-256');
    expect(second).toContain('algorithm=MD5');
    expect(rest).toEqual([]);
    // A deployment setting for phones that read only the first challenge: the given order is kept.
    expect(formatChallenges({ realm: 'r', nonce: 'N' }, ['MD5', 'SHA-256'])[0]).toContain('algorithm=MD5');
    expect(formatChallenges({ realm: 'r', nonce: 'N' }, ['SHA-256'])).toHaveLength(1);
  });
});
