import { uuid } from '../../shared/ids.js';
import { dialogIdOf } from '../dialog/dialog.js';
import { getHeader } from '../message/headers.js';
import { getTag } from '../message/name-addr.js';
import { parseCSeq } from '../message/cseq.js';
import { buildResponse } from '../message/response.js';
import type { SipRequest } from '../message/types.js';
import { buildCancel } from '../transaction/derived-requests.js';
import type { Flow } from '../transport/types.js';
import { sipCancelNotice, sipMessage, sipNewRequest } from '../wire/meta.js';
import { uriOf } from './build.js';
import type { CoreContext } from './context.js';
import type { AppConnection, ServerTxn } from './ports.js';
import type { DialogRuntime, InboundTxn } from './state.js';

/** Methods that may start a request outside a dialog and go to an app (drachtio-protocol §3.1, §4.2). */
const appRoutable = new Set(['INVITE', 'REGISTER', 'MESSAGE', 'OPTIONS', 'INFO', 'NOTIFY', 'SUBSCRIBE', 'PUBLISH', 'REFER']);

/** Minimum session interval we accept (RFC 4028 §4: Min-SE default 90 s). */
const MIN_SE = 90;

/**
 * Requests from the network that passed parsing, validation and transaction matching
 * (drachtio-protocol §4.2, §4.4, §4.5, §4.7).
 */
export class NetworkRequests {
  constructor(private readonly ctx: CoreContext) {}

  /** A new server transaction: out-of-dialog requests go to an app, in-dialog ones to their dialog. */
  onNew(txn: ServerTxn, receivedOn: { host: string; port: number }): void {
    const req = txn.request;
    const toTag = getTag(getHeader(req, 'to') ?? '');
    if (toTag !== undefined) {
      const dialog = this.findDialog(req);
      if (dialog) return this.inDialog(txn, dialog);
      return this.reply(txn, 481, 'Call/Transaction Does Not Exist');
    }
    if (!appRoutable.has(req.method)) {
      // BYE, UPDATE and PRACK need a dialog (RFC 3261 §15, RFC 3311, RFC 3262 §3).
      return this.reply(txn, 481, 'Call/Transaction Does Not Exist');
    }
    const ua = this.ctx.deps.config.optionsAutoRespondUserAgent;
    if (req.method === 'OPTIONS' && ua && getHeader(req, 'user-agent') === ua) return this.reply(txn, 200, 'OK');

    if (req.method === 'INVITE' && this.sessionTooShort(txn)) return;
    // With an HTTP handler / outbound URL configured (drachtio-protocol §2.2, §6), it chooses the
    // owner (possibly later, after an HTTP call or a connect) instead of the `route` verbs.
    const routing = this.ctx.deps.requestRouting;
    if (routing) return routing.route(txn, (owner) => this.deliverNew(txn, owner, receivedOn));
    const owner = this.ctx.deps.router.pick(req.method.toLowerCase());
    if (!owner) return this.reply(txn, 503, 'Service Unavailable');
    this.deliverNew(txn, owner, receivedOn);
  }

  /** Hand a new out-of-dialog request to the app that will own it (§4.2 step 7). */
  private deliverNew(txn: ServerTxn, owner: AppConnection, receivedOn: { host: string; port: number }): void {
    const req = txn.request;
    if (req.method === 'INVITE' && this.ctx.deps.config.alwaysSend180) this.reply(txn, 180, 'Ringing');

    const inbound = this.track(txn, owner);
    if (req.method === 'INVITE') this.ctx.cdr('attempt', 'network', req);
    owner.send(sipNewRequest({ ...this.ctx.peerOf(txn.flow), transactionId: inbound.txnId, recvHost: receivedOn.host, recvPort: receivedOn.port }, this.ctx.text(req)));
  }

  /** An ACK that matched no server transaction: the ACK for a 2xx (RFC 3261 §13.3.1.4, §17.1.1.3). */
  onAck(req: SipRequest, flow: Flow): void {
    const dialog = this.findDialog(req);
    const cseq = parseCSeq(getHeader(req, 'cseq') ?? '');
    if (!dialog || !cseq) return;
    const waiting = dialog.awaitingAck;
    if (!waiting || waiting.cseq !== cseq.seq) return; // a retransmitted ACK, or a stray one
    waiting.txn.ackReceived();
    dialog.awaitingAck = undefined;
    if (req.body.length > 0) dialog.remoteSdp = req.body.toString('utf8');
    if (dialog.orphaned) return;
    dialog.owner.send(sipMessage({ ...this.ctx.peerOf(flow), transactionId: uuid(), dialogId: dialog.id }, this.ctx.text(req)));
  }

