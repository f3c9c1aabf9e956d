import { describe, expect, it } from 'vitest';
import { CoreContext } from '../core/context.js';
import type { CoreDeps } from '../core/ports.js';
import { getHeaderValues } from '../message/headers.js';
import type { SipResponse } from '../message/types.js';
import { FakeClock } from '../../../test/support/fake-clock.js';
import { recordRouteFor } from './record-route.js';
import { isOurLooseRoute, isOurUri, stripOurRoutes } from './route-set.js';
import { takeOverInbound } from './takeover.js';
import { FakeConn, FakeServerTxn, invite, localAddresses, ourListener, sip, uacFlow } from './test-helpers.js';
import { viaDestination, withoutTopVia } from './via-stack.js';
import { parseVia } from '../message/via.js';

describe('route set helpers', () => {
  const local = localAddresses();

  it('recognises our URIs by host and port (loopback peers share the IP)', () => {
    expect(isOurUri('sip:10.0.0.1:5060', local)).toBe(true);
    expect(isOurUri('sip:10.0.0.1', local)).toBe(true); // default port
    expect(isOurUri('sip:10.0.0.1:5080', local)).toBe(false);
    expect(isOurUri('sip:10.0.0.1:5060;transport=tcp', local)).toBe(false); // no TCP listener
    expect(isOurUri('tel:+1', local)).toBe(false);
    expect(isOurLooseRoute('<sip:10.0.0.1:5060;lr>', local)).toBe(true);
    expect(isOurLooseRoute('<sip:10.0.0.1:5060>', local)).toBe(false);
  });

  it('strips our leading entries across lines and keeps the rest in place', () => {
    const req = invite(undefined, 'Route: <sip:10.0.0.1;lr>,<sip:10.0.0.1:5060;lr>, <sip:10.0.0.9;lr>\nRoute: <sip:10.0.0.1;lr>\n');
    const before = req.headers.findIndex((h) => h.name === 'route');
    expect(stripOurRoutes(req, local)).toBe(2);
    expect(getHeaderValues(req, 'route')).toEqual(['<sip:10.0.0.9;lr>', '<sip:10.0.0.1;lr>']);
    expect(req.headers.findIndex((h) => h.name === 'route')).toBe(before);
    expect(stripOurRoutes(req, local)).toBe(0);
  });

  it('record-routes once, or twice when the request changes transport (RFC 5658)', () => {
    const tcp = { ...ourListener, spec: { ...ourListener.spec, protocol: 'tcp' as const } };
    expect(recordRouteFor(ourListener, ourListener)).toEqual(['<sip:10.0.0.1:5060;lr>']);
    expect(recordRouteFor(ourListener, tcp)).toEqual(['<sip:10.0.0.1:5060;transport=tcp;lr>', '<sip:10.0.0.1:5060;lr>']);
  });
});

describe('via stack helpers', () => {
  it('removes only the first value of a multi-valued Via line', () => {
    const res = sip<SipResponse>(`SIP/2.0 200 OK
Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKa, SIP/2.0/TCP 192.0.2.1;branch=z9hG4bKb
Via: SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKc
From: <sip:a@b>;tag=1
To: <sip:a@b>;tag=2
Call-ID: c
CSeq: 1 INVITE
Content-Length: 0
`);
    const out = withoutTopVia(res);
    expect(getHeaderValues(out, 'via')).toEqual(['SIP/2.0/TCP 192.0.2.1;branch=z9hG4bKb', 'SIP/2.0/UDP 192.0.2.2;branch=z9hG4bKc']);
    expect(getHeaderValues(res, 'via')).toHaveLength(3); // the original is untouched
    expect(viaDestination(parseVia('SIP/2.0/TCP 192.0.2.1;branch=z9hG4bKb')![0]!)).toEqual({ protocol: 'tcp', address: '192.0.2.1', port: 5060 });
    expect(viaDestination(parseVia('SIP/2.0/TLS [2001:db8::1];rport=7000;received=2001:db8::2')![0]!)).toEqual({ protocol: 'tls', address: '2001:db8::2', port: 7000 });
  });
});

describe('takeOverInbound', () => {
  it('removes a pending request from the core with its timer; refuses answered or unknown ones', () => {
    const clock = new FakeClock();
    const ctx = new CoreContext({ clock } as unknown as CoreDeps);
    const txn = new FakeServerTxn('srv-1', invite());
    const t = { txnId: 'T1', txn, req: txn.request, flow: uacFlow, owner: new FakeConn(), answered: 'none' as const, pendingTimer: clock.setTimeout(() => undefined, 64_000) };
    ctx.inbound.set('T1', t);
    ctx.inboundByServerTxn.set('srv-1', t);
    expect(takeOverInbound(ctx, 'T1')).toEqual({ kind: 'taken', inbound: t });
    expect(ctx.inbound.size + ctx.inboundByServerTxn.size + clock.pendingCount()).toBe(0);
    expect(takeOverInbound(ctx, 'T1')).toEqual({ kind: 'unknown' });
    ctx.inbound.set('T2', { ...t, txnId: 'T2', answered: 'provisional' });
    expect(takeOverInbound(ctx, 'T2')).toEqual({ kind: 'unknown' });
  });
});
