/**
 * The engine core as a UAC, from the outside: a real drachtio-srf app sends requests through the
 * engine to a raw SIP peer (drachtio-protocol §4.4, §4.8, §5). Covers what srf's own suite does
 * not: 2xx retransmissions after the ACK, forked 2xx, Timer B/F, refused connections, the header
 * rules for app-built requests and the route set / remote target of UAC dialogs. Each test ends
 * with a leak check.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { idle, within, type Loose, harnessPerTest } from '../../../test/support/engine-harness.js';
import { cseqOf, hdr, hdrAll, reply, sdp, sleep, tagOf, type RawMessage, type RawSipPeer } from '../../../test/support/raw-sip-peer.js';

const start = harnessPerTest();

/** A peer that answers BYE with 200 and everything else with what `invite` returns (INVITE) or nothing. */
function callee(peer: RawSipPeer, invite: (m: RawMessage) => string | undefined): void {
  peer.autoAnswer((m) => {
    if (m.method === 'INVITE') return invite(m);
    if (m.method === 'BYE') return reply(m, 200, 'OK');
    return undefined;
  });
}

/** A TCP port on 127.0.0.1 that refuses connections (bound once, then closed). */
async function refusedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('2xx handling for INVITEs the app sent', () => {
  it("re-sends the app's ACK, unchanged, when the 2xx is retransmitted", async () => {
    const harness = await start();
    const srf = await harness.app();
    const peer = await harness.udpPeer();
    let ok = '';
    callee(peer, (m) => (ok = reply(m, 200, 'OK', { toTag: 'calleeA', contact: peer.contactUri('callee'), body: sdp(40000) })));
    const dialog = await within(srf.createUAC(`sip:callee@127.0.0.1:${peer.port}`, { localSdp: sdp(6000) }) as Promise<Loose>, 2000, 'createUAC');
    const firstAck = await peer.waitForRequest('ACK');
    await peer.send(ok);
    await peer.waitFor(() => peer.count((m) => m.method === 'ACK') === 2, 2000, 'a second ACK');
    const acks = peer.received.filter((m) => m.method === 'ACK');
    expect(acks[1]!.text).toBe(firstAck.text);

    await dialog.destroy();
    await peer.waitForRequest('BYE');
    expect(await harness.expectIdle()).toEqual(idle);
  });

  it('ACKs and then BYEs a 2xx from a second fork; the app keeps the first and never sees the second', async () => {
    const harness = await start();
    const srf = await harness.app();
    const peer = await harness.udpPeer();
    let invite: RawMessage | undefined;
    callee(peer, (m) => {
      invite = m;
      return reply(m, 200, 'OK', { toTag: 'forkA', contact: peer.contactUri('a'), body: sdp(40000) });
    });
    const dialog = await within(srf.createUAC(`sip:callee@127.0.0.1:${peer.port}`, { localSdp: sdp(6000) }) as Promise<Loose>, 2000, 'createUAC');
    await peer.waitForRequest('ACK');
    await peer.send(reply(invite!, 200, 'OK', { toTag: 'forkB', contact: peer.contactUri('b'), body: sdp(40002) }));

    const forkAck = await peer.waitFor((m) => m.method === 'ACK' && tagOf(hdr(m, 'to')) === 'forkB', 2000, 'the ACK for fork B');
    expect(forkAck.uri).toBe(peer.contactUri('b'));
    expect(cseqOf(forkAck).seq).toBe(cseqOf(invite!).seq);
    const forkBye = await peer.waitFor((m) => m.method === 'BYE' && tagOf(hdr(m, 'to')) === 'forkB', 2000, 'the BYE for fork B');
    expect(forkBye.uri).toBe(peer.contactUri('b'));
    expect(hdr(forkBye, 'call-id')).toBe(hdr(invite!, 'call-id'));
    await sleep(50);
    expect(dialog.connected).toBe(true);
    expect(dialog.sip.remoteTag).toBe('forkA');

    await dialog.destroy();
    const bye = await peer.waitFor((m) => m.method === 'BYE' && tagOf(hdr(m, 'to')) === 'forkA', 2000, 'the BYE for fork A');
    expect(bye.uri).toBe(peer.contactUri('a'));
    expect(await harness.expectIdle()).toEqual(idle);
  });

  it('sends ACK and in-dialog requests to the Contact of the 2xx, not of an earlier 1xx', async () => {
    const harness = await start();
    const srf = await harness.app();
    const early = await harness.udpPeer();
    const answering = await harness.udpPeer();
    answering.autoAnswer((m) => (m.method === 'BYE' ? reply(m, 200, 'OK') : undefined));
    callee(early, (m) => {
      void early.send(reply(m, 180, 'Ringing', { toTag: 'callee', contact: early.contactUri('early') }), m.source.port);
      return reply(m, 200, 'OK', { toTag: 'callee', contact: answering.contactUri('answered'), body: sdp(40000) });
    });
    const dialog = await within(srf.createUAC(`sip:callee@127.0.0.1:${early.port}`, { localSdp: sdp(6000) }) as Promise<Loose>, 2000, 'createUAC');
    const ack = await answering.waitForRequest('ACK');
    expect(ack.uri).toBe(answering.contactUri('answered'));
    await dialog.destroy();
    const bye = await answering.waitForRequest('BYE');
    expect(bye.uri).toBe(answering.contactUri('answered'));
    expect(early.count((m) => m.method === 'ACK' || m.method === 'BYE')).toBe(0);
    expect(await harness.expectIdle()).toEqual(idle);
  });

  it('takes the route set from the Record-Route of the 2xx, reversed (RFC 3261 §12.1.2)', async () => {
    const harness = await start();
    const srf = await harness.app();
    const peer = await harness.udpPeer();
    const proxy = await harness.udpPeer();
    proxy.autoAnswer((m) => (m.method === 'BYE' ? reply(m, 200, 'OK') : undefined));
    const rr = ['<sip:far.invalid;lr>', `<sip:127.0.0.1:${proxy.port};lr>`];
    callee(peer, (m) => reply(m, 200, 'OK', { toTag: 'callee', contact: peer.contactUri('callee'), body: sdp(40000), headers: rr.map((r) => `Record-Route: ${r}`) }));
    const dialog = await within(srf.createUAC(`sip:callee@127.0.0.1:${peer.port}`, { localSdp: sdp(6000) }) as Promise<Loose>, 2000, 'createUAC');
    const ack = await proxy.waitForRequest('ACK');
    expect(hdrAll(ack, 'route')).toEqual([...rr].reverse());
    expect(ack.uri).toBe(peer.contactUri('callee'));
    await dialog.destroy();
    const bye = await proxy.waitForRequest('BYE');
    expect(hdrAll(bye, 'route')).toEqual([...rr].reverse());
    expect(peer.count((m) => m.method === 'ACK' || m.method === 'BYE')).toBe(0);
    expect(await harness.expectIdle()).toEqual(idle);
  });
});

