/**
 * Requests the transaction layer builds from an INVITE it sent: the ACK for a non-2xx final
 * (RFC 3261 §17.1.1.3) and CANCEL (§9.1). Both reuse the INVITE's top Via, so they travel the same
 * hop-by-hop path and the next hop matches them to its INVITE server transaction.
 */
import { canonicalName, displayName, getHeader, getHeaderLines, splitCommaList } from '../message/headers.js';
import type { SipHeader, SipRequest, SipResponse } from '../message/types.js';
import { parseCSeq } from './message-access.js';

function header(name: string, value: string): SipHeader {
  return { name, rawName: displayName(name), value };
}

/** The fields both derived requests copy: top Via only, Max-Forwards, Route set, From, Call-ID. */
function commonHeaders(invite: SipRequest, method: string, to: string): SipHeader[] {
  const firstViaLine = getHeaderLines(invite, 'via')[0] ?? '';
  const topVia = splitCommaList(firstViaLine)[0] ?? firstViaLine;
  const cseq = parseCSeq(getHeader(invite, 'cseq') ?? '');
  const out: SipHeader[] = [header('via', topVia)];
  out.push(header('max-forwards', getHeader(invite, 'max-forwards') ?? '70'));
  // Route headers exactly as in the INVITE (§17.1.1.3, §9.1): same path through loose routers.
  for (const h of invite.headers) if (h.name === 'route') out.push({ ...h });
  out.push(header('from', getHeader(invite, 'from') ?? ''));
  out.push(header('to', to));
  out.push(header('call-id', getHeader(invite, 'call-id') ?? ''));
  out.push(header('cseq', `${cseq?.seq ?? 0} ${method}`));
  return out;
}

/**
 * ACK for a 3xx–6xx final (RFC 3261 §17.1.1.3): Request-URI, top Via, From, Call-ID and CSeq
 * number of the INVITE, method ACK, the To of the response (with its tag), the INVITE's Route set.
 */
export function buildAckForNon2xx(invite: SipRequest, response: SipResponse): SipRequest {
  const to = getHeader(response, 'to') ?? getHeader(invite, 'to') ?? '';
  return { type: 'request', method: 'ACK', uri: invite.uri, headers: commonHeaders(invite, 'ACK', to), body: Buffer.alloc(0) };
}

/**
 * CANCEL for a pending INVITE (RFC 3261 §9.1): Request-URI, top Via, Call-ID, From, To and CSeq
 * number identical to the INVITE (tags included: the INVITE's own To), method CANCEL, the same
 * Route set, then `extraHeaders` (e.g. `Reason`, RFC 3326).
 */
export function buildCancel(invite: SipRequest, extraHeaders: Array<[string, string]> = []): SipRequest {
  const headers = commonHeaders(invite, 'CANCEL', getHeader(invite, 'to') ?? '');
  for (const [name, value] of extraHeaders) headers.push({ name: canonicalName(name), rawName: name, value });
  return { type: 'request', method: 'CANCEL', uri: invite.uri, headers, body: Buffer.alloc(0) };
}
