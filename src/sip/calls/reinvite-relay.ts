/**
 * A re-INVITE from one party of a bridged call (hold, unhold, session refresh, codec change) is
 * relayed to the other party through rtpengine, so media keeps following the signalling: the
 * offer is re-anchored with the pair of tags naming its direction (from = the re-offering side),
 * sent on as a re-INVITE to the other phone, and that phone's answer is anchored and returned.
 * A hold change (RFC 3264 §8.4) is reported to the call service, which publishes call.hold /
 * call.unhold; other re-INVITEs are relayed without an event.
 */
import type Srf from 'drachtio-srf';
import { type Bridge, type BridgeDeps, type BridgeSide, otherSide, statusOf } from './bridge-types.js';
import { isHoldOffer } from './sdp-direction.js';

export async function relayReinvite(bridge: Bridge, from: BridgeSide, req: Srf.SrfRequest, res: Srf.SrfResponse, d: Pick<BridgeDeps, 'media' | 'calls' | 'log'>): Promise<void> {
  const contact = { Contact: (from.dialog as unknown as { local: { contact: string } }).local.contact };
  const offer = typeof req.body === 'string' ? req.body : '';
  if (offer === '') {
    // A re-INVITE without SDP asks for an offer (RFC 3264 §5): ours is the SDP this phone already has,
    // so nothing changes for either side. srf stored the empty body as the phone's SDP; restore it.
    from.dialog.remote.sdp = from.sdp;
    return void res.send(200, { body: from.dialog.local.sdp, headers: { ...contact, 'Content-Type': 'application/sdp' } });
  }
  // Glare (RFC 3261 §14.1): a renegotiation or transfer of this call is in progress; the phone retries.
  if (bridge.busy || bridge.over) return void res.send(bridge.over ? 481 : 491);
  bridge.busy = true;
  const to = otherSide(bridge, from);
  const log = d.log.child({ callId: bridge.callId, from: from.role });
  try {
    const anchored = await d.media.offer({ callId: bridge.callId, fromTag: from.tag, toTag: to.tag, sdp: offer, flags: { label: from.role } });
    const answer = await to.dialog.modify(anchored.sdp);
    const relayed = await d.media.answer({ callId: bridge.callId, fromTag: from.tag, toTag: to.tag, sdp: answer, flags: { label: to.role } });
    res.send(200, { body: relayed.sdp, headers: { ...contact, 'Content-Type': 'application/sdp' } });
    from.sdp = offer;
    to.sdp = answer;
    const hold = isHoldOffer(offer);
    log.debug({ hold }, 'call: re-INVITE relayed');
    if (hold !== from.holding) {
      from.holding = hold;
      void d.calls.held(bridge.callId, hold, from.role).catch((err: unknown) => log.warn({ err }, 'call: hold event failed'));
    }
  } catch (err) {
    // The other phone refused (488, 491…): it keeps the old session, so this one must too — relay its
    // status. Anything else (rtpengine down, dialog gone) is ours: 500.
    const status = statusOf(err);
    log.warn({ err, status }, 'call: re-INVITE relay failed');
    from.dialog.remote.sdp = from.sdp;
    if (!res.finalResponseSent) res.send(status);
  } finally {
    bridge.busy = false;
  }
}
