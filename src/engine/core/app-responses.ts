import { randomToken } from '../../shared/ids.js';
import { dialogIdOf } from '../dialog/dialog.js';
import { addHeader, getHeader, getHeaderLines, getHeaderValues, hasHeader } from '../message/headers.js';
import { getTag } from '../message/name-addr.js';
import { parseCSeq } from '../message/cseq.js';
import { buildResponse } from '../message/response.js';
import { serializeMessage } from '../message/serialize.js';
import type { SipHeader, SipRequest, SipResponse } from '../message/types.js';
import type { Flow, ListeningTransport } from '../transport/types.js';
import { responseEcho, responseNok as nok } from '../wire/meta.js';
import { appendAppHeaders, appHeader, ensureContentType, localContact, requiresOption, supportsOption, uriOf } from './build.js';
import type { CoreContext } from './context.js';
import type { DialogTimers } from './dialog-timers.js';
import type { AppConnection } from './ports.js';
import type { DialogRuntime, InboundTxn } from './state.js';

/** Headers of a response that come from the request, never from the app (drachtio-protocol §4.3). */
const fromRequest: ReadonlySet<string> = new Set(['via', 'from', 'to', 'call-id', 'cseq', 'content-type']);

/**
 * The app answers a request it received (`sip|<txnId>|` + status line; drachtio-protocol §4.3).
 */
export class AppResponses {
  constructor(
    private readonly ctx: CoreContext,
    private readonly timers: DialogTimers,
  ) {}

  onResponse(conn: AppConnection, msgId: string, txnId: string, app: SipResponse): void {
    const inbound = this.ctx.inbound.get(txnId);
    if (!inbound || inbound.owner.id !== conn.id) {
      return conn.send(nok(msgId, 'Response not sent due to unknown transaction'));
    }
    const cseq = parseCSeq(getHeader(app, 'cseq') ?? '');
    if (inbound.earlyUpdate && cseq?.method === 'UPDATE') return this.answerEarlyUpdate(conn, msgId, inbound, app);
    if (inbound.answered === 'final') {
      return conn.send(nok(msgId, 'Response not sent due to unknown transaction'));
    }
    const req = inbound.req;
    const listener = this.listenerOf(inbound);
    const isInvite = req.method === 'INVITE';
    const createsDialog = (isInvite || req.method === 'SUBSCRIBE') && !inbound.dialogId;
    const status = app.status;

    if (status > 100 && inbound.toTag === undefined) inbound.toTag = getTag(appHeader(app.headers, 'to')?.value ?? '') ?? randomToken(4);
    const res = buildResponse(req, status, app.reason, status > 100 && inbound.toTag ? { toTag: inbound.toTag } : {});
    this.mergeAppHeaders(res, app, req, listener);

    const reliable = isInvite && status > 100 && status < 200 && requiresOption(app, '100rel');
    if (reliable && !supportsOption(req, '100rel')) {
      return conn.send(nok(msgId, 'Remote endpoint does not support 100rel'));
    }
    if (reliable) {
      inbound.nextRSeq ??= 1 + Math.floor(Math.random() * 0x7fff);
      addHeader(res, 'rseq', String(inbound.nextRSeq++));
    }
    const needsContact = (isInvite || req.method === 'SUBSCRIBE') && status > 100 && status < 300;
    if (needsContact && !hasHeader(res, 'contact')) addHeader(res, 'contact', localContact(listener));
    if (!ensureContentType(res)) return conn.send(nok(msgId, 'missing content-type'));

    let dialogId = inbound.dialogId ?? '';
    if (createsDialog && status > 100) {
      dialogId = dialogIdOf(getHeader(req, 'call-id') ?? '', getTag(getHeader(req, 'from') ?? '') ?? '');
      inbound.dialogId = dialogId;
    }
    if (createsDialog && (reliable || status < 300) && status > 100) {
      this.upsertUasDialog(inbound, res, conn, listener, status >= 200 ? 'confirmed' : 'early');
    }
    if (req.method === 'INVITE' && inbound.dialogId && status >= 200 && status < 300) {
      const d = this.ctx.dialogs.get(inbound.dialogId);
      if (d) this.timers.applySessionTimerOnUasAnswer(d, req, res);
    }

    // Echo first: srf keys its ACK/PRACK callbacks on it (drachtio-protocol §3.3 ordering). The
    // response is serialised once, for both the echo and the network (it is not changed between).
    const bytes = serializeMessage(res);
    conn.send(responseEcho(msgId, this.echoMeta(inbound.flow, txnId, status === 100 ? '' : dialogId), bytes.toString('utf8')));
    inbound.txn.respond(res, bytes);
    if (reliable) this.timers.startReliableProvisional(inbound, res);
    if (status < 200) {
      if (status > 100) inbound.answered = 'provisional';
      this.ctx.deps.clock.clearTimeout(inbound.pendingTimer);
      return;
    }
    this.afterFinal(inbound, res);
  }

