import { isToken, isWs, trimWs } from './grammar.js';
import { canonicalName } from './headers.js';
import { parseStartLine, type StartLine } from './start-line.js';
import type { SipHeader, SipMessage } from './types.js';

/** Hard limits applied while parsing; see {@link defaultParseLimits}. */
export interface ParseLimits {
  /** Largest accepted message (whole input) in bytes; beyond it the verdict is 513 (RFC 3261 §21.5.14). */
  maxMessageBytes: number;
  /** Most header lines (after unfolding) accepted; beyond it the verdict is 400. */
  maxHeaderCount: number;
  /** Longest physical line and longest unfolded header, in characters; beyond it the verdict is 400. */
  maxLineLength: number;
  /**
   * The input is one UDP datagram (RFC 3261 §18.3): a missing Content-Length means "the rest of the
   * datagram", and a missing blank line after the headers is tolerated. When false (a message framed
   * by a stream transport) Content-Length is mandatory.
   */
  datagram: boolean;
}

/** 64 KiB covers any UDP datagram (RFC 3261 §18.1.1) and RFC 4475 longreq many times over. */
export const defaultParseLimits: Readonly<ParseLimits> = Object.freeze({
  maxMessageBytes: 65535,
  maxHeaderCount: 256,
  maxLineLength: 8192,
  datagram: true,
});

export type ParseOutcome =
  | { kind: 'message'; message: SipMessage; trailing: number }
  | {
      kind: 'error';
      status: number;
      reason: string;
      /** best-effort headers recovered so a stateless error response can still be built (Via, From, To, Call-ID, CSeq) */
      partial?: SipMessage;
      isResponse: boolean;
    };

const CRLFCRLF = Buffer.from('\r\n\r\n');
const EMPTY = Buffer.alloc(0);

/**
 * Parse one SIP message (RFC 3261 §7) from bytes.
 *
 * Framing choices:
 * - leading CRLFs are skipped (RFC 3261 §7.5; also RFC 5626 keep-alives glued to a message);
 * - lines end with CRLF only. A bare CR or LF in the header section is a 400: accepting LF-only
 *   would let this parser and a CRLF-framing stream transport disagree on where a message ends;
 * - a line starting with SP/HT continues the previous header (RFC 3261 §7.3.1); the value is
 *   stored unfolded, the fold replaced by a single SP, and trimmed;
 * - header names must be tokens; `Name   :` is accepted (HCOLON allows SP/HT before the colon);
 * - the header section is decoded as UTF-8; the body is bytes framed by Content-Length, NULs and
 *   all (RFC 4475 §3.1.1.11 mpart01). Bytes beyond it are not parsed but counted in `trailing`
 *   (RFC 3261 §18.3, RFC 4475 §3.1.1.8 dblreq);
 * - Content-Length must be digits; differing repeated values, a negative value (§3.1.2.3 ncl,
 *   §3.3.9 mcl01) and a value larger than the bytes present (§3.1.2.2 clerr) are 400s.
 *
 * Never throws on any input. On error, `partial` carries whatever start line and header lines
 * could be read so that a stateless response can be built; `isResponse` tells the caller that the
 * input looked like a response, which is never answered (RFC 3261 §18.1.2).
 */
export function parseMessage(data: Buffer, opts?: Partial<ParseLimits>): ParseOutcome {
  const limits: ParseLimits = opts ? { ...defaultParseLimits, ...opts } : defaultParseLimits;
  let start = 0;
  while (start + 1 < data.length && data[start] === 0x0d && data[start + 1] === 0x0a) start += 2;
  if (start >= data.length) return { kind: 'error', status: 400, reason: 'empty message', isResponse: false };

  // Too large: still read the first maxMessageBytes for the partial, but never more.
  const tooLarge = data.length > limits.maxMessageBytes;
  const window = tooLarge ? data.subarray(0, limits.maxMessageBytes) : data;
  let headEnd = window.indexOf(CRLFCRLF, start);
  let bodyStart: number;
  let framingError: { status: number; reason: string } | undefined;
  if (headEnd >= 0) bodyStart = headEnd + 4;
  else {
    headEnd = window.length;
    bodyStart = window.length;
    if (window[headEnd - 1] === 0x0a && window[headEnd - 2] === 0x0d) headEnd -= 2;
    if (!limits.datagram && !tooLarge) framingError = { status: 400, reason: 'incomplete header section' };
  }
  const head = data.toString('utf8', start, headEnd);
  const parsed = parseHead(head, limits);
  const error = tooLarge ? { status: 513, reason: 'Message Too Large' } : (framingError ?? parsed.error);
  if (error !== undefined) return failure(error, parsed.start, parsed.headers);

  const length = contentLength(parsed.headers);
  if (typeof length === 'string') return failure({ status: 400, reason: length }, parsed.start, parsed.headers);
  const remaining = data.length - bodyStart;
  let bodyLength: number;
  if (length === undefined) {
    if (!limits.datagram) return failure({ status: 400, reason: 'missing Content-Length' }, parsed.start, parsed.headers);
    bodyLength = remaining;
  } else if (length > remaining) {
    return failure({ status: 400, reason: 'Content-Length larger than message' }, parsed.start, parsed.headers);
  } else bodyLength = length;

  // Copy the body: the caller's buffer may be a pooled or reused transport buffer.
  const body = bodyLength === 0 ? EMPTY : Buffer.from(data.subarray(bodyStart, bodyStart + bodyLength));
  return { kind: 'message', message: toMessage(parsed.start, parsed.headers, body), trailing: remaining - bodyLength };
}