  /** A CANCEL matched (or not) against an INVITE server transaction (RFC 3261 §9.2, drachtio §4.5). */
  onCancel(cancelTxn: ServerTxn, inviteTxn: ServerTxn | undefined): void {
    // Read before answering: a finished transaction lets its parsed request go.
    const cancel = cancelTxn.request;
    const inbound = inviteTxn ? this.ctx.inboundByServerTxn.get(inviteTxn.id) : undefined;
    if (!inviteTxn) return this.reply(cancelTxn, 481, 'Call/Transaction Does Not Exist');
    this.reply(cancelTxn, 200, 'OK');
    // Not yet with an app: the request handler may still be deciding; it answers the 487 then.
    if (!inbound) {
      this.ctx.deps.requestRouting?.cancel(inviteTxn);
      return;
    }
    if (inbound.answered === 'final') return; // final already sent: the CANCEL has no effect
    const res487 = buildResponse(inbound.req, 487, 'Request Terminated', { toTag: inbound.toTag ?? uuid().slice(0, 8) });
    inbound.txn.respond(res487);
    const peer = this.ctx.peerOf(cancelTxn.flow);
    inbound.owner.send(
      inbound.answered === 'none'
        ? sipCancelNotice({ ...peer, inviteTransactionId: inbound.txnId }, this.ctx.text(cancel))
        : sipMessage({ ...peer, transactionId: inbound.txnId, dialogId: inbound.dialogId ?? '' }, this.ctx.text(cancel)),
    );
    if (inbound.dialogId) {
      const d = this.ctx.dialogs.get(inbound.dialogId);
      if (d && d.state === 'early') this.ctx.removeDialog(d.id);
    }
    inbound.answered = 'final';
    inbound.cancelled = true;
    this.ctx.cdr('stop', 'network', res487, 'call-canceled');
    this.ctx.finishInbound(inbound);
  }

  /** A request inside an existing dialog (drachtio-protocol §4.6, §4.7). */
  private inDialog(txn: ServerTxn, dialog: DialogRuntime): void {
    const req = txn.request;
    const cseq = parseCSeq(getHeader(req, 'cseq') ?? '');
    if (dialog.orphaned) {
      if (req.method === 'BYE') this.ctx.removeDialog(dialog.id);
      return this.reply(txn, 481, 'Call/Transaction Does Not Exist');
    }
    if (cseq && dialog.remoteSeq !== undefined && cseq.seq < dialog.remoteSeq && req.method !== 'PRACK') {
      // RFC 3261 §12.2.2: a lower CSeq than the last one is out of order.
      return this.reply(txn, 500, 'Server Internal Error');
    }
    if (cseq) dialog.remoteSeq = cseq.seq;

    switch (req.method) {
      case 'BYE':
        this.ctx.removeDialog(dialog.id);
        this.ctx.cdr('stop', 'network', req, 'normal-release');
        break;
      case 'INVITE': {
        if (dialog.awaitingAck || (dialog.outstandingInvite && dialog.outstandingInvite.finalStatus === undefined) || dialog.inboundInviteInProgress || dialog.refreshing) {
          return this.reply(txn, 491, 'Request Pending');
        }
        if (this.sessionTooShort(txn)) return;
        dialog.inboundInviteInProgress = true;
        const target = uriOf(getHeader(req, 'contact'));
        if (target) dialog.remoteTarget = target;
        break;
      }
      case 'UPDATE':
        if (this.deliverEarlyUpdate(txn, dialog)) return;
        break;
      case 'PRACK':
        if (!this.matchPrack(req, dialog)) return this.reply(txn, 481, 'Call/Transaction Does Not Exist');
        break;
      case 'NOTIFY':
        if (dialog.usage === 'subscribe' && /^\s*terminated/i.test(getHeader(req, 'subscription-state') ?? '')) {
          dialog.terminating = true;
        }
        break;
      default:
        break;
    }
    const inbound = this.track(txn, dialog.owner, dialog.id);
    dialog.owner.send(sipMessage({ ...this.ctx.peerOf(txn.flow), transactionId: inbound.txnId, dialogId: dialog.id }, this.ctx.text(req)));
  }

  /**
   * UPDATE in the early dialog of an INVITE we have not answered with a final response yet:
   * delivered with the INVITE's transactionId (drachtio-protocol §4.7); a second concurrent one gets 500.
   */
  private deliverEarlyUpdate(txn: ServerTxn, dialog: DialogRuntime): boolean {
    if (dialog.role !== 'uas' || !dialog.inviteTxnId) return false;
    const invite = this.ctx.inbound.get(dialog.inviteTxnId);
    if (!invite || invite.answered === 'final') return false;
    if (invite.earlyUpdate) {
      this.reply(txn, 500, 'Server Internal Error', [['Retry-After', '1']]);
      return true;
    }
    invite.earlyUpdate = { txn, req: txn.request };
    dialog.owner.send(sipMessage({ ...this.ctx.peerOf(txn.flow), transactionId: invite.txnId, dialogId: dialog.id }, this.ctx.text(txn.request)));
    return true;
  }

