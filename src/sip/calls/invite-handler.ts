/**
 * One INVITE from an extension, start to end, as a B2BUA (issue 4 §2): authenticate the caller
 * (407), ask the PBX's router where the dialled number goes, open the call in the call service
 * (which may refuse it: the caller's call limit), and execute the decision — refuse it, run a
 * feature code, or anchor the media (offer on A's SDP), ring the plan's steps, answer A with the
 * winner's SDP and tie the two dialogs. Media is released on every end. Outcomes go to the call
 * service, which records the CDR.
 */
import type Srf from 'drachtio-srf';
import type { Logger } from '../../obs/logger.js';
import type { Clock } from '../../shared/clock.js';
import { getExtension, type Db, type Extension } from '../../store/index.js';
import { send } from '../registrar/register-handler.js';
import { parseSipUri } from '../registrar/register-request.js';
import type { LocationService } from '../registrar/location.js';
import { tieDialogs } from './bridge.js';
import type { BridgeDeps } from './bridge-types.js';
import { DialogRegistry } from './dialog-registry.js';
import { declineAllMedia, FEATURE_CALL_HOLD_MS } from './feature-answer.js';
import { hangUp } from './fork.js';
import { answerReplacingInvite } from './invite-replaces.js';
import { fromHeader } from './party-header.js';
import { parseReplaces } from './replaces.js';
import type { InviteAuthenticator } from './invite-auth.js';
import type { CallControl, CallPartyInfo, CallRouter, RouteDecision, SdpAnchor } from './ports.js';
import { createGuardedUas } from './reinvite-guard.js';
import { runRingPlan, type RingRun } from './ring-plan-runner.js';

type Req = Srf.SrfRequest;
type Res = Srf.SrfResponse;

export interface InviteHandlerDeps {
  srf: Srf;
  db: Db;
  log: Logger;
  clock: Clock;
  auth: InviteAuthenticator;
  location: LocationService;
  calls: CallControl;
  media: SdpAnchor;
  router: CallRouter;
}

/** The party as the other side sees it: the extension's caller ID when set, else its number and name. */
export function partyOf(ext: Extension): CallPartyInfo {
  return { number: ext.callerIdNumber ?? ext.number, name: ext.callerIdName ?? ext.displayName, extensionId: ext.id };
}

/** Moved to party-header.ts (transfers place legs too); re-exported for existing importers. */
export { fromHeader } from './party-header.js';

/** What one INVITE's handling shares between its steps. */
interface InviteContext {
  req: Req;
  res: Res;
  callId: string;
  log: Logger;
  /** Set once the call is over for the caller (CANCEL, ring timeout, final answer). */
  over: boolean;
  ringing?: RingRun;
  tenantId: string;
  siteId: string | null;
  sipDomain: string;
  caller: CallPartyInfo;
}

export class InviteHandler {
  /** What every bridged call's mid-call features need, with one registry of bridged calls (Replaces). */
  readonly bridgeDeps: BridgeDeps;

  constructor(private readonly d: InviteHandlerDeps) {
    const deps: BridgeDeps = {
      srf: d.srf, calls: d.calls, media: d.media, router: d.router, location: d.location, clock: d.clock, log: d.log,
      registry: new DialogRegistry(),
      tie: (input) => tieDialogs(input, deps),
    };
    this.bridgeDeps = deps;
  }

  /** Bridged calls now (their dialogs, two per call); for tests and metrics. */
  get bridgedDialogs(): number {
    return this.bridgeDeps.registry.size;
  }

