import type { Clock } from '../../shared/clock.js';
import { randomToken } from '../../shared/ids.js';
import { prependHeader } from '../message/headers.js';
import { serializeMessage } from '../message/serialize.js';
import type { SipRequest, SipResponse } from '../message/types.js';
import { responseDestination as defaultResponseDestination } from '../transport/response-routing.js';
import type { Destination, Flow } from '../transport/types.js';
import { ClientInviteTransaction } from './client-invite.js';
import { ClientNonInviteTransaction } from './client-non-invite.js';
import type { ClientTransactionBase, ClientTransactionInit } from './client-transaction.js';
import { sendBytes, type ResolvedTimers, type TransactionContext, type TransactionLog } from './context.js';
import { DatagramIndex } from './datagram-index.js';
import { clientKey, MAGIC_COOKIE, responseKey } from './keys.js';
import { buildResponse, topVia } from './message-access.js';
import { ServerIndex, type ServerTransaction } from './server-index.js';
import { ServerInviteTransaction } from './server-invite.js';
import { ServerNonInviteTransaction } from './server-non-invite.js';
import type { ServerTransactionBase } from './server-transaction.js';
import {
  defaultTimers,
  type ClientTransactionUser,
  type MessageSender,
  type ResponseDestinationFn,
  type TimerConfig,
} from './types.js';
import type { IdentityError, RequestIdentity } from './keys.js';

export type { ServerTransaction };
export type ClientTransaction = ClientInviteTransaction | ClientNonInviteTransaction;

/** What {@link TransactionLayer.receiveRequest} made of a request from the network. */
export type InboundRequestResult =
  /** A new request: its server transaction was created (and, for INVITE, 100 Trying sent if `autoTrying`). */
  | { kind: 'new'; txn: ServerTransaction }
  /** A retransmission, absorbed; the last response (if any) was re-sent (RFC 3261 §17.2.1, §17.2.2). */
  | { kind: 'retransmission'; txn: ServerTransaction }
  /** An ACK for a non-2xx final, absorbed by its INVITE transaction (Completed → Confirmed, §17.2.1). */
  | { kind: 'ack-absorbed'; txn: ServerInviteTransaction }
  /**
   * An ACK for a 2xx, for the dialog layer (§13.3.1.4; it is its own transaction, §17.1.1.3). When
   * the INVITE server transaction that sent the 2xx is still in Accepted, it is given as `invite`
   * and its 2xx retransmissions have already been stopped.
   */
  | { kind: 'ack'; invite?: ServerInviteTransaction }
  /**
   * A new CANCEL (§9.2) with its own server transaction, which the caller answers: 200 when
   * `invite` was found (then usually 487 on the INVITE), 481 when not.
   */
  | { kind: 'cancel'; cancel: ServerNonInviteTransaction; invite?: ServerInviteTransaction }
  /**
   * A merged request (§8.2.2.2): same From tag, Call-ID and CSeq as `original`, no To tag, but
   * another branch. `txn` was created for it (no 100 Trying); a UAS answers 482 Loop Detected,
   * a proxy treating it as a spiral may proceed with it as a new request.
   */
  | { kind: 'merged'; txn: ServerTransaction; original: ServerTransaction }
  /** Unusable for matching (no Via, CSeq or Call-ID): answer 400 statelessly or drop. */
  | { kind: 'invalid'; reason: IdentityError };

export interface TransactionLayerOptions {
  sender: MessageSender;
  clock: Clock;
  timers?: Partial<TimerConfig>;
  log?: TransactionLog;
  /**
   * Where responses go; default the transport layer's `responseDestination` (RFC 3261 §18.2.2,
   * RFC 3581: the same connection on reliable transports, else received/rport/sent-by).
   */
  responseDestination?: ResponseDestinationFn;
  /** Send 100 Trying at once for every new INVITE (RFC 3261 §17.2.1; drachtio does). Default true. */
  autoTrying?: boolean;
}

export interface SendRequestOptions {
  /** Our transport address for the Via (`SIP/2.0/<PROTO> host:port;branch=…;rport`). */
  sentBy: { protocol: string; host: string; port: number };
  /** Branch to use (should start with z9hG4bK); default a fresh random one. */
  branch?: string;
  /** false: the request already carries its top Via (e.g. CANCEL, forwarded requests); default true. */
  addVia?: boolean;
}

const silentLog: TransactionLog = { warn: () => undefined };

