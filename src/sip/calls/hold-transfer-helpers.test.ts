import { describe, expect, it } from 'vitest';
import { parseReferTo, parseReplaces } from './replaces.js';
import { isHoldOffer, mediaDirection, withDirection } from './sdp-direction.js';
import { referNotify, sipfragBody } from './sipfrag.js';

const sdp = (extra: string[] = [], c = '127.0.0.1'): string =>
  ['v=0', 'o=- 42 7 IN IP4 127.0.0.1', 's=-', `c=IN IP4 ${c}`, 't=0 0', 'm=audio 6000 RTP/AVP 0', 'a=rtpmap:0 PCMU/8000', ...extra, ''].join('\r\n');

describe('SDP direction (hold detection, RFC 3264 §8.4)', () => {
  it('reads the audio stream’s attribute, the session’s, or the sendrecv default', () => {
    expect(mediaDirection(sdp())).toBe('sendrecv');
    expect(mediaDirection(sdp(['a=sendonly']))).toBe('sendonly');
    expect(mediaDirection(sdp(['a=inactive']))).toBe('inactive');
    expect(mediaDirection(sdp().replace('t=0 0', 't=0 0\r\na=recvonly'))).toBe('recvonly');
  });

  it('hold is sendonly, inactive, or the old c=0.0.0.0; recvonly and sendrecv are not', () => {
    expect(isHoldOffer(sdp(['a=sendonly']))).toBe(true);
    expect(isHoldOffer(sdp(['a=inactive']))).toBe(true);
    expect(isHoldOffer(sdp([], '0.0.0.0'))).toBe(true);
    expect(isHoldOffer(sdp(['a=sendrecv']))).toBe(false);
    expect(isHoldOffer(sdp(['a=recvonly']))).toBe(false);
    expect(isHoldOffer('garbage')).toBe(false);
  });

  it('withDirection sets every stream’s direction once and bumps the o= version', () => {
    const out = withDirection(sdp(['a=sendrecv']), 'inactive');
    expect(out).toContain('o=- 42 8 IN IP4 127.0.0.1');
    expect(out.match(/a=(sendrecv|sendonly|recvonly|inactive)/g)).toEqual(['a=inactive']);
    expect(mediaDirection(withDirection(out, 'sendrecv'))).toBe('sendrecv');
  });
});

describe('Refer-To and Replaces (RFC 3515, RFC 3891)', () => {
  it('a blind transfer names the target only', () => {
    expect(parseReferTo('<sip:1003@pbx.example>')).toEqual({ user: '1003', uri: 'sip:1003@pbx.example' });
    expect(parseReferTo('"Carol" <sip:1003@10.0.0.1:5060;transport=udp>;x=y')).toMatchObject({ user: '1003' });
    expect(parseReferTo('sip:1003@pbx')).toMatchObject({ user: '1003' });
  });

  it('an attended transfer carries the escaped Replaces of the dialog to replace', () => {
    const r = parseReferTo('<sip:3003@127.0.0.1?Replaces=abc%40host%3Bto-tag%3Dpbx1%3Bfrom-tag%3Dphone1>');
    expect(r).toEqual({ user: '3003', uri: 'sip:3003@127.0.0.1', replaces: { callId: 'abc@host', toTag: 'pbx1', fromTag: 'phone1', earlyOnly: false } });
  });

  it('malformed values are undefined (the handler answers 400)', () => {
    for (const bad of ['', 'garbage', '<tel:+123>', '<sip:@host>', '<sip:1003@h?Replaces=abc%3Bto-tag%3Dx>', '<sip:%E0%A4%A@h>', '<sip:1@h?Replaces=%E0%A4%A>']) {
      expect(parseReferTo(bad), bad).toBeUndefined();
    }
  });

  it('parses a Replaces header value, early-only included', () => {
    expect(parseReplaces('a@b;from-tag=f;to-tag=t;early-only')).toEqual({ callId: 'a@b', fromTag: 'f', toTag: 't', earlyOnly: true });
    expect(parseReplaces('a@b;to-tag=t')).toBeUndefined();
  });
});

describe('REFER NOTIFY bodies (RFC 3515 §2.4.5)', () => {
  it('100 Trying keeps the subscription, a final status ends it', () => {
    expect(sipfragBody(100)).toBe('SIP/2.0 100 Trying\r\n');
    expect(referNotify(100).headers['Subscription-State']).toMatch(/^active/);
    const done = referNotify(200);
    expect(done).toMatchObject({ method: 'NOTIFY', body: 'SIP/2.0 200 OK\r\n', headers: { Event: 'refer', 'Content-Type': 'message/sipfrag;version=2.0' } });
    expect(done.headers['Subscription-State']).toMatch(/^terminated/);
    expect(sipfragBody(486)).toBe('SIP/2.0 486 Busy Here\r\n');
    expect(sipfragBody(499)).toBe('SIP/2.0 499 Failed\r\n');
  });
});