  private afterFinal(inbound: InboundTxn, res: SipResponse): void {
    const req = inbound.req;
    inbound.answered = 'final';
    this.ctx.finishInbound(inbound);
    const d = inbound.dialogId ? this.ctx.dialogs.get(inbound.dialogId) : undefined;
    const success = res.status < 300;
    const initial = getTag(getHeader(req, 'to') ?? '') === undefined;
    if (req.method === 'INVITE') {
      if (d) {
        d.inboundInviteInProgress = false;
        d.inviteTxnId = undefined;
      }
      if (success && d) {
        this.timers.awaitAck(d, inbound);
        if (res.body.length > 0) d.localSdp = res.body.toString('utf8');
        if (initial) this.ctx.cdr('start', 'application', res, 'uas');
      } else if (!success) {
        if (d && d.state === 'early') this.ctx.removeDialog(d.id);
        if (initial) this.ctx.cdr('stop', 'application', res, 'call-rejected');
      }
    } else if (d && d.terminating && req.method === 'NOTIFY') {
      this.ctx.removeDialog(d.id);
    } else if (req.method === 'SUBSCRIBE' && d && success && /^\s*0\s*$/.test(getHeader(res, 'expires') ?? '')) {
      // RFC 6665 §4.2.1.4: a 2xx with Expires 0 ends the subscription (the NOTIFY follows in it).
      d.terminating = true;
    }
  }

  /** The app's answer to an UPDATE that arrived while the INVITE was in progress (§4.7). */
  private answerEarlyUpdate(conn: AppConnection, msgId: string, invite: InboundTxn, app: SipResponse): void {
    const update = invite.earlyUpdate!;
    const listener = this.listenerOf(invite);
    const res = buildResponse(update.req, app.status, app.reason, invite.toTag ? { toTag: invite.toTag } : {});
    this.mergeAppHeaders(res, app, update.req, listener);
    if (app.status >= 200 && app.status < 300 && !hasHeader(res, 'contact')) addHeader(res, 'contact', localContact(listener));
    if (!ensureContentType(res)) return conn.send(nok(msgId, 'missing content-type'));
    conn.send(responseEcho(msgId, this.echoMeta(update.txn.flow, invite.txnId, invite.dialogId ?? ''), this.ctx.text(res)));
    update.txn.respond(res);
    if (app.status >= 200) {
      invite.earlyUpdate = undefined;
      const d = invite.dialogId ? this.ctx.dialogs.get(invite.dialogId) : undefined;
      if (d && app.status < 300 && res.body.length > 0) d.localSdp = res.body.toString('utf8');
    }
  }

  /** App headers and body onto a response built from the request (drachtio-protocol §5). */
  private mergeAppHeaders(res: SipResponse, app: SipResponse, req: SipRequest, listener: ListeningTransport): void {
    // RFC 3261 §12.1.1: responses that can create a dialog copy the request's Record-Route.
    if ((req.method === 'INVITE' || req.method === 'SUBSCRIBE') && res.status > 100 && res.status < 300) {
      for (const rr of getHeaderLines(req, 'record-route')) addHeader(res, 'record-route', rr);
    }
    appendAppHeaders(res, app.headers, listener, fromRequest);
    const ct: SipHeader | undefined = appHeader(app.headers, 'content-type');
    if (ct && app.body.length > 0) res.headers.push(ct);
    res.body = app.body;
  }

  private upsertUasDialog(
    inbound: InboundTxn,
    res: SipResponse,
    owner: AppConnection,
    listener: ListeningTransport,
    state: 'early' | 'confirmed',
  ): void {
    const id = inbound.dialogId!;
    const existing = this.ctx.dialogs.get(id);
    if (existing) {
      existing.state = state === 'confirmed' ? 'confirmed' : existing.state;
      existing.localContact = getHeader(res, 'contact') ?? existing.localContact;
      return;
    }
    const req = inbound.req;
    const flow = inbound.flow;
    const remoteTarget = uriOf(getHeader(req, 'contact')) ?? req.uri;
    const d: DialogRuntime = {
      id,
      role: 'uas',
      usage: req.method === 'SUBSCRIBE' ? 'subscribe' : 'invite',
      state,
      callId: getHeader(req, 'call-id') ?? '',
      localTag: inbound.toTag ?? '',
      remoteTag: getTag(getHeader(req, 'from') ?? '') ?? '',
      localParty: getHeader(res, 'to') ?? '',
      remoteParty: getHeader(req, 'from') ?? '',
      remoteTarget,
      routeSet: getHeaderValues(req, 'record-route'),
      localContact: getHeader(res, 'contact') ?? localContact(listener),
      localSeq: Math.floor(Math.random() * 10000) + 1,
      remoteSeq: parseCSeq(getHeader(req, 'cseq') ?? '')?.seq ?? 0,
      protocol: flow.protocol,
      flow,
      owner,
    };
    if (req.body.length > 0) d.remoteSdp = req.body.toString('utf8');
    if (req.method === 'INVITE') d.inviteTxnId = inbound.txnId;
    this.timers.setNatRoute(d, flow);
    this.ctx.dialogs.set(id, d);
  }

  private echoMeta(flow: Flow, transactionId: string, dialogId: string) {
    return { protocol: flow.protocol, remoteHost: flow.remote.address, remotePort: flow.remote.port, transactionId, dialogId };
  }

  private listenerOf(inbound: InboundTxn): ListeningTransport {
    const flow = inbound.flow;
    const l = this.ctx.deps.local.all().find((x) => x.spec.protocol === flow.protocol && x.local.port === flow.local.port)
      ?? this.ctx.deps.local.listenerFor(flow.protocol);
    if (!l) throw new Error(`no listener for ${flow.protocol}`);
    return l;
  }
}
