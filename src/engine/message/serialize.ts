import type { SipMessage } from './types.js';

const CRLF = '\r\n';

/** The start line of a message (`INVITE sip:x SIP/2.0`, `SIP/2.0 200 OK`). */
export function startLine(msg: SipMessage): string {
  return msg.type === 'request' ? `${msg.method} ${msg.uri} SIP/2.0` : `SIP/2.0 ${msg.status} ${msg.reason}`;
}

/**
 * Serialise a message for the wire. Content-Length is always recomputed from the body's byte
 * length (RFC 3261 §20.14) and written last among the headers, whatever the message carried:
 * drachtio-srf writes it in UTF-16 units, which is wrong for non-ASCII bodies (drachtio-protocol §1).
 */
export function serializeMessage(msg: SipMessage): Buffer {
  let head = startLine(msg) + CRLF;
  for (const h of msg.headers) {
    if (h.name === 'content-length') continue;
    head += `${h.rawName}: ${h.value}${CRLF}`;
  }
  head += `Content-Length: ${msg.body.length}${CRLF}${CRLF}`;
  if (msg.body.length === 0) return Buffer.from(head, 'utf8');
  return Buffer.concat([Buffer.from(head, 'utf8'), msg.body]);
}
