import { describe, expect, it } from 'vitest';
import { contentLengthOf, StreamFramer, type FramerEvent } from './stream-framer.js';

const limits = { maxMessageBytes: 65535, maxHeaderBytes: 16384 };

function msg(body = '', headers = ''): string {
  return `MESSAGE sip:a@b SIP/2.0\r\nCall-ID: x\r\n${headers}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;
}

function messages(events: FramerEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'message' ? [e.data.toString('latin1')] : []));
}

describe('StreamFramer', () => {
  it('frames a message delivered one byte at a time', () => {
    const f = new StreamFramer(limits);
    const text = msg('hello world');
    const out: FramerEvent[] = [];
    for (const byte of Buffer.from(text)) out.push(...f.push(Buffer.from([byte])));
    expect(messages(out)).toEqual([text]);
    expect(f.hasPartial).toBe(false);
  });

  it('frames several messages in one chunk and keeps a trailing partial', () => {
    const f = new StreamFramer(limits);
    const a = msg('one');
    const b = msg('two two');
    const c = msg('three');
    const events = f.push(Buffer.from(a + b + c.slice(0, 20)));
    expect(messages(events)).toEqual([a, b]);
    expect(f.hasPartial).toBe(true);
    expect(messages(f.push(Buffer.from(c.slice(20))))).toEqual([c]);
  });

  it('treats a missing Content-Length as 0 on a stream (RFC 3261 §18.3)', () => {
    const f = new StreamFramer(limits);
    const head = 'OPTIONS sip:a@b SIP/2.0\r\nCall-ID: x\r\n\r\n';
    expect(messages(f.push(Buffer.from(head + head)))).toEqual([head, head]);
  });

  it('keeps binary bodies with NULs and blank lines intact', () => {
    const f = new StreamFramer(limits);
    const body = Buffer.from([0, 1, 0x0d, 0x0a, 0x0d, 0x0a, 0, 255, 0]);
    const head = Buffer.from(`INFO sip:a@b SIP/2.0\r\nl: ${body.length}\r\n\r\n`);
    const whole = Buffer.concat([head, body]);
    const out = [...f.push(whole.subarray(0, head.length + 3)), ...f.push(whole.subarray(head.length + 3))];
    expect(out).toHaveLength(1);
    expect(out[0]?.type === 'message' && out[0].data.equals(whole)).toBe(true);
  });

  it('reads the compact form and any case of Content-Length', () => {
    const f = new StreamFramer(limits);
    const a = 'INFO sip:a@b SIP/2.0\r\nL : 3\r\n\r\nabc';
    const b = 'INFO sip:a@b SIP/2.0\r\nCONTENT-LENGTH:2\r\n\r\nxy';
    expect(messages(f.push(Buffer.from(a + b)))).toEqual([a, b]);
  });

  it('accepts bare-LF line ends', () => {
    const f = new StreamFramer(limits);
    const a = 'INFO sip:a@b SIP/2.0\nContent-Length: 2\n\nhi';
    expect(messages(f.push(Buffer.from(a)))).toEqual([a]);
  });

  it('skips leading CRLFs and reports CRLFCRLF pings (RFC 5626 §4.4.1)', () => {
    const f = new StreamFramer(limits);
    const a = msg();
    const events = f.push(Buffer.from(`\r\n\r\n${a}\r\n${a}`));
    expect(events.map((e) => e.type)).toEqual(['ping', 'message', 'message']);
  });

  it('recognises a ping split across chunks and holds back a lone CRLF without calling it partial', () => {
    const f = new StreamFramer(limits);
    expect(f.push(Buffer.from('\r\n'))).toEqual([]);
    expect(f.hasPartial).toBe(false);
    expect(f.push(Buffer.from('\r\n')).map((e) => e.type)).toEqual(['ping']);
    expect(f.push(Buffer.from('\r\n'))).toEqual([]);
    expect(messages(f.push(Buffer.from(msg('z'))))).toEqual([msg('z')]);
  });

  it.each([
    ['Content-Length: -5', 'negative-content-length'],
    ['Content-Length: five', 'invalid-content-length'],
    ['Content-Length: 12abc', 'invalid-content-length'],
    ['Content-Length:', 'invalid-content-length'],
    ['Content-Length: 3\r\nl: 4', 'multiple-content-length'],
    ['Content-Length: 3, 4', 'multiple-content-length'],
  ])('fails on "%s" (RFC 4475 ncl, mcl01)', (header, error) => {
    const f = new StreamFramer(limits);
    const head = `INVITE sip:a@b SIP/2.0\r\nCall-ID: bad\r\n${header}\r\n\r\n`;
    const events = f.push(Buffer.from(head + 'abcd'));
    expect(events).toHaveLength(1);
    const ev = events[0];
    expect(ev?.type).toBe('error');
    if (ev?.type === 'error') {
      expect(ev.error).toBe(error);
      expect(ev.data.toString()).toBe(head);
    }
    expect(f.isFailed).toBe(true);
    expect(f.push(Buffer.from(msg()))).toEqual([]);
  });

  it('accepts several equal Content-Length values', () => {
    const f = new StreamFramer(limits);
    const a = 'INFO sip:a@b SIP/2.0\r\nContent-Length: 2\r\nl: 2\r\n\r\nok';
    expect(messages(f.push(Buffer.from(a)))).toEqual([a]);
  });

  it('fails a header section over maxHeaderBytes, even before it ends', () => {
    const f = new StreamFramer({ maxMessageBytes: 4000, maxHeaderBytes: 100 });
    const events = f.push(Buffer.from(`INVITE sip:a@b SIP/2.0\r\nX-Pad: ${'a'.repeat(200)}`));
    expect(events.map((e) => e.type === 'error' && e.error)).toEqual(['header-too-large']);
  });

  it('fails at once when Content-Length would exceed maxMessageBytes', () => {
    const f = new StreamFramer({ maxMessageBytes: 1000, maxHeaderBytes: 500 });
    const events = f.push(Buffer.from('INVITE sip:a@b SIP/2.0\r\nContent-Length: 99999999999999999999\r\n\r\n'));
    expect(events.map((e) => e.type === 'error' && e.error)).toEqual(['message-too-large']);
  });

  it('waits (partial) for a body shorter than Content-Length (RFC 4475 clerr)', () => {
    const f = new StreamFramer(limits);
    expect(f.push(Buffer.from('INVITE sip:a@b SIP/2.0\r\nContent-Length: 9999\r\n\r\nshort'))).toEqual([]);
    expect(f.hasPartial).toBe(true);
  });
});

describe('contentLengthOf', () => {
  it('joins folded lines before reading the value', () => {
    expect(contentLengthOf('INFO x SIP/2.0\r\nContent-Length:\r\n  12\r\n\r\n')).toEqual({ ok: true, length: 12 });
  });

  it('ignores look-alike header names', () => {
    expect(contentLengthOf('INFO x SIP/2.0\r\nX-Content-Length: 5\r\nLl: 3\r\n\r\n')).toEqual({ ok: true, length: 0 });
  });
});