  /** RFC 3262 §3: a PRACK whose RAck matches our reliable provisional stops its retransmission. */
  private matchPrack(req: SipRequest, dialog: DialogRuntime): boolean {
    const rack = /^\s*(\d+)\s+(\d+)\s+(\S+)/.exec(getHeader(req, 'rack') ?? '');
    if (!rack || !dialog.inviteTxnId) return false;
    const invite = this.ctx.inbound.get(dialog.inviteTxnId);
    const rel = invite?.reliable;
    if (!invite || !rel || rel.rseq !== Number(rack[1])) return false;
    this.ctx.deps.clock.clearTimeout(rel.timer);
    invite.reliable = undefined;
    return true;
  }

  /** RFC 4028 §8.1: an INVITE whose Session-Expires is below our Min-SE gets 422 with Min-SE. */
  private sessionTooShort(txn: ServerTxn): boolean {
    const se = Number.parseInt(getHeader(txn.request, 'session-expires') ?? '', 10);
    if (!Number.isFinite(se) || se >= MIN_SE) return false;
    this.reply(txn, 422, 'Session Interval Too Small', [['Min-SE', String(MIN_SE)]]);
    return true;
  }

  /**
   * RFC 3262 §3: our reliable provisional was never PRACKed. The INVITE is rejected with 500 and
   * the app hears of it as drachtio reports a CANCEL in progress (with the INVITE's transactionId
   * and dialogId), so srf emits `cancel` and the app stops working on the call.
   */
  onPrackTimeout(inbound: InboundTxn): void {
    if (inbound.answered === 'final') return;
    const res = buildResponse(inbound.req, 500, 'Reliable Provisional Response Not Acknowledged', inbound.toTag ? { toTag: inbound.toTag, headers: [['Retry-After', '1']] } : { headers: [['Retry-After', '1']] });
    inbound.txn.respond(res);
    inbound.answered = 'final';
    const notice = buildCancel(inbound.req, [['Reason', 'SIP ;cause=500 ;text="no PRACK for reliable provisional"']]);
    inbound.owner.send(sipMessage({ ...this.ctx.peerOf(inbound.flow), transactionId: inbound.txnId, dialogId: inbound.dialogId ?? '' }, this.ctx.text(notice)));
    if (inbound.dialogId) {
      const d = this.ctx.dialogs.get(inbound.dialogId);
      if (d && d.state === 'early') this.ctx.removeDialog(d.id);
    }
    this.ctx.cdr('stop', 'application', res, 'call-rejected');
    this.ctx.finishInbound(inbound);
  }

  /** Find the dialog a request from the network belongs to (UAS dialogs first, then UAC). */
  findDialog(req: SipRequest): DialogRuntime | undefined {
    const callId = getHeader(req, 'call-id');
    const fromTag = getTag(getHeader(req, 'from') ?? '');
    const toTag = getTag(getHeader(req, 'to') ?? '');
    if (!callId || fromTag === undefined || toTag === undefined) return undefined;
    const uas = this.ctx.dialogs.get(dialogIdOf(callId, fromTag));
    if (uas && uas.role === 'uas' && uas.localTag === toTag) return uas;
    const uac = this.ctx.dialogs.get(dialogIdOf(callId, toTag));
    if (uac && uac.role === 'uac' && (uac.remoteTag === fromTag || uac.remoteTag === '')) return uac;
    return undefined;
  }

  private track(txn: ServerTxn, owner: AppConnection, dialogId?: string): InboundTxn {
    const inbound: InboundTxn = { txnId: uuid(), txn, req: txn.request, flow: txn.flow, owner, answered: 'none' };
    if (dialogId) inbound.dialogId = dialogId;
    const timeout = this.ctx.deps.config.pendingRequestTimeoutMs;
    inbound.pendingTimer = this.ctx.deps.clock.setTimeout(() => this.onAppSilent(inbound), timeout);
    this.ctx.inbound.set(inbound.txnId, inbound);
    this.ctx.inboundByServerTxn.set(txn.id, inbound);
    return inbound;
  }

  /**
   * The app never answered: forget the request (drachtio drops it after 64 s). An INVITE gets 500
   * so the caller is not left ringing; other transactions are dropped without an answer.
   */
  private onAppSilent(inbound: InboundTxn): void {
    if (inbound.answered !== 'none') return;
    this.ctx.deps.log.warn({ method: inbound.req.method, txnId: inbound.txnId }, 'app did not answer a request in time');
    if (inbound.req.method === 'INVITE') {
      inbound.txn.respond(buildResponse(inbound.req, 500, 'Server Internal Error', { toTag: uuid().slice(0, 8) }));
    } else inbound.txn.terminate();
    inbound.answered = 'final';
    this.ctx.finishInbound(inbound);
  }

  private reply(txn: ServerTxn, status: number, reason: string, headers?: Array<[string, string]>): void {
    const opts = status > 100 ? { toTag: uuid().slice(0, 8), ...(headers ? { headers } : {}) } : headers ? { headers } : {};
    txn.respond(buildResponse(txn.request, status, reason, opts));
  }
}
