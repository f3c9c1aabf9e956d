/**
 * Attended transfer (RFC 5589 §7): the transferor talks to the transferee (call 1), calls the
 * target through the PBX (call 2), then REFERs the transferee to the target with a Replaces that
 * names its own dialog with the PBX in call 2. Both calls run through this PBX, so instead of
 * sending an INVITE-with-Replaces the PBX joins the two remaining parties itself: a new media
 * session, the target re-INVITEd with the transferee's media, the transferee with the target's
 * answer, and both of the transferor's legs released.
 *
 * CDRs: calls 1 and 2 end COMPLETED (NORMAL_CLEARING) — each was a real conversation — and the
 * transferee ↔ target conversation is a new call (answered at once, no ringing), linked by
 * call.transfer on both old calls.
 */
import { type Bridge, type BridgeDeps, type BridgeSide, otherSide, statusOf } from './bridge-types.js';
import { hangUp } from './fork.js';
import type { ReplacesTarget } from './replaces.js';
import { withDirection } from './sdp-direction.js';
import type { TransferResult } from './blind-transfer.js';

/**
 * Join the transferee (the other party of `bridge`, where `transferor` sent the REFER) with the
 * party at the far end of the call `replaces` names. The transferor's legs are left for the
 * caller to release (after its NOTIFY); the old calls are finished here.
 */
export async function attendedTransfer(bridge: Bridge, transferor: BridgeSide, replaces: ReplacesTarget, d: BridgeDeps): Promise<TransferResult> {
  const log = d.log.child({ callId: bridge.callId, replaces: replaces.callId });
  const found = d.registry.find(replaces.callId, replaces.fromTag, replaces.toTag);
  // RFC 3891 §3: no such dialog (or the REFER's own call) is 481, as the target would have answered.
  if (!found || found.bridge === bridge || found.bridge.over) return { ok: false, sipStatus: 481 };
  const other = found.bridge;
  if (bridge.busy || other.busy || bridge.pendingTransfer || other.pendingTransfer) return { ok: false, sipStatus: 491 };
  const transferee = otherSide(bridge, transferor);
  const target = otherSide(other, found.side);
  bridge.busy = true;
  other.busy = true;
  try {
    const call = await d.calls.startCall({
      tenantId: bridge.tenantId,
      caller: transferee.party,
      callee: target.party,
      siteId: bridge.siteId,
      sipCallId: transferee.dialog.sip.callId,
      limits: {},
      onRingTimeout: () => undefined,
    });
    if (!call.ok) return { ok: false, sipStatus: call.sipStatus ?? 486 };
    const newCallId = call.callId;
    let targetSdp: string;
    let transfereeSdp: string;
    const failed = async (err: unknown): Promise<TransferResult> => {
      log.warn({ err, status: statusOf(err) }, 'call: attended transfer re-INVITE failed');
      void d.media.delete({ callId: newCallId }).catch(() => undefined);
      await d.calls.failed(newCallId, statusOf(err));
      return { ok: false, sipStatus: statusOf(err) };
    };
    // Both were probably on hold (each talked to the transferor last): the joined call talks both ways.
    try {
      const offer = await d.media.offer({ callId: newCallId, fromTag: transferee.tag, sdp: withDirection(transferee.sdp, 'sendrecv'), flags: { label: 'caller' } });
      targetSdp = await target.dialog.modify(offer.sdp);
    } catch (err) {
      // The target refused the new media and keeps its old session: both calls go on as they were.
      return failed(err);
    }
    try {
      const answer = await d.media.answer({ callId: newCallId, fromTag: transferee.tag, toTag: target.tag, sdp: targetSdp, flags: { label: 'callee' } });
      transfereeSdp = await transferee.dialog.modify(answer.sdp);
    } catch (err) {
      // The target is on the new media already but the transferee refused it: neither old call can
      // go on as it was, so both end rather than leaving one-way audio.
      bridge.hangUp();
      other.hangUp();
      return failed(err);
    }
    if (!(await d.calls.answered(newCallId, target.party.extensionId))) return { ok: false, sipStatus: 500 };
    bridge.untie();
    other.untie();
    d.tie({
      callId: newCallId,
      tenantId: bridge.tenantId,
      siteId: bridge.siteId,
      sipDomain: bridge.sipDomain,
      caller: { dialog: transferee.dialog, party: transferee.party, sdp: transfereeSdp },
      callee: { dialog: target.dialog, party: target.party, sdp: targetSdp },
    });
    const info = { kind: 'attended' as const, transferor: transferor.party, target: target.party.number, newCallId };
    await Promise.all([d.calls.transferred(bridge.callId, info), d.calls.transferred(other.callId, info)]).catch((err: unknown) => log.warn({ err }, 'call: transfer event failed'));
    // The transferor's leg in call 2 is released here; its REFER dialog after the final NOTIFY.
    hangUp(found.side.dialog);
    bridge.finish();
    other.finish();
    log.info({ newCallId }, 'call: attended transfer completed');
    return { ok: true, newCallId };
  } finally {
    bridge.busy = false;
    other.busy = false;
  }
}
