/**
 * The engine core as a UAS while a call is being set up: CANCEL in each state, UPDATE in the early
 * dialog, reliable provisional responses and PRACK (RFC 3262), from a raw SIP peer with real
 * drachtio-srf apps (drachtio-protocol §4.3, §4.5, §4.7). Each test ends with a leak check.
 */
import { describe, expect, it } from 'vitest';
import { deferred, type EngineHarness, idle, within, type Loose, harnessPerTest } from '../../../test/support/engine-harness.js';
import { cseqOf, hdr, PeerCall, reply, sdp, sleep, tagOf } from '../../../test/support/raw-sip-peer.js';
import { answeringApp, finalFor } from './test-helpers.js';

const start = harnessPerTest();

describe('CANCEL', () => {
  it("after the app's 180: 200 to the CANCEL, 487 to the INVITE, cancel event in srf", async () => {
    const harness = await start();
    const cancelled = deferred<void>();
    const ringing = deferred<void>();
    await harness.app((app) => app.invite((req: Loose, res: Loose) => {
      req.on('cancel', () => cancelled.resolve());
      res.send(180, {}, () => ringing.resolve());
    }), ['invite']);
    const peer = await harness.udpPeer();
    const call = new PeerCall(peer);
    await peer.send(call.invite());
    await peer.waitForResponse(180, 'INVITE');
    await within(ringing.promise, 2000, 'the 180 echo');
    await peer.send(call.cancel());
    expect((await finalFor(peer, call.inviteCSeq, 'CANCEL')).status).toBe(200);
    const res = await finalFor(peer, call.inviteCSeq, 'INVITE');
    expect(res.status).toBe(487);
    // The 487 carries the To tag of the 180 (same early dialog, RFC 3261 §8.2.6.2).
    const r180 = await peer.waitForResponse(180, 'INVITE');
    expect(tagOf(hdr(res, 'to'))).toBe(tagOf(hdr(r180, 'to')));
    await peer.send(call.ackNon2xx(res));
    await within(cancelled.promise, 2000, 'srf cancel');
    expect(await harness.expectIdle()).toEqual(idle);
  });

  it('before any answer from the app: 200, 487, cancel event; the app\'s late answer goes nowhere', async () => {
    const harness = await start();
    const cancelled = deferred<void>();
    const held = deferred<Loose>();
    await harness.app((app) => app.invite((req: Loose, res: Loose) => {
      req.on('cancel', () => cancelled.resolve());
      held.resolve(res);
    }), ['invite']);
    const peer = await harness.udpPeer();
    const call = new PeerCall(peer);
    await peer.send(call.invite());
    const res = await within(held.promise, 2000, 'the INVITE at the app');
    await peer.send(call.cancel());
    expect((await finalFor(peer, call.inviteCSeq, 'CANCEL')).status).toBe(200);
    const r487 = await finalFor(peer, call.inviteCSeq, 'INVITE');
    expect(r487.status).toBe(487);
    await within(cancelled.promise, 2000, 'srf cancel');
    res.send(180);
    await sleep(50);
    expect(peer.count((m) => m.status === 180)).toBe(0);
    await peer.send(call.ackNon2xx(r487));
    expect(await harness.expectIdle()).toEqual(idle);
  });

  it('after the 200: 200 to the CANCEL and the call goes on', async () => {
    const harness = await start();
    const { nextDialog } = await answeringApp(harness);
    const peer = await harness.udpPeer();
    peer.autoAnswer((m) => (m.method === 'BYE' ? reply(m, 200, 'OK') : undefined));
    const call = new PeerCall(peer);
    await peer.send(call.invite());
    const ok = await peer.waitForResponse(200, 'INVITE');
    call.established(ok);
    await peer.send(call.cancel());
    expect((await finalFor(peer, call.inviteCSeq, 'CANCEL')).status).toBe(200);
    await sleep(50);
    expect(peer.count((m) => m.status === 487)).toBe(0);
    expect(peer.count((m) => m.method === 'BYE')).toBe(0);
    await peer.send(call.ack());
    const dialog = await nextDialog(1);
    expect(dialog.connected).toBe(true);
    await dialog.destroy();
    const bye = await peer.waitForRequest('BYE');
    expect(hdr(bye, 'call-id')).toBe(call.callId);
    expect(await harness.expectIdle()).toEqual(idle);
  });

  it('for an INVITE the engine does not know: 481', async () => {
    const harness = await start();
    await answeringApp(harness);
    const peer = await harness.udpPeer();
    const call = new PeerCall(peer);
    call.inviteBranch = 'z9hG4bKnosuchinvite';
    await peer.send(call.cancel());
    expect((await finalFor(peer, call.inviteCSeq, 'CANCEL')).status).toBe(481);
    expect(await harness.expectIdle()).toEqual(idle);
  });
});

