/**
 * Which app gets what (drachtio-protocol §3.2, §4.1): CDR events for apps that routed `cdr:*`,
 * round-robin of new calls among apps that routed `invite`, and `remove_route`. Real drachtio-srf
 * apps on a real engine, a raw SIP peer placing the calls.
 */
import { describe, expect, it } from 'vitest';
import { deferred, type EngineHarness, idle, within, type Loose, harnessPerTest } from '../../../test/support/engine-harness.js';
import { cseqOf, hdr, PeerCall, reply, sdp, until, type RawMessage, type RawSipPeer } from '../../../test/support/raw-sip-peer.js';

const start = harnessPerTest();

interface Cdr {
  kind: 'attempt' | 'start' | 'stop';
  source: string;
  /** role for start, reason for stop. */
  detail?: string;
  /** Start line of the SIP message the CDR carries. */
  what: string;
}

/** An app that routes only the three CDR verbs and records what it gets. */
async function cdrApp(harness: EngineHarness): Promise<Cdr[]> {
  const cdrs: Cdr[] = [];
  const what = (msg: Loose): string => (msg.type === 'request' ? msg.method : String(msg.status));
  await harness.app((app) => {
    app.on('cdr:attempt', (source: string, _time: string, msg: Loose) => cdrs.push({ kind: 'attempt', source, what: what(msg) }));
    app.on('cdr:start', (source: string, _time: string, role: string, msg: Loose) => cdrs.push({ kind: 'start', source, detail: role, what: what(msg) }));
    app.on('cdr:stop', (source: string, _time: string, reason: string, msg: Loose) => cdrs.push({ kind: 'stop', source, detail: reason, what: what(msg) }));
  }, ['cdr:attempt', 'cdr:start', 'cdr:stop']);
  return cdrs;
}

/** The final response to the request of `call` with this CSeq number and method. */
function finalFor(peer: RawSipPeer, call: PeerCall, seq: number, method: string): Promise<RawMessage> {
  const matches = (m: RawMessage) => (m.status ?? 0) >= 200 && hdr(m, 'call-id') === call.callId && cseqOf(m).seq === seq && cseqOf(m).method === method;
  return peer.waitFor(matches, 2000, `final to ${method} ${seq}`);
}

describe('CDRs', () => {
  it('reports attempt, start (uas) and stop (normal-release) for a call from the network', async () => {
    const harness = await start();
    const cdrs = await cdrApp(harness);
    await harness.app((app) => app.invite((req: Loose, res: Loose) => app.createUAS(req, res, { localSdp: sdp(6000) })), ['invite']);
    const peer = await harness.udpPeer();
    const call = new PeerCall(peer);
    await peer.send(call.invite());
    call.established(await peer.waitForResponse(200, 'INVITE'));
    await peer.send(call.ack());
    await peer.send(call.request('BYE'));
    await finalFor(peer, call, call.cseq, 'BYE');
    await until(() => cdrs.length >= 3, 2000, 'three CDRs');
    expect(cdrs).toEqual([
      { kind: 'attempt', source: 'network', what: 'INVITE' },
      { kind: 'start', source: 'application', detail: 'uas', what: '200' },
      { kind: 'stop', source: 'network', detail: 'normal-release', what: 'BYE' },
    ]);
    expect(await harness.expectIdle()).toEqual(idle);
  });

  it('reports attempt, start (uac) and stop (normal-release) for a call the app places', async () => {
    const harness = await start();
    const cdrs = await cdrApp(harness);
    const srf = await harness.app();
    const peer = await harness.udpPeer();
    peer.autoAnswer((m) => {
      if (m.method === 'INVITE') return reply(m, 200, 'OK', { contact: peer.contactUri(), body: sdp(40000) });
      return m.method === 'BYE' ? reply(m, 200, 'OK') : undefined;
    });
    const dialog = await within(srf.createUAC(`sip:callee@127.0.0.1:${peer.port}`, { localSdp: sdp(6000) }) as Promise<Loose>, 2000, 'createUAC');
    await dialog.destroy();
    await until(() => cdrs.length >= 3, 2000, 'three CDRs');
    expect(cdrs).toEqual([
      { kind: 'attempt', source: 'application', what: 'INVITE' },
      { kind: 'start', source: 'network', detail: 'uac', what: '200' },
      { kind: 'stop', source: 'application', detail: 'normal-release', what: 'BYE' },
    ]);
    expect(await harness.expectIdle()).toEqual(idle);
  });

  it('reports call-rejected for a call the app declines and call-canceled for one the caller cancels', async () => {
    const harness = await start();
    const cdrs = await cdrApp(harness);
    const ringing = deferred<void>();
    await harness.app((app) => app.invite((req: Loose, res: Loose) => {
      if (req.get('Subject') === 'reject') return res.send(486);
      res.send(180, {}, () => ringing.resolve());
    }), ['invite']);
    const peer = await harness.udpPeer();

    const rejected = new PeerCall(peer);
    await peer.send(rejected.invite({ headers: ['Subject: reject'] }));
    const busy = await finalFor(peer, rejected, rejected.inviteCSeq, 'INVITE');
    expect(busy.status).toBe(486);
    await peer.send(rejected.ackNon2xx(busy));
    await until(() => cdrs.length >= 2, 2000, 'two CDRs');

    const cancelled = new PeerCall(peer);
    await peer.send(cancelled.invite());
    await within(ringing.promise, 2000, 'the 180');
    await peer.send(cancelled.cancel());
    const terminated = await peer.waitFor((m) => m.status === 487, 2000, 'the 487');
    await peer.send(cancelled.ackNon2xx(terminated));
    await until(() => cdrs.length >= 4, 2000, 'four CDRs');
    expect(cdrs).toEqual([
      { kind: 'attempt', source: 'network', what: 'INVITE' },
      { kind: 'stop', source: 'application', detail: 'call-rejected', what: '486' },
      { kind: 'attempt', source: 'network', what: 'INVITE' },
      { kind: 'stop', source: 'network', detail: 'call-canceled', what: '487' },
    ]);
    expect(await harness.expectIdle()).toEqual(idle);
  });
});

describe('routing new requests among apps', () => {
  it('shares new calls round-robin between two apps; remove_route stops delivery to one of them', async () => {
    const harness = await start();
    const got: string[] = [];
    const decline = (name: string) => (app: Loose) => app.invite((_req: Loose, res: Loose) => {
      got.push(name);
      res.send(486);
    });
    await harness.app(decline('a'), ['invite']);
    const b = await harness.app(decline('b'), ['invite']);
    const peer = await harness.udpPeer();
    const place = async (): Promise<void> => {
      const call = new PeerCall(peer);
      await peer.send(call.invite());
      const res = await finalFor(peer, call, call.inviteCSeq, 'INVITE');
      expect(res.status).toBe(486);
      await peer.send(call.ackNon2xx(res));
    };
    for (let i = 0; i < 4; i++) await place();
    expect(got[0]).not.toBe(got[1]);
    expect(got).toEqual([got[0], got[1], got[0], got[1]]);

    b.unregisterForMessages('invite');
    await until(() => harness.engine.wire.clientsFor('invite').length === 1, 2000, 'remove_route');
    got.length = 0;
    for (let i = 0; i < 3; i++) await place();
    expect(got).toEqual(['a', 'a', 'a']);
    expect(await harness.expectIdle()).toEqual(idle);
  });
});