describe('in-dialog requests the app sends', () => {
  it('CANCELs its own outstanding re-INVITE before the BYE (drachtio-protocol §4.8)', async () => {
    const harness = await start();
    const srf = await harness.app();
    const peer = await harness.udpPeer();
    let reinvite: RawMessage | undefined;
    callee(peer, (m) => {
      if (!reinvite && m.headers.some((x) => x.name === 'to' && tagOf(x.value))) {
        reinvite = m;
        return reply(m, 100, 'Trying');
      }
      return reply(m, 200, 'OK', { toTag: 'callee', contact: peer.contactUri('callee'), body: sdp(40000) });
    });
    const dialog = await within(srf.createUAC(`sip:callee@127.0.0.1:${peer.port}`, { localSdp: sdp(6000) }) as Promise<Loose>, 2000, 'createUAC');
    const modify = (dialog.modify(sdp(6002)) as Promise<unknown>).then(() => 'modified', (err: Loose) => err.status as number);
    await peer.waitFor(() => reinvite !== undefined, 2000, 'the re-INVITE');
    await sleep(20);
    await dialog.destroy();
    const cancel = await peer.waitForRequest('CANCEL');
    expect(cseqOf(cancel).seq).toBe(cseqOf(reinvite!).seq);
    expect(hdr(cancel, 'reason')).toContain('BYE while re-INVITE in progress');
    await peer.send(reply(cancel, 200, 'OK'));
    await peer.send(reply(reinvite!, 487, 'Request Terminated'));
    expect(await within(modify, 2000, 'modify() to fail')).toBe(487);
    const bye = await peer.waitForRequest('BYE');
    expect(peer.received.indexOf(bye)).toBeGreaterThan(peer.received.indexOf(cancel));
    expect(await harness.expectIdle()).toEqual(idle);
  });
});

describe('an app that disconnects with an INVITE outstanding', () => {
  it('ACKs and BYEs the callee when its 2xx arrives, since nobody is left to talk to it', async () => {
    const harness = await start();
    const srf = await harness.app();
    const peer = await harness.udpPeer();
    const invite = await (async () => {
      srf.createUAC(`sip:callee@127.0.0.1:${peer.port}`, { localSdp: sdp(6000) }).catch(() => undefined);
      return peer.waitForRequest('INVITE');
    })();
    await peer.send(reply(invite, 100, 'Trying'));
    await harness.disconnect(srf);
    await peer.send(reply(invite, 200, 'OK', { toTag: 'callee', contact: peer.contactUri('callee'), body: sdp(40000) }));

    const ack = await peer.waitForRequest('ACK');
    expect(cseqOf(ack).seq).toBe(cseqOf(invite).seq);
    const bye = await peer.waitForRequest('BYE');
    expect(hdr(bye, 'reason')).toContain('application gone');
    expect(hdr(bye, 'to')).toContain('tag=callee');
    await peer.send(reply(bye, 200, 'OK'));
    expect(harness.counts().dialogs).toBe(0);
    expect(await harness.expectIdle()).toEqual(idle);
  });
});

