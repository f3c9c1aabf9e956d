import { getHeader, getHeaderValues } from '../message/headers.js';
import { getTag } from '../message/name-addr.js';
import { buildResponse } from '../message/response.js';
import { serializeMessage } from '../message/serialize.js';
import type { SipRequest, SipResponse } from '../message/types.js';
import type { ClientTransactionUser } from '../transaction/types.js';
import type { Destination, Flow } from '../transport/types.js';
import { sipMessage } from '../wire/meta.js';
import { uriOf } from './build.js';
import type { CoreContext } from './context.js';
import type { DialogTimers } from './dialog-timers.js';
import { buildInDialogRequest, dialogDestination, sendAckFor2xx } from './in-dialog-request.js';
import { familyOf } from './local-address.js';
import type { DialogRuntime, OutboundTxn } from './state.js';

/**
 * Responses to requests the app sent (drachtio-protocol §4.8): delivered to the app with the
 * request's transactionId (and dialogId for INVITE/SUBSCRIBE and in-dialog requests), with the
 * UAC dialog created or confirmed on the way, timeouts turned into 408 and send errors into 503.
 */
export class UacResponses {
  constructor(
    private readonly ctx: CoreContext,
    private readonly timers: DialogTimers,
  ) {}

  userFor(o: OutboundTxn): ClientTransactionUser {
    return {
      onResponse: (res, flow) => this.onResponse(o, res, flow),
      onFailure: (reason) => this.onFailure(o, reason),
    };
  }

  /** Send (and keep) the ACK for a 2xx, re-sent whenever that 2xx is retransmitted (RFC 3261 §13.2.2.4). */
  sendAck(d: DialogRuntime, ack: SipRequest, dest: Destination, cseq: number): Buffer {
    const bytes = serializeMessage(ack);
    d.lastAck = { cseq, bytes, dest };
    this.ctx.sendRaw(bytes, dest);
    return bytes;
  }

  private onResponse(o: OutboundTxn, res: SipResponse, flow: Flow): void {
    const status = res.status;
    if (o.method === 'INVITE' && status >= 200 && status < 300 && o.finalStatus !== undefined) {
      return this.repeated2xx(o, res, flow);
    }
    const tagless = o.method === 'INVITE' && status >= 200 && status < 300 && getTag(getHeader(res, 'to') ?? '') === undefined;
    if (tagless) o.taglessAnswer = true;
    else if (o.method === 'INVITE' || o.method === 'SUBSCRIBE') this.trackDialog(o, res, flow);
    if (status >= 200 && !tagless) this.final(o, res);
    if (o.method === 'INVITE' && status >= 200 && status < 300 && !tagless && o.owner.closed) {
      return this.releaseForGoneApp(o);
    }
    if (o.owner && !this.ownerGone(o)) {
      o.owner.send(sipMessage({ ...this.ctx.peerOf(flow), transactionId: o.txnId, dialogId: o.dialogId ?? '' }, this.ctx.text(res)));
    }
  }

  /** A 2xx after the first one: a retransmission (re-send our ACK) or another fork (ACK and BYE it). */
  private repeated2xx(o: OutboundTxn, res: SipResponse, flow: Flow): void {
    const d = o.dialogId ? this.ctx.dialogs.get(o.dialogId) : undefined;
    const toTag = getTag(getHeader(res, 'to') ?? '');
    if (d && d.remoteTag === toTag) {
      if (d.lastAck) this.ctx.sendRaw(d.lastAck.bytes, d.lastAck.dest);
      return;
    }
    if (!d || toTag === undefined) return;
    // RFC 3261 §13.2.2.4: a second fork answered; we keep the first, so ACK and BYE this one,
    // along its own target and route set (it may be another host than the one that sent the 2xx).
    const fork: DialogRuntime = { ...d, remoteTag: toTag, remoteParty: getHeader(res, 'to') ?? d.remoteParty, remoteTarget: uriOf(getHeader(res, 'contact')) ?? d.remoteTarget, routeSet: [...getHeaderValues(res, 'record-route')].reverse(), id: `${d.id}#fork`, awaitingAck: undefined, lastAck: undefined, outstandingInvite: o };
    delete fork.natRoute;
    fork.flow = flow;
    this.ackAndBye(fork, 'SIP ;cause=200 ;text="another fork answered first"');
  }

  /**
   * The app that sent this INVITE is gone, so nobody will ACK its 2xx or hang up: ACK and BYE the
   * callee at once rather than leave it in a call with nobody (drachtio-protocol §4.1 orphans).
   */
  private releaseForGoneApp(o: OutboundTxn): void {
    const d = o.dialogId ? this.ctx.dialogs.get(o.dialogId) : undefined;
    if (!d) return;
    this.ctx.removeDialog(d.id);
    this.ackAndBye({ ...d, outstandingInvite: o }, 'SIP ;cause=200 ;text="application gone"');
  }

  /** ACK a 2xx of dialog `d` and end it with a BYE; no app is told (it never had this dialog). */
  private ackAndBye(d: DialogRuntime, reason: string): void {
    const ack = buildInDialogRequest(this.ctx, d, 'ACK');
    const bye = buildInDialogRequest(this.ctx, { ...d, outstandingInvite: undefined }, 'BYE');
    if (typeof ack === 'string' || typeof bye === 'string') return;
    bye.headers.push({ name: 'reason', rawName: 'Reason', value: reason });
    dialogDestination(d).then((dest) => {
      sendAckFor2xx(this.ctx, ack, dest);
      const local = this.ctx.localFor(dest.protocol, familyOf(dest.address));
      this.ctx.deps.transactions.sendRequest(bye, dest, { onResponse: () => {}, onFailure: () => {} }, { sentBy: { ...local, protocol: dest.protocol } });
    }).catch((err: unknown) => this.ctx.deps.log.warn({ err, dialogId: d.id }, 'could not release an unwanted 2xx'));
  }

