/**
 * Digest access authentication arithmetic for SIP (RFC 3261 §22.4, with the RFC 7616 algorithms as
 * adopted for SIP by RFC 8760): HA1, HA2, the response with and without `qop=auth`, challenge
 * formatting and a constant-time response comparison. Pure functions over node:crypto.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/** The digest algorithms the registrar accepts (RFC 8760 §2.2: SHA-256 and, for old UAs, MD5). */
export type DigestAlgorithm = 'MD5' | 'SHA-256';

/** Challenges are offered in this order: most preferred first (RFC 8760 §2.4, RFC 7616 §3.7). */
export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-256', 'MD5'];

/**
 * Map an `algorithm=` parameter value to a supported algorithm, case-insensitively. An absent
 * parameter means MD5 (RFC 7616 §3.3, RFC 3261 §22.4). `-sess` variants and others → undefined.
 */
export function parseAlgorithm(value: string | undefined): DigestAlgorithm | undefined {
  if (value === undefined) return 'MD5';
  const v = value.toUpperCase();
  if (v === 'MD5') return 'MD5';
  if (v === 'SHA-256') return 'SHA-256';
  return undefined;
}

/** The hash function H of RFC 7616 §3.4.1 as lowercase hex. */
export function digestHash(algorithm: DigestAlgorithm, data: string): string {
  return createHash(algorithm === 'MD5' ? 'md5' : 'sha256')
    .update(data, 'utf8')
    .digest('hex');
}

/** HA1 = H(username ":" realm ":" password) (RFC 7616 §3.4.2, non-`-sess` algorithms). */
export function computeHa1(
  algorithm: DigestAlgorithm,
  username: string,
  realm: string,
  password: string,
): string {
  return digestHash(algorithm, `${username}:${realm}:${password}`);
}

/** HA2 = H(method ":" digest-uri) for `qop=auth` or no qop (RFC 7616 §3.4.3, RFC 3261 §22.4). */
export function computeHa2(algorithm: DigestAlgorithm, method: string, uri: string): string {
  return digestHash(algorithm, `${method}:${uri}`);
}

/** The inputs of {@link computeResponse}. Without `qop`, `nc` and `cnonce` are ignored (RFC 2069 form). */
export interface ResponseInput {
  algorithm: DigestAlgorithm;
  ha1: string;
  nonce: string;
  method: string;
  uri: string;
  /** Only `auth` is supported; `auth-int` is not used for SIP registration. */
  qop?: 'auth';
  /** Nonce count, 8 hex digits as sent by the client (RFC 7616 §3.4). */
  nc?: string;
  cnonce?: string;
}

/**
 * The request-digest (RFC 7616 §3.4.1):
 * with qop: H(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" HA2); without: H(HA1 ":" nonce ":" HA2)
 * (RFC 2617 §3.2.2.1 compatibility, which RFC 3261 §22.4 requires servers to accept).
 */
export function computeResponse(input: ResponseInput): string {
  const ha2 = computeHa2(input.algorithm, input.method, input.uri);
  if (input.qop === 'auth') {
    return digestHash(
      input.algorithm,
      `${input.ha1}:${input.nonce}:${input.nc ?? ''}:${input.cnonce ?? ''}:auth:${ha2}`,
    );
  }
  return digestHash(input.algorithm, `${input.ha1}:${input.nonce}:${ha2}`);
}

/**
 * Compare a client's response to the expected one without leaking, through timing, how many
 * leading characters matched (RFC 7616 §5.13 attack surface). Hex case is ignored.
 */
export function responsesEqual(expected: string, received: string): boolean {
  const a = Buffer.from(expected.toLowerCase(), 'utf8');
  const b = Buffer.from(received.toLowerCase(), 'utf8');
  if (a.length !== b.length) {
    timingSafeEqual(a, a); // spend comparable time on the mismatch path
    return false;
  }
  return timingSafeEqual(a, b);
}

/** Quote a string as an RFC 3261 §25.1 quoted-string (escapes `"` and `\`). */
export function quoteString(value: string): string {
  // Realms and nonces never hold a quote or backslash: skip the regex replace for them.
  if (value.indexOf('"') < 0 && value.indexOf('\\') < 0) return `"${value}"`;
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** One `WWW-Authenticate` / `Proxy-Authenticate` challenge (RFC 7616 §3.3, RFC 3261 §22.4). */
export interface ChallengeInput {
  realm: string;
  nonce: string;
  algorithm: DigestAlgorithm;
  /** Set when the previous request had a good response on an expired nonce (RFC 7616 §3.3). */
  stale?: boolean;
  opaque?: string;
}

/** Format one challenge: `Digest realm="…", nonce="…", algorithm=…, qop="auth"[, stale=true]`. */
export function formatChallenge(input: ChallengeInput): string {
  const parts = [
    `realm=${quoteString(input.realm)}`,
    `nonce=${quoteString(input.nonce)}`,
  ];
  if (input.opaque !== undefined) parts.push(`opaque=${quoteString(input.opaque)}`);
  parts.push(`algorithm=${input.algorithm}`, 'qop="auth"');
  if (input.stale) parts.push('stale=true');
  return `Digest ${parts.join(', ')}`;
}

/**
 * The challenges for one 401/407, one header per algorithm in the order given (RFC 8760 §2.4:
 * in order of preference), all on the same nonce. The default is SHA-256 then MD5; a deployment
 * may put MD5 first for phones that only read the first challenge. Unknown and repeated
 * algorithms are dropped.
 */
export function formatChallenges(
  input: Omit<ChallengeInput, 'algorithm'>,
  algorithms: readonly DigestAlgorithm[] = DIGEST_ALGORITHMS,
): string[] {
  return [...new Set(algorithms)].filter((a) => DIGEST_ALGORITHMS.includes(a)).map((algorithm) =>
    formatChallenge({ ...input, algorithm }),
  );
}
