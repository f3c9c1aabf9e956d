import { getHeader } from './message/headers.js';
import { parseMessage } from './message/parse.js';
import { stampReceived } from './message/received.js';
import { buildResponse } from './message/response.js';
import { serializeMessage } from './message/serialize.js';
import type { SipMessage, SipRequest, SipResponse, Via } from './message/types.js';
import { validateRequest, type ValidationPolicy } from './message/validate.js';
import { parseVia } from './message/via.js';
import type { EngineCore } from './core/engine-core.js';
import type { Logger, ServerTxn } from './core/ports.js';
import { datagramHash } from './transaction/datagram-index.js';
import type { TransactionLayer } from './transaction/transaction-layer.js';
import type { FramingErrorEvent, TransportLayer } from './transport/transport-layer.js';
import type { Destination, Flow, InboundData } from './transport/types.js';

/**
 * Hooks for the stateful proxy (drachtio-protocol §4.2 steps 4–5, §4.9): requests that carry our
 * Record-Route or belong to a proxied transaction, and stray responses to relay.
 */
export interface ProxyHooks {
  /** Returns true when the proxy took the request (stateless relay of a record-routed dialog). */
  routeInDialog(req: SipRequest, flow: Flow): boolean;
  /** Returns true when the proxy relayed a response that matched no client transaction. */
  relayStrayResponse(res: SipResponse, flow: Flow): boolean;
  /** Returns true when the CANCEL's INVITE is being proxied and the proxy answered it (RFC 3261 §16.10). */
  cancel(cancelTxn: ServerTxn, inviteTxn: ServerTxn): boolean;
}

export interface InboundPipelineDeps {
  transports: TransportLayer;
  transactions: TransactionLayer;
  core: EngineCore;
  policy: ValidationPolicy;
  maxMessageBytes: number;
  log: Logger;
  responseDestination: (via: Via, flow: Flow) => Destination;
  proxy?: ProxyHooks;
}

/**
 * Every byte that arrives on a SIP transport goes through here: parse (RFC 3261 §7), stateless
 * rejections (RFC 4475 verdicts: 400/505/501/416/420/513), received/rport (RFC 3581), transaction
 * matching (RFC 3261 §17), and then the proxy or the drachtio core. Nothing that arrives can throw
 * out of this function: a failure to handle one message is logged and the message is dropped.
 */
export class InboundPipeline {
  constructor(private readonly deps: InboundPipelineDeps) {}

  onData(m: InboundData): void {
    try {
      this.handle(m);
    } catch (err) {
      this.deps.log.error({ err, flow: m.flow }, 'failed to handle an inbound SIP message');
    }
  }

  /** A stream transport could not frame bytes: answer 400/513 from what headers there are; it closes after. */
  onFramingError(e: FramingErrorEvent): void {
    try {
      const status = e.error === 'message-too-large' || e.error === 'header-too-large' ? 513 : 400;
      const outcome = parseMessage(e.data, { datagram: true, maxMessageBytes: Math.max(e.data.length, this.deps.maxMessageBytes) });
      const msg = outcome.kind === 'message' ? outcome.message : outcome.partial;
      if (msg?.type === 'request' && msg.method !== 'ACK') this.stateless(msg, status, undefined, e.flow);
    } catch (err) {
      this.deps.log.warn({ err }, 'could not answer a framing error');
    }
  }