/**
 * The RFC 3261 §17 transaction layer (with RFC 6026's Accepted states) of the embedded engine.
 *
 * Sits between the transport (below: a {@link MessageSender}, and the caller feeding parsed
 * messages in) and the transaction users (dialog layer, proxy core, drachtio wire layer). It
 * matches requests and responses to transactions (§17.1.3, §17.2.3, RFC 2543 fallback), runs every
 * retransmission and timeout timer on the injected Clock, absorbs what RFC 3261 says the TU must
 * not see, and drops each transaction once its last timer has fired (see {@link size}).
 */
export class TransactionLayer {
  private readonly ctx: TransactionContext;
  private readonly responseDestination: ResponseDestinationFn;
  private readonly autoTrying: boolean;
  private readonly server: ServerIndex;
  private readonly clients = new Map<string, ClientTransaction>();
  private readonly datagrams = new DatagramIndex();

  constructor(opts: TransactionLayerOptions) {
    const overrides = Object.fromEntries(Object.entries(opts.timers ?? {}).filter(([, v]) => v !== undefined));
    const timers: ResolvedTimers = { ...defaultTimers, timerD: 32000, ...overrides };
    this.ctx = { sender: opts.sender, clock: opts.clock, timers, log: opts.log ?? silentLog };
    this.responseDestination = opts.responseDestination ?? defaultResponseDestination;
    this.autoTrying = opts.autoTrying ?? true;
    this.server = new ServerIndex();
  }

  /** The resolved timer values in use. */
  get timers(): Readonly<ResolvedTimers> {
    return this.ctx.timers;
  }

  /**
   * A UDP datagram that is byte for byte the one that created a live server transaction: handled
   * as the retransmission it is (RFC 3261 §17.2.1, §17.2.2), without parsing; returns false for
   * anything else, which then goes through parsing and {@link receiveRequest} with its `hash`.
   * See {@link DatagramIndex} for why this is the same outcome as the full path.
   */
  absorbDatagram(data: Buffer, hash: number): boolean {
    const txn = this.datagrams.match(data, hash);
    if (txn === undefined) return false;
    txn.receiveRetransmission();
    return true;
  }

  /**
   * Match a request from the network to a server transaction, or create one (RFC 3261 §17.2.3).
   * `datagram` (with its {@link datagramHash}) is the UDP datagram the request was parsed from, so
   * its byte-identical retransmissions can be recognised by {@link absorbDatagram}.
   */
  receiveRequest(req: SipRequest, flow: Flow, datagram?: { data: Buffer; hash: number }): InboundRequestResult {
    const id = this.server.identify(req);
    if (typeof id === 'string') return { kind: 'invalid', reason: id };
    if (req.method === 'ACK') return this.receiveAck(req, id);
    const existing = this.server.match(id);
    if (existing) {
      existing.receiveRetransmission();
      return { kind: 'retransmission', txn: existing };
    }
    if (req.method === 'CANCEL') {
      const cancel = this.createServer(req, flow, id, datagram) as ServerNonInviteTransaction;
      const invite = this.server.inviteForCancel(req);
      return invite ? { kind: 'cancel', cancel, invite } : { kind: 'cancel', cancel };
    }
    const original = this.server.mergedWith(id);
    const txn = this.createServer(req, flow, id, datagram);
    if (original) return { kind: 'merged', txn, original };
    if (txn instanceof ServerInviteTransaction && this.autoTrying) txn.respond(buildResponse(req, 100, 'Trying'));
    return { kind: 'new', txn };
  }

  /** Match a response from the network to a client transaction (RFC 3261 §17.1.3). */
  receiveResponse(res: SipResponse, flow: Flow): 'matched' | 'stray' {
    const key = responseKey(res);
    const txn = key === undefined ? undefined : this.clients.get(key);
    if (!txn) return 'stray';
    txn.receiveResponse(res, flow);
    return 'matched';
  }

  /**
   * Start a client transaction (RFC 3261 §17.1): stamp our Via (unless `addVia === false`),
   * serialise, and start sending synchronously. INVITE gets an INVITE client transaction, every
   * other method a non-INVITE one. ACK is not a transaction (§17.1.1.3): use {@link sendStateless}.
   * @throws Error for ACK, for a request without a usable top Via when `addVia === false`, and for
   *   a branch+method already in use.
   */
  sendRequest(req: SipRequest, dest: Destination, user: ClientTransactionUser, opts: SendRequestOptions): ClientTransaction {
    if (req.method === 'ACK') throw new Error('ACK is sent without a transaction (RFC 3261 §17.1.1.3): use sendStateless');
    const { request, branch } = this.stamp(req, opts);
    return this.startClient(request, dest, user, branch);
  }

