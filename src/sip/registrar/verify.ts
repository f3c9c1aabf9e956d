/**
 * Verification of a SIP request's digest credentials (RFC 3261 §22.4, RFC 7616 §3.4, RFC 8760)
 * against an extension's stored HA1 values, with the registrar's security rules (reliability
 * anchors R6 anti-enumeration, R8 digest, R9 hijack).
 */
import { randomBytes } from 'node:crypto';
import { computeHa1, computeResponse, parseAlgorithm, responsesEqual } from './digest.js';
import type { DigestAlgorithm } from './digest.js';
import { parseDigestCredentials } from './digest-parse.js';
import { parseNonceCount } from './nonce.js';
import type { NonceCountTracker, NonceSigner } from './nonce.js';
import { digestUriMatches } from './uri-match.js';

/** Stored credentials of one extension: HA1 = H(user:realm:password) per algorithm. */
export interface DigestHa1s {
  ha1Md5?: string;
  ha1Sha256?: string;
}

/** Input of {@link verifyDigest}. */
export interface VerifyDigestInput {
  /** The `Authorization` (or `Proxy-Authorization`) header value; undefined if absent. */
  authorization: string | undefined;
  /** The request method, e.g. `REGISTER` (HA2 input). */
  method: string;
  /** The Request-URI; the credentials' `uri` must name the same resource (RFC 7616 §3.4.6). */
  requestUri: string;
  /** The realm the challenge was issued for (the tenant's SIP domain). */
  realm: string;
  /** The user part of the AOR (To URI of a REGISTER); the credentials must be for this user (R9). */
  expectedUser: string;
  /**
   * HA1s of `expectedUser`. For an unknown user pass {@link dummyCredentials} so that the answer
   * (`bad-response`) and the work done are the same as for a known user with a wrong password (R6).
   */
  credentials: DigestHa1s;
  nonces: { signer: NonceSigner; counts: NonceCountTracker };
  /** Optional context signed into the nonce at issue time (e.g. source address), see NonceSigner. */
  binding?: string;
  /** Current time on the signer's clock; defaults to the signer's clock. */
  now?: number;
}

/**
 * Why verification failed. Suggested answers: `missing`, `bad-nonce`, `bad-response` → 401 with
 * fresh challenges; `stale`, `replay` → 401 with fresh challenges and `stale=true` (the password was
 * right, RFC 7616 §3.3); `wrong-user` → 403 (R9); `wrong-realm`, `malformed` (including a `uri`
 * not matching the Request-URI, or a `qop` other than `auth`), `unsupported-algorithm` → 401 or 400.
 * Every failure except `missing` should count towards the source's ban (see BanList).
 */
export type VerifyFailure =
  | 'missing'
  | 'malformed'
  | 'wrong-user'
  | 'wrong-realm'
  | 'stale'
  | 'bad-nonce'
  | 'replay'
  | 'bad-response'
  | 'unsupported-algorithm';

export type VerifyDigestResult =
  | { ok: true; algorithm: DigestAlgorithm }
  | { ok: false; reason: VerifyFailure };

const fail = (reason: VerifyFailure): VerifyDigestResult => ({ ok: false, reason });

/**
 * Verify digest credentials. Checks, in order: presence, syntax, algorithm, qop/nc/cnonce, realm,
 * user (must equal the AOR user, R9), uri, nonce signature, response (constant-time), nonce age
 * (a good response on an expired nonce is `stale`), and finally the nonce count (strictly
 * increasing per nonce, RFC 7616 §3.4.5). A request without `qop` (RFC 2069 form, still allowed by
 * RFC 3261 §22.4) may use its nonce once: a second use is a `replay`. Counts are recorded only
 * after the response is verified, so forged requests cannot burn a client's counts.
 */
export function verifyDigest(input: VerifyDigestInput): VerifyDigestResult {
  if (input.authorization === undefined || input.authorization.trim() === '') return fail('missing');
  const creds = parseDigestCredentials(input.authorization);
  if (!creds) return fail('malformed');
  const username = creds.get('username');
  const realm = creds.get('realm');
  const nonce = creds.get('nonce');
  const uri = creds.get('uri');
  const response = creds.get('response');
  if (username === undefined || realm === undefined || nonce === undefined) return fail('malformed');
  if (uri === undefined || response === undefined) return fail('malformed');

  const algorithm = parseAlgorithm(creds.get('algorithm'));
  if (!algorithm) return fail('unsupported-algorithm');

  const qopRaw = creds.get('qop');
  let nc = 1;
  let ncText: string | undefined;
  let cnonce: string | undefined;
  if (qopRaw !== undefined) {
    if (qopRaw.toLowerCase() !== 'auth') return fail('malformed');
    ncText = creds.get('nc');
    cnonce = creds.get('cnonce');
    const parsed = parseNonceCount(ncText);
    if (parsed === undefined || parsed === 0 || cnonce === undefined || cnonce === '') {
      return fail('malformed');
    }
    nc = parsed;
  }

  if (realm !== input.realm) return fail('wrong-realm');
  if (username !== input.expectedUser) return fail('wrong-user');
  if (!digestUriMatches(uri, input.requestUri)) return fail('malformed');

  const ha1 = algorithm === 'MD5' ? input.credentials.ha1Md5 : input.credentials.ha1Sha256;
  if (ha1 === undefined) return fail('unsupported-algorithm');

  const status = input.nonces.signer.verify(nonce, input.realm, input.binding ?? '', input.now);
  if (status === 'invalid') return fail('bad-nonce');

  const expected = computeResponse({
    algorithm,
    ha1,
    nonce,
    method: input.method,
    uri,
    ...(qopRaw !== undefined ? { qop: 'auth' as const, nc: ncText, cnonce } : {}),
  });
  if (!responsesEqual(expected, response)) return fail('bad-response');
  if (status === 'stale') return fail('stale');
  if (!input.nonces.counts.accept(nonce, nc)) return fail('replay');
  return { ok: true, algorithm };
}

const dummySecret = randomBytes(32).toString('hex');

/**
 * HA1s for a user that does not exist, derived from a per-process random password: pass them to
 * {@link verifyDigest} for an unknown AOR user so the registrar challenges, hashes and answers
 * exactly as for a known user with a wrong password (reliability R6, anti-enumeration). Nobody can
 * authenticate against them.
 */
export function dummyCredentials(realm: string): Required<DigestHa1s> {
  return {
    ha1Md5: computeHa1('MD5', '', realm, dummySecret),
    ha1Sha256: computeHa1('SHA-256', '', realm, dummySecret),
  };
}
