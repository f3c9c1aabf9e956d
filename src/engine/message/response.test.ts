import { describe, expect, it } from 'vitest';
import { getHeader, getHeaderLines } from './headers.js';
import { parseMessage } from './parse.js';
import { buildResponse, reasonPhrase } from './response.js';
import { serializeMessage } from './serialize.js';
import type { SipRequest } from './types.js';

const INVITE = Buffer.from(
  [
    'INVITE sip:bob@example.com SIP/2.0',
    'Via: SIP/2.0/UDP proxy.example.com;branch=z9hG4bK2',
    'v: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;received=192.0.2.9',
    'Max-Forwards: 69',
    'f: Alice <sip:alice@example.com>;tag=9fxced76sl',
    'To: Bob <sip:bob@example.com>',
    'Call-ID: 3848276298220188511@atlanta.example.com',
    'CSeq: 314159 INVITE',
    'Timestamp: 54',
    'Contact: <sip:alice@192.0.2.1>',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n'),
);

function invite(): SipRequest {
  const r = parseMessage(INVITE);
  if (r.kind !== 'message' || r.message.type !== 'request') throw new Error('fixture');
  return r.message;
}

describe('buildResponse (RFC 3261 §8.2.6)', () => {
  it('copies Via lines in order, From, To, Call-ID and CSeq, nothing else', () => {
    const res = buildResponse(invite(), 486);
    expect(res).toMatchObject({ type: 'response', status: 486, reason: 'Busy Here' });
    expect(res.headers.map((h) => h.name)).toEqual(['via', 'via', 'from', 'to', 'call-id', 'cseq']);
    expect(getHeaderLines(res, 'via')).toEqual([
      'SIP/2.0/UDP proxy.example.com;branch=z9hG4bK2',
      'SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK1;received=192.0.2.9',
    ]);
    expect(res.body.length).toBe(0);
  });

  it('adds the To tag when asked and To has none, never on 100', () => {
    expect(getHeader(buildResponse(invite(), 180, undefined, { toTag: 'abc' }), 'to')).toBe('Bob <sip:bob@example.com>;tag=abc');
    expect(getHeader(buildResponse(invite(), 100, undefined, { toTag: 'abc' }), 'to')).toBe('Bob <sip:bob@example.com>');
    const tagged = invite();
    const to = tagged.headers.find((h) => h.name === 'to');
    if (to) to.value = '<sip:bob@example.com>;tag=existing';
    expect(getHeader(buildResponse(tagged, 200, 'OK', { toTag: 'abc' }), 'to')).toBe('<sip:bob@example.com>;tag=existing');
  });

  it('copies Timestamp into a 100 only (§8.2.6.1)', () => {
    expect(getHeader(buildResponse(invite(), 100), 'timestamp')).toBe('54');
    expect(getHeader(buildResponse(invite(), 180), 'timestamp')).toBeUndefined();
  });

  it('appends extra headers and a custom reason', () => {
    const res = buildResponse(invite(), 420, 'Nope', { headers: [['Unsupported', 'foo, bar']] });
    expect(res.reason).toBe('Nope');
    expect(res.headers.at(-1)).toEqual({ name: 'unsupported', rawName: 'Unsupported', value: 'foo, bar' });
  });

  it('does not share header objects with the request', () => {
    const req = invite();
    const res = buildResponse(req, 200, undefined, { toTag: 'x' });
    const via = res.headers[0];
    if (via) via.value = 'changed';
    expect(req.headers[0]?.value).toBe('SIP/2.0/UDP proxy.example.com;branch=z9hG4bK2');
  });

  it('serialises to a message that parses back', () => {
    const r = parseMessage(serializeMessage(buildResponse(invite(), 200, undefined, { toTag: 'x' })));
    expect(r.kind === 'message' && r.message.type === 'response' && r.message.status).toBe(200);
  });

  it('builds a 400 from the partial of a failed parse', () => {
    const r = parseMessage(Buffer.from(INVITE.toString().replace('INVITE sip:bob@example.com SIP/2.0', 'INVITE  sip:bob@example.com SIP/2.0')));
    if (r.kind !== 'error' || r.partial?.type !== 'request') throw new Error('expected a request partial');
    const res = buildResponse(r.partial, r.status, r.reason, { toTag: 'x' });
    expect(getHeaderLines(res, 'via')).toHaveLength(2);
    expect(getHeader(res, 'cseq')).toBe('314159 INVITE');
    expect(getHeader(res, 'to')).toBe('Bob <sip:bob@example.com>;tag=x');
  });
});

describe('reasonPhrase', () => {
  it('knows the common codes and falls back by class', () => {
    expect(reasonPhrase(200)).toBe('OK');
    expect(reasonPhrase(416)).toBe('Unsupported URI Scheme');
    expect(reasonPhrase(420)).toBe('Bad Extension');
    expect(reasonPhrase(513)).toBe('Message Too Large');
    expect(reasonPhrase(299)).toBe('Success');
    expect(reasonPhrase(499)).toBe('Client Error');
    expect(reasonPhrase(699)).toBe('Global Failure');
  });
});
