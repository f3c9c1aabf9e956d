import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDigestCredentials } from './digest-parse.js';

describe('parseDigestCredentials', () => {
  it('parses a typical SIP Authorization value', () => {
    const c = parseDigestCredentials(
      'Digest username="1001", realm="pbx.example.com", nonce="abc/+=", uri="sip:pbx.example.com", ' +
        'response="0123abcd", algorithm=SHA-256, qop=auth, nc=00000001, cnonce="xyz"',
    );
    expect(c?.get('username')).toBe('1001');
    expect(c?.get('URI')).toBe('sip:pbx.example.com');
    expect(c?.get('algorithm')).toBe('SHA-256');
    expect(c?.get('nc')).toBe('00000001');
    expect(c?.params.size).toBe(9);
  });

  it('handles case-insensitive scheme/names, escapes, commas inside quotes, odd whitespace', () => {
    const c = parseDigestCredentials('  dIgEsT\tUserName = "a\\"b,c\\\\" ,REALM="x, y",qop=auth  ');
    expect(c?.get('username')).toBe('a"b,c\\');
    expect(c?.get('realm')).toBe('x, y');
    expect(c?.get('qop')).toBe('auth');
  });

  it('allows empty quoted values', () => {
    expect(parseDigestCredentials('Digest username=""')?.get('username')).toBe('');
  });

  it.each([
    '',
    'Digest',
    'Digest ',
    'Basic dXNlcjpwYXNz',
    'Digestusername="a"',
    'Digest username="a", username="b"',
    'Digest username="a", USERNAME="b"',
    'Digest username="unterminated',
    'Digest username="a\\',
    'Digest username=',
    'Digest username="a",',
    'Digest username="a" realm="b"',
    'Digest =x',
    'Digest username="a",, realm="b"',
    'Digest username=a/b',
  ])('rejects %j', (h) => {
    expect(parseDigestCredentials(h)).toBeUndefined();
  });

  it('rejects oversized headers', () => {
    expect(parseDigestCredentials(`Digest username="${'a'.repeat(10_000)}"`)).toBeUndefined();
  });

  it('never throws on random input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (s) => {
        parseDigestCredentials(s);
        parseDigestCredentials(`Digest ${s}`);
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips generated parameter lists', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/);
    const value = fc.string({ maxLength: 30 });
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(name, value), { minLength: 1, maxLength: 8, selector: (t) => t[0] }), (pairs) => {
        const header =
          'Digest ' + pairs.map(([n, v]) => `${n}="${v.replace(/[\\"]/g, (x) => `\\${x}`)}"`).join(', ');
        const c = parseDigestCredentials(header);
        expect(c).toBeDefined();
        for (const [n, v] of pairs) expect(c?.get(n)).toBe(v);
      }),
    );
  });
});
