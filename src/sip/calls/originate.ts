/**
 * Click-to-call (issue 4 §7), as third-party call control after RFC 3725 flow I: ring the
 * originating extension's phones with an INVITE without SDP; the phone that answers puts its offer
 * in the 200, which is not ACKed yet. That offer is anchored by the media relay and rung to the
 * destination exactly as if the extension had dialled it (the router decides, runRingPlan rings);
 * the destination's answer, anchored, goes to the phone in the ACK, and the two dialogs are tied.
 *
 * Flow I's known cost: the phone retransmits its 200 until the ACK and gives up after 64·T1 = 32 s
 * (RFC 3261 §13.3.1.4), so the destination rings for at most {@link DESTINATION_RING_MAX_MS}.
 */
import type Srf from 'drachtio-srf';
import type { Logger } from '../../obs/logger.js';
import type { Clock } from '../../shared/clock.js';
import { getExtension, getTenant, type Db } from '../../store/index.js';
import type { LocationService } from '../registrar/location.js';
import type { BridgeDeps } from './bridge-types.js';
import { forkInvite, hangUp, type Fork } from './fork.js';
import { partyOf } from './invite-handler.js';
import { fromHeader } from './party-header.js';
import type { CallControl, CallPartyInfo, CallRouter, SdpAnchor, StartedCall } from './ports.js';
import { guardReinvites } from './reinvite-guard.js';
import { runRingPlan, type RingRun } from './ring-plan-runner.js';

/** Under the 32 s a phone waits for the ACK of its 200 before it hangs up on its own. */
export const DESTINATION_RING_MAX_MS = 30_000;

export interface OriginateDeps {
  srf: Srf;
  db: Db;
  log: Logger;
  clock: Clock;
  location: LocationService;
  calls: CallControl;
  media: SdpAnchor;
  router: CallRouter;
  /** The INVITE handler's: one registry of bridged calls, so an originated call can be held, transferred and Replaced like any other. */
  bridge: BridgeDeps;
}

export interface OriginateRequest {
  tenantId: string;
  extensionId: string;
  /** What the extension "dials". */
  to: string;
  /** The number the destination sees instead of the extension's caller ID. */
  callerId: string | null;
  /** How long the extension's phones ring. */
  ringTimeoutMs: number;
}

/** The originating phone's answer before its ACK: srf's createUAC result with `noAck`. */
interface OfferlessAnswer {
  sdp: string;
  ack(sdp: string): Promise<Srf.Dialog>;
  destroy(): Promise<void>;
  res: Srf.SrfResponse;
}

/** One origination's moving parts, so an abort (API hang-up, ring timeout) can stop whichever runs. */
interface Origination {
  callId: string;
  log: Logger;
  over: boolean;
  fork?: Fork;
  ringing?: RingRun;
  /** The phone's un-ACKed answer, while the destination rings. */
  phone?: OfferlessAnswer;
  offered: boolean;
}

/** What the bridge needs to know of the call besides its two dialogs. */
interface CallInfo {
  tenantId: string;
  siteId: string | null;
  sipDomain: string;
  caller: CallPartyInfo;
  callee: CallPartyInfo;
}

/** Refusals say which side refused: the originating extension (call limit, no phone registered) or the destination. */
export type OriginateResult = StartedCall & { refusedBy?: 'extension' | 'destination' };

