/**
 * Blind transfer (RFC 5589 §6), from a phone's REFER or from the live-calls API: the transferee
 * stays connected while the PBX rings the target with the transferee's media; when the target
 * answers, the transferee is re-INVITEd onto the target's media and bridged to it, and the
 * transferor's leg is released. If the target does not answer, nothing changes for the call.
 *
 * CDRs: the transferee ↔ target leg is a new call (CallService.startCall with the transferee as
 * caller), with its own media session, ring, answer and CDR; the original call ends COMPLETED
 * (NORMAL_CLEARING) when the transfer completes, and call.transfer links the two (callId →
 * newCallId). So each CDR tells who talked to whom and for how long, and a failed transfer leaves
 * only a failed/busy/no-answer record of the attempt beside the call that went on.
 */
import type Srf from 'drachtio-srf';
import { type Bridge, type BridgeDeps, type BridgeSide, statusOf } from './bridge-types.js';
import { hangUp } from './fork.js';
import { fromHeader } from './party-header.js';
import { runRingPlan, type RingRun } from './ring-plan-runner.js';
import { withDirection } from './sdp-direction.js';

export type TransferResult = { ok: true; newCallId: string } | { ok: false; sipStatus: number };

export interface BlindTransferStart {
  /** Settles once the target answered and the transferee talks to it, or the attempt failed. */
  done: Promise<TransferResult>;
}

/**
 * Route `number` for the transferee and start ringing it. Resolves as soon as it rings (or
 * failed to start: unknown number, not allowed, no media); `done` settles the rest. The caller
 * releases the transferor once `done` is ok (after its NOTIFY, for a REFER).
 */
export async function startBlindTransfer(
  bridge: Bridge,
  transferee: BridgeSide,
  transferor: BridgeSide | null,
  number: string,
  d: BridgeDeps,
  onRinging?: () => void,
): Promise<{ ok: false; sipStatus: number } | ({ ok: true } & BlindTransferStart)> {
  const log = d.log.child({ callId: bridge.callId, transfer: number });
  if (bridge.over) return { ok: false, sipStatus: 481 };
  if (bridge.busy || bridge.pendingTransfer) return { ok: false, sipStatus: 491 };
  const callerExtensionId = transferee.party.extensionId;
  if (callerExtensionId === null) return { ok: false, sipStatus: 403 };
  bridge.busy = true;
  let started = false;
  try {
    const decision = await d.router.route({ tenantId: bridge.tenantId, callerExtensionId, dialed: number, at: d.clock.now() });
    log.debug({ decision: decision.kind, trace: decision.trace }, 'call: transfer target routed');
    // A feature code is no place to send a caller: only something that rings can be a target.
    if (decision.kind !== 'ring') return { ok: false, sipStatus: decision.kind === 'reject' ? decision.sipStatus : 403 };
    const ringing: { run?: RingRun } = {};
    let timedOut = false;
    const call = await d.calls.startCall({
      tenantId: bridge.tenantId,
      caller: transferee.party,
      callee: decision.callee,
      siteId: bridge.siteId,
      sipCallId: transferee.dialog.sip.callId,
      limits: {},
      ringTimeoutMs: decision.ringTimeoutMs,
      onRingTimeout: () => {
        timedOut = true;
        ringing.run?.cancel();
      },
    });
    if (!call.ok) return { ok: false, sipStatus: call.sipStatus ?? 486 };
    const newCallId = call.callId;
    const releaseMedia = (): void => void d.media.delete({ callId: newCallId }).catch((err: unknown) => log.warn({ err }, 'call: media release failed'));
    let offer: string;
    try {
      // The transferee may have been put on hold before the REFER (its last SDP then says recvonly):
      // the new call starts talking, so it is offered both ways.
      offer = (await d.media.offer({ callId: newCallId, fromTag: transferee.tag, sdp: withDirection(transferee.sdp, 'sendrecv'), flags: { label: 'caller' } })).sdp;
    } catch (err) {
      log.error({ err }, 'call: transfer media offer failed');
      releaseMedia();
      await d.calls.failed(newCallId, 503);
      return { ok: false, sipStatus: 503 };
    }
    const run = runRingPlan({ srf: d.srf, location: d.location, clock: d.clock, log }, decision.plan, {
      sdp: offer,
      from: fromHeader(transferee.party, bridge.sipDomain),
      onRinging: () => {
        void d.calls.ringing(newCallId);
        onRinging?.();
      },
    });
    ringing.run = run;
    bridge.pendingTransfer = { cancel: () => run.cancel() };
    started = true;
    // Announced before the old call is finished, so consumers see call.transfer before its call.ended.
    const announce = (): Promise<void> => d.calls.transferred(bridge.callId, { kind: 'blind', transferor: transferor?.party ?? null, target: number, newCallId });
    const done = complete(bridge, transferee, decision.callee, newCallId, run, d, () => timedOut, announce).then(
      (r) => r,
      (err: unknown) => {
        log.error({ err }, 'call: transfer failed');
        return { ok: false as const, sipStatus: 500 };
      },
    );
    void done.then((r) => {
      bridge.pendingTransfer = undefined;
      bridge.busy = false;
      log.info({ ok: r.ok, ...(r.ok ? { newCallId: r.newCallId } : { sipStatus: r.sipStatus }) }, 'call: blind transfer ended');
      if (!r.ok) releaseMedia();
    });
    return { ok: true, done };
  } finally {
    if (!started) bridge.busy = false;
  }
}