/**
 * INVITE with `Supported: 100rel` → reliable 183 → PRACK → UPDATE held by the app's
 * `req.on('update')`. Returns the call, the held UPDATE and the held INVITE.
 */
async function earlyUpdateHeld(harness: EngineHarness) {
  const updates: Array<{ req: Loose; res: Loose }> = [];
  const invite = deferred<{ req: Loose; res: Loose }>();
  await harness.app((app) => app.invite((req: Loose, res: Loose) => {
    req.on('update', (ureq: Loose, ures: Loose) => updates.push({ req: ureq, res: ures }));
    req.on('cancel', () => undefined);
    res.send(183, { headers: { Require: '100rel' }, body: sdp(6000) });
    invite.resolve({ req, res });
  }), ['invite']);
  const peer = await harness.udpPeer();
  const call = new PeerCall(peer);
  await peer.send(call.invite({ headers: ['Supported: 100rel'] }));
  const r183 = await peer.waitForResponse(183, 'INVITE');
  call.established(r183);
  await peer.send(call.request('PRACK', { headers: [`RAck: ${hdr(r183, 'rseq')} ${call.inviteCSeq} INVITE`] }));
  await finalFor(peer, call.cseq, 'PRACK');
  await peer.send(call.request('UPDATE', { body: sdp(40010) }));
  const updateSeq = call.cseq;
  const deadline = Date.now() + 2000;
  while (updates.length === 0 && Date.now() < deadline) await sleep(5);
  expect(updates).toHaveLength(1);
  return { peer, call, updateSeq, update: updates[0]!, invite: await invite.promise };
}

describe('UPDATE in the early dialog', () => {
  it("delivers an UPDATE that arrives before the 200 to the app's req.on('update'); a concurrent second one gets 500", async () => {
    const harness = await start();
    const { peer, call, updateSeq, update, invite } = await earlyUpdateHeld(harness);
    expect(update.req.body).toContain('m=audio 40010');

    await peer.send(call.request('UPDATE', { body: sdp(40012) }));
    const second = await finalFor(peer, call.cseq, 'UPDATE');
    expect(second.status).toBe(500);
    expect(hdr(second, 'retry-after')).toBeDefined();

    update.res.send(200, { body: sdp(6010) });
    const updated = await finalFor(peer, updateSeq, 'UPDATE');
    expect(updated.status).toBe(200);
    expect(updated.body).toContain('m=audio 6010');
    expect(tagOf(hdr(updated, 'to'))).toBe(call.toTag);

    invite.res.send(200, { body: sdp(6010) });
    expect((await finalFor(peer, call.inviteCSeq, 'INVITE')).status).toBe(200);
    await peer.send(call.ack());
    await peer.send(call.request('BYE'));
    // srf has no Dialog for a call answered with res.send(): its answer does not matter, the engine's dialog ends.
    expect((await finalFor(peer, call.cseq, 'BYE')).status).toBeGreaterThanOrEqual(200);
    expect(await harness.expectIdle()).toEqual(idle);
  });
});