interface ParsedHead {
  start: StartLine;
  headers: SipHeader[];
  error?: { status: number; reason: string };
}

/** Start line and header lines; keeps going after the first error to recover as much as it can. */
function parseHead(head: string, limits: ParseLimits): ParsedHead {
  const eol = lineEnd(head, 0, { end: 0, next: 0, bad: false });
  const first = parseStartLine(head.slice(0, eol.end));
  const result: ParsedHead = { start: first.start, headers: [] };
  if (first.error) result.error = first.error;
  if (eol.bad) fail(result, 'bare CR or LF in header section');
  if (eol.end > limits.maxLineLength) fail(result, 'line too long');
  const headers = result.headers;
  let last: SipHeader | undefined;
  let i = eol.next;
  while (i < head.length) {
    lineEnd(head, i, eol);
    if (eol.bad) {
      // stop here: after a framing error the rest cannot be trusted (and rescanning would be O(n²))
      fail(result, 'bare CR or LF in header section');
      break;
    }
    if (eol.end - i > limits.maxLineLength) fail(result, 'line too long');
    const c = head.charCodeAt(i);
    if (isWs(c)) {
      // RFC 3261 §7.3.1 folding: the continuation joins the previous value with one SP
      const more = trimWs(head.slice(i, eol.end));
      if (last === undefined) fail(result, 'continuation line without a header');
      else if (more.length > 0) {
        last.value = last.value.length === 0 ? more : `${last.value} ${more}`;
        if (last.value.length > limits.maxLineLength) fail(result, 'header too long');
      }
    } else {
      const colon = indexWithin(head, 0x3a /* : */, i, eol.end);
      if (colon < 0) fail(result, 'header line without a colon');
      else {
        let nameEnd = colon;
        while (nameEnd > i && isWs(head.charCodeAt(nameEnd - 1))) nameEnd--;
        const rawName = head.slice(i, nameEnd);
        if (!isToken(rawName)) fail(result, 'header name is not a token');
        else {
          let vs = colon + 1;
          let ve = eol.end;
          while (vs < ve && isWs(head.charCodeAt(vs))) vs++;
          while (ve > vs && isWs(head.charCodeAt(ve - 1))) ve--;
          last = { name: canonicalName(rawName), rawName, value: head.slice(vs, ve) };
          headers.push(last);
          if (headers.length > limits.maxHeaderCount) {
            fail(result, 'too many header fields');
            break;
          }
        }
      }
    }
    i = eol.next;
  }
  return result;
}

/** Record a 400 unless an earlier error is already recorded (the first error wins). */
function fail(result: ParsedHead, reason: string): void {
  result.error ??= { status: 400, reason };
}

interface LineEnd {
  end: number;
  next: number;
  bad: boolean;
}

/**
 * Where the line starting at `i` ends, written into `out` (no allocation per line): `end` excludes
 * the CRLF, `next` is the next line's start, `bad` flags a lone CR or LF (only CRLF ends lines).
 */
function lineEnd(s: string, i: number, out: LineEnd): LineEnd {
  const lf = s.indexOf('\n', i);
  if (lf < 0) {
    const cr = s.indexOf('\r', i);
    out.end = cr < 0 ? s.length : cr;
    out.next = s.length;
    out.bad = cr >= 0;
  } else if (s.charCodeAt(lf - 1) !== 0x0d || lf === i) {
    out.end = lf;
    out.next = lf + 1;
    out.bad = true;
  } else {
    out.end = lf - 1;
    out.next = lf + 1;
    // bounded: the search stops at the CR of this line's CRLF at the latest
    out.bad = s.indexOf('\r', i) < lf - 1;
  }
  return out;
}

function indexWithin(s: string, ch: number, from: number, to: number): number {
  for (let k = from; k < to; k++) if (s.charCodeAt(k) === ch) return k;
  return -1;
}

/** Content-Length as a number, undefined when absent, or an error text (RFC 3261 §20.14). */
function contentLength(headers: SipHeader[]): number | undefined | string {
  let found: number | undefined;
  for (const h of headers) {
    if (h.name !== 'content-length') continue;
    const v = h.value;
    if (v.length === 0 || v.length > 10) return 'invalid Content-Length';
    for (let k = 0; k < v.length; k++) {
      const c = v.charCodeAt(k);
      if (c < 0x30 || c > 0x39) return 'invalid Content-Length';
    }
    const n = Number(v);
    if (found !== undefined && found !== n) return 'multiple differing Content-Length values';
    found = n;
  }
  return found;
}

function toMessage(start: StartLine, headers: SipHeader[], body: Buffer): SipMessage {
  return start.type === 'request'
    ? { type: 'request', method: start.method, uri: start.uri, headers, body }
    : { type: 'response', status: start.status, reason: start.reason, headers, body };
}

function failure(
  error: { status: number; reason: string },
  start: StartLine,
  headers: SipHeader[],
): ParseOutcome {
  return {
    kind: 'error',
    status: error.status,
    reason: error.reason,
    partial: toMessage(start, headers, EMPTY),
    isResponse: start.type === 'response',
  };
}
