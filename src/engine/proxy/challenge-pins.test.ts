import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { authParam, ChallengePins } from './challenge-pins.js';
import { invite, sip } from './test-helpers.js';
import type { SipResponse } from '../message/types.js';

function challenge(header: string): SipResponse {
  return sip<SipResponse>(`SIP/2.0 401 Unauthorized
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKx
From: <sip:a@b>;tag=1
To: <sip:a@b>;tag=2
Call-ID: c
CSeq: 1 INVITE
${header}
Content-Length: 0
`);
}

describe('challenge pinning (drachtio-protocol §4.9 step 4)', () => {
  it('reads quoted and token auth-params, not their look-alikes', () => {
    const v = 'Digest realm="r\\"x", cnonce="no", nonce="abc", qop=auth, algorithm=MD5';
    expect(authParam(v, 'realm')).toBe('r"x');
    expect(authParam(v, 'nonce')).toBe('abc');
    expect(authParam(v, 'qop')).toBe('auth');
    expect(authParam(v, 'opaque')).toBeUndefined();
  });

  it('pins a retry carrying the nonce and realm to the challenger, once, and forgets after the TTL', () => {
    const clock = new FakeClock();
    const pins = new ChallengePins(clock, 1000);
    expect(pins.remember(challenge('WWW-Authenticate: Digest realm="r", nonce="n1"'), 'sip:10.0.0.3')).toBe(true);
    expect(pins.remember(challenge('WWW-Authenticate: Digest realm="r"'), 'sip:10.0.0.4')).toBe(false);
    const retry = invite(undefined, 'Authorization: Digest username="u", realm="r", nonce="n1", response="x"\n');
    const wrongRealm = invite(undefined, 'Authorization: Digest username="u", realm="q", nonce="n1", response="x"\n');
    expect(pins.take(wrongRealm)).toBeUndefined();
    expect(pins.take(retry)).toBe('sip:10.0.0.3');
    expect(pins.take(retry)).toBeUndefined();
    pins.remember(challenge('Proxy-Authenticate: Digest realm="r", nonce="n2"'), 'sip:10.0.0.5');
    clock.advance(1000);
    expect(pins.size).toBe(0);
    expect(clock.pendingCount()).toBe(0);
  });

  it('keeps at most maxPins challenges', () => {
    const clock = new FakeClock();
    const pins = new ChallengePins(clock, 1000, 2);
    for (const n of ['a', 'b', 'c']) pins.remember(challenge(`WWW-Authenticate: Digest realm="r", nonce="${n}"`), `sip:${n}`);
    expect(pins.size).toBe(2);
    expect(pins.take(invite(undefined, 'Authorization: Digest realm="r", nonce="a"\n'))).toBeUndefined();
    expect(pins.take(invite(undefined, 'Authorization: Digest realm="r", nonce="c"\n'))).toBe('sip:c');
    expect(clock.pendingCount()).toBe(1);
  });
});
