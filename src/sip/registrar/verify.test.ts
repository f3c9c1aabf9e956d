import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { NonceCountTracker, NonceSigner } from './nonce.js';
import { dummyCredentials, verifyDigest } from './verify.js';
import type { VerifyDigestInput } from './verify.js';

const REALM = 'pbx.example.com';
const RURI = 'sip:pbx.example.com';
const h = (alg: 'md5' | 'sha256', s: string) => createHash(alg).update(s).digest('hex');

/** Build an Authorization value the way a phone would, independently of digest.ts. */
function authorize(o: {
  nonce: string;
  user?: string;
  password?: string;
  realm?: string;
  uri?: string;
  alg?: 'MD5' | 'SHA-256';
  nc?: string | null;
  cnonce?: string;
  extra?: string;
}): string {
  const alg = o.alg ?? 'SHA-256';
  const fn = alg === 'MD5' ? 'md5' : 'sha256';
  const user = o.user ?? '1001';
  const realm = o.realm ?? REALM;
  const uri = o.uri ?? RURI;
  const ha1 = h(fn, `${user}:${realm}:${o.password ?? 'secret'}`);
  const ha2 = h(fn, `REGISTER:${uri}`);
  const cnonce = o.cnonce ?? 'c0ffee';
  const nc = o.nc === undefined ? '00000001' : o.nc;
  const response =
    nc === null
      ? h(fn, `${ha1}:${o.nonce}:${ha2}`)
      : h(fn, `${ha1}:${o.nonce}:${nc}:${cnonce}:auth:${ha2}`);
  const qop = nc === null ? '' : `, qop=auth, nc=${nc}, cnonce="${cnonce}"`;
  return (
    `Digest username="${user}", realm="${realm}", nonce="${o.nonce}", uri="${uri}", ` +
    `response="${response}", algorithm=${alg}${qop}${o.extra ?? ''}`
  );
}

let clock: FakeClock;
let signer: NonceSigner;
let counts: NonceCountTracker;
const credentials = {
  ha1Md5: h('md5', `1001:${REALM}:secret`),
  ha1Sha256: h('sha256', `1001:${REALM}:secret`),
};

function verify(authorization: string | undefined, over: Partial<VerifyDigestInput> = {}) {
  return verifyDigest({
    authorization,
    method: 'REGISTER',
    requestUri: RURI,
    realm: REALM,
    expectedUser: '1001',
    credentials,
    nonces: { signer, counts },
    ...over,
  });
}

beforeEach(() => {
  clock = new FakeClock(1_700_000_000_000);
  signer = new NonceSigner({ secret: 'registrar-test-secret-0123456789', clock });
  counts = new NonceCountTracker();
});

