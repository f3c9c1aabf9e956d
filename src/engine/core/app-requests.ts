import { randomToken, uuid } from '../../shared/ids.js';
import { dialogIdOf } from '../dialog/dialog.js';
import { addHeader, getHeader, prependHeader } from '../message/headers.js';
import { getTag } from '../message/name-addr.js';
import type { SipHeader, SipRequest } from '../message/types.js';
import { isSipUri, parseUri } from '../message/uri.js';
import type { Destination } from '../transport/types.js';
import { requestEcho, responseNok as nok } from '../wire/meta.js';
import { appendAppHeaders, appHeader, ensureContentType, localContact, rewriteLocalhost } from './build.js';
import type { CoreContext } from './context.js';
import type { DialogTimers } from './dialog-timers.js';
import { buildInDialogRequest, dialogDestination } from './in-dialog-request.js';
import { familyOf, listenerUri, uriHost } from './local-address.js';
import type { AppConnection } from './ports.js';
import { resolveUri } from './resolver.js';
import { buildCancel } from '../transaction/derived-requests.js';
import type { DialogRuntime, OutboundTxn } from './state.js';
import type { UacResponses } from './uac-responses.js';

/** Headers the server fills in itself for a new request unless the app gave them (drachtio §4.8). */
const generatedUnlessGiven: ReadonlySet<string> = new Set(['from', 'to', 'call-id', 'cseq', 'max-forwards', 'contact', 'content-type']);

/** CANCEL keeps only "safe" app headers (drachtio-protocol §4.5). */
const unsafeForCancel: ReadonlySet<string> = new Set(['from', 'to', 'contact', 'call-id', 'cseq', 'via', 'route', 'content-length', 'content-type', 'max-forwards']);

/**
 * Requests the app asks the engine to send: new out-of-dialog requests (variant 4), requests inside
 * a dialog (variant 2, including ACK and PRACK) and CANCEL (variant 3) — drachtio-protocol §3.1, §4.8.
 */
export class AppRequests {
  constructor(
    private readonly ctx: CoreContext,
    private readonly timers: DialogTimers,
    private readonly responses: UacResponses,
  ) {}

  /** Variant 4: a new request outside any dialog, optionally through `routeUri` (next hop). */
  async newRequest(conn: AppConnection, msgId: string, app: SipRequest, routeUri: string | undefined): Promise<void> {
    const callId = appHeader(app.headers, 'call-id')?.value;
    const existing = callId ? this.dialogByCallId(callId, app) : undefined;
    if (existing) return this.inDialog(conn, msgId, existing.id, app);

    const uri = parseUri(app.uri);
    if (!uri || (uri.scheme !== 'sip' && uri.scheme !== 'sips' && uri.scheme !== 'tel')) {
      return conn.send(nok(msgId, `invalid request-uri: ${app.uri}`));
    }
    const nextHop = routeUri ?? app.uri;
    const hopUri = parseUri(nextHop);
    if (isSipUri(hopUri) && this.ctx.deps.local.isLocal(hopUri.host, hopUri.port)) {
      return conn.send(nok(msgId, 'can not send request to myself'));
    }
    let dest: Destination;
    try {
      dest = await resolveUri(nextHop);
    } catch (err) {
      return conn.send(nok(msgId, (err as Error).message || `invalid request-uri: ${nextHop}`));
    }
    const listener = this.ctx.deps.local.listenerFor(dest.protocol, familyOf(dest.address));
    if (!listener) return conn.send(nok(msgId, `no ${dest.protocol} transport to reach ${nextHop}`));

    const req: SipRequest = { type: 'request', method: app.method, uri: app.uri, headers: [], body: app.body };
    const h = (name: string) => appHeader(app.headers, name)?.value;
    let from = h('from') ? rewriteLocalhost(h('from')!, listener) : `<${listenerUri(listener)}>`;
    if (getTag(from) === undefined) from += `;tag=${randomToken(4)}`;
    addHeader(req, 'max-forwards', h('max-forwards') ?? '70');
    addHeader(req, 'from', from);
    addHeader(req, 'to', h('to') ? rewriteLocalhost(h('to')!, listener) : `<${app.uri}>`);
    addHeader(req, 'call-id', callId ?? `${randomToken(12)}`);
    addHeader(req, 'cseq', `${Number.parseInt(h('cseq') ?? '', 10) || 1 + Math.floor(Math.random() * 30000)} ${app.method}`);
    const contact = h('contact');
    if (contact) addHeader(req, 'contact', rewriteLocalhost(contact, listener));
    else if (app.method === 'INVITE' || app.method === 'SUBSCRIBE') addHeader(req, 'contact', localContact(listener));
    const ct = appHeader(app.headers, 'content-type');
    if (ct) addHeader(req, 'content-type', ct.value, ct.rawName);
    appendAppHeaders(req, app.headers, listener, generatedUnlessGiven);
    if (!ensureContentType(req)) return conn.send(nok(msgId, 'missing content-type'));

    const txnId = uuid();
    const dialogCreating = app.method === 'INVITE' || app.method === 'SUBSCRIBE';
    const o = { txnId, owner: conn, req, dest, method: app.method } as OutboundTxn;
    if (dialogCreating) o.dialogId = dialogIdOf(getHeader(req, 'call-id')!, getTag(from)!);
    this.send(conn, msgId, o, listener.spec.advertisedHost, listener.local.port);
    if (app.method === 'INVITE') this.ctx.cdr('attempt', 'application', o.req);
  }