  /**
   * Send a request outside any transaction — an ACK for a 2xx (RFC 3261 §13.2.2.4) or a
   * statelessly forwarded request (§16.11) — stamping a Via like {@link sendRequest} does.
   */
  sendStateless(
    req: SipRequest,
    dest: Destination,
    opts: SendRequestOptions,
  ): { request: SipRequest; bytes: Buffer; sent: Promise<Flow> } {
    const { request } = this.stamp(req, opts);
    const bytes = serializeMessage(request);
    return { request, bytes, sent: sendBytes(this.ctx.sender, bytes, dest) };
  }

  /** Transactions alive, for leak checks: both return to 0 once every timer has run. */
  size(): { server: number; client: number } {
    return { server: this.server.size, client: this.clients.size };
  }

  /** The client transaction a response would match, if any (for proxies and diagnostics). */
  findClient(branch: string, method: string): ClientTransaction | undefined {
    return this.clients.get(clientKey(branch, method));
  }

  private receiveAck(req: SipRequest, id: RequestIdentity): InboundRequestResult {
    const txn = this.server.match(id);
    if (txn instanceof ServerInviteTransaction) {
      return txn.receiveAck() === 'absorbed' ? { kind: 'ack-absorbed', txn } : { kind: 'ack', invite: txn };
    }
    // A 2xx ACK has a branch of its own; find the INVITE by dialog fields to stop its 2xx retransmissions.
    const invite = this.server.inviteFor2xxAck(id);
    if (!invite) return { kind: 'ack' };
    invite.ackReceived();
    return { kind: 'ack', invite };
  }

  private createServer(req: SipRequest, flow: Flow, id: RequestIdentity, datagram?: { data: Buffer; hash: number }): ServerTransaction {
    const init = {
      ctx: this.ctx,
      request: req,
      flow,
      identity: id,
      destination: this.responseDestination(id.via, flow),
      onGone: (t: ServerTransactionBase) => {
        this.server.remove(t as ServerTransaction);
        if (datagram) this.datagrams.remove(t as ServerTransaction);
      },
    };
    const txn = req.method === 'INVITE' ? new ServerInviteTransaction(init) : new ServerNonInviteTransaction(init);
    this.server.add(txn);
    if (datagram) this.datagrams.add(txn, datagram.data, datagram.hash);
    return txn;
  }

  private stamp(req: SipRequest, opts: SendRequestOptions): { request: SipRequest; branch: string } {
    const request: SipRequest = { ...req, headers: [...req.headers] };
    if (opts.addVia === false) {
      const branch = topVia(request)?.branch;
      if (!branch) throw new Error('sendRequest with addVia=false needs a top Via with a branch');
      return { request, branch };
    }
    const branch = opts.branch ?? `${MAGIC_COOKIE}${randomToken(10)}`;
    const { protocol, host, port } = opts.sentBy;
    const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    prependHeader(request, 'via', `SIP/2.0/${protocol.toUpperCase()} ${hostPart}:${port};branch=${branch};rport`);
    return { request, branch };
  }

  private startClient(request: SipRequest, dest: Destination, user: ClientTransactionUser, branch: string): ClientTransaction {
    const key = clientKey(branch, request.method);
    if (this.clients.has(key)) throw new Error(`client transaction ${key} already exists`);
    const init: ClientTransactionInit = {
      ctx: this.ctx,
      request,
      bytes: serializeMessage(request),
      destination: dest,
      branch,
      user,
      onGone: (t: ClientTransactionBase) => {
        if (this.clients.get(key) === t) this.clients.delete(key);
      },
    };
    const txn =
      request.method === 'INVITE'
        ? new ClientInviteTransaction({ ...init, startCancel: (cancel, invite) => this.startCancel(cancel, invite) })
        : new ClientNonInviteTransaction(init);
    this.clients.set(key, txn);
    txn.start();
    return txn;
  }

  /** §9.1: the CANCEL is a non-INVITE transaction of its own, on the INVITE's path; its responses stop here. */
  private startCancel(cancel: SipRequest, invite: ClientInviteTransaction): ClientNonInviteTransaction {
    const log = this.ctx.log;
    const user: ClientTransactionUser = {
      onResponse: (res) => log.debug?.({ invite: invite.id, status: res.status }, 'CANCEL answered'),
      onFailure: (reason) => log.debug?.({ invite: invite.id, reason }, 'CANCEL failed'),
    };
    return this.startClient(cancel, invite.followUpDestination(), user, invite.branch) as ClientNonInviteTransaction;
  }
}