  async handle(req: Req, res: Res): Promise<void> {
    const { d } = this;
    const refuse = (status: number, why: string, headers: Record<string, string | string[]> = {}): void => {
      d.log.debug({ sipCallId: req.get('Call-ID'), status, why }, 'call: INVITE refused');
      send(res, status, headers);
    };
    const auth = await d.auth.authenticate({
      from: req.get('From'),
      requestUri: req.uri,
      // Proxy-Authorization answers our 407 (RFC 3261 §22.3); some UAs answer any challenge with Authorization.
      proxyAuthorization: req.has('Proxy-Authorization') ? req.get('Proxy-Authorization') : req.has('Authorization') ? req.get('Authorization') : undefined,
      source: req.source_address,
    });
    if (!auth.ok) return refuse(auth.status, `caller authentication: ${auth.reason}`, auth.headers);
    const tenantId = auth.tenant.id;
    const callerExt = await getExtension(d.db, tenantId, auth.caller.extensionId);
    if (req.has('Replaces')) {
      // RFC 3891: not a new call to route but a takeover of an existing one (400 when unreadable, §6.1).
      const replaces = parseReplaces(req.get('Replaces'));
      if (!replaces) return refuse(400, 'malformed Replaces');
      const party = partyOf(callerExt);
      return answerReplacingInvite(req, res, replaces, { party, tenantId, siteId: callerExt.siteId ?? null, sipDomain: auth.tenant.sip_domain }, this.bridgeDeps);
    }
    const dialed = parseSipUri(req.uri)?.user ?? '';
    const decision = await d.router.route({ tenantId, callerExtensionId: callerExt.id, dialed, at: d.clock.now() });
    const log = d.log.child({ sipCallId: req.get('Call-ID') });
    log.debug({ dialed, decision: decision.kind, trace: decision.trace }, 'call: routed');

    const caller = partyOf(callerExt);
    const ctx: InviteContext = { req, res, callId: '', log, over: false, tenantId, siteId: callerExt.siteId ?? null, sipDomain: auth.tenant.sip_domain, caller };
    const started = await d.calls.startCall({
      tenantId,
      caller,
      callee: decision.callee,
      siteId: callerExt.siteId ?? null,
      sipCallId: req.get('Call-ID'),
      limits: { caller: callerExt.maxConcurrentCalls },
      ...(decision.kind === 'ring' ? { ringTimeoutMs: decision.ringTimeoutMs } : {}),
      onRingTimeout: () => this.stopRinging(ctx, 480),
      // Hung up through the API before anyone answered: as if the caller had sent CANCEL (RFC 3261 §9.2).
      onAbort: () => this.stopRinging(ctx, 487),
    });
    if (!started.ok) return refuse(started.sipStatus ?? 486, 'call limit');
    ctx.callId = started.callId;
    const sdp = typeof req.body === 'string' ? req.body : '';
    // Decided before anything rings, but recorded like any call: every attempt gets its CDR.
    const refusal = decision.kind === 'reject' ? { status: decision.sipStatus, why: decision.reason } : sdp === '' ? { status: 488, why: 'no SDP offer' } : undefined;
    if (refusal) {
      ctx.over = true;
      refuse(refusal.status, refusal.why);
      return void (await d.calls.failed(ctx.callId, refusal.status));
    }
    if (decision.kind === 'feature') return this.runFeature(ctx, decision, sdp);
    if (decision.kind === 'ring') return this.ring(ctx, decision, sdp, fromHeader(caller, auth.tenant.sip_domain));
  }

  /**
   * The call service ended the call before an answer (ring timeout, API hang-up): cancel whatever
   * rings and answer the caller. The media session is released where the ringing ends.
   */
  private stopRinging(ctx: InviteContext, status: number): void {
    if (ctx.over) return;
    ctx.over = true;
    ctx.ringing?.cancel();
    send(ctx.res, status, {});
  }

