/**
 * Digest authentication core of the registrar (RFC 3261 §22.4, RFC 7616, RFC 8760): pure
 * functions and small classes on an injected Clock; the drachtio-srf registrar wires them up.
 */
export {
  DIGEST_ALGORITHMS,
  computeHa1,
  computeHa2,
  computeResponse,
  digestHash,
  formatChallenge,
  formatChallenges,
  parseAlgorithm,
  quoteString,
  responsesEqual,
} from './digest.js';
export type { ChallengeInput, DigestAlgorithm, ResponseInput } from './digest.js';
export { parseDigestCredentials } from './digest-parse.js';
export type { DigestCredentials } from './digest-parse.js';
export { NonceCountTracker, NonceSigner, parseNonceCount } from './nonce.js';
export type { NonceSignerOptions, NonceStatus } from './nonce.js';
export { digestUriMatches } from './uri-match.js';
export { dummyCredentials, verifyDigest } from './verify.js';
export type { DigestHa1s, VerifyDigestInput, VerifyDigestResult, VerifyFailure } from './verify.js';
export { BanList } from './ban-list.js';
export type { BanListOptions } from './ban-list.js';
export type { BindingEndReason, LiveBindingCount, RegistrationEventSink } from './registration-events.js';
export type { Binding } from './location.js';
