/**
 * Cuts a SIP byte stream (tcp, tls) into messages, RFC 3261 §18.3: the header section ends at the
 * first empty line and the body is exactly Content-Length bytes (a missing Content-Length counts as
 * 0 on a stream). Only the framing headers are looked at; parsing is the message layer's job.
 */
import type { FramingError } from './types.js';

/** What one push of bytes produced, in stream order. */
export type FramerEvent =
  | { type: 'message'; data: Buffer }
  /** RFC 5626 §4.4.1 keepalive "ping" (CRLFCRLF between messages): answer with a single CRLF. */
  | { type: 'ping' }
  /**
   * The stream is unusable from here on; `data` is the header section (or what there is of it) so
   * the engine can still answer 400/513 before the connection closes (RFC 4475 §3.1.2.3, §3.3.9).
   */
  | { type: 'error'; error: FramingError; data: Buffer };

export interface FramerLimits {
  maxMessageBytes: number;
  maxHeaderBytes: number;
}

const CR = 0x0d;
const LF = 0x0a;

/**
 * Find the end of the header section: the index just past the empty line. Bare LF line ends are
 * tolerated as well as CRLF (robustness, RFC 3261 §7.5 asks for leniency in what is accepted).
 */
function findHeaderEnd(buf: Buffer, from: number): number {
  let i = buf.indexOf(LF, from);
  while (i >= 0) {
    const next = buf[i + 1];
    if (next === LF) return i + 2;
    if (next === CR && buf[i + 2] === LF) return i + 3;
    if (next === undefined || (next === CR && i + 2 >= buf.length)) return -1;
    i = buf.indexOf(LF, i + 1);
  }
  return -1;
}

type ContentLength = { ok: true; length: number } | { ok: false; error: FramingError };

/**
 * The body length announced by a header section (`Content-Length` or compact `l`, any case).
 * Folded continuation lines are joined first (RFC 3261 §7.3.1). Several equal values are accepted;
 * differing values, negative or non-numeric ones are framing errors (RFC 4475 §3.1.2.3 "ncl",
 * §3.3.9 "mcl01"), since no safe message boundary can be chosen.
 */
export function contentLengthOf(header: string): ContentLength {
  const lines = header.split(/\r?\n/);
  const unfolded: string[] = [];
  for (const line of lines.slice(1)) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && unfolded.length > 0) {
      unfolded[unfolded.length - 1] += ` ${line.trim()}`;
    } else if (line !== '') {
      unfolded.push(line);
    }
  }
  let length: number | undefined;
  for (const line of unfolded) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (name !== 'content-length' && name !== 'l') continue;
    for (const raw of line.slice(colon + 1).split(',')) {
      const value = raw.trim();
      if (/^-\s*\d+$/.test(value)) return { ok: false, error: 'negative-content-length' };
      if (!/^\d+$/.test(value)) return { ok: false, error: 'invalid-content-length' };
      // Digits beyond 2^53 lose precision, but such a length is rejected as too large anyway.
      const n = Number(value);
      if (length !== undefined && length !== n) return { ok: false, error: 'multiple-content-length' };
      length = n;
    }
  }
  return { ok: true, length: length ?? 0 };
}

/**
 * Incremental framer for one connection. Feed it every chunk; it returns complete messages,
 * keepalive pings and at most one error, after which it ignores all further input.
 */
export class StreamFramer {
  private buf: Buffer = Buffer.alloc(0);
  /** Where to resume the search for the end of the header section. */
  private scanFrom = 0;
  /** Total length of the message being collected, once its header section is complete. */
  private expected: number | undefined;
  private failed = false;

  constructor(private readonly limits: FramerLimits) {}

  /** Whether a message has started but not completed: what the partial-message timer guards. */
  get hasPartial(): boolean {
    if (this.failed || this.buf.length === 0) return false;
    // A held-back line end (a pong, or half a ping) is not a message in progress.
    return this.buf.length >= 4 || !/^[\r\n]+$/.test(this.buf.toString('latin1'));
  }

  /** Whether the framer has hit an error and is discarding input. */
  get isFailed(): boolean {
    return this.failed;
  }

  push(chunk: Buffer): FramerEvent[] {
    if (this.failed) return [];
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    const events: FramerEvent[] = [];
    while (!this.failed && this.buf.length > 0) {
      if (this.expected === undefined) {
        if (!this.skipLeadingLineEnds(events)) break;
        if (this.buf.length === 0 || !this.readHeader(events)) break;
      }
      if (this.expected === undefined || this.buf.length < this.expected) break;
      const message = this.buf.subarray(0, this.expected);
      this.consume(this.expected);
      this.expected = undefined;
      events.push({ type: 'message', data: message });
    }
    return events;
  }

  /**
   * Skip the CRLFs allowed before a message (RFC 3261 §7.5) and report CRLFCRLF pings. Returns
   * false when the buffer holds only a line end that may yet become a ping: wait for more bytes.
   */
  private skipLeadingLineEnds(events: FramerEvent[]): boolean {
    for (;;) {
      const b0 = this.buf[0];
      if (b0 !== CR && b0 !== LF) return true;
      if (this.startsWith('\r\n\r\n')) {
        events.push({ type: 'ping' });
        this.consume(4);
      } else if (this.buf.length < 4 && '\r\n\r\n'.startsWith(this.buf.toString('latin1'))) {
        // "\r", "\r\n" or "\r\n\r": a lone CRLF is a pong (ignored) unless more CRLF follows.
        return false;
      } else {
        this.consume(b0 === CR && this.buf[1] === LF ? 2 : 1);
      }
      if (this.buf.length === 0) return false;
    }
  }

  /** Try to complete the header section; sets `expected` or fails. Returns whether it was found. */
  private readHeader(events: FramerEvent[]): boolean {
    const end = findHeaderEnd(this.buf, Math.max(0, this.scanFrom - 2));
    if (end < 0) {
      this.scanFrom = this.buf.length;
      if (this.buf.length > this.limits.maxHeaderBytes) {
        this.fail(events, 'header-too-large', this.buf.subarray(0, this.limits.maxHeaderBytes));
      }
      return false;
    }
    this.scanFrom = 0;
    const header = this.buf.subarray(0, end);
    if (end > this.limits.maxHeaderBytes) {
      this.fail(events, 'header-too-large', header);
      return false;
    }
    const cl = contentLengthOf(header.toString('latin1'));
    if (!cl.ok) {
      this.fail(events, cl.error, header);
      return false;
    }
    if (end + cl.length > this.limits.maxMessageBytes) {
      this.fail(events, 'message-too-large', header);
      return false;
    }
    this.expected = end + cl.length;
    return true;
  }

  private fail(events: FramerEvent[], error: FramingError, data: Buffer): void {
    events.push({ type: 'error', error, data: Buffer.from(data) });
    this.failed = true;
    this.buf = Buffer.alloc(0);
  }

  private startsWith(s: string): boolean {
    return this.buf.length >= s.length && this.buf.toString('latin1', 0, s.length) === s;
  }

  private consume(n: number): void {
    this.buf = this.buf.subarray(n);
    if (this.buf.length === 0) this.buf = Buffer.alloc(0);
  }
}