  /** A feature code: apply it, then answer (declining media) and hang up, or refuse when it failed. */
  private async runFeature(ctx: InviteContext, decision: Extract<RouteDecision, { kind: 'feature' }>, offer: string): Promise<void> {
    const { d } = this;
    const result = await decision.run().catch((err: unknown) => {
      ctx.log.error({ err, code: decision.code }, 'call: feature code failed');
      return { ok: false as const, sipStatus: 500, reason: 'feature failed' };
    });
    if (!result.ok) {
      ctx.over = true;
      send(ctx.res, result.sipStatus, {});
      return void (await d.calls.failed(ctx.callId, result.sipStatus));
    }
    const uas = await createGuardedUas(d.srf, ctx.req, ctx.res, { localSdp: declineAllMedia(offer, d.clock.now()) });
    ctx.over = true;
    await d.calls.answered(ctx.callId, null);
    uas.on('destroy', () => void d.calls.hungUp(ctx.callId));
    d.clock.setTimeout(() => {
      hangUp(uas);
      void d.calls.hungUp(ctx.callId);
    }, FEATURE_CALL_HOLD_MS);
  }

  /** Anchor the media, ring the plan step by step, and bridge whoever answers. */
  private async ring(ctx: InviteContext, decision: Extract<RouteDecision, { kind: 'ring' }>, sdp: string, from: string): Promise<void> {
    const { d } = this;
    const { req, res, callId, log } = ctx;
    const releaseMedia = (): void => void d.media.delete({ callId }).catch((err: unknown) => log.warn({ err, callId }, 'call: media release failed'));
    req.on('cancel', () => {
      if (ctx.over) return;
      ctx.over = true;
      ctx.ringing?.cancel();
      releaseMedia();
      void d.calls.callerCancelled(callId);
    });

    const aTag = String(req.getParsedHeader('From').params?.tag ?? '');
    let offered: string;
    try {
      offered = (await d.media.offer({ callId, fromTag: aTag, sdp, flags: { label: 'caller' } })).sdp;
    } catch (err) {
      log.error({ err, callId }, 'call: media offer failed');
      ctx.over = true;
      send(res, 503, {});
      // An offer whose reply was lost (timeout) may still have opened a session: release it too.
      releaseMedia();
      return void d.calls.failed(callId, 503);
    }
    if (ctx.over) return releaseMedia();

    let ringingSent = false;
    ctx.ringing = runRingPlan({ srf: d.srf, location: d.location, clock: d.clock, log }, decision.plan, {
      sdp: offered,
      from,
      onRinging: () => {
        if (ctx.over || ringingSent) return;
        ringingSent = true;
        send(res, 180, {});
        void d.calls.ringing(callId);
      },
    });
    const outcome = await ctx.ringing.result;
    if (!outcome.answered) {
      releaseMedia();
      if (ctx.over) return;
      ctx.over = true;
      log.debug({ callId, status: outcome.sipStatus, reason: outcome.reason }, 'call: nobody answered');
      send(res, outcome.sipStatus, {});
      return void d.calls.failed(callId, outcome.sipStatus);
    }
    const uac = outcome.dialog;
    if (ctx.over || !(await d.calls.answered(callId, outcome.extensionId))) {
      // Cancelled or timed out while the 200 was on its way.
      hangUp(uac);
      return releaseMedia();
    }
    ctx.over = true;
    let uas: Srf.Dialog;
    try {
      const answer = await d.media.answer({ callId, fromTag: aTag, toTag: uac.sip.remoteTag, sdp: uac.remote.sdp, flags: { label: 'callee' } });
      uas = await createGuardedUas(d.srf, req, res, { localSdp: answer.sdp });
    } catch (err) {
      log.error({ err, callId }, 'call: could not answer the caller');
      hangUp(uac);
      releaseMedia();
      return void d.calls.hungUp(callId);
    }
    this.bridgeDeps.tie({
      callId,
      tenantId: ctx.tenantId,
      siteId: ctx.siteId,
      sipDomain: ctx.sipDomain,
      caller: { dialog: uas, party: ctx.caller, sdp },
      callee: { dialog: uac, party: { ...decision.callee, extensionId: outcome.extensionId }, sdp: uac.remote.sdp },
    });
  }
}