describe('verifyDigest', () => {
  it.each(['SHA-256', 'MD5'] as const)('accepts a correct %s response with qop=auth', (alg) => {
    const nonce = signer.issue(REALM);
    expect(verify(authorize({ nonce, alg }))).toEqual({ ok: true, algorithm: alg });
  });

  it('accepts the RFC 2069 form without qop once, then treats reuse as a replay', () => {
    const nonce = signer.issue(REALM);
    expect(verify(authorize({ nonce, nc: null })).ok).toBe(true);
    expect(verify(authorize({ nonce, nc: null }))).toEqual({ ok: false, reason: 'replay' });
  });

  it('treats a missing algorithm parameter as MD5', () => {
    const nonce = signer.issue(REALM);
    const auth = authorize({ nonce, alg: 'MD5' }).replace(', algorithm=MD5', '');
    expect(verify(auth)).toEqual({ ok: true, algorithm: 'MD5' });
  });

  it('tolerates case differences in the uri scheme and host', () => {
    const nonce = signer.issue(REALM);
    expect(verify(authorize({ nonce, uri: 'SIP:PBX.example.com' })).ok).toBe(true);
  });

  it('rejects a reused or decreasing nc (R8), accepts a higher one', () => {
    const nonce = signer.issue(REALM);
    expect(verify(authorize({ nonce, nc: '00000002' })).ok).toBe(true);
    expect(verify(authorize({ nonce, nc: '00000002' }))).toEqual({ ok: false, reason: 'replay' });
    expect(verify(authorize({ nonce, nc: '00000001' }))).toEqual({ ok: false, reason: 'replay' });
    expect(verify(authorize({ nonce, nc: '00000003' })).ok).toBe(true);
  });

  it('does not let a bad response consume a nonce count', () => {
    const nonce = signer.issue(REALM);
    expect(verify(authorize({ nonce, password: 'guess' })).ok).toBe(false);
    expect(verify(authorize({ nonce })).ok).toBe(true);
  });

  it('reports stale for a good response on an expired nonce, bad-response if also wrong', () => {
    const nonce = signer.issue(REALM);
    clock.advance(300_001);
    expect(verify(authorize({ nonce }))).toEqual({ ok: false, reason: 'stale' });
    expect(verify(authorize({ nonce, password: 'x' }))).toEqual({ ok: false, reason: 'bad-response' });
  });

  it('rejects a forged nonce and a nonce bound to another source', () => {
    expect(verify(authorize({ nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093' }))).toEqual({
      ok: false,
      reason: 'bad-nonce',
    });
    const nonce = signer.issue(REALM, '192.0.2.1:5060');
    expect(verify(authorize({ nonce }), { binding: '192.0.2.9:5060' })).toEqual({
      ok: false,
      reason: 'bad-nonce',
    });
    expect(verify(authorize({ nonce }), { binding: '192.0.2.1:5060' }).ok).toBe(true);
  });

  it('rejects a wrong password', () => {
    const nonce = signer.issue(REALM);
    expect(verify(authorize({ nonce, password: 'wrong' }))).toEqual({ ok: false, reason: 'bad-response' });
  });

  it('rejects credentials of another user for this AOR (hijack, R9)', () => {
    const nonce = signer.issue(REALM);
    // 1002 knows its own password, tries to register AOR 1001.
    expect(verify(authorize({ nonce, user: '1002' }))).toEqual({ ok: false, reason: 'wrong-user' });
  });

  it('rejects another realm', () => {
    const nonce = signer.issue(REALM);
    expect(verify(authorize({ nonce, realm: 'other.example.com' }))).toEqual({
      ok: false,
      reason: 'wrong-realm',
    });
  });

  it('rejects a uri that does not match the Request-URI', () => {
    const nonce = signer.issue(REALM);
    expect(verify(authorize({ nonce, uri: 'sip:evil.example.com' }))).toEqual({
      ok: false,
      reason: 'malformed',
    });
  });

  it('rejects unsupported algorithms and ones the extension has no HA1 for', () => {
    const nonce = signer.issue(REALM);
    const sess = authorize({ nonce }).replace('algorithm=SHA-256', 'algorithm=SHA-256-sess');
    expect(verify(sess)).toEqual({ ok: false, reason: 'unsupported-algorithm' });
    expect(verify(authorize({ nonce, alg: 'MD5' }), { credentials: { ha1Sha256: credentials.ha1Sha256 } })).toEqual({
      ok: false,
      reason: 'unsupported-algorithm',
    });
  });

  it('reports missing and malformed credentials', () => {
    const nonce = signer.issue(REALM);
    expect(verify(undefined)).toEqual({ ok: false, reason: 'missing' });
    expect(verify('  ')).toEqual({ ok: false, reason: 'missing' });
    expect(verify('Basic Zm9vOmJhcg==')).toEqual({ ok: false, reason: 'malformed' });
    expect(verify(`Digest username="1001", realm="${REALM}", nonce="${nonce}"`)).toEqual({
      ok: false,
      reason: 'malformed',
    });
    expect(verify(authorize({ nonce }).replace('qop=auth', 'qop=auth-int'))).toEqual({
      ok: false,
      reason: 'malformed',
    });
    expect(verify(authorize({ nonce, nc: '1' }))).toEqual({ ok: false, reason: 'malformed' });
    expect(verify(authorize({ nonce, nc: '00000000' }))).toEqual({ ok: false, reason: 'malformed' });
    expect(verify(authorize({ nonce, cnonce: '' }))).toEqual({ ok: false, reason: 'malformed' });
  });

  it('answers an unknown user (dummy HA1) exactly like a known user with a wrong password (R6)', () => {
    const nonce = signer.issue(REALM);
    const unknown = verify(authorize({ nonce, user: '1999', password: 'secret' }), {
      expectedUser: '1999',
      credentials: dummyCredentials(REALM),
    });
    const known = verify(authorize({ nonce, password: 'guess' }));
    expect(unknown).toEqual(known);
    expect(unknown).toEqual({ ok: false, reason: 'bad-response' });
    const d = dummyCredentials(REALM);
    expect(d.ha1Md5).toMatch(/^[0-9a-f]{32}$/);
    expect(d.ha1Sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('never throws and never accepts random Authorization values', () => {
    const nonce = signer.issue(REALM);
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.string({ maxLength: 40 }), (junk, user) => {
        expect(verify(junk).ok).toBe(false);
        expect(verify(`Digest ${junk}`).ok).toBe(false);
        const r = verify(
          `Digest username="${user.replace(/["\\]/g, '')}", realm="${REALM}", nonce="${nonce}", uri="${RURI}", response="${junk.replace(/["\\]/g, '')}"`,
        );
        expect(r.ok).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});
