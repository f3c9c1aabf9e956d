/**
 * The SIP message layer of the embedded engine (RFC 3261 §7, §19, §20, §25): parse bytes into
 * messages, read structured views of headers on demand, validate requests before any transaction
 * sees them, and build stateless responses. Character-level helpers stay in `grammar.ts`.
 */
export type * from './types.js';
export * from './headers.js';
export { serializeMessage, startLine } from './serialize.js';
export { defaultParseLimits, parseMessage, type ParseLimits, type ParseOutcome } from './parse.js';
export { isSipUri, parseUri, unescapeUriPart, uriToString } from './uri.js';
export { formatNameAddr, getTag, parseNameAddr, parseNameAddrList } from './name-addr.js';
export { formatVia, parseVia } from './via.js';
export { stampReceived } from './received.js';
export { formatCSeq, MAX_CSEQ, parseCSeq } from './cseq.js';
export {
  defaultValidationPolicy,
  effectiveMaxForwards,
  validateRequest,
  type StatelessReject,
  type ValidationPolicy,
} from './validate.js';
export { buildResponse, reasonPhrase } from './response.js';
