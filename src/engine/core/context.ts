import { buildResponse } from '../message/response.js';
import { serializeMessageText } from '../message/serialize.js';
import type { SipMessage, TransportProtocol } from '../message/types.js';
import type { Destination } from '../transport/types.js';
import { cdrAttempt, cdrStart, cdrStop, type CdrRole, type PeerMeta } from '../wire/meta.js';
import type { Flow } from '../transport/types.js';
import type { CoreDeps } from './ports.js';
import type { DialogRuntime, InboundTxn, OutboundTxn } from './state.js';

/**
 * The state the drachtio semantics core keeps (drachtio-protocol §4.1) and the small operations
 * every handler needs. Handlers (network requests, app requests, app responses, responses to
 * app requests, dialog timers) each take this context; none of them owns the maps.
 */
export class CoreContext {
  /** Network requests handed to an app, by the transactionId the app knows. */
  readonly inbound = new Map<string, InboundTxn>();
  /** The same, by server transaction id (for CANCEL matching). */
  readonly inboundByServerTxn = new Map<string, InboundTxn>();
  /** Requests the app sent, by their transactionId. */
  readonly outbound = new Map<string, OutboundTxn>();
  readonly dialogs = new Map<string, DialogRuntime>();

  constructor(readonly deps: CoreDeps) {}

  /** The message as text for the app (srf parses it again). */
  text(msg: SipMessage): string {
    return serializeMessageText(msg);
  }

  /** Send a CDR event to one app that routed it (round-robin), if CDRs are on (§3.2). */
  cdr(kind: 'attempt' | 'start' | 'stop', source: 'network' | 'application', msg: SipMessage, extra = ''): void {
    if (!this.deps.config.cdrs) return;
    const conn = this.deps.router.pick(`cdr:${kind}`);
    if (!conn) return;
    const sip = this.text(msg);
    if (kind === 'attempt') conn.send(cdrAttempt({ source }, sip));
    else if (kind === 'start') conn.send(cdrStart({ source, role: extra as CdrRole }, sip));
    else conn.send(cdrStop({ source, reason: extra }, sip));
  }

  /** The remote side of a flow as the `sip` meta line reports it. */
  peerOf(flow: Flow): PeerMeta {
    return { protocol: flow.protocol, address: flow.remote.address, port: flow.remote.port };
  }

  /** Fire-and-forget send of raw bytes outside any transaction; failures are logged only. */
  sendRaw(bytes: Buffer, dest: Destination): void {
    this.deps.sender.send(bytes, dest).catch((err: unknown) => {
      this.deps.log.warn({ err, dest }, 'send failed');
    });
  }

  /** Our address for a protocol/family as `{host, port}` (Via sent-by, Contact, echo tokens). */
  localFor(protocol: TransportProtocol, family: 4 | 6 = 4): { host: string; port: number } {
    const l = this.deps.local.listenerFor(protocol, family) ?? this.deps.local.all()[0];
    if (!l) throw new Error('no SIP transport is listening');
    return { host: l.spec.advertisedHost, port: l.local.port };
  }

  removeDialog(id: string): void {
    const d = this.dialogs.get(id);
    if (!d) return;
    d.awaitingAck?.txn.ackReceived();
    this.deps.clock.clearTimeout(d.sessionTimerHandle);
    this.dialogs.delete(id);
  }

  /** Forget an inbound transaction once it is finished. */
  finishInbound(t: InboundTxn): void {
    this.deps.clock.clearTimeout(t.pendingTimer);
    this.deps.clock.clearTimeout(t.reliable?.timer);
    this.inbound.delete(t.txnId);
    this.inboundByServerTxn.delete(t.txn.id);
    // The app answers an early UPDATE with the INVITE's transactionId (§4.7), which is gone from
    // here on: an UPDATE it has not answered yet is answered now, or its transaction stays open.
    const update = t.earlyUpdate;
    if (update) {
      t.earlyUpdate = undefined;
      const opts = t.toTag ? { toTag: t.toTag } : {};
      update.txn.respond(t.cancelled
        ? buildResponse(update.req, 487, 'Request Terminated', opts)
        : buildResponse(update.req, 500, 'Server Internal Error', { ...opts, headers: [['Retry-After', '1']] }));
    }
  }
}
