/**
 * One INVITE between extensions, start to end, as a B2BUA (issue 4 §2): authenticate the caller
 * (407), find the callee in the caller's tenant (404 unknown, 486 do-not-disturb, 480 not
 * registered), open the call in the call service (which may refuse it: busy limit), anchor the
 * media (offer on A's SDP before forking, answer with the winner's SDP), fork to every live
 * contact, answer A with the winner, and tie the two dialogs so a BYE on either ends both. Media
 * is released on every end. Outcomes go to the call service, which records the CDR.
 */
import type Srf from 'drachtio-srf';
import type { Logger } from '../../obs/logger.js';
import type { Clock } from '../../shared/clock.js';
import { getExtension, type Db, type Extension } from '../../store/index.js';
import { send } from '../registrar/register-handler.js';
import { parseSipUri } from '../registrar/register-request.js';
import type { LocationService } from '../registrar/location.js';
import { forkInvite, hangUp, type Fork } from './fork.js';
import type { InviteAuthenticator } from './invite-auth.js';
import type { CallControl, CallPartyInfo, SdpAnchor } from './ports.js';

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
}

/** The party as the other side sees it: the extension's caller ID when set, else its number and name. */
export function partyOf(ext: Extension): CallPartyInfo {
  return { number: ext.callerIdNumber ?? ext.number, name: ext.callerIdName ?? ext.displayName, extensionId: ext.id };
}

/** A From header for the B leg that shows the caller's extension (quotes in names escaped, RFC 3261 §25.1). */
export function fromHeader(party: CallPartyInfo, domain: string): string {
  const uri = `sip:${encodeURIComponent(party.number)}@${domain}`;
  return party.name ? `"${party.name.replace(/["\\]/g, (c) => `\\${c}`)}" <${uri}>` : `<${uri}>`;
}

export class InviteHandler {
  constructor(private readonly d: InviteHandlerDeps) {}

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
    const target = parseSipUri(req.uri);
    const calleeCreds = target && target.user !== '' ? await d.auth.lookup(tenantId, target.user) : undefined;
    const callerExt = await getExtension(d.db, tenantId, auth.caller.extensionId);
    const calleeExt = calleeCreds?.status === 'active' ? await getExtension(d.db, tenantId, calleeCreds.extensionId) : undefined;
    const contacts = calleeExt ? d.location.live(calleeExt.id, d.clock.now()) : [];
    const sdp = typeof req.body === 'string' ? req.body : '';
    // Decided before the call opens, but recorded like any call: every attempt gets its CDR.
    const refusal: { status: number; why: string } | undefined = !calleeExt
      ? { status: 404, why: 'unknown callee' }
      : calleeExt.dnd
        ? { status: 486, why: 'callee do-not-disturb' }
        : contacts.length === 0
          ? { status: 480, why: 'callee not registered' }
          : sdp === ''
            ? { status: 488, why: 'no SDP offer' }
            : undefined;

    const log = d.log.child({ sipCallId: req.get('Call-ID') });
    // Set once the fork starts; the CANCEL and ring-timeout handlers run before and after that.
    const active: { fork?: Fork } = {};
    let over = false;
    const started = await d.calls.startCall({
      tenantId,
      caller: partyOf(callerExt),
      callee: calleeExt ? partyOf(calleeExt) : { number: target?.user ?? '', name: null, extensionId: null },
      siteId: callerExt.siteId ?? calleeExt?.siteId ?? null,
      sipCallId: req.get('Call-ID'),
      limits: { caller: callerExt.maxConcurrentCalls, ...(calleeExt ? { callee: calleeExt.maxConcurrentCalls } : {}) },
      onRingTimeout: () => {
        over = true;
        active.fork?.cancel();
        send(res, 480, {});
      },
    });
    if (!started.ok) return refuse(started.sipStatus ?? 486, 'call limit');
    if (refusal) {
      refuse(refusal.status, refusal.why);
      return void (await d.calls.failed(started.callId, refusal.status));
    }
    const callId = started.callId;
    log.debug({ callId, contacts: contacts.length }, 'call: started, anchoring media');
    const releaseMedia = (): void => void d.media.delete({ callId }).catch((err: unknown) => log.warn({ err, callId }, 'call: media release failed'));
    req.on('cancel', () => {
      if (over) return;
      over = true;
      active.fork?.cancel();
      releaseMedia();
      void d.calls.callerCancelled(callId);
    });

    const aTag = String(req.getParsedHeader('From').params?.tag ?? '');
    let offered: string;
    try {
      offered = (await d.media.offer({ callId, fromTag: aTag, sdp, flags: { label: 'caller' } })).sdp;
    } catch (err) {
      log.error({ err, callId }, 'call: media offer failed');
      over = true;
      send(res, 503, {});
      return void d.calls.failed(callId, 503);
    }
    if (over) return releaseMedia();

    log.debug({ callId }, 'call: media offered, forking');
    let ringingSent = false;
    const fork = forkInvite(d.srf, contacts, {
      sdp: offered,
      from: fromHeader(partyOf(callerExt), auth.tenant.sip_domain),
      log,
      onRinging: () => {
        if (over || ringingSent) return;
        ringingSent = true;
        send(res, 180, {});
        void d.calls.ringing(callId);
      },
    });
    active.fork = fork;
    const outcome = await fork.outcome;
    if (!outcome.answered) {
      releaseMedia();
      if (over) return;
      over = true;
      send(res, outcome.sipStatus, {});
      return void d.calls.failed(callId, outcome.sipStatus);
    }
    const uac = outcome.dialog;
    if (over || !(await d.calls.answered(callId))) {
      // Cancelled or timed out while the 200 was on its way.
      hangUp(uac);
      return releaseMedia();
    }
    await this.bridge(req, res, uac, { callId, aTag, log, releaseMedia });
  }

  /** Answer A with B's media and tie the two dialogs: whichever side hangs up ends the other. */
  private async bridge(req: Req, res: Res, uac: Srf.Dialog, c: { callId: string; aTag: string; log: Logger; releaseMedia: () => void }): Promise<void> {
    const { d } = this;
    let uas: Srf.Dialog;
    try {
      const answer = await d.media.answer({ callId: c.callId, fromTag: c.aTag, toTag: uac.sip.remoteTag, sdp: uac.remote.sdp, flags: { label: 'callee' } });
      uas = await d.srf.createUAS(req, res, { localSdp: answer.sdp });
    } catch (err) {
      c.log.error({ err, callId: c.callId }, 'call: could not answer the caller');
      hangUp(uac);
      c.releaseMedia();
      return void d.calls.hungUp(c.callId);
    }
    c.log.debug({ callId: c.callId }, 'call: bridged');
    let ended = false;
    const end = (other: Srf.Dialog): void => {
      if (ended) return;
      ended = true;
      hangUp(other);
      c.releaseMedia();
      void d.calls.hungUp(c.callId);
    };
    uas.on('destroy', () => end(uac));
    uac.on('destroy', () => end(uas));
  }
}
