/**
 * An INVITE with a Replaces header (RFC 3891) naming a dialog of a call bridged here: the new
 * caller takes the place of the party on that dialog (a phone completing an attended transfer on
 * its own, a call pulled to another phone). The remaining party is re-INVITEd onto the newcomer's
 * media (a new rtpengine session), the newcomer is answered with the remaining party's, and the
 * replaced party gets a BYE (RFC 3891 §3).
 *
 * CDRs as for transfers: the replaced call ends COMPLETED and names the new call, the newcomer ↔
 * remaining party conversation is a new call (caller = the newcomer).
 */
import type Srf from 'drachtio-srf';
import { type BridgeDeps, otherSide, statusOf } from './bridge-types.js';
import { hangUp } from './fork.js';
import type { CallPartyInfo } from './ports.js';
import type { ReplacesTarget } from './replaces.js';
import { createGuardedUas } from './reinvite-guard.js';

export async function answerReplacingInvite(
  req: Srf.SrfRequest,
  res: Srf.SrfResponse,
  replaces: ReplacesTarget,
  newcomer: { party: CallPartyInfo; tenantId: string; siteId: string | null; sipDomain: string },
  d: BridgeDeps,
): Promise<void> {
  const found = d.registry.find(replaces.callId, replaces.fromTag, replaces.toTag);
  // Only a dialog of the newcomer's own tenant; every dialog here is confirmed, so early-only never matches (§3: 486).
  if (!found || found.bridge.over || found.bridge.tenantId !== newcomer.tenantId) return void res.send(481);
  if (replaces.earlyOnly) return void res.send(486);
  const old = found.bridge;
  if (old.busy || old.pendingTransfer) return void res.send(491);
  const offer = typeof req.body === 'string' ? req.body : '';
  if (offer === '') return void res.send(488);
  const remaining = otherSide(old, found.side);
  const log = d.log.child({ callId: old.callId, replacedBy: newcomer.party.number });
  old.busy = true;
  try {
    const call = await d.calls.startCall({
      tenantId: newcomer.tenantId,
      caller: newcomer.party,
      callee: remaining.party,
      siteId: newcomer.siteId,
      sipCallId: req.get('Call-ID'),
      limits: {},
      onRingTimeout: () => undefined,
    });
    if (!call.ok) return void res.send(call.sipStatus ?? 486);
    const newCallId = call.callId;
    const newcomerTag = String(req.getParsedHeader('From').params?.tag ?? '');
    let remainingSdp: string;
    let uas: Srf.Dialog;
    try {
      const anchored = await d.media.offer({ callId: newCallId, fromTag: newcomerTag, sdp: offer, flags: { label: 'caller' } });
      remainingSdp = await remaining.dialog.modify(anchored.sdp);
      const answer = await d.media.answer({ callId: newCallId, fromTag: newcomerTag, toTag: remaining.tag, sdp: remainingSdp, flags: { label: 'callee' } });
      uas = await createGuardedUas(d.srf, req, res, { localSdp: answer.sdp });
    } catch (err) {
      log.warn({ err, status: statusOf(err) }, 'call: INVITE with Replaces failed');
      void d.media.delete({ callId: newCallId }).catch(() => undefined);
      if (!res.finalResponseSent) res.send(statusOf(err));
      await d.calls.failed(newCallId, statusOf(err));
      return;
    }
    await d.calls.answered(newCallId, newcomer.party.extensionId);
    old.untie();
    d.tie({
      callId: newCallId,
      tenantId: newcomer.tenantId,
      siteId: newcomer.siteId,
      sipDomain: newcomer.sipDomain,
      caller: { dialog: uas, party: newcomer.party, sdp: offer },
      callee: { dialog: remaining.dialog, party: remaining.party, sdp: remainingSdp },
    });
    await d.calls.transferred(old.callId, { kind: 'attended', transferor: null, target: newcomer.party.number, newCallId }).catch((err: unknown) => log.warn({ err }, 'call: transfer event failed'));
    hangUp(found.side.dialog);
    old.finish();
    log.info({ newCallId }, 'call: dialog replaced (INVITE with Replaces)');
  } finally {
    old.busy = false;
  }
}
