import { describe, expect, it } from 'vitest';
import { getHeader, getHeaderLines } from './headers.js';
import { parseMessage, type ParseOutcome } from './parse.js';
import type { SipMessage } from './types.js';

const crlf = (lines: string[]): Buffer => Buffer.from(lines.join('\r\n'), 'utf8');

const REGISTER = [
  'REGISTER sip:example.com SIP/2.0',
  'Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnashds7',
  'Max-Forwards: 70',
  'To: Bob <sip:bob@example.com>',
  'From: Bob <sip:bob@example.com>;tag=456248',
  'Call-ID: 843817637684230@998sdasdh09',
  'CSeq: 1826 REGISTER',
  'Contact: <sip:bob@192.0.2.10>',
  'Expires: 7200',
  'Content-Length: 0',
  '',
  '',
];

function message(r: ParseOutcome): SipMessage {
  if (r.kind !== 'message') throw new Error(`parse failed: ${r.status} ${r.reason}`);
  return r.message;
}

function error(r: ParseOutcome): Extract<ParseOutcome, { kind: 'error' }> {
  if (r.kind !== 'error') throw new Error('expected an error');
  return r;
}

describe('parseMessage: requests and responses (RFC 3261 §7)', () => {
  it('parses a REGISTER', () => {
    const r = parseMessage(crlf(REGISTER));
    const m = message(r);
    expect(m).toMatchObject({ type: 'request', method: 'REGISTER', uri: 'sip:example.com' });
    expect(m.headers).toHaveLength(9);
    expect(m.headers[0]).toEqual({ name: 'via', rawName: 'Via', value: 'SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bKnashds7' });
    expect(m.body.length).toBe(0);
    expect(r.kind === 'message' && r.trailing).toBe(0);
  });

  it('parses a response, with an empty or UTF-8 reason phrase', () => {
    const ok = message(parseMessage(crlf(['SIP/2.0 180 Ringing', 'Via: SIP/2.0/UDP h;branch=z9hG4bK1', 'l: 0', '', ''])));
    expect(ok).toMatchObject({ type: 'response', status: 180, reason: 'Ringing' });
    expect(message(parseMessage(crlf(['SIP/2.0 100 ', 'l: 0', '', ''])))).toMatchObject({ status: 100, reason: '' });
    expect(message(parseMessage(crlf(['SIP/2.0 200', 'l: 0', '', ''])))).toMatchObject({ status: 200, reason: '' });
    expect(message(parseMessage(crlf(['SIP/2.0 486 Occupé ☎', 'l: 0', '', ''])))).toMatchObject({ reason: 'Occupé ☎' });
  });

  it('expands compact names and keeps the raw name', () => {
    const m = message(parseMessage(crlf(['OPTIONS sip:a@b SIP/2.0', 'v: SIP/2.0/UDP h;branch=z9hG4bK1', 'i: abc', 'L: 0', '', ''])));
    expect(m.headers.map((h) => [h.name, h.rawName])).toEqual([
      ['via', 'v'],
      ['call-id', 'i'],
      ['content-length', 'L'],
    ]);
  });

  it('unfolds continuation lines into single spaces and trims values', () => {
    const m = message(
      parseMessage(crlf(['OPTIONS sip:a@b SIP/2.0', 'Subject :   first', ' \t  second', '\tthird  ', 'To:', '  <sip:a@b>', 'l: 0', '', ''])),
    );
    expect(getHeader(m, 'subject')).toBe('first second third');
    expect(getHeader(m, 'to')).toBe('<sip:a@b>');
    expect(m.headers[0]?.rawName).toBe('Subject');
  });

  it('skips leading CRLFs', () => {
    expect(message(parseMessage(crlf(['', '', ...REGISTER]))).type).toBe('request');
  });

  it('keeps NULs and binary bytes in the body', () => {
    const body = Buffer.from([0, 1, 2, 0xff, 0x0d, 0x0a, 0x0d, 0x0a, 0]);
    const head = crlf(['MESSAGE sip:a@b SIP/2.0', `Content-Length: ${body.length}`, '', '']);
    const m = message(parseMessage(Buffer.concat([head, body])));
    expect(m.body.equals(body)).toBe(true);
  });

  it('tolerates a missing blank line at the end of a datagram (RFC 4475 baddn as shipped)', () => {
    const m = message(parseMessage(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nl: 0\r\n')));
    expect(getHeader(m, 'content-length')).toBe('0');
    expect(message(parseMessage(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nl: 0'))).headers).toHaveLength(1);
    expect(parseMessage(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nl: 0\r\n'), { datagram: false }).kind).toBe('error');
  });
});

describe('parseMessage: body framing (RFC 3261 §18.3, §20.14)', () => {
  const withBody = (cl: string | undefined, body: string): Buffer =>
    crlf(['INVITE sip:a@b SIP/2.0', ...(cl === undefined ? [] : [`Content-Length: ${cl}`]), '', body]);

  it('without Content-Length, a datagram body is the rest of the datagram', () => {
    expect(message(parseMessage(withBody(undefined, 'v=0\r\n'))).body.toString()).toBe('v=0\r\n');
  });

  it('without Content-Length on a stream, the message is rejected', () => {
    expect(error(parseMessage(withBody(undefined, 'v=0'), { datagram: false })).status).toBe(400);
  });

  it('reports bytes beyond Content-Length as trailing', () => {
    const r = parseMessage(withBody('3', 'v=0junk'));
    expect(message(r).body.toString()).toBe('v=0');
    expect(r.kind === 'message' && r.trailing).toBe(4);
  });

  it('rejects a Content-Length larger than the bytes present (clerr)', () => {
    expect(error(parseMessage(withBody('10', 'v=0'))).status).toBe(400);
    expect(error(parseMessage(withBody('10', 'v=0'), { datagram: false })).status).toBe(400);
  });

  it('rejects negative, non-numeric, empty and differing Content-Length (ncl, mcl01)', () => {
    for (const cl of ['-1', 'abc', '1 2', '0x10', '', '12345678901']) {
      expect(error(parseMessage(withBody(cl, ''))).status, cl).toBe(400);
    }
    const two = crlf(['OPTIONS sip:a@b SIP/2.0', 'Content-Length: 1', 'l: 2', '', 'ab']);
    expect(error(parseMessage(two)).reason).toMatch(/Content-Length/);
  });

  it('accepts repeated identical Content-Length values', () => {
    expect(message(parseMessage(crlf(['OPTIONS sip:a@b SIP/2.0', 'Content-Length: 2', 'l: 02', '', 'ab']))).body.length).toBe(2);
  });
});

describe('parseMessage: start line (strict)', () => {
  const line = (l: string): ParseOutcome => parseMessage(crlf([l, 'Via: SIP/2.0/UDP h;branch=z9hG4bK1', 'l: 0', '', '']));

  it.each([
    ['INVITE  sip:a@b SIP/2.0', 400],
    ['INVITE sip:a@b  SIP/2.0', 400],
    ['INVITE sip:a@b SIP/2.0 ', 400],
    ['INVITE sip:a@b; lr SIP/2.0', 400],
    ['INVITE <sip:a@b> SIP/2.0', 400],
    ['INVITE sip:a@b', 400],
    ['INVITE', 400],
    ['IN<VITE sip:a@b SIP/2.0', 400],
    ['INVITE nocolon SIP/2.0', 400],
    ['INVITE sip: SIP/2.0', 400],
    ['INVITE sip:a@b HTTP/1.1', 400],
    ['INVITE sip:a@b SIP/7.0', 505],
    ['INVITE sip:a@b SIP/2.00', 505],
  ])('%s → %i', (l, status) => {
    const e = error(line(l));
    expect(e.status).toBe(status);
    expect(e.isResponse).toBe(false);
    expect(e.partial && getHeader(e.partial, 'via')).toBeTruthy();
  });

  it('accepts a lower-case sip/2.0 (ABNF literals are case-insensitive)', () => {
    expect(message(line('OPTIONS sip:a@b sip/2.0')).type).toBe('request');
  });

  it.each(['SIP/2.0 4294967301 big', 'SIP/2.0 99 low', 'SIP/2.0 700 high', 'SIP/2.0 2000 OK', 'SIP/2.0 20x OK', 'SIP/3.0 200 OK', 'SIP/2.0'])(
    'flags a bad response line as a response: %s',
    (l) => {
      expect(error(line(l)).isResponse).toBe(true);
    },
  );
});

describe('parseMessage: header section errors and limits', () => {
  it('rejects non-token header names and lines without a colon', () => {
    expect(error(parseMessage(crlf(['OPTIONS sip:a@b SIP/2.0', 'Bad Name: x', 'l: 0', '', '']))).status).toBe(400);
    expect(error(parseMessage(crlf(['OPTIONS sip:a@b SIP/2.0', 'NoColon', 'l: 0', '', '']))).status).toBe(400);
    expect(error(parseMessage(crlf(['OPTIONS sip:a@b SIP/2.0', ': x', 'l: 0', '', '']))).status).toBe(400);
  });

  it('rejects a continuation before any header', () => {
    expect(error(parseMessage(crlf(['OPTIONS sip:a@b SIP/2.0', ' folded', 'l: 0', '', '']))).status).toBe(400);
  });

  it('rejects bare LF and bare CR line endings in the header section', () => {
    expect(error(parseMessage(Buffer.from('OPTIONS sip:a@b SIP/2.0\nVia: x\r\n\r\n'))).reason).toMatch(/bare/);
    expect(error(parseMessage(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nVia: x\ry\r\n\r\n'))).reason).toMatch(/bare/);
    expect(error(parseMessage(Buffer.from('OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\nTo: a\nFrom: b\r\n\r\n'))).status).toBe(400);
  });

  it('enforces header count and line length', () => {
    const many = Array.from({ length: 10 }, (_, k) => `X-H${k}: ${k}`);
    const msg = crlf(['OPTIONS sip:a@b SIP/2.0', ...many, 'l: 0', '', '']);
    expect(error(parseMessage(msg, { maxHeaderCount: 5 })).status).toBe(400);
    expect(parseMessage(msg, { maxHeaderCount: 11 }).kind).toBe('message');
    const long = crlf(['OPTIONS sip:a@b SIP/2.0', `X-Long: ${'a'.repeat(200)}`, 'l: 0', '', '']);
    expect(error(parseMessage(long, { maxLineLength: 100 })).status).toBe(400);
    const folded = crlf(['OPTIONS sip:a@b SIP/2.0', 'X-Long: a', ...Array.from({ length: 30 }, () => ` ${'b'.repeat(10)}`), 'l: 0', '', '']);
    expect(error(parseMessage(folded, { maxLineLength: 100 })).reason).toMatch(/too long/);
  });

  it('answers an oversized message with 513 and still recovers the headers', () => {
    const big = Buffer.concat([crlf(REGISTER.slice(0, -2).concat(['', ''])), Buffer.alloc(70000, 0x61)]);
    const e = error(parseMessage(big));
    expect(e.status).toBe(513);
    expect(e.partial && getHeader(e.partial, 'call-id')).toBe('843817637684230@998sdasdh09');
    expect(error(parseMessage(crlf(REGISTER), { maxMessageBytes: 100 })).status).toBe(513);
  });

  it('handles empty input and CRLF-only input', () => {
    expect(error(parseMessage(Buffer.alloc(0))).partial).toBeUndefined();
    expect(error(parseMessage(Buffer.from('\r\n\r\n'))).status).toBe(400);
  });

  it('keeps every header it could read in the partial', () => {
    const e = error(parseMessage(crlf(['OPTIONS sip:a@b SIP/2.0', 'Via: SIP/2.0/UDP h;branch=z9hG4bK1', 'Bad Name: x', 'Call-ID: c1', '', ''])));
    expect(e.partial && getHeaderLines(e.partial, 'via')).toHaveLength(1);
    expect(e.partial && getHeader(e.partial, 'call-id')).toBe('c1');
  });

  it('stays linear on pathological input', () => {
    const lines = Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\n${'a\n'.repeat(30000)}\r\n\r\n`);
    const noColon = Buffer.from(`OPTIONS sip:a@b SIP/2.0\r\n${'abcdefgh\r\n'.repeat(6000)}\r\n`);
    const t0 = performance.now();
    expect(parseMessage(lines).kind).toBe('error');
    expect(parseMessage(noColon).kind).toBe('error');
    // quadratic rescanning of these inputs takes seconds; linear parsing takes a few milliseconds
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});
