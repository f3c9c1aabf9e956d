import { describe, expect, it } from 'vitest';
import { getHeader, getHeaderValues } from '../message/headers.js';
import type { SipResponse } from '../message/types.js';
import { parseVia } from '../message/via.js';
import { invite, ProxyHarness, sip, uacFlow } from './test-helpers.js';

/** A BYE from the UAC inside a dialog we record-routed. */
function bye(routes = 'Route: <sip:10.0.0.1:5060;lr>\n', branch = 'z9hG4bKbye1', maxForwards = '70') {
  return sip(`BYE sip:bob@10.0.0.2:5080 SIP/2.0
Via: SIP/2.0/UDP 192.0.2.10:5070;branch=${branch};rport=5070
Max-Forwards: ${maxForwards}
${routes}From: <sip:alice@192.0.2.10>;tag=fa
To: <sip:svc@10.0.0.1>;tag=tb
Call-ID: call-1
CSeq: 2 BYE
Content-Length: 0
`);
}

describe('stateless relay of record-routed dialogs (RFC 3261 §16.11, drachtio-protocol §4.2 step 4)', () => {
  it('removes our Route, decrements Max-Forwards, adds a Via and sends to the Request-URI', () => {
    const h = new ProxyHarness();
    expect(h.proxy.routeInDialog(bye(), uacFlow)).toBe(true);
    const [s] = h.transactions.stateless;
    expect(s?.dest).toMatchObject({ address: '10.0.0.2', port: 5080 });
    expect(getHeaderValues(s!.req, 'route')).toEqual([]);
    expect(getHeader(s!.req, 'max-forwards')).toBe('69');
    expect(s?.opts.sentBy).toEqual({ protocol: 'udp', host: '10.0.0.1', port: 5060 });
    expect(s?.opts.branch).toMatch(/^z9hG4bK/);
    expect(h.cdrs.map((c) => `${c.kind}:${c.source}:${c.extra}`)).toEqual(['stop:network:normal-release']);
  });

  it('derives the branch from the incoming one: a retransmission maps the same way, another request differently', () => {
    const h = new ProxyHarness();
    h.proxy.routeInDialog(bye(), uacFlow);
    h.proxy.routeInDialog(bye(), uacFlow);
    h.proxy.routeInDialog(bye(undefined, 'z9hG4bKbye2'), uacFlow);
    const branches = h.transactions.stateless.map((s) => s.opts.branch);
    expect(branches[0]).toBe(branches[1]);
    expect(branches[2]).not.toBe(branches[0]);
  });

  it('sends to the next Route when there is one, and strips every Route entry of ours on top', () => {
    const h = new ProxyHarness();
    const req = bye('Route: <sip:10.0.0.1:5060;lr>, <sip:10.0.0.1:5060;transport=udp;lr>\nRoute: <sip:10.0.0.9:5070;lr>\n');
    expect(h.proxy.routeInDialog(req, uacFlow)).toBe(true);
    const [s] = h.transactions.stateless;
    expect(getHeaderValues(s!.req, 'route')).toEqual(['<sip:10.0.0.9:5070;lr>']);
    expect(s?.dest).toMatchObject({ address: '10.0.0.9', port: 5070 });
  });

  it('leaves alone a request whose top Route is another host:port (same IP, other port)', () => {
    const h = new ProxyHarness();
    const req = bye('Route: <sip:10.0.0.1:5062;lr>\n');
    expect(h.proxy.routeInDialog(req, uacFlow)).toBe(false);
    expect(getHeaderValues(req, 'route')).toEqual(['<sip:10.0.0.1:5062;lr>']);
    expect(h.proxy.routeInDialog(bye(''), uacFlow)).toBe(false);
  });

  it('strips our preloaded Route from an initial request (no To tag) and lets the core have it', () => {
    const h = new ProxyHarness();
    const req = invite('sip:svc@10.0.0.1:5060', 'Route: <sip:10.0.0.1:5060;lr>, <sip:10.0.0.7;lr>\n');
    expect(h.proxy.routeInDialog(req, uacFlow)).toBe(false);
    expect(getHeaderValues(req, 'route')).toEqual(['<sip:10.0.0.7;lr>']);
    expect(h.transactions.stateless).toHaveLength(0);
  });

  it('hands the core an in-dialog request that, once our Route is gone, is addressed to us', () => {
    const h = new ProxyHarness();
    const req = bye();
    req.uri = 'sip:10.0.0.1:5060';
    expect(h.proxy.routeInDialog(req, uacFlow)).toBe(false);
    expect(getHeaderValues(req, 'route')).toEqual([]);
    expect(h.transactions.stateless).toHaveLength(0);
  });

  it('answers 483 statelessly when Max-Forwards is used up, and drops such an ACK', () => {
    const h = new ProxyHarness();
    expect(h.proxy.routeInDialog(bye(undefined, undefined, '0'), uacFlow)).toBe(true);
    expect(h.transactions.stateless).toHaveLength(0);
    expect(h.sender.sent.map((s) => s.text.split('\r\n')[0])).toEqual(['SIP/2.0 483 Too Many Hops']);
    expect(h.sender.sent[0]?.dest).toMatchObject({ address: '192.0.2.10', port: 5070 });
    const ack = bye(undefined, undefined, '0');
    ack.method = 'ACK';
    expect(h.proxy.routeInDialog(ack, uacFlow)).toBe(true);
    expect(h.sender.sent).toHaveLength(1);
  });

  it('does not relay the ACK for a non-2xx final of an INVITE it proxies (its transaction absorbs it)', () => {
    const h = new ProxyHarness();
    h.addPending('t1', invite('sip:svc@10.0.0.1:5060', 'Route: <sip:10.0.0.1:5060;lr>\n'));
    h.proxyCmd('t1', ['sip:10.0.0.2:5060']);
    const ack = bye(undefined, 'z9hG4bKuac1');
    ack.method = 'ACK';
    expect(h.proxy.routeInDialog(ack, uacFlow)).toBe(false);
    const ack2xx = bye(undefined, 'z9hG4bKother');
    ack2xx.method = 'ACK';
    expect(h.proxy.routeInDialog(ack2xx, uacFlow)).toBe(true);
  });

  describe('stray responses', () => {
    function response(vias: string): SipResponse {
      return sip<SipResponse>(`SIP/2.0 200 OK
${vias}From: <sip:alice@192.0.2.10>;tag=fa
To: <sip:svc@10.0.0.1>;tag=tb
Call-ID: call-1
CSeq: 2 BYE
Content-Length: 0
`);
    }

    it('pops our Via and sends to received/rport of the next one', () => {
      const h = new ProxyHarness();
      const res = response('Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKslx;rport, SIP/2.0/UDP uac.example:5070;branch=z9hG4bKbye1;received=192.0.2.10;rport=5071\n');
      expect(h.proxy.relayStrayResponse(res, uacFlow)).toBe(true);
      const [s] = h.sender.sent;
      expect(s?.dest).toEqual({ protocol: 'udp', address: '192.0.2.10', port: 5071 });
      const vias = s!.text.split('\r\n').filter((l) => l.startsWith('Via:'));
      expect(vias).toEqual(['Via: SIP/2.0/UDP uac.example:5070;branch=z9hG4bKbye1;received=192.0.2.10;rport=5071']);
    });

    it('uses the sent-by of the next Via without received/rport', () => {
      const h = new ProxyHarness();
      const res = response('Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKslx\nVia: SIP/2.0/UDP 192.0.2.30:5090;branch=z9hG4bKa\n');
      expect(h.proxy.relayStrayResponse(res, uacFlow)).toBe(true);
      expect(h.sender.sent[0]?.dest).toEqual({ protocol: 'udp', address: '192.0.2.30', port: 5090 });
      expect(parseVia(h.sender.sent[0]!.text.split('\r\n')[1]!.slice(5))?.[0]?.host).toBe('192.0.2.30');
    });

    it('leaves responses whose top Via is not ours, or that have no Via below ours, to the pipeline', () => {
      const h = new ProxyHarness();
      expect(h.proxy.relayStrayResponse(response('Via: SIP/2.0/UDP 10.0.0.1:5999;branch=z9hG4bKx\nVia: SIP/2.0/UDP 192.0.2.30;branch=z9hG4bKa\n'), uacFlow)).toBe(false);
      expect(h.proxy.relayStrayResponse(response('Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKx\n'), uacFlow)).toBe(false);
      expect(h.sender.sent).toHaveLength(0);
    });
  });
});
