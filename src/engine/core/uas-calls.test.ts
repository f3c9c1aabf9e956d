/**
 * The engine core as a UAS, from the outside: a raw SIP peer calls in, real drachtio-srf apps
 * answer over the admin socket, and the tests assert what either of them would notice
 * (drachtio-protocol §4.2–§4.7). srf's own integration suite covers the happy paths; these are the
 * error paths, races and timers it does not reach. Each test ends with a leak check.
 */
import { describe, expect, it } from 'vitest';
import { deferred, idle, within, type Loose, harnessPerTest } from '../../../test/support/engine-harness.js';
import { cseqOf, hdr, hdrAll, PeerCall, reply, sdp, sleep, uriIn, type RawMessage } from '../../../test/support/raw-sip-peer.js';

import { answeringApp, establishedCall, finalFor } from './test-helpers.js';

const start = harnessPerTest();

describe('requests that reach no dialog or no app', () => {
  it('answers an in-dialog request for an unknown dialog with 481', async () => {
    const harness = await start();
    await answeringApp(harness);
    const peer = await harness.udpPeer();
    const call = new PeerCall(peer);
    call.toTag = 'nosuchdialog';
    await peer.send(call.request('INFO'));
    expect((await finalFor(peer, call.cseq, 'INFO')).status).toBe(481);
    expect(await harness.expectIdle()).toEqual(idle);
  });

  it('answers BYE, UPDATE and PRACK outside any dialog with 481', async () => {
    const harness = await start();
    await answeringApp(harness);
    const peer = await harness.udpPeer();
    for (const method of ['BYE', 'UPDATE', 'PRACK']) {
      const call = new PeerCall(peer);
      await peer.send(call.request(method, method === 'PRACK' ? { headers: ['RAck: 1 1 INVITE'] } : {}));
      const res = await peer.waitFor((m) => hdr(m, 'call-id') === call.callId && m.status !== undefined, 2000, `the answer to ${method}`);
      expect(res.status, method).toBe(481);
    }
    expect(await harness.expectIdle()).toEqual(idle);
  });

  it('answers an INVITE whose To tag matches no dialog with 481, without involving the app', async () => {
    const harness = await start();
    const invites: Loose[] = [];
    await harness.app((app) => app.invite((req: Loose) => invites.push(req)), ['invite']);
    const peer = await harness.udpPeer();
    const call = new PeerCall(peer);
    call.toTag = 'stale';
    await peer.send(call.invite());
    const res = await finalFor(peer, call.inviteCSeq, 'INVITE');
    expect(res.status).toBe(481);
    await peer.send(call.ackNon2xx(res));
    await sleep(50);
    expect(invites).toHaveLength(0);
    expect(await harness.expectIdle()).toEqual(idle);
  });

  it('answers 503 when no app routed the method', async () => {
    const harness = await start();
    const peer = await harness.udpPeer();
    // No app at all: the INVITE gets 100 Trying, then 503.
    const first = new PeerCall(peer);
    await peer.send(first.invite());
    const res = await finalFor(peer, first.inviteCSeq, 'INVITE');
    expect(res.status).toBe(503);
    await peer.send(first.ackNon2xx(res));
    // An app that routes only INVITE: OPTIONS still gets 503.
    await answeringApp(harness);
    const options = new PeerCall(peer);
    await peer.send(options.request('OPTIONS'));
    expect((await finalFor(peer, options.cseq, 'OPTIONS')).status).toBe(503);
    expect(await harness.expectIdle()).toEqual(idle);
  });
});