export function createOriginator(d: OriginateDeps): { originate(input: OriginateRequest): Promise<OriginateResult> } {
  const releaseMedia = (o: Origination): void => {
    if (o.offered) void d.media.delete({ callId: o.callId }).catch((err: unknown) => o.log.warn({ err, callId: o.callId }, 'originate: media release failed'));
  };
  /** Stop everything in flight; the call service has already recorded why. */
  const abort = (o: Origination): void => {
    if (o.over) return;
    o.over = true;
    o.fork?.cancel();
    o.ringing?.cancel();
    if (o.phone) void o.phone.destroy();
    releaseMedia(o);
  };
  /** End the call as failed with `status`, hanging up the phone if it answered. */
  const fail = (o: Origination, status: number, why: string): void => {
    if (o.over) return;
    o.log.debug({ callId: o.callId, status, why }, 'originate: call failed');
    abort(o);
    void d.calls.failed(o.callId, status);
  };

  const run = async (o: Origination, input: OriginateRequest, info: CallInfo, phoneFrom: string, destinationFrom: string, plan: Parameters<typeof runRingPlan>[1]): Promise<void> => {
    const targets = d.location.live(input.extensionId, d.clock.now());
    let ringingSent = false;
    const onRinging = (): void => {
      if (o.over || ringingSent) return;
      ringingSent = true;
      void d.calls.ringing(o.callId);
    };
    o.log.debug({ callId: o.callId, contacts: targets.map((t) => t.contactUri) }, 'originate: ringing the extension');
    o.fork = forkInvite(d.srf, targets, { sdp: '', from: phoneFrom, onRinging, log: o.log, noAck: true });
    let phoneTimedOut = false;
    const phoneTimer = d.clock.setTimeout(() => {
      phoneTimedOut = true;
      o.fork?.cancel();
    }, input.ringTimeoutMs);
    const picked = await o.fork.outcome;
    d.clock.clearTimeout(phoneTimer);
    o.fork = undefined;
    if (!picked.answered) return fail(o, phoneTimedOut ? 480 : picked.sipStatus, 'the originating extension did not answer');
    const phone = picked.dialog as unknown as OfferlessAnswer;
    if (o.over) return void phone.destroy();
    o.phone = phone;
    if (typeof phone.sdp !== 'string' || phone.sdp === '') return fail(o, 488, 'the phone answered without an SDP offer');

    o.log.debug({ callId: o.callId }, 'originate: the extension answered; ringing the destination');
    const phoneTag = String(phone.res.getParsedHeader('To').params?.tag ?? '');
    let offered: string;
    try {
      offered = (await d.media.offer({ callId: o.callId, fromTag: phoneTag, sdp: phone.sdp, flags: { label: 'caller' } })).sdp;
    } catch (err) {
      o.log.error({ err, callId: o.callId }, 'originate: media offer failed');
      // An offer whose reply was lost (timeout) may still have opened a session: release it too.
      o.offered = true;
      return fail(o, 503, 'media offer failed');
    }
    // Marked only now: a release sent while the offer was on its way would precede the session it ends.
    o.offered = true;
    if (o.over) return releaseMedia(o);

    o.ringing = runRingPlan({ srf: d.srf, location: d.location, clock: d.clock, log: o.log }, plan, { sdp: offered, from: destinationFrom, onRinging });
    const destinationTimer = d.clock.setTimeout(() => o.ringing?.cancel(), DESTINATION_RING_MAX_MS);
    const outcome = await o.ringing.result;
    d.clock.clearTimeout(destinationTimer);
    if (!outcome.answered) return fail(o, outcome.sipStatus === 487 && !o.over ? 480 : outcome.sipStatus, outcome.reason);
    const uac = outcome.dialog;
    if (o.over || !(await d.calls.answered(o.callId, outcome.extensionId))) {
      hangUp(uac);
      return abort(o);
    }
    o.over = true;
    let phoneDialog: Srf.Dialog;
    try {
      const answer = await d.media.answer({ callId: o.callId, fromTag: phoneTag, toTag: uac.sip.remoteTag, sdp: uac.remote.sdp, flags: { label: 'callee' } });
      phoneDialog = guardReinvites(await phone.ack(answer.sdp));
    } catch (err) {
      o.log.error({ err, callId: o.callId }, 'originate: could not complete the phone’s leg');
      hangUp(uac);
      void phone.destroy();
      releaseMedia(o);
      return void d.calls.hungUp(o.callId);
    }
    // The bridge releases the media from now on. The extension's phone is the caller's side: the originating extension is the caller.
    d.bridge.tie({
      callId: o.callId,
      tenantId: info.tenantId,
      siteId: info.siteId,
      sipDomain: info.sipDomain,
      caller: { dialog: phoneDialog, party: info.caller, sdp: phone.sdp },
      callee: { dialog: uac, party: { ...info.callee, extensionId: outcome.extensionId }, sdp: uac.remote.sdp },
    });
  };

  return {
    /**
     * Route `to`, record the call, and ring the extension's phones; resolves as soon as they ring
     * (or the call was refused: the router's rejection, a feature code, the call limit, no phone
     * registered), with the call recorded and its CDR written for refusals.
     */
    async originate(input): Promise<OriginateResult> {
      const ext = await getExtension(d.db, input.tenantId, input.extensionId);
      const tenant = await getTenant(d.db, input.tenantId);
      const decision = await d.router.route({ tenantId: input.tenantId, callerExtensionId: ext.id, dialed: input.to, at: d.clock.now() });
      const log = d.log.child({ originate: ext.number, to: input.to });
      const o: Origination = { callId: '', log, over: false, offered: false };
      const caller = partyOf(ext);
      const started = await d.calls.startCall({
        tenantId: input.tenantId,
        caller,
        callee: decision.callee,
        siteId: ext.siteId ?? null,
        sipCallId: null,
        limits: { caller: ext.maxConcurrentCalls },
        // Both rings fit in the call's ring limit; each has its own tighter timer here.
        ringTimeoutMs: input.ringTimeoutMs + DESTINATION_RING_MAX_MS + 5_000,
        onRingTimeout: () => abort(o),
        onAbort: () => abort(o),
      });
      if (!started.ok) return { ...started, refusedBy: 'extension' };
      o.callId = started.callId;
      const refuse = async (sipStatus: number, refusedBy: 'extension' | 'destination'): Promise<OriginateResult> => {
        o.over = true;
        await d.calls.failed(o.callId, sipStatus);
        return { ok: false, callId: o.callId, sipStatus, refusedBy };
      };
      if (d.location.live(ext.id, d.clock.now()).length === 0) return refuse(480, 'extension');
      if (decision.kind === 'reject') return refuse(decision.sipStatus, 'destination');
      // A feature code needs a phone to hear its confirmation; click-to-call does not run them.
      if (decision.kind === 'feature') return refuse(403, 'destination');
      // The phone shows whom it is about to call; the destination sees the extension (or the caller ID asked for).
      const phoneFrom = fromHeader({ number: input.to, name: decision.callee.name, extensionId: null }, tenant.sip_domain);
      const destinationFrom = fromHeader(input.callerId ? { ...caller, number: input.callerId, name: null } : caller, tenant.sip_domain);
      const info: CallInfo = { tenantId: input.tenantId, siteId: ext.siteId ?? null, sipDomain: tenant.sip_domain, caller, callee: decision.callee };
      void run(o, input, info, phoneFrom, destinationFrom, decision.plan).catch((err: unknown) => {
        log.error({ err, callId: o.callId }, 'originate: failed');
        fail(o, 500, 'internal error');
      });
      return { ok: true, callId: o.callId };
    },
  };
}
