/**
 * The transaction layer's one door to the structured-header helpers of `../message/`, plus the
 * top-Via shortcut every matching step needs. Keeping the imports here means the state machines
 * depend on a handful of functions, not on the parser's internals.
 */
import { getHeaderLines } from '../message/headers.js';
import type { SipRequest, SipResponse, Via } from '../message/types.js';
import { parseVia } from '../message/via.js';

export { parseCSeq } from '../message/cseq.js';
export { getTag } from '../message/name-addr.js';
export { buildResponse } from '../message/response.js';
export { parseVia };

/** First entry of the top Via header line (RFC 3261 §17.2.3 uses only the top Via). */
export function topVia(msg: SipRequest | SipResponse): Via | undefined {
  const first = getHeaderLines(msg, 'via')[0];
  return first === undefined ? undefined : parseVia(first)?.[0];
}