describe('re-INVITE glare and session interval', () => {
  it('answers a re-INVITE that arrives while our 2xx awaits its ACK with 491', async () => {
    const harness = await start();
    const modified: Loose[] = [];
    const { nextDialog } = await answeringApp(harness, { onDialog: (d) => d.on('modify', (req: Loose, res: Loose) => { modified.push(req); res.send(200, { body: sdp(6000) }); }) });
    const peer = await harness.udpPeer();
    const call = new PeerCall(peer);
    await peer.send(call.invite());
    const ok = await peer.waitForResponse(200, 'INVITE');
    call.established(ok);
    await peer.send(call.invite({ body: sdp(40002) }));
    expect((await finalFor(peer, call.inviteCSeq, 'INVITE')).status).toBe(491);
    expect(modified).toHaveLength(0);

    // The call itself is unharmed: ACK the first 2xx, then hang up.
    const glare = call.inviteCSeq;
    call.inviteCSeq = 1;
    await peer.send(call.ack());
    call.inviteCSeq = glare;
    const dialog = await nextDialog(1);
    const destroyed = deferred<void>();
    dialog.on('destroy', () => destroyed.resolve());
    await peer.send(call.request('BYE'));
    expect((await finalFor(peer, call.cseq, 'BYE')).status).toBe(200);
    await within(destroyed.promise, 2000, 'srf destroy');
    expect(await harness.expectIdle()).toEqual(idle);
  });

  it("answers a re-INVITE that arrives while the app's own re-INVITE is outstanding with 491", async () => {
    const harness = await start();
    const { nextDialog } = await answeringApp(harness);
    const peer = await harness.udpPeer();
    const { call } = await establishedCall(peer);
    const dialog = await nextDialog(1);

    const modify = dialog.modify(sdp(6002)) as Promise<unknown>;
    const ours = await peer.waitFor((m) => m.method === 'INVITE', 2000, "the app's re-INVITE");
    await peer.send(call.invite({ body: sdp(40002) }));
    expect((await finalFor(peer, call.inviteCSeq, 'INVITE')).status).toBe(491);

    // The peer answers the app's re-INVITE; srf ACKs it and modify() resolves.
    await peer.send(reply(ours, 200, 'OK', { body: sdp(40000), contact: peer.contactUri() }));
    await within(modify, 2000, 'modify()');
    const ack = await peer.waitForRequest('ACK');
    expect(cseqOf(ack).seq).toBe(cseqOf(ours).seq);

    await peer.send(call.request('BYE'));
    expect((await finalFor(peer, call.cseq, 'BYE')).status).toBe(200);
    expect(await harness.expectIdle()).toEqual(idle);
  });

  it('answers a second re-INVITE with 491 while the app still holds the first', async () => {
    const harness = await start();
    const held: Array<{ req: Loose; res: Loose }> = [];
    await answeringApp(harness, { onDialog: (d) => d.on('modify', (req: Loose, res: Loose) => held.push({ req, res })) });
    const peer = await harness.udpPeer();
    const { call } = await establishedCall(peer);

    await peer.send(call.invite({ body: sdp(40002) }));
    const firstSeq = call.inviteCSeq;
    const deadline = Date.now() + 2000;
    while (held.length === 0 && Date.now() < deadline) await sleep(5);
    expect(held).toHaveLength(1);
    await peer.send(call.invite({ body: sdp(40004) }));
    expect((await finalFor(peer, call.inviteCSeq, 'INVITE')).status).toBe(491);

    held[0]!.res.send(200, { body: sdp(6000) });
    expect((await finalFor(peer, firstSeq, 'INVITE')).status).toBe(200);
    call.inviteCSeq = firstSeq;
    await peer.send(call.ack());
    await peer.send(call.request('BYE'));
    expect((await finalFor(peer, call.cseq, 'BYE')).status).toBe(200);
    expect(held).toHaveLength(1);
    expect(await harness.expectIdle()).toEqual(idle);
  });

  it('answers a re-INVITE with Session-Expires below 90 with 422 and Min-SE: 90', async () => {
    const harness = await start();
    await answeringApp(harness);
    const peer = await harness.udpPeer();
    const { call } = await establishedCall(peer);
    await peer.send(call.invite({ headers: ['Supported: timer', 'Session-Expires: 60'] }));
    const res = await finalFor(peer, call.inviteCSeq, 'INVITE');
    expect(res.status).toBe(422);
    expect(hdr(res, 'min-se')).toBe('90');
    await peer.send(call.ackNon2xx(res));
    await peer.send(call.request('BYE'));
    expect((await finalFor(peer, call.cseq, 'BYE')).status).toBe(200);
    expect(await harness.expectIdle()).toEqual(idle);
  });
});

