import { describe, expect, it } from 'vitest';
import { isRfc3261Branch, mergeKey, requestIdentity, responseKey, sentBy, type RequestIdentity } from './keys.js';
import { makeRequest, makeResponse } from './test-helpers.js';
import type { SipRequest } from '../message/types.js';

function id(req: SipRequest, as?: string): RequestIdentity {
  const r = requestIdentity(req, as);
  if (typeof r === 'string') throw new Error(r);
  return r;
}

describe('transaction keys', () => {
  it('recognises RFC 3261 branches by the magic cookie (case-sensitive, non-empty tail)', () => {
    expect(isRfc3261Branch('z9hG4bK776asdhds')).toBe(true);
    expect(isRfc3261Branch('z9hG4bK')).toBe(false);
    expect(isRfc3261Branch('Z9HG4BK776')).toBe(false);
    expect(isRfc3261Branch(undefined)).toBe(false);
  });

  it('normalises sent-by with the transport default port and lowercase host', () => {
    const via = (transport: string, port?: number) => ({ transport, host: 'PC33.Example.com', params: new Map(), ...(port ? { port } : {}) });
    expect(sentBy(via('UDP'))).toBe('pc33.example.com:5060');
    expect(sentBy(via('TLS'))).toBe('pc33.example.com:5061');
    expect(sentBy(via('TCP', 5080))).toBe('pc33.example.com:5080');
  });

  it('gives ACK the INVITE key, and CANCEL its own unless asked for the INVITE (§17.2.3, §9.2)', () => {
    const invite = id(makeRequest('INVITE'));
    expect(id(makeRequest('ACK', { toTag: 'x' })).key).toBe(invite.key);
    expect(id(makeRequest('CANCEL')).key).not.toBe(invite.key);
    expect(id(makeRequest('CANCEL'), 'INVITE').key).toBe(invite.key);
    expect(invite.rfc3261).toBe(true);
  });

  it('builds RFC 2543 keys from Request-URI, From tag, Call-ID, CSeq and the top Via', () => {
    const via = 'SIP/2.0/UDP 192.0.2.15;received=192.0.2.15';
    const a = id(makeRequest('INVITE', { via }));
    expect(a.rfc3261).toBe(false);
    expect(id(makeRequest('INVITE', { via })).key).toBe(a.key);
    expect(id(makeRequest('ACK', { via, toTag: 't' })).key).toBe(a.key);
    expect(id(makeRequest('INVITE', { via, cseq: 2 })).key).not.toBe(a.key);
    expect(id(makeRequest('INVITE', { via, fromTag: 'other' })).key).not.toBe(a.key);
    expect(id(makeRequest('INVITE', { via, uri: 'sip:x@y' })).key).not.toBe(a.key);
    expect(id(makeRequest('INVITE', { via: `${via};ttl=1` })).key).not.toBe(a.key);
  });

  it('keys merged-request detection on From tag, Call-ID and CSeq, not the branch', () => {
    const a = id(makeRequest('INVITE', { branch: 'z9hG4bK-1' }));
    const b = id(makeRequest('INVITE', { branch: 'z9hG4bK-2' }));
    expect(mergeKey(a)).toBe(mergeKey(b));
    expect(mergeKey(a)).not.toBe(mergeKey(id(makeRequest('INVITE', { cseq: 2 }))));
  });

  it('keys responses on top-Via branch and CSeq method (§17.1.3)', () => {
    const req = makeRequest('INVITE', { branch: 'z9hG4bK-r' });
    expect(responseKey(makeResponse(req, 180))).toBe('z9hG4bK-r|INVITE');
    const noVia = makeResponse(req, 180);
    noVia.headers = noVia.headers.filter((h) => h.name !== 'via');
    expect(responseKey(noVia)).toBeUndefined();
  });
});