  /** Variant 2: a request inside dialog `dialogId` (ACK, PRACK, BYE, re-INVITE, INFO, NOTIFY…). */
  async inDialog(conn: AppConnection, msgId: string, dialogId: string, app: SipRequest): Promise<void> {
    const d = this.ctx.dialogs.get(dialogId);
    if (!d) {
      if (app.method === 'ACK') return this.ackWithoutDialog(conn, msgId, dialogId);
      return conn.send(nok(msgId, 'unable to find dialog for dialog id provided'));
    }
    if (app.method === 'ACK') return this.ack(conn, msgId, d, app);
    if (app.method === 'PRACK' && !(d.outstandingInvite && d.outstandingInvite.finalStatus === undefined)) {
      return conn.send(nok(msgId, 'no INVITE in progress to PRACK'));
    }
    // RFC 3261 §14.1: no re-INVITE while another INVITE transaction of the dialog is in progress
    // either way (ours, the peer's, or our 2xx still waiting for its ACK).
    const inviteBusy = (d.outstandingInvite && d.outstandingInvite.finalStatus === undefined) || d.inboundInviteInProgress || d.awaitingAck || d.refreshing;
    if (app.method === 'INVITE' && inviteBusy) {
      return conn.send(nok(msgId, 'an INVITE is already in progress in this dialog'));
    }
    const req = buildInDialogRequest(this.ctx, d, app.method, app);
    if (typeof req === 'string') return conn.send(nok(msgId, req));
    let dest: Destination;
    try {
      dest = await dialogDestination(d);
    } catch (err) {
      return conn.send(nok(msgId, (err as Error).message));
    }
    const local = this.ctx.localFor(dest.protocol, familyOf(dest.address));
    const o = { txnId: uuid(), owner: conn, req, dest, method: app.method, dialogId: d.id } as OutboundTxn;
    if (app.method === 'BYE') {
      o.clearDialogOnResponse = true;
      const pending = d.outstandingInvite;
      if (pending && pending.finalStatus === undefined) pending.txn.cancel?.([['Reason', 'SIP ;cause=487 ;text="BYE while re-INVITE in progress"']]);
      this.ctx.cdr('stop', 'application', req, 'normal-release');
    }
    if (app.method === 'NOTIFY' && d.usage === 'subscribe' && /^\s*terminated/i.test(getHeader(req, 'subscription-state') ?? '')) {
      o.clearDialogOnResponse = true;
    }
    if (app.method === 'INVITE') {
      d.outstandingInvite = o;
      if (req.body.length > 0) d.localSdp = req.body.toString('utf8');
    }
    this.send(conn, msgId, o, local.host, local.port);
  }

  /** Variant 3: CANCEL the app's outstanding INVITE `txnId` (RFC 3261 §9.1). */
  cancel(conn: AppConnection, msgId: string, txnId: string, app: SipRequest): void {
    const o = this.ctx.outbound.get(txnId);
    if (!o || o.method !== 'INVITE' || o.finalStatus !== undefined) {
      return conn.send(nok(msgId, `unable to cancel unknown transaction id: ${txnId}`));
    }
    const extra: Array<[string, string]> = app.headers.filter((h: SipHeader) => !unsafeForCancel.has(h.name)).map((h) => [h.rawName, h.value]);
    const sent = o.txn.cancel?.(extra) ?? (o.txn.cancelState === 'queued' ? { request: buildCancel(o.req, extra) } : undefined);
    if (!sent) return conn.send(nok(msgId, `unable to cancel unknown transaction id: ${txnId}`));
    o.cancelled = true;
    const local = this.ctx.localFor(o.dest.protocol, familyOf(o.dest.address));
    conn.send(requestEcho(msgId, { protocol: o.dest.protocol, localHost: local.host, localPort: local.port, transactionId: uuid() }, this.ctx.text(sent.request)));
  }