describe('INVITE transactions in a dialog, and the session interval of a new call', () => {
  it('answers an initial INVITE with Session-Expires below 90 with 422 and Min-SE: 90, without the app', async () => {
    const harness = await start();
    const { dialogs } = await answeringApp(harness);
    const peer = await harness.udpPeer();
    const call = new PeerCall(peer);
    await peer.send(call.invite({ headers: ['Supported: timer', 'Session-Expires: 30'] }));
    const res = await finalFor(peer, call.inviteCSeq, 'INVITE');
    expect(res.status).toBe(422);
    expect(hdr(res, 'min-se')).toBe('90');
    await peer.send(call.ackNon2xx(res));
    expect(dialogs).toHaveLength(0);
    expect(await harness.expectIdle()).toEqual(idle);
  });

  it("refuses the app's re-INVITE while the peer's own re-INVITE is still unanswered (RFC 3261 §14.1)", async () => {
    const harness = await start();
    const held: Array<{ res: Loose }> = [];
    const { nextDialog } = await answeringApp(harness, { onDialog: (d) => d.on('modify', (_req: Loose, res: Loose) => held.push({ res })) });
    const peer = await harness.udpPeer();
    const { call } = await establishedCall(peer);
    const dialog = await nextDialog(1);

    await peer.send(call.invite({ body: sdp(40002) }));
    const peerSeq = call.inviteCSeq;
    const deadline = Date.now() + 2000;
    while (held.length === 0 && Date.now() < deadline) await sleep(5);
    expect(held).toHaveLength(1);
    const ours = await (dialog.modify(sdp(6002)) as Promise<unknown>).then(() => 'sent', (err: Error) => err.message);
    expect(ours).toMatch(/INVITE is already in progress/);
    expect(peer.count((m) => m.method === 'INVITE')).toBe(0);

    held[0]!.res.send(200, { body: sdp(6000) });
    const ok = await finalFor(peer, peerSeq, 'INVITE');
    expect(ok.status).toBe(200);
    await peer.send(call.ack());
    await peer.send(call.request('BYE'));
    expect((await finalFor(peer, call.cseq, 'BYE')).status).toBe(200);
    expect(await harness.expectIdle()).toEqual(idle);
  });
});

describe('an app that disconnects', () => {
  it('leaves its pending INVITE answered 480 by the engine', async () => {
    const harness = await start();
    const got = deferred<void>();
    const srf = await harness.app((app) => app.invite(() => got.resolve()), ['invite']);
    const peer = await harness.udpPeer();
    const call = new PeerCall(peer);
    await peer.send(call.invite());
    await within(got.promise, 2000, 'the INVITE at the app');
    await harness.disconnect(srf);
    const res = await finalFor(peer, call.inviteCSeq, 'INVITE');
    expect(res.status).toBe(480);
    await peer.send(call.ackNon2xx(res));
    expect(await harness.expectIdle()).toEqual(idle);
  });

  it('leaves its dialogs answering 481 to in-dialog requests; a BYE still ends the dialog', async () => {
    const harness = await start();
    const { srf } = await answeringApp(harness);
    // A second app that could take the requests, were they routed by method: they must not be.
    const other: Loose[] = [];
    await harness.app((app) => {
      app.info((req: Loose, res: Loose) => { other.push(req); res.send(200); });
      app.bye((req: Loose, res: Loose) => { other.push(req); res.send(200); });
    }, ['info', 'bye']);
    const peer = await harness.udpPeer();
    const { call } = await establishedCall(peer);
    expect(harness.counts().dialogs).toBe(1);
    await harness.disconnect(srf);

    await peer.send(call.request('INFO', { body: 'hello', contentType: 'text/plain' }));
    expect((await finalFor(peer, call.cseq, 'INFO')).status).toBe(481);
    expect(harness.counts().dialogs).toBe(1);
    await peer.send(call.request('BYE'));
    expect((await finalFor(peer, call.cseq, 'BYE')).status).toBe(481);
    expect(harness.counts().dialogs).toBe(0);
    expect(other).toHaveLength(0);
    expect(await harness.expectIdle()).toEqual(idle);
  });
});