describe('requests that get no answer', () => {
  it('gives the app a 408 when Timer B (INVITE) or Timer F (non-INVITE) fires', async () => {
    const harness = await start({ timers: { t1: 50, t2: 400, t4: 200, t1x64: 3200, timerD: 500 } });
    const srf = await harness.app();
    const silent = await harness.udpPeer();
    const started = Date.now();
    const invite = srf.createUAC(`sip:nobody@127.0.0.1:${silent.port}`, { localSdp: sdp(6000) }).then(
      () => 'answered',
      (err: Loose) => err.status as number,
    );
    const options = srf.request(`sip:nobody@127.0.0.1:${silent.port}`, { method: 'OPTIONS' }).then(
      (req: Loose) => new Promise((resolve) => req.on('response', (res: Loose) => resolve(res.status))),
    );
    expect(await within(invite, 6000, 'the INVITE to fail')).toBe(408);
    expect(await within(options as Promise<unknown>, 2000, 'the OPTIONS to fail')).toBe(408);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
    // Timer A retransmitted the INVITE meanwhile (T1, 2·T1, 4·T1 … : 6 within 3.2 s).
    expect(silent.count((m) => m.method === 'INVITE')).toBeGreaterThanOrEqual(5);
    expect(await harness.expectIdle()).toEqual(idle);
  });

  it('gives the app a 503 when the destination refuses the TCP connection', async () => {
    const harness = await start();
    const srf = await harness.app();
    const port = await refusedPort();
    const invite = srf.createUAC(`sip:nobody@127.0.0.1:${port};transport=tcp`, { localSdp: sdp(6000) }).then(
      () => 'answered',
      (err: Loose) => err.status as number,
    );
    expect(await within(invite, 3000, 'the INVITE to fail')).toBe(503);
    const req = await srf.request(`sip:nobody@127.0.0.1:${port};transport=tcp`, { method: 'OPTIONS' });
    const status = await within(new Promise((resolve) => req.on('response', (res: Loose) => resolve(res.status))), 3000, 'the OPTIONS to fail');
    expect(status).toBe(503);
    expect(await harness.expectIdle()).toEqual(idle);
  });
});

describe('header rules for requests the app builds (drachtio-protocol §5)', () => {
  it("rewrites @localhost, keeps X- header spelling, and replaces the app's Via, Route and Content-Length", async () => {
    const harness = await start();
    const srf = await harness.app();
    const peer = await harness.udpPeer();
    peer.autoAnswer((m) => reply(m, 200, 'OK'));
    const req = await srf.request(`sip:callee@127.0.0.1:${peer.port}`, {
      method: 'MESSAGE',
      headers: {
        From: '<sip:alice@localhost>',
        'X-CuStom-Thing': 'Value;With=Case',
        Via: 'SIP/2.0/UDP 10.9.9.9:5060;branch=z9hG4bKbogus',
        Route: '<sip:10.9.9.9;lr>',
        'Content-Length': '999',
        'Content-Type': 'text/plain',
      },
      body: 'hello',
    });
    const status = await within(new Promise((resolve) => req.on('response', (res: Loose) => resolve(res.status))), 2000, 'the 200');
    expect(status).toBe(200);
    const m = await peer.waitForRequest('MESSAGE');
    expect(hdr(m, 'from')).toMatch(new RegExp(`^<sip:alice@127\\.0\\.0\\.1:${harness.udpPort}>;tag=\\S+$`));
    const custom = m.headers.filter((x) => x.name === 'x-custom-thing');
    expect(custom.map((x) => `${x.rawName}: ${x.value}`)).toEqual(['X-CuStom-Thing: Value;With=Case']);
    const vias = hdrAll(m, 'via');
    expect(vias).toHaveLength(1);
    expect(vias[0]).toMatch(new RegExp(`^SIP/2\\.0/UDP 127\\.0\\.0\\.1:${harness.udpPort};branch=z9hG4bK`));
    expect(hdrAll(m, 'route')).toEqual([]);
    expect(m.headers.filter((x) => x.name === 'content-length').map((x) => x.value)).toEqual(['5']);
    expect(m.body).toBe('hello');
    expect(await harness.expectIdle()).toEqual(idle);
  });

  it('labels a body starting with v=0 application/sdp and refuses any other body without Content-Type', async () => {
    const harness = await start();
    const srf = await harness.app();
    const peer = await harness.udpPeer();
    peer.autoAnswer((m) => reply(m, 200, 'OK'));
    await srf.request(`sip:callee@127.0.0.1:${peer.port}`, { method: 'MESSAGE', body: sdp(6000) });
    const m = await peer.waitForRequest('MESSAGE');
    expect(hdr(m, 'content-type')).toBe('application/sdp');

    const refused = srf.request(`sip:callee@127.0.0.1:${peer.port}`, { method: 'MESSAGE', body: 'just some text' }).then(
      () => 'sent',
      (err: Error) => err.message,
    );
    expect(await within(refused as Promise<string>, 2000, 'the NOK')).toBe('missing content-type');
    await sleep(50);
    expect(peer.count((x) => x.method === 'MESSAGE')).toBe(1);
    expect(await harness.expectIdle()).toEqual(idle);
  });
});
