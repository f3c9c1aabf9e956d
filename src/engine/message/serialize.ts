import type { SipMessage } from './types.js';

const CRLF = '\r\n';

/** The start line of a message (`INVITE sip:x SIP/2.0`, `SIP/2.0 200 OK`). */
export function startLine(msg: SipMessage): string {
  return msg.type === 'request' ? `${msg.method} ${msg.uri} SIP/2.0` : `SIP/2.0 ${msg.status} ${msg.reason}`;
}

/** Start line and headers up to the blank line, Content-Length recomputed (see {@link serializeMessage}). */
function serializeHead(msg: SipMessage): string {
  let head = startLine(msg) + CRLF;
  for (const h of msg.headers) {
    if (h.name === 'content-length') continue;
    head += `${h.rawName}: ${h.value}${CRLF}`;
  }
  return head + `Content-Length: ${msg.body.length}${CRLF}${CRLF}`;
}

/**
 * Serialise a message for the wire. Content-Length is always recomputed from the body's byte
 * length (RFC 3261 §20.14) and written last among the headers, whatever the message carried:
 * drachtio-srf writes it in UTF-16 units, which is wrong for non-ASCII bodies (drachtio-protocol §1).
 */
export function serializeMessage(msg: SipMessage): Buffer {
  const head = serializeHead(msg);
  if (msg.body.length === 0) return Buffer.from(head, 'utf8');
  return Buffer.concat([Buffer.from(head, 'utf8'), msg.body]);
}

/**
 * The same message as text, as the drachtio wire carries it to apps: equal to
 * `serializeMessage(msg).toString('utf8')` (the head ends in CRLFCRLF, so decoding head and body
 * apart splits no UTF-8 sequence), without encoding the head to bytes and decoding it back, which
 * every message handed to an app paid for.
 */
export function serializeMessageText(msg: SipMessage): string {
  const head = serializeHead(msg);
  return msg.body.length === 0 ? head : head + msg.body.toString('utf8');
}