describe('2xx retransmission until ACK (UDP, short timers)', () => {
  const timers = { t1: 50, t2: 400, t4: 200, t1x64: 3200, timerD: 500 };

  it('retransmits the 2xx at T1, 2·T1, … until the ACK arrives, then stops', async () => {
    const harness = await start({ timers });
    const { nextDialog } = await answeringApp(harness);
    const peer = await harness.udpPeer();
    const call = new PeerCall(peer);
    await peer.send(call.invite());
    const isOk = (m: RawMessage) => m.status === 200 && cseqOf(m).method === 'INVITE';
    // The 2xx at 0 ms and retransmissions at 50, 150 and 350 ms.
    await peer.waitFor(() => peer.count(isOk) >= 4, 1500, 'three retransmissions');
    const oks = peer.received.filter(isOk);
    expect(new Set(oks.map((m) => m.text)).size).toBe(1);
    call.established(oks[0]!);
    const dialog = await nextDialog(1);
    const acked = deferred<void>();
    dialog.on('ack', () => acked.resolve());
    await peer.send(call.ack());
    await within(acked.promise, 1000, 'srf ack');
    const count = peer.count(isOk);
    await sleep(900);
    expect(peer.count(isOk)).toBe(count);

    await peer.send(call.request('BYE'));
    expect((await finalFor(peer, call.cseq, 'BYE')).status).toBe(200);
    expect(await harness.expectIdle()).toEqual(idle);
  });

  it('ends a call whose ACK never comes after 64·T1: BYE with Reason "ACK timeout" to the peer, destroy in srf', async () => {
    const harness = await start({ timers });
    const { nextDialog } = await answeringApp(harness);
    const peer = await harness.udpPeer();
    peer.autoAnswer((m) => (m.method === 'BYE' ? reply(m, 200, 'OK') : undefined));
    const call = new PeerCall(peer);
    const sentAt = Date.now();
    await peer.send(call.invite());
    const dialog = await nextDialog(1);
    const destroyed = deferred<string>();
    dialog.on('destroy', (_req: Loose, reason: string) => destroyed.resolve(reason));

    const bye = await peer.waitForRequest('BYE', 6000);
    expect(bye.at - sentAt).toBeGreaterThanOrEqual(3000);
    expect(hdr(bye, 'reason')).toBe('SIP ;cause=200 ;text="ACK timeout"');
    expect(await within(destroyed.promise, 2000, 'srf destroy')).toBe('ACK timeout');

    // Timer G doubles from T1 and is capped at T2 (RFC 3261 §13.3.1.4): 50, 100, 200, 400, 400 …
    const oks = peer.received.filter((m) => m.status === 200 && cseqOf(m).method === 'INVITE');
    // Bounds leave room for a loaded machine: ideally 10 retransmissions, gaps 50 … 400 ms.
    expect(oks.length).toBeGreaterThanOrEqual(7);
    expect(oks.length).toBeLessThanOrEqual(11);
    const gaps = oks.slice(1).map((m, i) => m.at - oks[i]!.at);
    expect(gaps[0]!).toBeLessThan(250);
    expect(Math.max(...gaps)).toBeLessThan(1000);
    expect(gaps[gaps.length - 1]!).toBeGreaterThanOrEqual(300);
    expect(await harness.expectIdle()).toEqual(idle);
  });
});

describe('Record-Route and remote target', () => {
  it('copies Record-Route into our 1xx and 2xx and sends in-dialog requests along it', async () => {
    const harness = await start();
    const dialogs: Loose[] = [];
    await harness.app((app) => app.invite(async (req: Loose, res: Loose) => {
      res.send(180);
      dialogs.push(await app.createUAS(req, res, { localSdp: sdp(6000) }));
    }), ['invite']);
    const peer = await harness.udpPeer();
    const proxy = await harness.udpPeer();
    proxy.autoAnswer((m) => (m.method === 'BYE' ? reply(m, 200, 'OK') : undefined));
    const rr = [`<sip:127.0.0.1:${proxy.port};lr>`, '<sip:p2.invalid;lr;x=1>'];
    const { ok } = await establishedCall(peer, { headers: rr.map((r) => `Record-Route: ${r}`) });
    const r180 = await peer.waitForResponse(180, 'INVITE');
    expect(hdrAll(r180, 'record-route')).toEqual(rr);
    expect(hdrAll(ok, 'record-route')).toEqual(rr);

    const deadline = Date.now() + 2000;
    while (dialogs.length === 0 && Date.now() < deadline) await sleep(5);
    await dialogs[0].destroy();
    const bye = await proxy.waitForRequest('BYE');
    expect(hdrAll(bye, 'route')).toEqual(rr);
    expect(bye.uri).toBe(peer.contactUri());
    expect(peer.count((m) => m.method === 'BYE')).toBe(0);
    expect(await harness.expectIdle()).toEqual(idle);
  });

  it("takes a re-INVITE's Contact as the new remote target", async () => {
    const harness = await start();
    const { nextDialog } = await answeringApp(harness);
    const peer = await harness.udpPeer();
    const moved = await harness.udpPeer();
    moved.autoAnswer((m) => (m.method === 'BYE' ? reply(m, 200, 'OK') : undefined));
    const { call } = await establishedCall(peer);
    const dialog = await nextDialog(1);
    await peer.send(call.invite({ contact: moved.contactUri('moved') }));
    const ok = await finalFor(peer, call.inviteCSeq, 'INVITE');
    expect(ok.status).toBe(200);
    await peer.send(call.ack());
    await dialog.destroy();
    const bye = await moved.waitForRequest('BYE');
    expect(bye.uri).toBe(moved.contactUri('moved'));
    expect(peer.count((m) => m.method === 'BYE')).toBe(0);
    expect(await harness.expectIdle()).toEqual(idle);
  });
});