  /** Create or update the UAC dialog from a response that carries a To tag (RFC 3261 §12.1.2). */
  private trackDialog(o: OutboundTxn, res: SipResponse, flow: Flow): void {
    const status = res.status;
    if (!o.dialogId || status < 101) return;
    const toTag = getTag(getHeader(res, 'to') ?? '');
    const existing = this.ctx.dialogs.get(o.dialogId);
    if (status >= 300) {
      if (existing && existing.state === 'early' && !existing.awaitingAck) this.ctx.removeDialog(existing.id);
      return;
    }
    const reliable = status < 200 && !!getHeader(res, 'rseq');
    const establishes = status >= 200 || reliable || (o.method === 'INVITE' && toTag !== undefined);
    if (!establishes || toTag === undefined) return;
    const remoteTarget = uriOf(getHeader(res, 'contact')) ?? existing?.remoteTarget ?? o.req.uri;
    if (existing) {
      existing.remoteTag = toTag;
      existing.remoteParty = getHeader(res, 'to') ?? existing.remoteParty;
      existing.remoteTarget = remoteTarget;
      if (status >= 200 && existing.state === 'early') {
        // The route set is fixed by the response that confirms the dialog (RFC 3261 §12.1.2);
        // a re-INVITE's 2xx only refreshes the target (§12.2.1.2).
        existing.state = 'confirmed';
        existing.routeSet = [...getHeaderValues(res, 'record-route')].reverse();
      }
      if (res.body.length > 0) existing.remoteSdp = res.body.toString('utf8');
      return;
    }
    const d: DialogRuntime = {
      id: o.dialogId,
      role: 'uac',
      usage: o.method === 'SUBSCRIBE' ? 'subscribe' : 'invite',
      state: status >= 200 ? 'confirmed' : 'early',
      callId: getHeader(o.req, 'call-id') ?? '',
      localTag: getTag(getHeader(o.req, 'from') ?? '') ?? '',
      remoteTag: toTag,
      localParty: getHeader(o.req, 'from') ?? '',
      remoteParty: getHeader(res, 'to') ?? '',
      remoteTarget,
      routeSet: [...getHeaderValues(res, 'record-route')].reverse(),
      localContact: getHeader(o.req, 'contact') ?? '',
      localSeq: Number.parseInt(getHeader(o.req, 'cseq') ?? '1', 10),
      protocol: o.dest.protocol,
      flow,
      owner: o.owner,
    };
    if (o.req.body.length > 0) d.localSdp = o.req.body.toString('utf8');
    if (res.body.length > 0) d.remoteSdp = res.body.toString('utf8');
    if (o.method === 'INVITE') d.outstandingInvite = o;
    // A dialog set up after its app disconnected is orphaned like the ones it had (§4.1): 481 to
    // in-dialog requests, BYE still ends it. onAppClosed only saw the dialogs that existed then.
    if (o.owner.closed) d.orphaned = true;
    this.ctx.dialogs.set(d.id, d);
  }

  private final(o: OutboundTxn, res: SipResponse): void {
    const status = res.status;
    o.finalStatus = status;
    const d = o.dialogId ? this.ctx.dialogs.get(o.dialogId) : undefined;
    const initialInvite = o.method === 'INVITE' && !getTag(getHeader(o.req, 'to') ?? '');
    if (o.method === 'INVITE') {
      if (status < 300 && d) {
        d.outstandingInvite = o;
        this.timers.applySessionTimerOnUacAnswer(d, res);
        if (initialInvite) this.ctx.cdr('start', 'network', res, 'uac');
      } else {
        if (d && d.outstandingInvite === o) d.outstandingInvite = undefined;
        if (initialInvite) this.ctx.cdr('stop', 'network', res, status === 487 ? 'call-canceled' : 'call-rejected');
      }
    }
    if (o.clearDialogOnResponse && d && status !== 401 && status !== 407) this.ctx.removeDialog(d.id);
    // Keep an INVITE until the app's ACK has been built (it needs the CSeq); others are done.
    if (o.method !== 'INVITE' || status >= 300) this.ctx.outbound.delete(o.txnId);
    else this.ctx.deps.clock.setTimeout(() => this.ctx.outbound.delete(o.txnId), this.ctx.deps.timers.t1x64);
  }

  /** Timer B/F or a transport error: the app gets a synthesised 408 or 503 (drachtio-protocol §4.8). */
  private onFailure(o: OutboundTxn, reason: 'timeout' | 'transport-error'): void {
    if (o.finalStatus !== undefined) return;
    const res = buildResponse(o.req, reason === 'timeout' ? 408 : 503, reason === 'timeout' ? 'Request Timeout' : 'Service Unavailable');
    const local = this.ctx.localFor(o.dest.protocol, familyOf(o.dest.address));
    const flow: Flow = { protocol: o.dest.protocol, local: { address: local.host, port: local.port }, remote: { address: o.dest.address, port: o.dest.port } };
    this.onResponse(o, res, flow);
  }

  private ownerGone(o: OutboundTxn): boolean {
    const d = o.dialogId ? this.ctx.dialogs.get(o.dialogId) : undefined;
    return !!d?.orphaned || o.owner.closed;
  }
}