  private handle({ data, flow }: InboundData): void {
    // UDP retransmissions that repeat a live transaction's request byte for byte skip the parse
    // (see DatagramIndex); under load they are as many as the requests themselves. Oversized
    // input is left to the parser's 513 without being hashed in full.
    let datagram: { data: Buffer; hash: number } | undefined;
    if (flow.protocol === 'udp' && data.length <= this.deps.maxMessageBytes) {
      datagram = { data, hash: datagramHash(data) };
      if (this.deps.transactions.absorbDatagram(data, datagram.hash)) return;
    }
    const outcome = parseMessage(data, { datagram: flow.protocol === 'udp', maxMessageBytes: this.deps.maxMessageBytes });
    if (outcome.kind === 'error') {
      // Responses that fail to parse are dropped (RFC 4475 §3.1.2.5, §3.1.2.19); so is an ACK.
      const partial = outcome.partial;
      if (!outcome.isResponse && partial?.type === 'request' && partial.method !== 'ACK') {
        this.stateless(partial, outcome.status, outcome.reason, flow);
      }
      return;
    }
    const msg = outcome.message;
    if (msg.type === 'response') return this.onResponse(msg, flow);
    this.onRequest(msg, flow, datagram);
  }

  private onResponse(res: SipResponse, flow: Flow): void {
    if (this.deps.transactions.receiveResponse(res, flow) === 'matched') return;
    if (this.deps.proxy?.relayStrayResponse(res, flow)) return;
    this.deps.log.debug({ status: res.status, callId: getHeader(res, 'call-id') }, 'stray response dropped');
  }

  private onRequest(req: SipRequest, flow: Flow, datagram: { data: Buffer; hash: number } | undefined): void {
    const reject = validateRequest(req, this.deps.policy);
    if (reject) {
      if (req.method !== 'ACK') this.stateless(req, reject.status, reject.reason, flow, reject.headers);
      return;
    }
    stampReceived(req, flow.remote);
    if (this.deps.proxy?.routeInDialog(req, flow)) return;
    const result = this.deps.transactions.receiveRequest(req, flow, datagram);
    const core = this.deps.core;
    switch (result.kind) {
      case 'new': {
        const l = this.deps.transports.listenerForFlow(flow);
        const receivedOn = { host: l?.spec.advertisedHost ?? flow.local.address, port: l?.local.port ?? flow.local.port };
        return core.onNetworkRequest({ kind: 'new', txn: result.txn, receivedOn });
      }
      case 'ack':
        return core.onNetworkRequest({ kind: 'ack', req, flow });
      case 'cancel':
        if (result.invite && this.deps.proxy?.cancel(result.cancel, result.invite)) return;
        return core.onNetworkRequest(result.invite ? { kind: 'cancel', cancel: result.cancel, invite: result.invite } : { kind: 'cancel', cancel: result.cancel });
      case 'merged':
        return core.onNetworkRequest({ kind: 'merged', txn: result.txn });
      case 'invalid':
        return this.stateless(req, 400, 'Bad Request', flow);
      default:
        return; // retransmission or ACK absorbed by its transaction
    }
  }

  /** Answer a request without a transaction (RFC 3261 §8.2, §18.2.2). */
  private stateless(req: SipMessage & { type: 'request' }, status: number, reason: string | undefined, flow: Flow, headers?: Array<[string, string]>): void {
    // Without any Via there is no response to build (RFC 3261 §8.2.6.2), and answering whatever
    // merely looks like text would make the PBX a reflector: drop it. A Via that is there but
    // broken (RFC 4475 badinv01) still gets its 400, sent back to the packet's source.
    const viaLine = getHeader(req, 'via');
    if (viaLine === undefined) {
      this.deps.log.debug({ status, remote: flow.remote }, 'unanswerable request dropped (no Via)');
      return;
    }
    stampReceived(req, flow.remote);
    const via = parseVia(getHeader(req, 'via') ?? '')?.[0];
    const res = buildResponse(req, status, reason, { toTag: 'sb' + Math.floor(Math.random() * 1e9).toString(36), ...(headers ? { headers } : {}) });
    const dest = via ? this.deps.responseDestination(via, flow) : { protocol: flow.protocol, address: flow.remote.address, port: flow.remote.port, ...(flow.connectionId ? { connectionId: flow.connectionId } : {}) };
    this.deps.transports.send(serializeMessage(res), dest).catch((err: unknown) => {
      this.deps.log.debug({ err, status }, 'stateless response not sent');
    });
  }
}
