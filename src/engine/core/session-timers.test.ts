/**
 * Session timers (RFC 4028, drachtio-protocol §4.3, §4.10) from the outside, on a fake clock so
 * that the engine's 90 s minimum takes milliseconds: a raw SIP peer calls in, a real drachtio-srf
 * app answers, and the test moves engine time forward.
 */
import { describe, expect, it } from 'vitest';
import { deferred, harnessPerTest, idle, within, type Loose } from '../../../test/support/engine-harness.js';
import { cseqOf, hdr, PeerCall, reply, sdp, tagOf, type RawMessage, type RawSipPeer } from '../../../test/support/raw-sip-peer.js';

const start = harnessPerTest();

/** Engine + an app answering INVITEs with createUAS(`headers`) + a UDP peer; resolves with the first dialog. */
async function setup(headers: Record<string, string> = {}) {
  const harness = await start();
  const dialog = deferred<Loose>();
  const modified: Loose[] = [];
  await harness.app((app) => app.invite(async (req: Loose, res: Loose) => {
    const d = await app.createUAS(req, res, { localSdp: sdp(6000), headers });
    d.on('modify', (mreq: Loose, mres: Loose) => {
      modified.push(mreq);
      mres.send(200, { body: sdp(6000) });
    });
    dialog.resolve(d);
  }), ['invite']);
  const peer = await harness.udpPeer();
  return { harness, peer, dialog: dialog.promise, modified };
}

async function call(peer: RawSipPeer, headers: string[]): Promise<{ call: PeerCall; ok: RawMessage }> {
  const c = new PeerCall(peer);
  await peer.send(c.invite({ headers }));
  const ok = await peer.waitForResponse(200, 'INVITE');
  c.established(ok);
  await peer.send(c.ack());
  return { call: c, ok };
}

const reinvites = (peer: RawSipPeer) => peer.received.filter((m) => m.method === 'INVITE');

describe('session timers', () => {
  it('re-INVITEs the peer at half the interval with the stored SDP when the app made us the refresher', async () => {
    const { harness, peer, dialog, modified } = await setup({ 'Session-Expires': '90;refresher=uas' });
    peer.autoAnswer((m) => (m.method === 'INVITE' ? reply(m, 200, 'OK', { contact: peer.contactUri(), body: sdp(40000) }) : undefined));
    const { call: c, ok } = await call(peer, ['Supported: timer']);
    expect(hdr(ok, 'session-expires')).toBe('90;refresher=uas');
    await within(dialog, 2000, 'the dialog');

    await harness.advance(44_000);
    expect(reinvites(peer)).toHaveLength(0);
    await harness.advance(1_000);
    const refresh = await peer.waitForRequest('INVITE');
    expect(refresh.body).toBe(sdp(6000));
    expect(hdr(refresh, 'content-type')).toBe('application/sdp');
    expect(hdr(refresh, 'session-expires')).toMatch(/^90;\s*refresher=uac$/);
    expect(hdr(refresh, 'call-id')).toBe(c.callId);
    expect(tagOf(hdr(refresh, 'to'))).toBe(c.fromTag);
    expect(tagOf(hdr(refresh, 'from'))).toBe(c.toTag);
    const ack = await peer.waitForRequest('ACK');
    expect(cseqOf(ack).seq).toBe(cseqOf(refresh).seq);

    // The refresh succeeded, so the timer runs again: the next one at another 45 s.
    await harness.advance(45_000);
    await peer.waitFor(() => reinvites(peer).length === 2, 2000, 'a second refresh');
    expect(modified).toHaveLength(0);

    await peer.send(c.request('BYE'));
    await peer.waitForResponse(200, 'BYE');
    expect(await harness.expectIdle()).toEqual(idle);
  });

  it('ends the call when the peer is the refresher and never refreshes: BYE with a session-expired Reason, destroy in srf', async () => {
    const { harness, peer, dialog } = await setup();
    peer.autoAnswer((m) => (m.method === 'BYE' ? reply(m, 200, 'OK') : undefined));
    const { call: c, ok } = await call(peer, ['Supported: timer', 'Session-Expires: 90;refresher=uac']);
    expect(hdr(ok, 'session-expires')).toBe('90;refresher=uac');
    expect(hdr(ok, 'require')).toBe('timer');
    const d = await within(dialog, 2000, 'the dialog');
    const destroyed = deferred<string>();
    d.on('destroy', (_req: Loose, reason: string) => destroyed.resolve(reason));

    // RFC 4028 §10: BYE at the expiry minus min(32 s, interval/3) = 60 s.
    await harness.advance(59_000);
    expect(peer.count((m) => m.method === 'BYE')).toBe(0);
    await harness.advance(1_000);
    const bye = await peer.waitForRequest('BYE');
    expect(hdr(bye, 'call-id')).toBe(c.callId);
    expect(hdr(bye, 'reason')).toMatch(/^SIP ;cause=200 ;text="Session timer expired"$/);
    expect(await within(destroyed.promise, 2000, 'srf destroy')).toBe('Session timer expired');
    expect(await harness.expectIdle()).toEqual(idle);
  });

  it("restarts the peer's session timer on each refresh re-INVITE", async () => {
    const { harness, peer, dialog } = await setup();
    peer.autoAnswer((m) => (m.method === 'BYE' ? reply(m, 200, 'OK') : undefined));
    const { call: c } = await call(peer, ['Supported: timer', 'Session-Expires: 90;refresher=uac']);
    await within(dialog, 2000, 'the dialog');

    await harness.advance(40_000);
    await peer.send(c.invite({ headers: ['Supported: timer', 'Session-Expires: 90;refresher=uac'] }));
    const refreshed = await peer.waitFor((m) => m.status === 200 && cseqOf(m).seq === c.inviteCSeq, 2000, 'the 200 to the refresh');
    expect(hdr(refreshed, 'session-expires')).toBe('90;refresher=uac');
    await peer.send(c.ack());

    await harness.advance(59_000);
    expect(peer.count((m) => m.method === 'BYE')).toBe(0);
    await harness.advance(1_000);
    await peer.waitForRequest('BYE');
    expect(await harness.expectIdle()).toEqual(idle);
  });

  it('ends the call with a session-expired BYE when our refresh re-INVITE fails', async () => {
    const { harness, peer, dialog } = await setup({ 'Session-Expires': '90;refresher=uas' });
    peer.autoAnswer((m) => {
      if (m.method === 'INVITE') return reply(m, 481, 'Call/Transaction Does Not Exist');
      return m.method === 'BYE' ? reply(m, 200, 'OK') : undefined;
    });
    const { call: c } = await call(peer, ['Supported: timer']);
    const d = await within(dialog, 2000, 'the dialog');
    const destroyed = deferred<string>();
    d.on('destroy', (_req: Loose, reason: string) => destroyed.resolve(reason));
    await harness.advance(45_000);
    await peer.waitForRequest('INVITE');
    const bye = await peer.waitForRequest('BYE');
    expect(hdr(bye, 'call-id')).toBe(c.callId);
    expect(hdr(bye, 'reason')).toBe('SIP ;cause=200 ;text="Session refresh failed"');
    expect(await within(destroyed.promise, 2000, 'srf destroy')).toBe('Session refresh failed');
    expect(await harness.expectIdle()).toEqual(idle);
  });
});

