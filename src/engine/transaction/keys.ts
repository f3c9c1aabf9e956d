/**
 * Transaction matching keys (RFC 3261 §17.1.3, §17.2.3, §9.2, §8.2.2.2).
 *
 * Keys are plain strings so the layer can keep its transactions in `Map`s: a lookup is one hash
 * per received message, whatever the number of transactions in progress.
 */
import { getHeader } from '../message/headers.js';
import type { SipRequest, SipResponse, Via } from '../message/types.js';
import { getTag, parseCSeq, topVia } from './message-access.js';

/** RFC 3261 §8.1.1.7: branches that start with this cookie are unique per transaction. */
export const MAGIC_COOKIE = 'z9hG4bK';

/** Whether a branch was built by an RFC 3261 element, so it alone identifies the transaction. */
export function isRfc3261Branch(branch: string | undefined): branch is string {
  return branch !== undefined && branch.startsWith(MAGIC_COOKIE) && branch.length > MAGIC_COOKIE.length;
}

/** `host:port` of a Via with the default port filled in, so `a` and `a:5060` match (RFC 3261 §19.1.4). */
export function sentBy(via: Via): string {
  const defaultPort = via.transport === 'TLS' || via.transport === 'WSS' ? 5061 : 5060;
  return `${via.host.toLowerCase()}:${via.port ?? defaultPort}`;
}

/** Everything the layer needs to know about a request to match it, parsed once. */
export interface RequestIdentity {
  via: Via;
  cseq: { seq: number; method: string };
  callId: string;
  fromTag: string | undefined;
  toTag: string | undefined;
  /**
   * Key of the server transaction this request belongs to or would create, under the method the
   * transaction was created with (ACK looks for INVITE). For RFC 2543 requests the To tag is left
   * out: an ACK carries the tag of our response, which the INVITE did not (checked separately).
   */
  key: string;
  /** True when matched by branch (RFC 3261), false for the RFC 2543 fallback. */
  rfc3261: boolean;
}

/** Why a request cannot take part in transaction matching (the caller answers 400 or drops it). */
export type IdentityError = 'missing-via' | 'missing-cseq' | 'missing-call-id';

/**
 * Parse the fields §17.2.3 matching uses. `asMethod` builds the key of a different method's
 * transaction: ACK and CANCEL look for the INVITE they refer to (§17.2.3, §9.2).
 */
export function requestIdentity(req: SipRequest, asMethod = req.method): RequestIdentity | IdentityError {
  const via = topVia(req);
  if (!via) return 'missing-via';
  const cseqValue = getHeader(req, 'cseq');
  const cseq = cseqValue === undefined ? undefined : parseCSeq(cseqValue);
  if (!cseq) return 'missing-cseq';
  const callId = getHeader(req, 'call-id');
  if (!callId) return 'missing-call-id';
  const from = getHeader(req, 'from');
  const to = getHeader(req, 'to');
  const fromTag = from === undefined ? undefined : getTag(from);
  const toTag = to === undefined ? undefined : getTag(to);
  const method = asMethod === 'ACK' ? 'INVITE' : asMethod;
  if (isRfc3261Branch(via.branch)) {
    // §17.2.3: branch + sent-by + method (ACK matches INVITE). CANCEL is its own method here.
    return { via, cseq, callId, fromTag, toTag, key: `${via.branch}|${sentBy(via)}|${method}`, rfc3261: true };
  }
  // RFC 2543 fallback (§17.2.3 last paragraphs): Request-URI, From tag, Call-ID, CSeq, top Via.
  // The CSeq method is the transaction's method: an ACK or CANCEL carries its own in the header.
  const key = ['2543', req.uri, fromTag ?? '', callId, cseq.seq, method, viaSignature(via)].join('|');
  return { via, cseq, callId, fromTag, toTag, key, rfc3261: false };
}

/** The top Via reduced to what identifies the hop that sent it (transport, sent-by, parameters). */
function viaSignature(via: Via): string {
  const params = [...via.params].map(([k, v]) => (v === null ? k : `${k}=${v}`)).join(';');
  return `${via.transport}/${sentBy(via)};${params}`;
}

/**
 * Key for §8.2.2.2 merged-request detection: From tag, Call-ID and CSeq of a request without a
 * To tag. A second request with the same key but a different transaction key arrived by another
 * path (a fork that looped back), and gets 482 from a UAS.
 */
export function mergeKey(id: RequestIdentity): string {
  return `${id.fromTag ?? ''}|${id.callId}|${id.cseq.seq}|${id.cseq.method}`;
}

/** §17.1.3: a response matches the client transaction with its top-Via branch and its CSeq method. */
export function clientKey(branch: string, method: string): string {
  return `${branch}|${method}`;
}

/** The client key of a received response, or undefined when it lacks a top Via branch or CSeq. */
export function responseKey(res: SipResponse): string | undefined {
  const branch = topVia(res)?.branch;
  const cseqValue = getHeader(res, 'cseq');
  const cseq = cseqValue === undefined ? undefined : parseCSeq(cseqValue);
  if (!branch || !cseq) return undefined;
  return clientKey(branch, cseq.method);
}