  /**
   * An ACK for a dialog that does not exist: the final was a non-2xx (the transaction ACKed it
   * already), or a 2xx without a To tag, which set up no dialog — that INVITE is CANCELled so the
   * callee is released (what drachtio-server does; srf reports such a 2xx as a 500 to the app).
   */
  private ackWithoutDialog(conn: AppConnection, msgId: string, dialogId: string): void {
    for (const o of this.ctx.outbound.values()) {
      if (o.dialogId === dialogId && o.taglessAnswer && o.finalStatus === undefined) {
        o.cancelled = true;
        o.txn.cancel?.([['Reason', 'SIP ;cause=500 ;text="2xx without To tag"']]);
        break;
      }
    }
    conn.send(nok(msgId, 'ACK for non-success final response is automatically generated by server'));
  }

  /** The app's ACK for a 2xx we received: built from the dialog, kept for 2xx retransmissions. */
  private async ack(conn: AppConnection, msgId: string, d: DialogRuntime, app: SipRequest): Promise<void> {
    const invite = d.outstandingInvite;
    if (!invite || invite.finalStatus === undefined || invite.finalStatus >= 300) {
      return conn.send(nok(msgId, 'ACK for non-success final response is automatically generated by server'));
    }
    const req = buildInDialogRequest(this.ctx, d, 'ACK', { uri: d.remoteTarget, headers: app.headers, body: app.body });
    if (typeof req === 'string') return conn.send(nok(msgId, req));
    const dest = await dialogDestination(d);
    const local = this.ctx.localFor(dest.protocol, familyOf(dest.address));
    // An ACK for a 2xx is its own transaction (RFC 3261 §17.1.1.3): new branch, sent without retransmission.
    prependHeader(req, 'via', `SIP/2.0/${dest.protocol.toUpperCase()} ${uriHost(local.host)}:${local.port};branch=z9hG4bK${randomToken(8)};rport`);
    const cseq = Number.parseInt(getHeader(invite.req, 'cseq') ?? '0', 10);
    const bytes = this.responses.sendAck(d, req, dest, cseq);
    if (req.body.length > 0) d.localSdp = req.body.toString('utf8');
    conn.send(requestEcho(msgId, { protocol: dest.protocol, localHost: local.host, localPort: local.port, transactionId: uuid() }, bytes.toString('utf8')));
    d.outstandingInvite = undefined;
    if (invite.cancelled) {
      // drachtio-protocol §4.5: a 2xx that crossed our CANCEL is ACKed, then the call is ended.
      this.timers.sendBye(d, 'SIP ;cause=200 ;text="ACK-BYE due to cancel race condition"', 'system-initiated-termination');
    }
  }

  private send(conn: AppConnection, msgId: string, o: OutboundTxn, host: string, port: number): void {
    o.txn = this.ctx.deps.transactions.sendRequest(o.req, o.dest, this.responses.userFor(o), {
      sentBy: { protocol: o.dest.protocol, host, port },
    });
    o.req = o.txn.request;
    this.ctx.outbound.set(o.txnId, o);
    conn.send(requestEcho(msgId, { protocol: o.dest.protocol, localHost: host, localPort: port, transactionId: o.txnId }, this.ctx.text(o.req)));
  }

  /**
   * drachtio-protocol §3.1 variant 4: a "new" request whose Call-ID and From tag belong to a
   * confirmed dialog of ours is sent inside that dialog.
   */
  private dialogByCallId(callId: string, app: SipRequest): DialogRuntime | undefined {
    const fromTag = getTag(appHeader(app.headers, 'from')?.value ?? '');
    if (fromTag === undefined || app.method === 'INVITE') return undefined;
    const d = this.ctx.dialogs.get(dialogIdOf(callId, fromTag));
    return d && d.role === 'uac' && d.state === 'confirmed' ? d : undefined;
  }
}