describe('remote target refresh by the 2xx to our re-INVITE', () => {
  it("sends the ACK and later requests to the Contact of the peer's 2xx", async () => {
    const harness = await start();
    const { nextDialog } = await answeringApp(harness);
    const peer = await harness.udpPeer();
    const moved = await harness.udpPeer();
    moved.autoAnswer((m) => (m.method === 'BYE' ? reply(m, 200, 'OK') : undefined));
    await establishedCall(peer);
    const dialog = await nextDialog(1);
    const modify = dialog.modify(sdp(6002)) as Promise<unknown>;
    const reinvite = await peer.waitForRequest('INVITE');
    await peer.send(reply(reinvite, 200, 'OK', { body: sdp(40002), contact: moved.contactUri('moved') }));
    await within(modify, 2000, 'modify()');
    const ack = await moved.waitForRequest('ACK');
    expect(ack.uri).toBe(moved.contactUri('moved'));
    await dialog.destroy();
    const bye = await moved.waitForRequest('BYE');
    expect(bye.uri).toBe(moved.contactUri('moved'));
    expect(peer.count((m) => m.method === 'ACK' || m.method === 'BYE')).toBe(0);
    expect(await harness.expectIdle()).toEqual(idle);
  });
});

describe('TCP', () => {
  it("answers an INVITE on the connection it came in on, and sends the app's BYE on that connection", async () => {
    const harness = await start();
    const { nextDialog } = await answeringApp(harness);
    // The Contact names a port nobody listens on: only the existing connection reaches the peer.
    const peer = await harness.tcpPeer();
    peer.autoAnswer((m) => (m.method === 'BYE' ? reply(m, 200, 'OK') : undefined));
    const call = new PeerCall(peer);
    await peer.send(call.invite({ contact: 'sip:caller@127.0.0.1:9;transport=tcp' }));
    expect((await peer.waitForResponse(100, 'INVITE')).status).toBe(100);
    const ok = await peer.waitForResponse(200, 'INVITE');
    expect(uriIn(hdr(ok, 'contact'))).toBe(`sip:127.0.0.1:${harness.tcpPort};transport=tcp`);
    call.established(ok);
    await peer.send(call.ack());
    const dialog = await nextDialog(1);
    await dialog.destroy();
    const bye = await peer.waitForRequest('BYE');
    expect(bye.uri).toBe('sip:caller@127.0.0.1:9;transport=tcp');
    expect(hdr(bye, 'via')).toMatch(/^SIP\/2\.0\/TCP /);
    expect(await harness.expectIdle()).toEqual(idle);
  });

  it("opens a new connection to the caller's Contact for the app's BYE once the call's connection is gone", async () => {
    const harness = await start();
    const { nextDialog } = await answeringApp(harness);
    const phone = await harness.tcpListeningPeer();
    phone.autoAnswer((m) => (m.method === 'BYE' ? reply(m, 200, 'OK') : undefined));
    const peer = await harness.tcpPeer();
    const call = new PeerCall(peer);
    await peer.send(call.invite({ contact: phone.contactUri('phone') }));
    call.established(await peer.waitForResponse(200, 'INVITE'));
    await peer.send(call.ack());
    const dialog = await nextDialog(1);
    peer.close();
    await sleep(50);

    await dialog.destroy();
    const bye = await phone.waitForRequest('BYE');
    expect(bye.uri).toBe(phone.contactUri('phone'));
    expect(phone.connections).toBe(1);
    expect(await harness.expectIdle()).toEqual(idle);
  });
});