describe('session timers on calls the app places', () => {
  /** Engine + app + a callee answering the app's INVITE with `se` in its 200. */
  async function placed(se: string) {
    const harness = await start();
    const srf = await harness.app();
    const peer = await harness.udpPeer();
    let answered = false;
    peer.autoAnswer((m) => {
      if (m.method === 'INVITE' && !answered) {
        answered = true;
        return reply(m, 200, 'OK', { toTag: 'callee', contact: peer.contactUri('callee'), body: sdp(40000), headers: [`Session-Expires: ${se}`, 'Require: timer'] });
      }
      if (m.method === 'INVITE') return reply(m, 200, 'OK', { contact: peer.contactUri('callee'), body: sdp(40000) });
      return m.method === 'BYE' ? reply(m, 200, 'OK') : undefined;
    });
    const dialog = await within(srf.createUAC(`sip:callee@127.0.0.1:${peer.port}`, { localSdp: sdp(6000), headers: { Supported: 'timer' } }) as Promise<Loose>, 2000, 'createUAC');
    await peer.waitForRequest('ACK');
    return { harness, peer, dialog };
  }

  it('refreshes at half the interval when the callee makes us (the UAC) the refresher', async () => {
    const { harness, peer, dialog } = await placed('90;refresher=uac');
    await harness.advance(45_000);
    await peer.waitFor(() => reinvites(peer).length === 2, 2000, 'the refresh');
    const refresh = reinvites(peer)[1]!;
    expect(refresh.body).toBe(sdp(6000));
    expect(hdr(refresh, 'session-expires')).toMatch(/^90;\s*refresher=uac$/);
    expect(tagOf(hdr(refresh, 'to'))).toBe('callee');
    await peer.waitFor(() => peer.count((m) => m.method === 'ACK') === 2, 2000, 'the ACK of the refresh');
    await dialog.destroy();
    await peer.waitForRequest('BYE');
    expect(await harness.expectIdle()).toEqual(idle);
  });

  it('ends the call when the callee is the refresher and never refreshes', async () => {
    const { harness, peer, dialog } = await placed('90;refresher=uas');
    const destroyed = deferred<string>();
    dialog.on('destroy', (_req: Loose, reason: string) => destroyed.resolve(reason));
    await harness.advance(59_000);
    expect(peer.count((m) => m.method === 'BYE')).toBe(0);
    await harness.advance(1_000);
    const bye = await peer.waitForRequest('BYE');
    expect(hdr(bye, 'reason')).toBe('SIP ;cause=200 ;text="Session timer expired"');
    expect(await within(destroyed.promise, 2000, 'srf destroy')).toBe('Session timer expired');
    expect(reinvites(peer)).toHaveLength(1);
    expect(await harness.expectIdle()).toEqual(idle);
  });
});