describe('reliable provisional responses (RFC 3262)', () => {
  it('retransmits a reliable 183 at T1, 2·T1 … until the PRACK that matches its RSeq', async () => {
    const harness = await start();
    const invite = deferred<Loose>();
    await harness.app((app) => app.invite((_req: Loose, res: Loose) => {
      res.send(183, { headers: { Require: '100rel' }, body: sdp(6000) });
      invite.resolve(res);
    }), ['invite']);
    const peer = await harness.udpPeer();
    const call = new PeerCall(peer);
    await peer.send(call.invite({ headers: ['Supported: 100rel'] }));
    const r183 = await peer.waitForResponse(183, 'INVITE');
    const count183 = () => peer.count((m) => m.status === 183);
    // Default T1 = 500 ms: retransmissions at 0.5 s, 1.5 s, 3.5 s.
    await harness.advance(499, 499);
    expect(count183()).toBe(1);
    await harness.advance(1, 1);
    await peer.waitFor(() => count183() === 2, 1000, 'the first retransmission');
    await harness.advance(2_000, 500);
    await peer.waitFor(() => count183() === 3, 1000, 'the second retransmission');
    expect(new Set(peer.received.filter((m) => m.status === 183).map((m) => m.text)).size).toBe(1);

    call.established(r183);
    await peer.send(call.request('PRACK', { headers: [`RAck: ${Number(hdr(r183, 'rseq')) + 1} ${call.inviteCSeq} INVITE`] }));
    expect((await finalFor(peer, call.cseq, 'PRACK')).status).toBe(481);
    await peer.send(call.request('PRACK', { headers: [`RAck: ${hdr(r183, 'rseq')} ${call.inviteCSeq} INVITE`] }));
    expect((await finalFor(peer, call.cseq, 'PRACK')).status).toBe(200);
    const settled = count183();
    await harness.advance(20_000);
    expect(count183()).toBe(settled);

    (await invite.promise).send(486);
    const busy = await finalFor(peer, call.inviteCSeq, 'INVITE');
    expect(busy.status).toBe(486);
    await peer.send(call.ackNon2xx(busy));
    expect(await harness.expectIdle()).toEqual(idle);
  });
});

describe('a reliable provisional that is never PRACKed', () => {
  it('ends the INVITE with 500 after 64·T1 and tells the app as a cancel (RFC 3262 §3)', async () => {
    const harness = await start();
    const cancelled = deferred<void>();
    const late = deferred<unknown>();
    await harness.app((app) => app.invite((req: Loose, res: Loose) => {
      req.on('cancel', () => {
        cancelled.resolve();
        res.send(486, (err: unknown) => late.resolve(err));
      });
      res.send(183, { headers: { Require: '100rel' }, body: sdp(6000) });
    }), ['invite']);
    const peer = await harness.udpPeer();
    const call = new PeerCall(peer);
    await peer.send(call.invite({ headers: ['Supported: 100rel'] }));
    await peer.waitForResponse(183, 'INVITE');
    await harness.advance(32_000, 500);
    const res = await finalFor(peer, call.inviteCSeq, 'INVITE');
    expect(res.status).toBe(500);
    await within(cancelled.promise, 2000, "srf's cancel event");
    expect(await within(late.promise, 2000, "the app's late answer")).toBeTruthy();
    await peer.send(call.ackNon2xx(res));
    expect(peer.count((m) => (m.status ?? 0) >= 200 && cseqOf(m).method === 'INVITE')).toBe(1);
    expect(await harness.expectIdle()).toEqual(idle);
  });
});

describe('an early UPDATE still unanswered when the INVITE ends', () => {
  it('is answered 487 when the caller cancels the INVITE', async () => {
    const harness = await start();
    const { peer, call, updateSeq } = await earlyUpdateHeld(harness);
    await peer.send(call.cancel());
    const r487 = await finalFor(peer, call.inviteCSeq, 'INVITE');
    expect(r487.status).toBe(487);
    await peer.send(call.ackNon2xx(r487));
    expect((await finalFor(peer, updateSeq, 'UPDATE')).status).toBe(487);
    expect(await harness.expectIdle()).toEqual(idle);
  });

  it('is answered 500 with Retry-After when the app answers the INVITE first', async () => {
    const harness = await start();
    const { peer, call, updateSeq, invite } = await earlyUpdateHeld(harness);
    invite.res.send(200, { body: sdp(6000) });
    expect((await finalFor(peer, call.inviteCSeq, 'INVITE')).status).toBe(200);
    await peer.send(call.ack());
    const res = await finalFor(peer, updateSeq, 'UPDATE');
    expect(res.status).toBe(500);
    expect(hdr(res, 'retry-after')).toBeDefined();
    await peer.send(call.request('BYE'));
    await finalFor(peer, call.cseq, 'BYE');
    expect(await harness.expectIdle()).toEqual(idle);
  });
});