/** Wait for the target; on answer, move the transferee onto the new call and finish the old one. */
async function complete(
  bridge: Bridge,
  transferee: BridgeSide,
  callee: BridgeSide['party'],
  newCallId: string,
  run: RingRun,
  d: BridgeDeps,
  timedOut: () => boolean,
  announce: () => Promise<void>,
): Promise<TransferResult> {
  const outcome = await run.result;
  if (!outcome.answered) {
    // The ring timer already ended the new call as no answer; otherwise record how ringing ended.
    const sipStatus = timedOut() ? 480 : outcome.sipStatus;
    if (!timedOut()) await d.calls.failed(newCallId, sipStatus);
    return { ok: false, sipStatus };
  }
  const target: Srf.Dialog = outcome.dialog;
  if (bridge.over || !(await d.calls.answered(newCallId, outcome.extensionId))) {
    // The transferee hung up (or the attempt was cancelled) while the target's 200 was on its way.
    hangUp(target);
    await d.calls.hungUp(newCallId);
    return { ok: false, sipStatus: 487 };
  }
  const answer = await d.media.answer({ callId: newCallId, fromTag: transferee.tag, toTag: target.sip.remoteTag, sdp: target.remote.sdp, flags: { label: 'callee' } });
  // From here the transferee belongs to the new call: a BYE of the transferor no longer reaches it.
  bridge.untie();
  let transfereeSdp: string;
  try {
    transfereeSdp = await transferee.dialog.modify(answer.sdp);
  } catch (err) {
    // The transferee refused its new media: nobody can talk any more, end everything cleanly.
    d.log.warn({ err, callId: bridge.callId, status: statusOf(err) }, 'call: transferee refused the transfer re-INVITE');
    hangUp(target);
    hangUp(transferee.dialog);
    await d.calls.hungUp(newCallId);
    bridge.hangUp();
    return { ok: false, sipStatus: statusOf(err) };
  }
  d.tie({
    callId: newCallId,
    tenantId: bridge.tenantId,
    siteId: bridge.siteId,
    sipDomain: bridge.sipDomain,
    caller: { dialog: transferee.dialog, party: transferee.party, sdp: transfereeSdp },
    callee: { dialog: target, party: { ...callee, extensionId: outcome.extensionId }, sdp: target.remote.sdp },
  });
  await announce().catch((err: unknown) => d.log.warn({ err }, 'call: transfer event failed'));
  bridge.finish();
  return { ok: true, newCallId };
}
